// Package testdb opens throw-away read-model databases for tests: a SQLite file in a temp dir, or
// a fresh schema on the test PostgreSQL server (SOC_TEST_POSTGRES_URL), dropped when the test ends.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/sqldb"
)

// Dialects runs f once per dialect as a subtest ("sqlite", "postgres"), handing it an opener of
// fresh databases. The PostgreSQL subtest skips when no server is configured (fails under
// SOC_REQUIRE_SERVERS=1).
func Dialects(t *testing.T, f func(t *testing.T, open func(t testing.TB) *projections.DB)) {
	t.Run("sqlite", func(t *testing.T) { f(t, SQLite) })
	t.Run("postgres", func(t *testing.T) { f(t, Postgres) })
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

// PostgresURL returns the test server's URL, skipping (or failing, with SOC_REQUIRE_SERVERS=1)
// when none is configured.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("SOC_TEST_POSTGRES_URL")
	if u == "" {
		if os.Getenv("SOC_REQUIRE_SERVERS") == "1" {
			tb.Fatal("SOC_TEST_POSTGRES_URL is not set and SOC_REQUIRE_SERVERS=1")
		}
		tb.Skip("SOC_TEST_POSTGRES_URL is not set: run deploy/dev/up.sh and export what it prints")
	}
	return u
}

// Postgres opens a fresh schema on the test server, dropped when the test ends.
func Postgres(tb testing.TB) *projections.DB {
	tb.Helper()
	url := PostgresURL(tb)
	return open(tb, sqldb.Config{PostgresURL: url, Schema: FreshSchema(tb, url)})
}

// FreshSchema returns a schema name no other test uses, dropped when the test ends.
func FreshSchema(tb testing.TB, url string) string {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "rm_" + hex.EncodeToString(b[:])
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
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
