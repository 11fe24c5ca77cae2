// Package eventstest is the test kit for code built on the platform's event store: the platform's
// event registry, and a real SQLite store guarded by it. Tests that append or read platform events
// open their store here, so every event they write is validated against the published schemas
// exactly as in production, and there is one place that says how.
//
// It is imported only by _test.go files and test helpers.
package eventstest

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
)

// Registry loads the platform's event registry from the embedded schemas. Each call returns a
// registry of its own, so a test may register extra types without affecting another.
func Registry(tb testing.TB) *events.Registry {
	tb.Helper()
	reg, err := events.PlatformRegistry()
	if err != nil {
		tb.Fatal(err)
	}
	return reg
}

// OpenSQLite opens a real SQLite store with cfg (an empty Path means events.db in tb.TempDir()),
// guarded by the platform registry with default limits. It returns the guarded store and the raw
// one (for checkpoints, or to close and reopen it as a restart does); the store is closed when the
// test ends (closing twice is harmless).
func OpenSQLite(tb testing.TB, cfg sqlite.Config) (*events.Guarded, *sqlite.Store) {
	tb.Helper()
	reg := Registry(tb)
	if cfg.Path == "" {
		cfg.Path = filepath.Join(tb.TempDir(), "events.db")
	}
	raw, err := sqlite.Open(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = raw.Close() })
	return events.Guard(raw, reg, events.Limits{}), raw
}

// ReadCounter wraps a store and counts the events ReadAll returns: what a start or a restart
// reads of the log (the snapshot tests assert a restart reads only what follows the snapshot).
type ReadCounter struct {
	events.EventStore
	read atomic.Int64
}

// ReadAll reads through to the store and counts what it returns.
func (c *ReadCounter) ReadAll(ctx context.Context, after int64, limit int) ([]events.Envelope, error) {
	evs, err := c.EventStore.ReadAll(ctx, after, limit)
	c.read.Add(int64(len(evs)))
	return evs, err
}

// Read is how many events ReadAll has returned so far.
func (c *ReadCounter) Read() int64 { return c.read.Load() }

// Header is the part of a store Head reads.
type Header interface {
	HeadPosition(ctx context.Context) (int64, error)
}

// Head returns the store's head position (the last event's global position, 0 when empty),
// failing tb when the store cannot say.
func Head(tb testing.TB, store Header) int64 {
	tb.Helper()
	h, err := store.HeadPosition(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// FlipLastByte corrupts the file at path by inverting its last byte: what a torn or tampered
// snapshot looks like to its checksum.
func FlipLastByte(tb testing.TB, path string) {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if len(b) == 0 {
		tb.Fatalf("%s is empty: nothing to corrupt", path)
	}
	b[len(b)-1] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tb.Fatal(err)
	}
}
