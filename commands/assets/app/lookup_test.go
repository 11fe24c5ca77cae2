package app_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/socplatform/soc/commands/assets/app"
	"github.com/socplatform/soc/commands/assets/domain"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/events/snapshot"
	"github.com/socplatform/soc/schemas/contracts"
)

const lookupScan = "0b6c2a8e-6a3c-4a43-9d1e-2f5e0c6e7d11"

var lookupMeta = es.Meta{Actor: "test"}

func loadedLookup(tb testing.TB, store *events.Guarded, dir snapshot.Dir) *app.Lookup {
	tb.Helper()
	l := app.NewLookup(store, app.LookupOptions{Snapshots: dir, ReadBatch: 50})
	if err := l.Load(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return l
}

func host(i int) app.Sighting {
	return app.Sighting{Kind: domain.Host, Name: fmt.Sprintf("web-%d", i), IPs: []string{fmt.Sprintf("10.1.%d.%d", i/200, i%200+1)}}
}

// team is the owner team grow gives asset i.
func team(i int) string { return fmt.Sprintf("team-%d", i%4) }

func discover(tb testing.TB, l *app.Lookup, s app.Sighting) app.Discovery {
	tb.Helper()
	d, err := l.Discover(context.Background(), lookupMeta, lookupScan, s)
	if err != nil || d.AssetID == "" {
		tb.Fatalf("discover %+v: %+v, %v", s, d, err)
	}
	return d
}

// grow appends the history of assets from..to-1 as a node's services do: registered by a
// person (with a criticality and an owner team) or discovered by a scan, classified (some
// given to a team, some taken from theirs), seen again with a new hostname, one in ten retired.
func grow(tb testing.TB, store *events.Guarded, l *app.Lookup, from, to int) {
	tb.Helper()
	ctx := context.Background()
	svc := app.New(store, l)
	inv := es.Invocation{Meta: lookupMeta}
	for i := from; i < to; i++ {
		var id string
		if i%3 == 0 {
			s := host(i)
			out, err := svc.Register(ctx, app.RegisterAsset{Kind: string(domain.Host), Name: s.Name,
				Identifiers: &contracts.AssetIdentifiersInput{IPs: s.IPs}, Criticality: domain.CriticalityMedium, OwnerTeam: team(i)}, inv)
			if err != nil {
				tb.Fatal(err)
			}
			id = out.StreamID
		} else {
			id = discover(tb, l, host(i)).AssetID
		}
		if i%2 == 0 {
			c := domain.CriticalityHigh
			owner := team(i + 1)
			if i%12 == 0 {
				owner = "" // taken from its team
			}
			if _, err := svc.Classify(ctx, id, app.ClassifyAsset{Criticality: &c, OwnerTeam: &owner}, inv); err != nil {
				tb.Fatal(err)
			}
		}
		// The next scan sees a new hostname; as an import does, it catches up first.
		if err := l.CatchUp(ctx); err != nil {
			tb.Fatal(err)
		}
		again := host(i)
		again.Hostnames = []string{fmt.Sprintf("web-%d.example.com", i)}
		if d := discover(tb, l, again); d.Registered {
			tb.Fatalf("%s was registered again: %+v", again.Name, d)
		}
		if i%10 == 9 {
			if _, err := svc.Retire(ctx, id, app.RetireAsset{Reason: "gone"}, inv); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

// A restart restores the lookup from the snapshot written when it stopped and reads only the
// events appended after it; the result equals a full replay of $all and answers the same. A
// corrupt snapshot is ignored: the lookup is rebuilt from the whole log, with the same result.
func TestLookupSnapshotRestart(t *testing.T) {
	ctx := context.Background()
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	dir := snapshot.Dir{Path: t.TempDir()}

	runCtx, stop := context.WithCancel(ctx)
	first := app.NewLookup(store, app.LookupOptions{Snapshots: dir})
	if err := first.Start(runCtx); err != nil {
		t.Fatal(err)
	}
	grow(t, store, first, 0, 40)
	if err := first.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	stop()
	if err := first.Wait(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir.Path, "assets-lookup.snap")
	snapped := first.Position() // the shutdown snapshot covers the cursor
	if snapped == 0 {
		t.Fatal("the shutdown snapshot covers nothing")
	}

	// Another node appends while this one is down.
	grow(t, store, loadedLookup(t, store, snapshot.Dir{}), 40, 60)

	var restarted *app.Lookup
	testsupport.RestartReadsOnlyTheTail(t, store, dir, snapped, func(store *events.Guarded, dir snapshot.Dir) string {
		restarted = loadedLookup(t, store, dir)
		return restarted.Dump()
	})
	// The restored lookup answers as the replayed one: names, criticalities, matches.
	full := loadedLookup(t, store, snapshot.Dir{})
	for _, i := range []int{0, 5, 39, 45} {
		s := host(i)
		wantID, werr := full.ResolveLive(s.Name)
		gotID, gerr := restarted.ResolveLive(s.Name)
		if gotID != wantID || (gerr == nil) != (werr == nil) {
			t.Errorf("%s resolves to %q (%v), want %q (%v)", s.Name, gotID, gerr, wantID, werr)
		}
		if werr == nil && restarted.Criticality(gotID) != full.Criticality(wantID) {
			t.Errorf("%s: criticality %q, want %q", s.Name, restarted.Criticality(gotID), full.Criticality(wantID))
		}
		gotTeam, gotKnown := restarted.OwnerTeam(gotID)
		wantTeam, wantKnown := full.OwnerTeam(wantID)
		if werr == nil && (gotTeam != wantTeam || gotKnown != wantKnown || !gotKnown) {
			t.Errorf("%s: owner team %q (known %v), want %q (known %v)", s.Name, gotTeam, gotKnown, wantTeam, wantKnown)
		}
	}
	if d := discover(t, restarted, host(45)); d.Registered {
		t.Errorf("a known asset was registered again after the restore: %+v", d)
	}

	testsupport.CorruptSnapshotReplaysAll(t, store, dir, path, func(store *events.Guarded, dir snapshot.Dir) string {
		return loadedLookup(t, store, dir).Dump()
	})
}

// A snapshot may hold discoveries applied at once, beyond the cursor it was taken at; replaying
// them after a restore changes nothing.
func TestLookupSnapshotAheadOfCursor(t *testing.T) {
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	dir := snapshot.Dir{Path: t.TempDir()}
	l := loadedLookup(t, store, dir)
	grow(t, store, l, 0, 12)
	if l.Position() >= eventstest.Head(t, store) {
		t.Fatal("the lookup read its own appends back: nothing is ahead of its cursor")
	}
	if err := l.SaveSnapshot(); err != nil {
		t.Fatal(err)
	}
	want := loadedLookup(t, store, snapshot.Dir{}).Dump()
	if got := loadedLookup(t, store, dir).Dump(); got != want {
		t.Fatalf("restored lookup differs from a full replay:\n got: %s\nwant: %s", got, want)
	}
}

// Discoveries: a sighting of no known asset registers one (once, however many imports discover
// it at the same time), a match records the identifiers the asset did not have, a refusal of the
// domain is reported, not an error; the answers see what was appended before a CatchUp.
func TestLookupDiscover(t *testing.T) {
	ctx := context.Background()
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	l := loadedLookup(t, store, snapshot.Dir{})

	var wg sync.WaitGroup
	found := make([]app.Discovery, 8)
	for i := range found {
		wg.Go(func() { found[i] = discover(t, l, host(1)) })
	}
	wg.Wait()
	registered := 0
	for _, d := range found {
		registered += map[bool]int{true: 1}[d.Registered]
		if d.AssetID != found[0].AssetID {
			t.Fatalf("one sighting, several assets: %+v", found)
		}
	}
	id := found[0].AssetID
	if registered != 1 {
		t.Fatalf("%d registrations of one sighting", registered)
	}

	more := host(1)
	more.Hostnames = []string{"web-1.example.com"}
	if d := discover(t, l, more); d.Registered || d.AssetID != id || d.IdentifiersRefused != nil {
		t.Fatalf("a sighting with a new hostname: %+v", d)
	}
	if got := testsupport.StreamTypes(t, store, id); !slices.Equal(got, []string{contracts.TypeAssetRegistered, contracts.TypeAssetIdentifiersObserved}) {
		t.Fatalf("asset stream: %v", got)
	}

	d, err := l.Discover(ctx, lookupMeta, lookupScan, app.Sighting{Kind: domain.Repository, Name: "no url"})
	if err != nil || d.Refused == nil || d.AssetID != "" {
		t.Fatalf("a repository without a repo URL: %+v, %v; want a refusal", d, err)
	}
	w, err := l.DiscoverWeak(ctx, lookupMeta, lookupScan, app.WeakSighting{Kind: domain.Host, Hint: "scan", Name: "."})
	if err != nil || !w.Registered || w.Key != domain.WeakKey("scan", ".") {
		t.Fatalf("weak: %+v, %v", w, err)
	}
	if again, err := l.DiscoverWeak(ctx, lookupMeta, lookupScan, app.WeakSighting{Kind: domain.Host, Hint: "scan", Name: "."}); err != nil || again.Registered || again.AssetID != w.AssetID {
		t.Fatalf("weak again: %+v, %v", again, err)
	}

	// An asset registered elsewhere (an endpoint of another node) is seen after CatchUp.
	other := loadedLookup(t, store, snapshot.Dir{})
	c := domain.CriticalityCritical
	out, err := app.New(store, other).Register(ctx, app.RegisterAsset{Kind: string(domain.Host), Name: "db-1",
		Identifiers: &contracts.AssetIdentifiersInput{IPs: []string{"10.9.9.9"}}, Criticality: c}, es.Invocation{Meta: lookupMeta})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.ResolveLive("db-1"); !errors.As(err, new(*app.NoLiveAssetError)) {
		t.Fatalf("before CatchUp: %v", err)
	}
	if err := l.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := l.ResolveLive("db-1"); err != nil || got != out.StreamID || l.Criticality(got) != string(c) {
		t.Fatalf("after CatchUp: %q %v, criticality %q", got, err, l.Criticality(got))
	}
	if got, err := l.ResolveLive(out.StreamID); err != nil || got != out.StreamID {
		t.Fatalf("by id: %q %v", got, err)
	}

	// A person classifies an asset after the last catch-up, then a scan records a hostname on
	// it: the classification is not skipped for the discovery's later version.
	seen := discover(t, l, host(3)).AssetID
	high := domain.CriticalityHigh
	if _, err := app.New(store, other).Classify(ctx, seen, app.ClassifyAsset{Criticality: &high}, es.Invocation{Meta: lookupMeta}); err != nil {
		t.Fatal(err)
	}
	named := host(3)
	named.Hostnames = []string{"web-3.example.com"}
	discover(t, l, named)
	if err := l.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if got := l.Criticality(seen); got != string(high) {
		t.Fatalf("criticality %q after a classification the lookup had not read before its own append, want %q", got, high)
	}

	// Claims: the strong identifiers of live assets, for the asset commands.
	mac := host(2)
	mac.MACs = []string{"00:1a:2b:3c:4d:5e"}
	withMAC := discover(t, l, mac).AssetID
	if claims := l.Claimed(domain.Host, domain.Identifiers{MACs: []string{"00:1A:2B:3C:4D:5E"}}, ""); len(claims) != 1 || claims[0].AssetID != withMAC {
		t.Fatalf("claims of a discovered MAC: %v", claims)
	}
	if claims := l.Claimed(domain.Host, domain.Identifiers{MACs: []string{"00:1A:2B:3C:4D:5E"}}, withMAC); len(claims) != 0 {
		t.Fatalf("claims except the holder: %v", claims)
	}
}

// The owner team of an asset, for the finding commands' team scoping: its owner_team as
// registered and reclassified (a classification of other fields keeps it, "" clears it), its
// survivor's once merged (through a chain of merges, following the survivor's own
// reclassifications); unknown until the lookup read the asset; kept by a snapshot.
func TestLookupOwnerTeam(t *testing.T) {
	ctx := context.Background()
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	dir := snapshot.Dir{Path: t.TempDir()}
	l := loadedLookup(t, store, dir)
	// The commands run through a service of another lookup, as on another node: l sees them
	// only after CatchUp.
	svc := app.New(store, nil)
	inv := es.Invocation{Meta: lookupMeta}
	register := func(name, ip, team string) string {
		t.Helper()
		out, err := svc.Register(ctx, app.RegisterAsset{Kind: string(domain.Host), Name: name,
			Identifiers: &contracts.AssetIdentifiersInput{IPs: []string{ip}}, OwnerTeam: team}, inv)
		if err != nil {
			t.Fatal(err)
		}
		return out.StreamID
	}
	classify := func(id string, cmd app.ClassifyAsset) {
		t.Helper()
		if _, err := svc.Classify(ctx, id, cmd, inv); err != nil {
			t.Fatal(err)
		}
	}
	merge := func(src, dst string) {
		t.Helper()
		if _, err := svc.Merge(ctx, src, app.MergeAssets{TargetAssetID: dst}, inv); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(id, want string) {
		t.Helper()
		if err := l.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		if got, known := l.OwnerTeam(id); got != want || !known {
			t.Fatalf("owner team of %s: %q (known %v), want %q", id, got, known, want)
		}
	}
	strPtr := func(s string) *string { return &s }

	a := register("a", "10.0.0.1", "alpha")
	if team, known := l.OwnerTeam(a); known || team != "" {
		t.Fatalf("an asset the lookup has not read: %q, known %v", team, known)
	}
	expect(a, "alpha")
	classify(a, app.ClassifyAsset{OwnerTeam: strPtr("beta")})
	expect(a, "beta")
	crit := domain.CriticalityHigh
	classify(a, app.ClassifyAsset{Criticality: &crit})
	expect(a, "beta")
	classify(a, app.ClassifyAsset{OwnerTeam: strPtr("")})
	expect(a, "")
	classify(a, app.ClassifyAsset{OwnerTeam: strPtr("alpha")})

	b, c := register("b", "10.0.0.2", "beta"), register("c", "10.0.0.3", "")
	merge(a, b)
	expect(a, "beta") // a's own owner_team is still alpha: it follows its survivor
	classify(b, app.ClassifyAsset{OwnerTeam: strPtr("gamma")})
	expect(a, "gamma")
	merge(b, c)
	expect(a, "")
	classify(c, app.ClassifyAsset{OwnerTeam: strPtr("delta")})
	for _, id := range []string{a, b, c} {
		expect(id, "delta")
	}

	if err := l.SaveSnapshot(); err != nil {
		t.Fatal(err)
	}
	restored := loadedLookup(t, store, dir)
	if got, known := restored.OwnerTeam(a); got != "delta" || !known {
		t.Fatalf("restored: owner team of the merged asset %q (known %v)", got, known)
	}
	if got, want := restored.Dump(), loadedLookup(t, store, snapshot.Dir{}).Dump(); got != want {
		t.Fatalf("restored lookup differs from a full replay:\n got: %s\nwant: %s", got, want)
	}
}
