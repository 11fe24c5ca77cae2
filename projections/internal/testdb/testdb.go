// Package testdb opens throw-away read-model databases for tests: a SQLite file in a temp dir, or
// a fresh schema on the test PostgreSQL server (SOC_TEST_POSTGRES_URL), dropped when the test ends.
package testdb

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/sqldb"
)

// Dialects runs f once per dialect as a subtest ("sqlite", "postgres") on a fresh database of
// it. The PostgreSQL subtest skips when no server is configured (fails under
// SOC_REQUIRE_SERVERS=1).
func Dialects(t *testing.T, f func(t *testing.T, db *projections.DB)) {
	Reopenable(t, func(t *testing.T, open func() *projections.DB) { f(t, open()) })
}

// Reopenable is Dialects for tests that restart: each call of open opens another handle on the
// same fresh database, closed when the test ends.
func Reopenable(t *testing.T, f func(t *testing.T, open func() *projections.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "readmodel.db")
		f(t, func() *projections.DB { return SQLitePath(t, path) })
	})
	t.Run("postgres", func(t *testing.T) {
		url := eventstest.PostgresURL(t)
		c := sqldb.Config{PostgresURL: url, Schema: eventstest.FreshSchema(t, url, "rm_")}
		f(t, func() *projections.DB { return open(t, c) })
	})
}

// SQLite opens a fresh read-model file, closed when the test ends.
func SQLite(tb testing.TB) *projections.DB {
	tb.Helper()
	return open(tb, sqldb.Config{SQLitePath: filepath.Join(tb.TempDir(), "readmodel.db")})
}

// SQLitePath opens the read-model file at path (tests that reopen a file).
func SQLitePath(tb testing.TB, path string) *projections.DB {
	tb.Helper()
	return open(tb, sqldb.Config{SQLitePath: path})
}

// Postgres opens a fresh schema on the test server, dropped when the test ends.
func Postgres(tb testing.TB) *projections.DB {
	tb.Helper()
	url := eventstest.PostgresURL(tb)
	return open(tb, sqldb.Config{PostgresURL: url, Schema: eventstest.FreshSchema(tb, url, "rm_")})
}

func open(tb testing.TB, c sqldb.Config) *projections.DB {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := sqldb.Open(ctx, c)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.SQL.Close() })
	return db
}
