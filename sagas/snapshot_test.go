package sagas_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/events/snapshot"
	"github.com/socplatform/soc/sagas"
)

// everySync writes a snapshot on every sync that moved; atStopOnly never before Run stops.
var (
	everySync  = snapshot.Policy{Events: 1, Interval: -1}
	atStopOnly = snapshot.Policy{Events: 1 << 62}
)

// services builds a runtime on store with snapshots in dir (zero: none) and its timer service
// and dispatcher.
func (e *env) services(store events.EventStore, dir snapshot.Dir, policy snapshot.Policy) (*sagas.TimerService, *sagas.Dispatcher) {
	e.t.Helper()
	rt, err := sagas.New(sagas.Config{Store: store, Sagas: []sagas.Saga{findingAlert{}}, Checkpoints: e.Raw, Clock: e.Clock,
		Snapshots: dir, SnapshotPolicy: policy})
	if err != nil {
		e.t.Fatal(err)
	}
	d, err := sagas.NewDispatcher(sagas.DispatcherConfig{Runtime: rt, Bus: e.bus, MaxAttempts: 5, MinBackoff: time.Second, MaxBackoff: 4 * time.Second})
	if err != nil {
		e.t.Fatal(err)
	}
	return sagas.NewTimerService(rt, 0), d
}

func (e *env) head() int64 {
	e.t.Helper()
	return eventstest.Head(e.t, e.Store)
}

// A restart restores the pending timers and commands from their snapshots and reads only the
// events after them; the queues then equal the ones a full replay of the log builds. A corrupt
// snapshot is ignored: the queues are rebuilt from the whole log, with the same result.
func TestSchedulerSnapshotRestart(t *testing.T) {
	e := newEnv(t)
	dir := snapshot.Dir{Path: t.TempDir()}
	e.bus.fail = func(sagas.Command) error { return errors.New("bus: 503") }

	// Before the snapshot: instances with timers and commands, some failed and waiting a retry.
	var findings []string
	for range 4 {
		findings = append(findings, e.finding("critical"))
	}
	e.drain()
	ts1, d1 := e.services(e.Store, dir, everySync)
	mustN(t, "sync timers", 0, ts1.Sync(e.Ctx), 0)
	mustN(t, "sync dispatcher", 0, d1.Sync(e.Ctx), 0)
	n, err := d1.DispatchDue(e.Ctx)
	mustN(t, "first attempts", n, err, 4)
	mustN(t, "sync dispatcher", 0, d1.Sync(e.Ctx), 0)
	mustN(t, "sync timers", 0, ts1.Sync(e.Ctx), 0)
	snapPos := e.head()

	// After it: a resolved finding (its timer cancelled), new instances, retries, fired timers.
	e.resolve(findings[0])
	e.finding("critical")
	e.drain()
	e.Clock.Advance(25 * time.Hour)
	other, otherD := e.services(e.Store, snapshot.Dir{}, everySync)
	mustN(t, "sync", 0, other.Sync(e.Ctx), 0)
	if n, err := other.FireDue(e.Ctx); err != nil || n != 4 {
		t.Fatalf("fired %d (%v), want the 4 pending timers", n, err)
	}
	e.finding("critical") // its timer stays pending
	e.drain()
	mustN(t, "sync", 0, otherD.Sync(e.Ctx), 0)
	if _, err := otherD.DispatchDue(e.Ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Log(err) // the bus fails: the attempts are recorded, which is what the test needs
	}
	head := e.head()
	if head <= snapPos {
		t.Fatalf("nothing after the snapshot (head %d)", head)
	}

	fullT, fullD := e.services(e.Store, snapshot.Dir{}, everySync)
	mustN(t, "full sync", 0, fullT.Sync(e.Ctx), 0)
	mustN(t, "full sync", 0, fullD.Sync(e.Ctx), 0)
	_, wantT, _ := sagas.TimerQueues(fullT)
	_, wantD, _ := sagas.DispatcherQueues(fullD)
	if len(wantT) == 0 || len(wantD) == 0 {
		t.Fatalf("the scenario should leave timers (%d) and commands (%d) pending", len(wantT), len(wantD))
	}

	restart := func(name string) int64 {
		t.Helper()
		c := &eventstest.ReadCounter{EventStore: e.Store}
		ts, d := e.services(c, dir, everySync)
		mustN(t, name+": sync timers", 0, ts.Sync(e.Ctx), 0)
		mustN(t, name+": sync dispatcher", 0, d.Sync(e.Ctx), 0)
		for what, q := range map[string]func() (int64, map[string]sagas.QueuedItem, map[string]sagas.QueuedItem){
			"timers": func() (int64, map[string]sagas.QueuedItem, map[string]sagas.QueuedItem) { return sagas.TimerQueues(ts) },
			"commands": func() (int64, map[string]sagas.QueuedItem, map[string]sagas.QueuedItem) {
				return sagas.DispatcherQueues(d)
			},
		} {
			want := map[string]map[string]sagas.QueuedItem{"timers": wantT, "commands": wantD}[what]
			pos, working, folded := q()
			if pos != head || !reflect.DeepEqual(working, want) || !reflect.DeepEqual(folded, want) {
				t.Fatalf("%s: %s at %d differ from the full replay's at %d:\n%v\n%v\nwant %v", name, what, pos, head, working, folded, want)
			}
		}
		return c.Read()
	}
	// Each of the two snapshots is checked by reading the one event at its position.
	if got, max := restart("after the snapshots"), 2*(head-snapPos+1); got > max {
		t.Fatalf("the restart read %d events, want at most %d (head %d, snapshots at %d)", got, max, head, snapPos)
	}

	for _, name := range []string{"sagas-timers", "sagas-dispatcher"} {
		eventstest.FlipLastByte(t, filepath.Join(dir.Path, name+".snap"))
	}
	if got := restart("after corrupt snapshots"); got < 2*head {
		t.Fatalf("the rebuild read %d events, want the whole log twice (%d)", got, 2*head)
	}
}

