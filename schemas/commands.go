package schemas

import (
	"embed"
	"io/fs"
)

// commands is the tree of command schemas: commands/<context>/<Command>.json, one per write
// endpoint. Unlike event schemas they are not locked: a command is a request, never stored.
//
//go:embed commands
var commands embed.FS

// CommandsFS returns the command schemas rooted at the commands directory, so that paths read
// "<context>/<Command>.json".
func CommandsFS() fs.FS {
	sub, err := fs.Sub(commands, "commands")
	if err != nil {
		panic(err) // the directory is embedded: it always exists
	}
	return sub
}
