// Package chtest gives tests a throw-away database on the test ClickHouse server
// (SOC_TEST_CLICKHOUSE_URL, started by deploy/dev/clickhouse.sh), dropped when the test ends.
package chtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/socplatform/soc/events/eventstest"
)

const hint = "run deploy/dev/clickhouse.sh up and export SOC_TEST_CLICKHOUSE_URL=$(deploy/dev/clickhouse.sh url)"

// URL returns the test server's URL. Unset, the test is skipped, or fails under
// SOC_REQUIRE_SERVERS=1 or CI=true, where a missing server would hide a gap.
func URL(tb testing.TB) string {
	tb.Helper()
	if os.Getenv("CI") == "true" && os.Getenv("SOC_TEST_CLICKHOUSE_URL") == "" {
		tb.Fatalf("SOC_TEST_CLICKHOUSE_URL is not set and CI=true: %s", hint)
	}
	return eventstest.ServerEnv(tb, "SOC_TEST_CLICKHOUSE_URL", hint)
}

// FreshDatabase creates a database soc_test_<random> on the test server and returns the URL
// pointing at it; the database is dropped when the test ends (after the cleanups registered
// later, such as closing what was opened on it).
func FreshDatabase(tb testing.TB) string {
	tb.Helper()
	base := URL(tb)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "soc_test_" + hex.EncodeToString(b[:])
	exec := func(q string) error {
		opts, err := ch.ParseDSN(base)
		if err != nil {
			return err
		}
		conn, err := ch.Open(opts)
		if err != nil {
			return err
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a database of many small parts drops slowly on a busy server
		defer cancel()
		return conn.Exec(ctx, q)
	}
	if err := exec("CREATE DATABASE " + name); err != nil {
		tb.Fatalf("creating database %s on the test ClickHouse: %v", name, err)
	}
	tb.Cleanup(func() {
		if err := exec("DROP DATABASE IF EXISTS " + name); err != nil {
			tb.Errorf("dropping database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
