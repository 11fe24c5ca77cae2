package eventstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ServerEnv returns the environment variable name, which points the tests at a real server
// (SOC_TEST_POSTGRES_URL, SOC_TEST_KAFKA_BROKERS). When it is unset the test is skipped, saying
// how to start one (hint), or fails under SOC_REQUIRE_SERVERS=1 (CI), where a missing server is
// an error rather than a reason to test less.
func ServerEnv(tb testing.TB, name, hint string) string {
	tb.Helper()
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		if os.Getenv("SOC_REQUIRE_SERVERS") == "1" {
			tb.Fatalf("%s is not set and SOC_REQUIRE_SERVERS=1: %s", name, hint)
		}
		tb.Skipf("%s is not set: %s", name, hint)
	}
	return v
}

// PostgresURL returns the test PostgreSQL server's URL (ServerEnv of SOC_TEST_POSTGRES_URL).
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	return ServerEnv(tb, "SOC_TEST_POSTGRES_URL", "run deploy/dev/postgres.sh up and export SOC_TEST_POSTGRES_URL=$(deploy/dev/postgres.sh url soc_test)")
}

// FreshSchema returns a schema name, prefix and random hex, that no other test run uses, and
// drops the schema from the server at url when the test ends (after the cleanups registered
// later, such as closing what was opened on it).
func FreshSchema(tb testing.TB, url, prefix string) string {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := prefix + hex.EncodeToString(b[:])
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
