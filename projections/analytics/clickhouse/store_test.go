package clickhouse

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections/analytics"
	"github.com/socplatform/soc/projections/analytics/analyticstest"
	"github.com/socplatform/soc/projections/analytics/clickhouse/chtest"
	"github.com/socplatform/soc/schemas/contracts"
)

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// openTest opens a fresh database on the test server, closed when the test ends.
func openTest(t testing.TB) *DB {
	t.Helper()
	url := chtest.FreshDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := Open(ctx, Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// scenario is a small log touching every row kind: assets (a merge, a reclassification),
// findings through their lifecycle, scans.
func scenario(t testing.TB) *analyticstest.Log {
	l := analyticstest.NewLog(t, t0)
	l.Register(1, analyticstest.AssetSpec{Team: "red", Environment: "production", Tags: []string{"pci"}, Criticality: "high"})
	l.Register(2, analyticstest.AssetSpec{Team: "blue", Environment: "staging"})
	l.Register(3, analyticstest.AssetSpec{Team: "blue"})
	l.ScanCompleted(1, "trivy", false)
	l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "critical", CVE: "CVE-2024-0001", Scan: 1})
	l.Open(2, analyticstest.FindingSpec{Asset: 2, Severity: "high", Format: "nessus", Scan: 1})
	l.Open(3, analyticstest.FindingSpec{Asset: 3, Severity: "low", Scan: 1})
	l.Due(1, t0.Add(72*time.Hour))
	l.Advance(time.Hour)
	l.Triage(1)
	kev, epss := true, 0.42
	l.Exploitability(1, &kev, &epss)
	l.Advance(24 * time.Hour)
	l.ScanFailed(2, "nessus")
	l.Seen(2, 3, "critical", "high")
	l.Resolve(3, 3)
	l.Classify(2, contracts.AssetClassified{OwnerTeam: ptr("red")})
	l.Merge(3, 2)
	l.Advance(96 * time.Hour)
	l.Breach(1, t0.Add(72*time.Hour), "critical", "triaged")
	l.Reopen(3, 4)
	l.AcceptRisk(2)
	return l
}

func ptr[T any](v T) *T { return &v }

// project applies the log to p in batches of n events.
func project(t testing.TB, p *Projector, evs []events.Envelope, n int) {
	t.Helper()
	for i := 0; i < len(evs); i += n {
		if err := p.Handle(context.Background(), slices.Clone(evs[i:min(i+n, len(evs))])); err != nil {
			t.Fatal(err)
		}
	}
}

// contents is what the live generation holds as readers see it, in a stable order: facts and
// scans as stored (readers do not deduplicate them), dimensions FINAL.
func contents(t testing.TB, db *DB) (facts []analytics.Fact, out analytics.Output, pos int64) {
	t.Helper()
	ctx := context.Background()
	gen, err := db.liveGeneration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.conn.Query(ctx, "SELECT event_id, seq, position, at, finding_id, asset_id, type, severity, status_before, status_after, open_delta, risk_delta, scanner, cve, kev, epss, has_epss, due_at, duration FROM "+table("analytics_facts", gen)+" ORDER BY event_id, seq")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var f analytics.Fact
		var kev, has uint8
		if err := rows.Scan(&f.EventID, &f.Seq, &f.Position, &f.At, &f.FindingID, &f.AssetID, &f.Type, &f.Severity, &f.StatusBefore, &f.StatusAfter,
			&f.OpenDelta, &f.RiskDelta, &f.Scanner, &f.CVE, &kev, &f.EPSS, &has, &f.DueAt, &f.Duration); err != nil {
			t.Fatal(err)
		}
		f.KEV, f.HasEPSS = kev == 1, has == 1
		facts = append(facts, f)
	}
	rows.Close()
	fs, err := db.loadFindings(ctx, gen, allIDs(t, db, "finding_id", table("analytics_findings", gen)))
	if err != nil {
		t.Fatal(err)
	}
	as, err := db.loadAssets(ctx, gen, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		out.Findings = append(out.Findings, *f)
	}
	for _, a := range as {
		out.Assets = append(out.Assets, *a)
	}
	srows, err := db.conn.Query(ctx, "SELECT event_id, at, scan_id, scanner, failed FROM "+table("analytics_scans", gen))
	if err != nil {
		t.Fatal(err)
	}
	for srows.Next() {
		var s analytics.ScanFact
		var failed uint8
		if err := srows.Scan(&s.EventID, &s.At, &s.ScanID, &s.Scanner, &failed); err != nil {
			t.Fatal(err)
		}
		s.Failed = failed == 1
		out.Scans = append(out.Scans, s)
	}
	srows.Close()
	crows, err := db.conn.Query(ctx, "SELECT asset_id, scanner, at FROM "+table("analytics_scanned", gen)+" FINAL")
	if err != nil {
		t.Fatal(err)
	}
	for crows.Next() {
		var s analytics.Scanned
		var at uint64
		if err := crows.Scan(&s.AssetID, &s.Scanner, &at); err != nil {
			t.Fatal(err)
		}
		s.At = int64(at)
		out.Scanned = append(out.Scanned, s)
	}
	crows.Close()
	if pos, err = db.position(ctx, gen); err != nil {
		t.Fatal(err)
	}
	sortOutput(&out)
	return facts, out, pos
}

