package sqldb

import (
	"context"

	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/readstore"
)

// Both SQL backends register themselves: importing this package is what makes "sqlite" and
// "postgres" read stores the binary can open by name.
func init() {
	readstore.Register("sqlite", func(ctx context.Context, s readstore.Settings) (*projections.DB, error) {
		return Open(ctx, Config{SQLitePath: s.Path, Synchronous: s.Synchronous, MaxConns: s.MaxConns})
	})
	readstore.Register("postgres", func(ctx context.Context, s readstore.Settings) (*projections.DB, error) {
		return Open(ctx, Config{PostgresURL: s.URL, Schema: s.Schema, MaxConns: s.MaxConns})
	})
}
