package snapshot_test

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"sync"
	"testing"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/events/snapshot"
)

// counts is a lookup that counts the events of each stream, guarded by stream version as
// lookups are.
type counts struct {
	mu       sync.Mutex
	n        map[string]int64
	applied  int // events Apply took
	restored bool
}

func newCounts() *counts { return &counts{n: map[string]int64{}} }

func (c *counts) Apply(e *events.Envelope) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.Version <= c.n[e.StreamID] {
		return fmt.Errorf("%s v%d applied twice", e.StreamID, e.Version)
	}
	c.n[e.StreamID] = e.Version
	c.applied++
	return nil
}

func (c *counts) Capture() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.n)
}

func (c *counts) Restore(s map[string]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n, c.restored = s, true
}

func appendEvents(t *testing.T, store events.EventStore, n int) {
	t.Helper()
	for i := range n {
		id := fmt.Sprintf("assets-asset-%08d-0000-4000-8000-000000000000", i%7)
		if _, err := store.Append(context.Background(), id, events.Any, []events.Envelope{{EventID: events.NewEventID(), Type: "AssetRetired", Data: []byte(`{}`)}}); err != nil {
			t.Fatal(err)
		}
	}
}

func follower(store events.EventStore, l *counts, dir snapshot.Dir) *snapshot.Follower[map[string]int64] {
	return snapshot.NewFollower[map[string]int64](store, l, snapshot.FollowerConfig{Name: "counts", Version: 1, Dir: dir, ReadBatch: 10})
}

// The follower restores the snapshot it wrote when it stopped and reads only the events after
// it (snapshot + tail == full replay); a corrupt snapshot means a full replay, same state.
func TestFollowerRestartsFromItsSnapshot(t *testing.T) {
	ctx := context.Background()
	_, store := eventstest.OpenSQLite(t, sqlite.Config{Synchronous: "NORMAL"})
	dir := snapshot.Dir{Path: t.TempDir()}
	appendEvents(t, store, 25)

	runCtx, stop := context.WithCancel(ctx)
	first := newCounts()
	f := follower(store, first, dir)
	if err := f.Start(runCtx); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, store, 12) // followed live
	for f.Position() < 37 {
		if err := f.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
	}
	stop()
	if err := f.Wait(); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, store, 8) // while it is down

	full := newCounts()
	if err := follower(store, full, snapshot.Dir{}).Load(ctx); err != nil {
		t.Fatal(err)
	}
	counter := &eventstest.ReadCounter{EventStore: store}
	again := newCounts()
	g := follower(counter, again, dir)
	// CatchUp loads the snapshot first, as Load does.
	if err := g.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if !again.restored || !maps.Equal(again.n, full.n) || g.Position() != 45 {
		t.Fatalf("restored %v at %d: %v, want %v", again.restored, g.Position(), again.n, full.n)
	}
	if n := counter.Read(); n != 8+1 || again.applied != 8 {
		t.Errorf("the restart read %d events and applied %d; want the 8 after the snapshot (+1 read to check it)", n, again.applied)
	}

	eventstest.FlipLastByte(t, filepath.Join(dir.Path, "counts.snap"))
	counter = &eventstest.ReadCounter{EventStore: store}
	rebuilt := newCounts()
	if err := follower(counter, rebuilt, dir).Load(ctx); err != nil {
		t.Fatal(err)
	}
	if rebuilt.restored || !maps.Equal(rebuilt.n, full.n) || counter.Read() != 45 {
		t.Fatalf("after a corrupt snapshot: restored %v, read %d, %v; want a full replay %v", rebuilt.restored, counter.Read(), rebuilt.n, full.n)
	}
}

// Without a Dir nothing is written; SaveSnapshot writes at once, covering the cursor.
func TestFollowerSaveSnapshot(t *testing.T) {
	ctx := context.Background()
	_, store := eventstest.OpenSQLite(t, sqlite.Config{Synchronous: "NORMAL"})
	appendEvents(t, store, 5)
	if err := follower(store, newCounts(), snapshot.Dir{}).SaveSnapshot(); err != nil {
		t.Fatal(err)
	}
	dir := snapshot.Dir{Path: t.TempDir()}
	f := follower(store, newCounts(), dir)
	if err := f.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveSnapshot(); err != nil {
		t.Fatal(err)
	}
	var st map[string]int64
	at, ok, err := dir.Load(ctx, store, "counts", 1, &st)
	if err != nil || !ok || at.Position != 5 || len(st) != 5 {
		t.Fatalf("snapshot at %+v (%v, %v): %v", at, ok, err, st)
	}
}
