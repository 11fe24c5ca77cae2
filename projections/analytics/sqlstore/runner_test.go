package sqlstore_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/analytics/analyticstest"
	"github.com/socplatform/soc/projections/analytics/sqlstore"
	"github.com/socplatform/soc/projections/internal/testdb"
	"github.com/socplatform/soc/projections/runner"
)

var quiet = slog.New(slog.DiscardHandler)

// TestRunnerAndRebuild runs the projection as the binary does — the runner following a real
// event store, in batches of its choosing — and checks the answers against the oracle, then
// rebuilds the model from the log (soc replay) and checks that no answer changed.
func TestRunnerAndRebuild(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *projections.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		store, _ := eventstest.OpenSQLite(t, sqlite.Config{})
		l := analyticstest.NewLog(t, analyticstest.Start)
		analyticstest.Random(l, 3, 8, 300)
		for _, e := range l.Events {
			if _, err := store.Append(ctx, e.StreamID, events.Any, []events.Envelope{e}); err != nil {
				t.Fatal(err)
			}
		}
		recorded, err := store.ReadAll(ctx, 0, events.MaxReadLimit)
		if err != nil || len(recorded) != len(l.Events) {
			t.Fatalf("read back %d events, %v; want %d", len(recorded), err, len(l.Events))
		}
		r, err := runner.New(runner.Config{DB: db, Projection: sqlstore.New(), Store: store, BatchSize: 37, Log: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Init(ctx); err != nil {
			t.Fatal(err)
		}
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- r.Run(runCtx) }()
		if err := r.WaitFor(ctx, recorded[len(recorded)-1].GlobalPosition); err != nil {
			t.Fatal(err)
		}
		stop()
		<-done
		reader := sqlstore.NewReader(db)
		analyticstest.Compare(t, reader, recorded)

		if _, err := runner.Rebuild(ctx, runner.RebuildConfig{DB: db, Projection: sqlstore.New(), Store: store, Log: quiet}); err != nil {
			t.Fatal(err)
		}
		analyticstest.Compare(t, reader, recorded)
	})
}
