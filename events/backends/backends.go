// Package backends is the registry of event-store backends. An adapter registers itself by name
// from its init function (events/adapters/sqlite as "sqlite", events/adapters/postgres as
// "postgres"); the binary imports the adapters it ships and opens the one its configuration names.
// A new backend is one more adapter package and one more import, with no switch to extend.
package backends

import (
	"context"

	"github.com/socplatform/soc/events"
)

// Backend is an opened event store that keeps checkpoints (the relay's, the consumers') beside its
// events, so a checkpoint commits with the writes it follows.
type Backend interface {
	events.EventStore
	LoadCheckpoint(ctx context.Context, name string) (int64, error)
	SaveCheckpoint(ctx context.Context, name string, pos int64) error
}

// Settings is what a backend is opened with. Each backend reads the fields that apply to it and
// reports the ones it needs but lacks (through its own configuration's validation).
type Settings struct {
	// URL locates a server (postgres: a connection URL or DSN).
	URL string
	// Schema is the namespace of the store's tables on a server (postgres: default "soc").
	Schema string
	// Path is the database file of an embedded backend (sqlite).
	Path string
	// Synchronous is the durability setting of an embedded backend (sqlite: FULL or NORMAL).
	Synchronous string
}

// OpenFunc opens (creating if needed) one backend's store.
type OpenFunc func(ctx context.Context, s Settings) (Backend, error)

var stores = NewRegistry[OpenFunc]("event-store")

// Register makes a backend available by name. It panics on an empty name, a nil open function or a
// name registered twice: all are programming errors found at start-up.
func Register(name string, open OpenFunc) {
	stores.Register(name, open)
}

// Open opens the backend registered under name.
func Open(ctx context.Context, name string, s Settings) (Backend, error) {
	open, err := stores.Lookup(name)
	if err != nil {
		return nil, err
	}
	return open(ctx, s)
}

// Names lists the registered backends, sorted.
func Names() []string { return stores.Names() }
