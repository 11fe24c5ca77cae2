package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/socplatform/soc/events"
	// The event-store backends this binary ships: each registers itself by name.
	_ "github.com/socplatform/soc/events/adapters/postgres"
	_ "github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/backends"
)

// backend is an opened event store with the checkpoints kept beside it.
type backend = backends.Backend

// openStore opens the configured event store and guards it with the schema registry.
// It returns the guarded store, the raw backend (for checkpoints) and the backend's name.
func openStore(ctx context.Context, c *Config) (*events.Guarded, backend, string, error) {
	reg, err := events.PlatformRegistry()
	if err != nil {
		return nil, nil, "", err
	}
	var (
		b    backend
		kind string
	)
	if c.PostgresURL != "" {
		kind = "postgres"
		b, err = backends.Open(ctx, kind, backends.Settings{URL: c.PostgresURL, Schema: c.PostgresSchema})
		if err != nil {
			return nil, nil, "", fmt.Errorf("opening the PostgreSQL event store at %s: %w", c.redactedPostgresURL(), err)
		}
	} else {
		kind = "sqlite"
		if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
			return nil, nil, "", fmt.Errorf("creating data directory: %w", err)
		}
		path := filepath.Join(c.DataDir, "events.db")
		b, err = backends.Open(ctx, kind, backends.Settings{Path: path, Synchronous: c.SQLiteSync})
		if err != nil {
			return nil, nil, "", fmt.Errorf("opening the SQLite event store at %s: %w", path, err)
		}
	}
	return events.Guard(b, reg, events.Limits{}), b, kind, nil
}
