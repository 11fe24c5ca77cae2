package app_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/vulns/app"
	"github.com/socplatform/soc/commands/vulns/domain"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

// memCatalogue is a Catalogue over the store: Recorded applies the recorder's appends, CatchUp
// reloads every stream it knows (what the importer's $all follower does).
type memCatalogue struct {
	store    es.Store
	mu       sync.Mutex
	findings map[string]*domain.Finding
	versions map[string]int64
	catchUps int
}

func (c *memCatalogue) Finding(id string) (domain.Finding, int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.findings[id]
	if !ok {
		return domain.Finding{}, 0, false
	}
	return *f, c.versions[id], true
}

func (c *memCatalogue) Recorded(id string, evs []events.Envelope, res events.AppendResult) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.findings[id]
	if f == nil {
		f = &domain.Finding{}
		c.findings[id] = f
	}
	for i := range evs {
		evs[i].StreamID = id
		if err := f.Apply(&evs[i]); err != nil {
			return err
		}
	}
	c.versions[id] = res.NextExpectedVersion
	return nil
}

func (c *memCatalogue) CatchUp(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.catchUps++
	for id := range c.findings {
		var f domain.Finding
		v, err := es.Load(ctx, c.store, id, &f)
		if err != nil {
			return err
		}
		c.findings[id], c.versions[id] = &f, v
	}
	return nil
}

// newRecorder is a scan recorder with workers over a fresh store and a catalogue of it, and the
// time its scans run at.
func newRecorder(t *testing.T, workers int) (context.Context, *events.Guarded, *memCatalogue, *app.ScanRecorder, time.Time) {
	store := expiryStore(t)
	cat := &memCatalogue{store: store, findings: map[string]*domain.Finding{}, versions: map[string]int64{}}
	return context.Background(), store, cat, app.NewScanRecorder(store, domain.DefaultSLA(), cat, workers), time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
}

// scanFinding is a high finding of a high-criticality asset that a Trivy scan reported at at, with
// the report's verdict s (nil: none).
func scanFinding(asset, key string, at time.Time, s *app.Suppression) app.ScanFinding {
	return app.ScanFinding{ID: es.StreamIDFor("vulns", "finding", key), Severity: domain.High, Criticality: "high", Suppressed: s,
		Opened: func() contracts.FindingOpenedV2 {
			return contracts.FindingOpenedV2{AssetID: asset, Scope: asset + "|trivy", IdentityKey: key, Fingerprint: "fp-" + key,
				ScanID: "scan-1", Format: "trivy", Title: "CVE-2024-0001 in " + key, Severity: domain.High, SeenAt: at}
		}}
}

func TestScanRecorderFindingLifecycle(t *testing.T) {
	ctx, store, cat, rec, at := newRecorder(t, 4)
	asset := events.NewStreamID("assets", "asset")
	finding := func(key string) app.ScanFinding { return scanFinding(asset, key, at, nil) }
	a, b := finding("a"), finding("b")
	var (
		mu  sync.Mutex
		got []app.ScanOutcome
	)
	done := func(o app.ScanOutcome) { mu.Lock(); got = append(got, o); mu.Unlock() }
	step := func(name string, want []app.ScanOutcome, run func() error) {
		t.Helper()
		got = nil
		if err := run(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: outcomes %v, want %v", name, got, want)
		}
	}
	meta := es.Meta{Actor: "test"}
	step("first scan", []app.ScanOutcome{app.ScanOpened, app.ScanOpened}, func() error {
		return rec.Seen(ctx, meta, "scan-1", at, []app.ScanFinding{a, b}, done)
	})
	evs, err := store.ReadStream(ctx, a.ID, events.ReadStreamOptions{})
	if err != nil || len(evs) != 2 || evs[0].Type != contracts.TypeFindingOpened || evs[1].Type != contracts.TypeFindingDueDateSet {
		t.Fatalf("opened stream: %v %+v", err, evs)
	}
	step("second scan sees a only", []app.ScanOutcome{app.ScanSeen}, func() error {
		return rec.Seen(ctx, meta, "scan-2", at.Add(time.Hour), []app.ScanFinding{a}, done)
	})
	step("b missed", []app.ScanOutcome{app.ScanResolved}, func() error {
		return rec.Missed(ctx, meta, "scan-2", at.Add(time.Hour), []string{b.ID}, done)
	})
	step("b missed again", []app.ScanOutcome{app.ScanClosed}, func() error {
		return rec.Missed(ctx, meta, "scan-3", at.Add(2*time.Hour), []string{b.ID}, done)
	})
	step("b back", []app.ScanOutcome{app.ScanReopened}, func() error {
		return rec.Seen(ctx, meta, "scan-4", at.Add(3*time.Hour), []app.ScanFinding{b}, done)
	})

	// Another writer changes a behind the catalogue's back: the recorder loses the race, catches
	// up and decides again on what the other writer did.
	if _, err := es.Save(ctx, store, a.ID, events.Exact(3), es.Meta{Actor: "someone"}, []es.Change{
		{Type: contracts.TypeFindingMarkedFalsePositive, Data: contracts.FindingMarkedFalsePositive{Justification: "test fixture"}}}); err != nil {
		t.Fatal(err)
	}
	step("missed after a race", []app.ScanOutcome{app.ScanNone}, func() error {
		return rec.Missed(ctx, meta, "scan-5", at.Add(4*time.Hour), []string{a.ID}, done)
	})
	if cat.catchUps != 1 {
		t.Fatalf("catch-ups %d, want 1", cat.catchUps)
	}
	if f, _, _ := cat.Finding(a.ID); f.Status != domain.StatusFalsePositive {
		t.Fatalf("a is %s after the race", f.Status)
	}
}

