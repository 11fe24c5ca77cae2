package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// testURL returns the test server's URL, skipping (or failing, with SOC_REQUIRE_SERVERS=1) when
// none is configured.
func testURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("SOC_TEST_POSTGRES_URL")
	if u == "" {
		if os.Getenv("SOC_REQUIRE_SERVERS") == "1" {
			tb.Fatal("SOC_TEST_POSTGRES_URL is not set and SOC_REQUIRE_SERVERS=1")
		}
		tb.Skip("SOC_TEST_POSTGRES_URL is not set: run deploy/dev/postgres.sh up and export SOC_TEST_POSTGRES_URL=$(deploy/dev/postgres.sh url soc_test)")
	}
	return u
}

// freshSchema returns a schema name no other test run uses, and drops it when the test ends
// (after the store's own cleanups, which were registered later and run first).
func freshSchema(tb testing.TB, url string) string {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+quoteIdent(schema)+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// openTest opens a store on a fresh schema; cfg's URL and Schema are filled in.
func openTest(tb testing.TB, cfg Config) *Store {
	tb.Helper()
	cfg.URL = testURL(tb)
	cfg.Schema = freshSchema(tb, cfg.URL)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Open(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}
