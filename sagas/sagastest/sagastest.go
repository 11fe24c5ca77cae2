// Package sagastest is what the tests of the saga runtime and of the platform's sagas share.
package sagastest

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

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

// Process is a saga runtime over a SQLite store file, with a manual clock, as the runtime's and
// the flows' tests drive one: Restart closes the store and opens the same file again with a new
// runtime, which is what a process restart does. Ctx bounds the whole test.
type Process struct {
	Ctx   context.Context
	Clock *sagas.ManualClock
	Store *events.Guarded
	Raw   *sqlite.Store
	RT    *sagas.Runtime

	tb    testing.TB
	path  string
	sagas []sagas.Saga
}

// Start opens a process of the sagas on a fresh store, its clock at start; the store is closed
// when the test ends.
func Start(tb testing.TB, start time.Time, list ...sagas.Saga) *Process {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	tb.Cleanup(cancel)
	p := &Process{Ctx: ctx, Clock: sagas.NewManualClock(start), tb: tb, path: filepath.Join(tb.TempDir(), "e.db"), sagas: list}
	p.Store, p.Raw, p.RT = OpenRuntime(tb, p.path, p.Clock, list...)
	return p
}

// Restart closes the store and opens it again with a new runtime.
func (p *Process) Restart() {
	p.tb.Helper()
	if err := p.Raw.Close(); err != nil {
		p.tb.Fatal(err)
	}
	p.Store, p.Raw, p.RT = OpenRuntime(p.tb, p.path, p.Clock, p.sagas...)
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
