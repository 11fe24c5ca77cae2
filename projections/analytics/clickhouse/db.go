// Package clickhouse is the analytics model (projections/analytics) on ClickHouse: the tables
// (schema.go), the Projector that folds the log into them (projector.go), the Reader that
// answers analytics.Reader in SQL (reader.go) and Rebuild (rebuild.go).
//
// The server this is tested against is Debian's ClickHouse 18.16 (deploy/dev/clickhouse.sh), so
// the SQL keeps to what 18.16 and current ClickHouse both accept: no DateTime64, Map, Bool,
// LowCardinality, async inserts or {name:Type} parameters; every batch INSERT names its
// columns and goes through PrepareBatch (an Exec("INSERT … VALUES") hangs on 18.16); times are
// Int64 unix milliseconds, flags UInt8.
package clickhouse

import (
	"context"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/socplatform/soc/projections/analytics"
)

// DB is an open connection pool to the analytics database.
type DB struct {
	conn driver.Conn
	url  string // redacted
}

// Open connects to the server at cfg.URL, checks it answers, and creates the live generation's
// tables when the database has none. Errors name the URL without its password and wrap
// analytics.ErrUnavailable when the server cannot be reached.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	safe := redacted(cfg.URL)
	opts, err := ch.ParseDSN(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("clickhouse %s: %v", safe, err)
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 5 * time.Second
	}
	conn, err := ch.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("clickhouse %s: %w: %v", safe, analytics.ErrUnavailable, err)
	}
	if err := conn.Ping(ctx); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("clickhouse %s: %w: %v", safe, analytics.ErrUnavailable, err)
	}
	db := &DB{conn: conn, url: safe}
	if err := db.ensureSchema(ctx); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the pool.
func (db *DB) Close() error { return db.conn.Close() }

// wrap names the server in a query error, and marks it as analytics.ErrUnavailable when the
// server no longer answers a ping (the query API maps that to 503, anything else to 500).
func (db *DB) wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if db.conn.Ping(ctx) != nil {
		return fmt.Errorf("clickhouse %s: %s: %w: %v", db.url, what, analytics.ErrUnavailable, err)
	}
	return fmt.Errorf("clickhouse %s: %s: %w", db.url, what, err)
}