func allIDs(t testing.TB, db *DB, col, tbl string) []string {
	t.Helper()
	var ids []string
	rows, err := db.conn.Query(context.Background(), fmt.Sprintf("SELECT DISTINCT %s FROM %s", col, tbl))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func sortOutput(o *analytics.Output) {
	sort.Slice(o.Facts, func(i, j int) bool {
		return o.Facts[i].EventID < o.Facts[j].EventID || o.Facts[i].EventID == o.Facts[j].EventID && o.Facts[i].Seq < o.Facts[j].Seq
	})
	sort.Slice(o.Findings, func(i, j int) bool { return o.Findings[i].FindingID < o.Findings[j].FindingID })
	sort.Slice(o.Assets, func(i, j int) bool { return o.Assets[i].AssetID < o.Assets[j].AssetID })
	sort.Slice(o.Scans, func(i, j int) bool { return o.Scans[i].EventID < o.Scans[j].EventID })
	sort.Slice(o.Scanned, func(i, j int) bool {
		return o.Scanned[i].AssetID < o.Scanned[j].AssetID || o.Scanned[i].AssetID == o.Scanned[j].AssetID && o.Scanned[i].Scanner < o.Scanned[j].Scanner
	})
	for i := range o.Assets {
		if len(o.Assets[i].Tags) == 0 {
			o.Assets[i].Tags = nil
		}
	}
}

// expected folds the whole log in memory, the way the tables should end up: every fact, the
// final dimension rows, the latest scan per asset and scanner.
func expected(t testing.TB, evs []events.Envelope) (facts []analytics.Fact, out analytics.Output) {
	t.Helper()
	st := &analytics.State{Findings: map[string]*analytics.FindingDim{}, Assets: map[string]*analytics.AssetDim{}}
	all, err := analytics.Fold(st, evs)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range st.Findings {
		out.Findings = append(out.Findings, *f)
	}
	for _, a := range st.Assets {
		out.Assets = append(out.Assets, *a)
	}
	out.Scans = all.Scans
	latest := map[[2]string]int64{}
	for _, s := range all.Scanned {
		k := [2]string{s.AssetID, s.Scanner}
		latest[k] = max(latest[k], s.At)
	}
	for k, at := range latest {
		out.Scanned = append(out.Scanned, analytics.Scanned{AssetID: k[0], Scanner: k[1], At: at})
	}
	sortOutput(&all)
	sortOutput(&out)
	return all.Facts, out
}

func assertContents(t *testing.T, db *DB, evs []events.Envelope) {
	t.Helper()
	wantFacts, want := expected(t, evs)
	facts, got, pos := contents(t, db)
	if !reflect.DeepEqual(facts, wantFacts) {
		t.Errorf("facts:\n got %d %+v\nwant %d %+v", len(facts), facts, len(wantFacts), wantFacts)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows:\n got %+v\nwant %+v", got, want)
	}
	if last := evs[len(evs)-1].GlobalPosition; pos != last {
		t.Errorf("position %d, want %d", pos, last)
	}
}

// Whatever the batch boundaries, the tables hold what one fold of the whole log computes, and
// the position is the last event's.
func TestProjectorStoresTheFold(t *testing.T) {
	l := scenario(t)
	for _, n := range []int{1, 4, len(l.Events)} {
		t.Run(fmt.Sprintf("batches of %d", n), func(t *testing.T) {
			db := openTest(t)
			p := NewProjector(db)
			if pos, err := p.StartFrom(context.Background()); err != nil || pos != 0 {
				t.Fatalf("StartFrom on a fresh database = %d, %v; want 0", pos, err)
			}
			project(t, p, l.Events, n)
			assertContents(t, db, l.Events)
		})
	}
}

// A crash between a batch's INSERTs redelivers the batch: with its facts (and more) already
// stored but its dimensions and position not, the second delivery changes no row a reader sees.
func TestRedeliveredBatchChangesNothing(t *testing.T) {
	l := scenario(t)
	db := openTest(t)
	p := NewProjector(db)
	half := len(l.Events) / 2
	project(t, p, l.Events[:half], half)
	ctx := context.Background()
	gen, err := db.liveGeneration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The crash: the second batch's facts and scans are written, nothing after them.
	rest := slices.Clone(l.Events[half:])
	st := &analytics.State{}
	fids, aids := analytics.Keys(rest)
	if st.Findings, err = db.loadFindings(ctx, gen, fids); err != nil {
		t.Fatal(err)
	}
	if st.Assets, err = db.loadAssets(ctx, gen, aids); err != nil {
		t.Fatal(err)
	}
	out, err := analytics.Fold(st, rest)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Facts) == 0 {
		t.Fatal("the second half makes no facts: the test would prove nothing")
	}
	if err := db.write(ctx, gen, analytics.Output{Facts: out.Facts, Scans: out.Scans}, 0); err != nil {
		t.Fatal(err)
	}
	// Redelivery from the stored position, twice (a second crash after everything but the
	// position).
	pos, err := p.StartFrom(ctx)
	if err != nil || pos != l.Events[half-1].GlobalPosition {
		t.Fatalf("position after the crash = %d, %v; want %d", pos, err, l.Events[half-1].GlobalPosition)
	}
	project(t, p, l.Events[half:], 3)
	project(t, p, l.Events[half:], len(l.Events))
	assertContents(t, db, l.Events)
}