// A timer restored from the snapshot fires at its time even when no event follows the snapshot
// (the follower wakes the due-work loop after the restore), and Run writes a snapshot when it
// stops.
func TestRestoredTimerFiresUnderRun(t *testing.T) {
	e := newEnv(t)
	dir := snapshot.Dir{Path: t.TempDir()}
	f := e.finding("critical")
	e.drain()
	ts1, _ := e.services(e.Store, dir, everySync)
	mustN(t, "sync", 0, ts1.Sync(e.Ctx), 0)
	snapPos := e.head()

	c := &eventstest.ReadCounter{EventStore: e.Store}
	ts, _ := e.services(c, dir, atStopOnly)
	stop := eventstest.Start(t, e.Ctx, ts.Run)
	e.Clock.Advance(25 * time.Hour)
	caughtUp := func() bool { pos, _, _ := sagas.TimerQueues(ts); return pos == e.head() }
	for countType(e.show(f), "SagaTimerFired") == 0 || !caughtUp() {
		select {
		case <-e.Ctx.Done():
			t.Fatal("the restored timer did not fire, or the follower did not read what firing appended")
		case <-time.After(5 * time.Millisecond):
			e.Clock.Advance(time.Millisecond) // wakes a wait registered after the first advance
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got, max := c.Read(), 1+e.head()-snapPos; got > max { // the snapshot's check, then what firing appended
		t.Fatalf("Run read %d events of the log, want at most %d: the snapshot's check and what followed it", got, max)
	}
	// The snapshot Run wrote covers the head: the next start reads only the one event it checks.
	c = &eventstest.ReadCounter{EventStore: e.Store}
	next, _ := e.services(c, dir, everySync)
	mustN(t, "sync", 0, next.Sync(e.Ctx), 0)
	if pos, _, folded := sagas.TimerQueues(next); pos != e.head() || len(folded) != 0 || c.Read() != 1 {
		t.Fatalf("after Run's snapshot: at %d (head %d), %d pending, %d events read", pos, e.head(), len(folded), c.Read())
	}
}
