// Package sagastest is what the tests of the saga runtime and of the platform's sagas share.
package sagastest

import (
	"context"
	"sync"
	"testing"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/sagas"
)

// OpenRuntime opens the SQLite store at path, guarded by the platform's registry, and builds a
// runtime of the sagas on it (checkpoints in the same database) with clock: what a process
// start builds. Opening the same path again is a restart.
func OpenRuntime(tb testing.TB, path string, clock sagas.Clock, list ...sagas.Saga) (*events.Guarded, *sqlite.Store, *sagas.Runtime) {
	tb.Helper()
	store, raw := eventstest.OpenSQLite(tb, sqlite.Config{Path: path})
	rt, err := sagas.New(sagas.Config{Store: store, Sagas: list, Checkpoints: raw, Clock: clock})
	if err != nil {
		tb.Fatal(err)
	}
	return store, raw, rt
}

// FireConcurrently fires the due timers of every service at once, as replicas following one
// store race to, and returns how many timers each fired. A firing error fails tb.
func FireConcurrently(ctx context.Context, tb testing.TB, services ...*sagas.TimerService) []int {
	tb.Helper()
	fired := make([]int, len(services))
	var wg sync.WaitGroup
	for i, s := range services {
		wg.Go(func() {
			n, err := s.FireDue(ctx)
			if err != nil {
				tb.Error(err)
			}
			fired[i] = n
		})
	}
	wg.Wait()
	return fired
}