// Rebuild fills a new generation from the log, flips to it and drops the old one; a Projector
// bound to the old generation is told to restart, and then continues on the new one.
func TestRebuild(t *testing.T) {
	l := scenario(t)
	db := openTest(t)
	ctx := context.Background()
	p := NewProjector(db)
	if _, err := p.StartFrom(ctx); err != nil {
		t.Fatal(err)
	}
	project(t, p, l.Events[:5], 5)
	// The live tables hold something the log does not say (a damaged model): gone after the rebuild.
	if err := db.write(ctx, 1, analytics.Output{Facts: []analytics.Fact{{EventID: "stray", FindingID: "f", Severity: "high", OpenDelta: 1}}}, 0); err != nil {
		t.Fatal(err)
	}
	store := sliceLog(l.Events)
	res, err := Rebuild(ctx, db, store, 7)
	if err != nil {
		t.Fatal(err)
	}
	if res.Generation != 2 || res.Events != int64(len(l.Events)) || res.Position != l.Events[len(l.Events)-1].GlobalPosition {
		t.Fatalf("Rebuild = %+v, want generation 2 over %d events", res, len(l.Events))
	}
	assertContents(t, db, l.Events)
	var old uint64
	if err := db.conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name LIKE '%\\_g1'").Scan(&old); err != nil || old != 0 {
		t.Fatalf("generation 1 tables left: %d, %v", old, err)
	}
	if err := p.Handle(ctx, slices.Clone(l.Events[5:6])); err != ErrGenerationChanged {
		t.Fatalf("Handle after a rebuild = %v, want ErrGenerationChanged", err)
	}
	// The restart: from the rebuilt position, a later event lands in generation 2.
	if pos, err := p.StartFrom(ctx); err != nil || pos != res.Position {
		t.Fatalf("StartFrom after the rebuild = %d, %v; want %d", pos, err, res.Position)
	}
	l.Advance(time.Hour)
	l.Triage(2)
	project(t, p, l.Events[len(l.Events)-1:], 1)
	assertContents(t, db, l.Events)
}

// sliceLog serves a log from memory (eventlog.AllReader).
type sliceLog []events.Envelope

func (s sliceLog) ReadAll(_ context.Context, after int64, limit int) ([]events.Envelope, error) {
	i := sort.Search(len(s), func(i int) bool { return s[i].GlobalPosition > after })
	return slices.Clone(s[i:min(i+limit, len(s))]), nil
}

func TestOpenNamesTheServerWithoutPassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Nothing listens on port 1.
	_, err := Open(ctx, Config{URL: "clickhouse://soc:s3cret@127.0.0.1:1/default?dial_timeout=1s"})
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") || strings.Contains(err.Error(), "s3cret") || !errorsIs(err, analytics.ErrUnavailable) {
		t.Fatalf("Open of a closed port = %v; want ErrUnavailable naming 127.0.0.1:1, no password", err)
	}
}
