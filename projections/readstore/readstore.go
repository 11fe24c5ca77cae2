// Package readstore is the registry of read-store backends: the databases the read models live in.
// A backend registers itself by name from its init function (projections/sqldb registers "sqlite"
// and "postgres"); the binary imports the backends it ships and opens the one its configuration
// names. A column store or a search index (ClickHouse, Elasticsearch) joins by registering its own
// name, with no switch to extend.
package readstore

import (
	"context"

	"github.com/socplatform/soc/events/backends"
	"github.com/socplatform/soc/projections"
)

// Settings is what a read store is opened with. Each backend reads the fields that apply to it and
// reports the ones it needs but lacks (through its own configuration's validation).
type Settings struct {
	// URL locates a server (postgres: a connection URL or DSN).
	URL string
	// Schema is the namespace of the read-model tables on a server (postgres: default soc_read).
	Schema string
	// Path is the database file of an embedded backend (sqlite).
	Path string
	// Synchronous is the durability setting of an embedded backend (sqlite: default NORMAL).
	Synchronous string
	// MaxConns bounds the connection pool (0: the backend's default).
	MaxConns int
}

// OpenFunc opens (creating if needed) one backend's read-model database.
type OpenFunc func(ctx context.Context, s Settings) (*projections.DB, error)

var stores = backends.NewRegistry[OpenFunc]("read-store")

// Register makes a read-store backend available by name. It panics on an empty name, a nil open
// function or a name registered twice: all are programming errors found at start-up.
func Register(name string, open OpenFunc) {
	stores.Register(name, open)
}

// Open opens the read store registered under name.
func Open(ctx context.Context, name string, s Settings) (*projections.DB, error) {
	open, err := stores.Lookup(name)
	if err != nil {
		return nil, err
	}
	return open(ctx, s)
}

// Names lists the registered read-store backends, sorted.
func Names() []string { return stores.Names() }
