package search_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/projections/analytics/analyticstest"
	"github.com/socplatform/soc/projections/search"
	"github.com/socplatform/soc/projections/search/searchtest"
	"github.com/socplatform/soc/schemas/contracts"
)

// alias is a live index name over MemIndexes (what the backends' aliases are).
type alias struct {
	mu  sync.Mutex
	cur *searchtest.MemIndex
}

func (a *alias) index() *searchtest.MemIndex {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cur
}

func (a *alias) Load(ctx context.Context, ids []string) (map[string]search.Doc, error) {
	return a.index().Load(ctx, ids)
}

func (a *alias) FindingsOf(ctx context.Context, ids []string) ([]search.Doc, error) {
	return a.index().FindingsOf(ctx, ids)
}

func (a *alias) Write(ctx context.Context, docs []search.Doc, pos int64) error {
	return a.index().Write(ctx, docs, pos)
}
func (a *alias) Position(ctx context.Context) (int64, error) { return a.index().Position(ctx) }
func (a *alias) Search(ctx context.Context, r search.Request) (search.Result, error) {
	return a.index().Search(ctx, r)
}

// generations swaps alias between MemIndexes; beforeSwap runs just before a swap.
type generations struct {
	alias      *alias
	beforeSwap func()
	aborted    []search.Index
}

func (g *generations) Begin(context.Context) (search.Index, error) {
	return searchtest.NewMemIndex(), nil
}
func (g *generations) Swap(_ context.Context, next search.Index) error {
	if g.beforeSwap != nil {
		g.beforeSwap()
	}
	g.alias.mu.Lock()
	defer g.alias.mu.Unlock()
	g.alias.cur = next.(*searchtest.MemIndex)
	return nil
}

func (g *generations) Abort(_ context.Context, next search.Index) error {
	g.aborted = append(g.aborted, next)
	return nil
}

// openStore returns a real SQLite store guarded by the platform registry, holding evs.
func openStore(t *testing.T, evs []events.Envelope) events.EventStore {
	t.Helper()
	store, _ := eventstest.OpenSQLite(t, sqlite.Config{})
	appendAll(t, store, evs)
	return store
}

func appendAll(t *testing.T, store events.EventStore, evs []events.Envelope) {
	t.Helper()
	for _, e := range evs {
		if _, err := store.Append(context.Background(), e.StreamID, events.Any, []events.Envelope{e}); err != nil {
			t.Fatal(err)
		}
	}
}

// waitFor waits (generously) until idx's position reaches pos.
func waitFor(t *testing.T, idx search.Index, pos int64) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		got, err := idx.Position(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got >= pos {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the index is at position %d, want %d", got, pos)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestProjectorFollowsTheStore runs the Projector as the binary does — the store consumer on a
// real store, in batches of its choosing — stops it, appends more, and starts it again from
// the position the index holds.
func TestProjectorFollowsTheStore(t *testing.T) {
	ctx := context.Background()
	l := analyticstest.NewLog(t, t0)
	analyticstest.Random(l, 7, 6, 150)
	first := len(l.Events)
	l.Classify(1, contracts.AssetClassified{OwnerTeam: ptr("purple")})
	l.Rename(2, "renamed-2")
	store := openStore(t, l.Events[:first])

	idx := searchtest.NewMemIndex()
	p := search.NewProjector(idx)
	c := p.StoreConsumer(store)
	c.BatchSize = 23
	stop := eventstest.Start(t, ctx, func(ctx context.Context) error { return c.Run(ctx, p.Handle) })
	waitFor(t, idx, int64(first))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got, err := p.StartFrom(ctx); err != nil || got != int64(first) {
		t.Fatalf("StartFrom = %d, %v; want %d", got, err, first)
	}
	writes := idx.Writes()

	appendAll(t, store, l.Events[first:])
	stop = eventstest.Start(t, ctx, func(ctx context.Context) error { return c.Run(ctx, p.Handle) })
	waitFor(t, idx, int64(len(l.Events)))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := idx.Writes() - writes; n != 1 {
		t.Errorf("the restart wrote %d batches, want 1 (the two new events, nothing again)", n)
	}

	// The same documents as one fold of the whole log, and the invariants of the model.
	want := project(t, l.Events, len(l.Events))
	if got := idx.All(); !equalDocs(t, got, want.All()) {
		t.Error("the store-fed index differs from the one-batch fold")
	}
	checkInvariants(t, idx.All())
	if d := idx.Doc(t, analyticstest.AssetID(1)); d.Team != "purple" {
		t.Errorf("asset 1's team = %q, want purple", d.Team)
	}
}

// TestRebuild refills an index beside the live one and swaps it in; events the live projector
// applied to the old index between the rebuild's last read and the swap reach the new one.
func TestRebuild(t *testing.T) {
	ctx := context.Background()
	l := analyticstest.NewLog(t, t0)
	analyticstest.Random(l, 11, 5, 120)
	first := len(l.Events)
	l.Register(99, analyticstest.AssetSpec{Name: "late-asset", Team: "late"})
	l.Open(999, analyticstest.FindingSpec{Asset: 99, Severity: "high"})
	store := openStore(t, l.Events[:first])

	old := searchtest.NewMemIndex()
	live := &alias{cur: old}
	// The live index holds a document the log does not make (a rebuild drops it).
	if err := old.Write(ctx, []search.Doc{{ID: "stale", Kind: search.KindAsset, Version: 1}}, 1); err != nil {
		t.Fatal(err)
	}
	g := &generations{alias: live, beforeSwap: func() {
		// Appended after the rebuild's last read and applied by the live projector to the
		// old index, before the swap.
		appendAll(t, store, l.Events[first:])
		if err := search.NewProjector(live).Handle(ctx, l.Events[first:]); err != nil {
			t.Error(err)
		}
	}}
	res, err := search.Rebuild(ctx, g, live, store, 17)
	if err != nil {
		t.Fatal(err)
	}
	if live.index() == old {
		t.Fatal("the alias still names the old index")
	}
	if res.Events != int64(len(l.Events)) || res.Position != int64(len(l.Events)) || res.Docs < int64(len(l.Events)) || res.Took <= 0 {
		t.Errorf("result %+v, want %d events to position %d", res, len(l.Events), len(l.Events))
	}
	got := live.index().All()
	if _, ok := got["stale"]; ok {
		t.Error("the rebuilt index kept the stale document")
	}
	if d, ok := got[analyticstest.FindingID(999)]; !ok || d.Team != "late" || d.AssetName != "late-asset" {
		t.Errorf("the finding appended before the swap: %+v (present %v)", d, ok)
	}
	if !equalDocs(t, got, project(t, l.Events, 50).All()) {
		t.Error("the rebuilt index differs from a fold of the whole log")
	}
}

// failingStore fails every read: a rebuild that cannot read drops its new index.
type failingStore struct{ events.EventStore }

func (failingStore) ReadAll(context.Context, int64, int) ([]events.Envelope, error) {
	return nil, errors.New("disk on fire")
}

func TestRebuildAbortsOnError(t *testing.T) {
	old := searchtest.NewMemIndex()
	live := &alias{cur: old}
	g := &generations{alias: live}
	if _, err := search.Rebuild(context.Background(), g, live, failingStore{}, 0); err == nil {
		t.Fatal("Rebuild succeeded on a failing store")
	}
	if len(g.aborted) != 1 || live.index() != old {
		t.Errorf("aborted %d indexes, live swapped %v; want the new one aborted and the old one live", len(g.aborted), live.index() != old)
	}
}
