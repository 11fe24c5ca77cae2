// Command gen writes package contracts: one Go declaration per event payload, command payload
// and enumeration of the JSON Schemas under schemas/. Run it with `make generate`; its output is
// committed, and a test regenerates it and fails on any difference.
//
// It is a small generator of its own rather than a JSON-Schema-to-Go library because the platform
// needs what such tools do not produce: the event-type name constants, one shared Go type per
// enumeration with its ordered list of values, fields in the order encoding/json writes a map's
// keys (the handlers emitted maps before these types existed; the bytes of published events must
// not change), and optional date-times that are left out rather than written as year 1.
//
// Input layout (relative to -schemas):
//
//	events/<context>/<Type>.v<N>.json   an event payload (v1 is <Type>, later versions <Type>V<N>)
//	commands/<context>/<Command>.json   a command payload; with "x-command-type" (the type string
//	                                    the command bus routes a saga's command on) also the
//	                                    constant Cmd<Command>
//	enums/<Name>.json                   a vocabulary no schema above carries as an enum
//	events/<context>/defs.json,         shapes several schemas of the context share: each of
//	commands/<context>/defs.json        their $defs is one Go type named after its key, and a
//	                                    "$ref": "defs.json#/$defs/<Name>" is that type
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	src := flag.String("schemas", "schemas", "the schemas directory")
	out := flag.String("out", "schemas/contracts", "the directory of the generated package")
	flag.Parse()
	files, err := generate(os.DirFS(*src))
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	old, _ := filepath.Glob(filepath.Join(*out, "zz_*.go"))
	for _, f := range old {
		if _, ok := files[filepath.Base(f)]; !ok {
			if err := os.Remove(f); err != nil {
				fmt.Fprintln(os.Stderr, "gen:", err)
				os.Exit(1)
			}
		}
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(*out, name), b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}
