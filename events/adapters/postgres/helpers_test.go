package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/socplatform/soc/events/eventstest"
)

// openTest opens a store on a fresh schema; cfg's URL and Schema are filled in.
func openTest(tb testing.TB, cfg Config) *Store {
	tb.Helper()
	cfg.URL = eventstest.PostgresURL(tb)
	cfg.Schema = eventstest.FreshSchema(tb, cfg.URL, "t_")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Open(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}