// TestScanRecorderReportVerdicts: a finding with the report's verdict opens in that state with
// no due date; a verdict on an active finding moves it; a finding resolved by a verdict seen
// again with it stays resolved; a closed finding seen again with a false-positive verdict is
// reopened and marked at once.
func TestScanRecorderReportVerdicts(t *testing.T) {
	ctx, store, cat, rec, at := newRecorder(t, 2)
	asset := events.NewStreamID("assets", "asset")
	finding := func(key string, s *app.Suppression) app.ScanFinding { return scanFinding(asset, key, at, s) }
	fp := &app.Suppression{Status: domain.StatusFalsePositive, Reason: "not_affected (trivy Status)"}
	resolved := &app.Suppression{Status: domain.StatusResolved, Reason: "resolved (cyclonedx analysis)"}
	accepted := &app.Suppression{Status: domain.StatusRiskAccepted, Reason: "will_not_fix (trivy Status)"}
	meta := es.Meta{Actor: "test"}
	var outcomes []app.ScanOutcome
	var mu sync.Mutex
	done := func(o app.ScanOutcome) { mu.Lock(); outcomes = append(outcomes, o); mu.Unlock() }
	status := func(key string) domain.Status {
		f, _, _ := cat.Finding(es.StreamIDFor("vulns", "finding", key))
		return f.Status
	}
	if err := rec.Seen(ctx, meta, "scan-1", at, []app.ScanFinding{finding("fp", fp), finding("res", resolved), finding("acc", accepted), finding("open", nil)}, done); err != nil {
		t.Fatal(err)
	}
	if status("fp") != domain.StatusFalsePositive || status("res") != domain.StatusResolved || status("acc") != domain.StatusRiskAccepted || status("open") != domain.StatusOpen {
		t.Fatalf("statuses %s %s %s %s", status("fp"), status("res"), status("acc"), status("open"))
	}
	for _, key := range []string{"fp", "res", "acc"} {
		for _, e := range testsupport.StreamTypes(t, store, es.StreamIDFor("vulns", "finding", key)) {
			if e == contracts.TypeFindingDueDateSet {
				t.Errorf("%s got a due date", key)
			}
		}
	}
	outcomes = nil
	if err := rec.Seen(ctx, meta, "scan-2", at.Add(time.Hour), []app.ScanFinding{finding("open", fp), finding("res", resolved)}, done); err != nil {
		t.Fatal(err)
	}
	slices.Sort(outcomes)
	if !slices.Equal(outcomes, []app.ScanOutcome{app.ScanSeen, app.ScanSuppressedSeen}) || status("open") != domain.StatusFalsePositive || status("res") != domain.StatusResolved {
		t.Fatalf("second scan: outcomes %v, open %s, res %s", outcomes, status("open"), status("res"))
	}
	// res, resolved, seen again with a false-positive verdict: reopened and marked.
	if err := rec.Seen(ctx, meta, "scan-3", at.Add(2*time.Hour), []app.ScanFinding{finding("res", fp)}, done); err != nil {
		t.Fatal(err)
	}
	if status("res") != domain.StatusFalsePositive {
		t.Fatalf("res is %s", status("res"))
	}
}

// A risk acceptance read from a report lasts ReportAcceptance from the import, not from the
// report's scan time: an old report's acceptance dated from its scan would expire on arrival
// (and the deadline saga would reopen the finding at once, racing the next import). A report
// from the future of the clock (none reaches here: the importer caps the scan time at now) would
// count from its own time.
func TestReportAcceptanceStartsAtImport(t *testing.T) {
	ctx, _, cat, rec, _ := newRecorder(t, 1)
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	rec.Now = func() time.Time { return now }
	asset := events.NewStreamID("assets", "asset")
	accepted := &app.Suppression{Status: domain.StatusRiskAccepted, Reason: "Mitigate by Design (veracode mitigation)"}
	old := time.Date(2024, 5, 2, 9, 30, 0, 0, time.UTC)
	if err := rec.Seen(ctx, es.Meta{Actor: "test"}, "scan-old", old, []app.ScanFinding{scanFinding(asset, "old", old, accepted)}, func(app.ScanOutcome) {}); err != nil {
		t.Fatal(err)
	}
	f, _, _ := cat.Finding(es.StreamIDFor("vulns", "finding", "old"))
	if f.Status != domain.StatusRiskAccepted || !f.RiskAcceptedTil.Equal(now.Add(app.ReportAcceptance)) {
		t.Fatalf("status %s, accepted until %s; want risk_accepted until %s", f.Status, f.RiskAcceptedTil, now.Add(app.ReportAcceptance))
	}
}
