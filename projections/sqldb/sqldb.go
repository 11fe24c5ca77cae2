// Package sqldb opens read-model databases: a SQLite file for the embedded default, a PostgreSQL
// schema in production. Both register themselves in the read-store registry (projections/readstore)
// as "sqlite" and "postgres".
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/socplatform/soc/projections"
)

// Config selects the database. Exactly one of SQLitePath and PostgresURL is set.
type Config struct {
	// SQLitePath is the read-model file of the embedded default (e.g. <data>/readmodel.db).
	SQLitePath string
	// Synchronous is SQLite's synchronous pragma (default NORMAL: a read model can always be
	// rebuilt from the event store, so it does not pay for FULL).
	Synchronous string
	// PostgresURL and Schema (default soc_read) select the PostgreSQL database.
	PostgresURL string
	Schema      string
	// MaxConns bounds the pool (default: 8 on PostgreSQL, 8 readers on SQLite).
	MaxConns int
}

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	switch {
	case c.SQLitePath == "" && c.PostgresURL == "":
		errs = append(errs, errors.New("read model: set a SQLite path or a PostgreSQL URL"))
	case c.SQLitePath != "" && c.PostgresURL != "":
		errs = append(errs, errors.New("read model: set a SQLite path or a PostgreSQL URL, not both"))
	}
	if c.Schema != "" && !schemaName.MatchString(c.Schema) {
		errs = append(errs, fmt.Errorf("read model: schema %q: want a lower-case SQL identifier", c.Schema))
	}
	switch c.Synchronous {
	case "", "OFF", "NORMAL", "FULL", "EXTRA", "off", "normal", "full", "extra":
	default:
		errs = append(errs, fmt.Errorf("read model: synchronous %q: want OFF, NORMAL, FULL or EXTRA", c.Synchronous))
	}
	if c.MaxConns < 0 {
		errs = append(errs, errors.New("read model: max connections must not be negative"))
	}
	return errors.Join(errs...)
}

// Open opens (creating if needed) the read-model database.
func Open(ctx context.Context, c Config) (*projections.DB, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.MaxConns == 0 {
		c.MaxConns = 8
	}
	if c.SQLitePath != "" {
		return openSQLite(ctx, c)
	}
	return openPostgres(ctx, c)
}

func openSQLite(ctx context.Context, c Config) (*projections.DB, error) {
	sync := c.Synchronous
	if sync == "" {
		sync = "NORMAL"
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Add("_pragma", "foreign_keys(OFF)")
	q.Add("_pragma", "cache_size(-65536)") // 64 MiB page cache per connection
	// Write transactions take the write lock at BEGIN: a batch never fails half-way with
	// SQLITE_BUSY on upgrade, and a rebuild's swap serialises with the runner's batches.
	q.Add("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+c.SQLitePath+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(c.MaxConns)
	db.SetMaxIdleConns(c.MaxConns)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("opening read model %s: %w", c.SQLitePath, err)
	}
	return &projections.DB{SQL: db, Dialect: projections.SQLite}, nil
}

func openPostgres(ctx context.Context, c Config) (*projections.DB, error) {
	schema := c.Schema
	if schema == "" {
		schema = "soc_read"
	}
	pc, err := pgx.ParseConfig(c.PostgresURL)
	if err != nil {
		return nil, fmt.Errorf("read model: PostgreSQL URL: %w", err)
	}
	// Create the schema first, on a connection of its own.
	conn, err := pgx.ConnectConfig(ctx, pc.Copy())
	if err != nil {
		return nil, fmt.Errorf("read model: connecting to PostgreSQL: %w", err)
	}
	_, err = conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize())
	_ = conn.Close(ctx)
	if err != nil {
		return nil, fmt.Errorf("read model: creating schema %s: %w", schema, err)
	}
	pc.RuntimeParams["search_path"] = schema
	// A read model commits its position in the same transaction as its rows, and is rebuilt from
	// the event store anyway: a commit lost in a crash loses both together and is re-applied from
	// the log. So commits need not wait for the WAL flush (the event store's commits still do).
	pc.RuntimeParams["synchronous_commit"] = "off"
	db := stdlib.OpenDB(*pc)
	db.SetMaxOpenConns(c.MaxConns)
	db.SetMaxIdleConns(c.MaxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("read model: connecting to PostgreSQL: %w", err)
	}
	return &projections.DB{SQL: db, Dialect: projections.Postgres}, nil
}
