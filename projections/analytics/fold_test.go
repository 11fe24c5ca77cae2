package analytics_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/analytics"
	"github.com/socplatform/soc/projections/analytics/analyticstest"
	"github.com/socplatform/soc/schemas/contracts"
)

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

func ms(t time.Time) int64 { return t.UnixMilli() }

func ptr[T any](v T) *T { return &v }

// foldLast folds every event but the last, then the last one alone, and returns its output.
func foldLast(t *testing.T, evs []events.Envelope) (analytics.Output, *analytics.State) {
	t.Helper()
	st := &analytics.State{}
	if _, err := analytics.Fold(st, evs[:len(evs)-1]); err != nil {
		t.Fatal(err)
	}
	out, err := analytics.Fold(st, evs[len(evs)-1:])
	if err != nil {
		t.Fatal(err)
	}
	return out, st
}

func TestFoldFindingEvents(t *testing.T) {
	f1, a1 := analyticstest.FindingID(1), analyticstest.AssetID(1)
	h := time.Hour
	// fact is the expected fact of finding 1's event number pos (1-based in the log).
	type want struct {
		facts []analytics.Fact // EventID, Position, FindingID, AssetID, Scanner filled in
		dim   func(d *analytics.FindingDim)
	}
	cases := []struct {
		name  string
		build func(l *analyticstest.Log)
		want  want
	}{
		{"opened v1", func(l *analyticstest.Log) {
			l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "high", CVE: "CVE-2024-0001", V1: true})
		}, want{facts: []analytics.Fact{{At: ms(t0), Type: "FindingOpened", Severity: "high", StatusAfter: "open", OpenDelta: 1, RiskDelta: 5000, CVE: "CVE-2024-0001"}}}},
		{"opened v2", func(l *analyticstest.Log) {
			l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "critical"})
		}, want{facts: []analytics.Fact{{At: ms(t0), Type: "FindingOpened", Severity: "critical", StatusAfter: "open", OpenDelta: 1, RiskDelta: 10000}},
			dim: func(d *analytics.FindingDim) {
				if d.OpenedAt != ms(t0) || d.FirstSeen != ms(t0) || d.Risk != 10000 || d.Status != "open" || d.Version != 1 {
					t.Errorf("dim after FindingOpened: %+v", d)
				}
			}}},
		{"seen with a new severity moves the open finding", func(l *analyticstest.Log) {
			l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "high"})
			l.Advance(h)
			l.Seen(1, 2, "critical", "high")
		}, want{facts: []analytics.Fact{
			{At: ms(t0.Add(h)), Type: "FindingSeen", Severity: "high", StatusBefore: "open", StatusAfter: "open", OpenDelta: -1, RiskDelta: -5000},
			{Seq: 1, At: ms(t0.Add(h)), Type: "FindingSeen", Severity: "critical", StatusBefore: "open", StatusAfter: "open", OpenDelta: 1, RiskDelta: 10000},
		}}},
		{"seen unchanged", func(l *analyticstest.Log) {
			l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "low"})
			l.Advance(h)
			l.Seen(1, 2, "", "")
		}, want{facts: []analytics.Fact{{At: ms(t0.Add(h)), Type: "FindingSeen", Severity: "low", StatusBefore: "open", StatusAfter: "open"}}}},
		{"seen with a new severity while resolved", func(l *analyticstest.Log) {
			l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "low"})
			l.Resolve(1, 0)
			l.Seen(1, 2, "medium", "low")
		}, want{facts: []analytics.Fact{{At: ms(t0), Type: "FindingSeen", Severity: "medium", StatusBefore: "resolved", StatusAfter: "resolved"}}}},
		{"first triage", func(l *analyticstest.Log) {
			l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "medium"})
			l.Advance(3 * h)
			l.Triage(1)
		}, want{facts: []analytics.Fact{{At: ms(t0.Add(3 * h)), Type: "FindingTriaged", Severity: "medium", StatusBefore: "open", StatusAfter: "triaged", Duration: ms(t0.Add(3*h)) - ms(t0)}},
			dim: func(d *analytics.FindingDim) {
				if d.TriagedAt != ms(t0.Add(3*h)) {
					t.Errorf("TriagedAt = %d", d.TriagedAt)
				}
			}}},
		{"second triage", func(l *analyticstest.Log) {
			l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "medium"})
			l.Triage(1)
			l.Advance(3 * h)
			l.Triage(1)
		}, want{facts: []analytics.Fact{{At: ms(t0.Add(3 * h)), Type: "FindingTriaged", Severity: "medium", StatusBefore: "triaged", StatusAfter: "triaged"}}}},
		{"remediation started", func(l *analyticstest.Log) {
			l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "medium"})
			l.StartRemediation(1)
		}, want{facts: []analytics.Fact{{At: ms(t0), Type: "FindingRemediationStarted", Severity: "medium", StatusBefore: "open", StatusAfter: "in_remediation"}}}},
		{"resolved: the time since the open period began (the reopening)", func(l *analyticstest.Log) {
			l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "high"})
			l.Advance(h)
			l.Resolve(1, 2)
			l.Advance(h)
			l.Reopen(1, 3)
			l.Advance(5 * h)
			l.Resolve(1, 0)
		}, want{facts: []analytics.Fact{{At: ms(t0.Add(7 * h)), Type: "FindingResolved", Severity: "high", StatusBefore: "reopened", StatusAfter: "resolved", OpenDelta: -1, RiskDelta: -5000, Duration: ms(t0.Add(7*h)) - ms(t0.Add(2*h))}}}},
		{"reopened", func(l *analyticstest.Log) {
			l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "high"})
			l.Resolve(1, 2)
			l.Advance(h)
			l.Reopen(1, 3)
		}, want{facts: []analytics.Fact{{At: ms(t0.Add(h)), Type: "FindingReopened", Severity: "high", StatusBefore: "resolved", StatusAfter: "reopened", OpenDelta: 1, RiskDelta: 5000}},
			dim: func(d *analytics.FindingDim) {
				if d.OpenedAt != ms(t0.Add(h)) || d.FirstSeen != ms(t0) {
					t.Errorf("OpenedAt, FirstSeen = %d, %d", d.OpenedAt, d.FirstSeen)
				}
			}}},
		{"closed after resolved ends no open period", func(l *analyticstest.Log) {
			l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "high"})
			l.Resolve(1, 2)
			l.Advance(h)
			l.Close(1, 3)
		}, want{facts: []analytics.Fact{{At: ms(t0.Add(h)), Type: "FindingClosed", Severity: "high", StatusBefore: "resolved", StatusAfter: "closed"}}}},
		{"closed while open", func(l *analyticstest.Log) {
			l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "info"})
			l.Advance(h)
			l.Close(1, 3)
		}, want{facts: []analytics.Fact{{At: ms(t0.Add(h)), Type: "FindingClosed", Severity: "info", StatusBefore: "open", StatusAfter: "closed", OpenDelta: -1, Duration: h.Milliseconds()}}}},
		{"risk accepted", func(l *analyticstest.Log) {
			l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "critical"})
			l.AcceptRisk(1)
		}, want{facts: []analytics.Fact{{At: ms(t0), Type: "FindingRiskAccepted", Severity: "critical", StatusBefore: "open", StatusAfter: "risk_accepted", OpenDelta: -1, RiskDelta: -10000}}}},
		{"false positive", func(l *analyticstest.Log) {
			l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "low"})
			l.FalsePositive(1)
		}, want{facts: []analytics.Fact{{At: ms(t0), Type: "FindingMarkedFalsePositive", Severity: "low", StatusBefore: "open", StatusAfter: "false_positive", OpenDelta: -1, RiskDelta: -500}}}},
		{"duplicate", func(l *analyticstest.Log) {
			l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "low"})
			l.Duplicate(1, 2)
		}, want{facts: []analytics.Fact{{At: ms(t0), Type: "FindingMarkedDuplicate", Severity: "low", StatusBefore: "open", StatusAfter: "duplicate", OpenDelta: -1, RiskDelta: -500}}}},
		{"due date set", func(l *analyticstest.Log) {
			l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "low"})
			l.Due(1, t0.Add(48*h))
		}, want{facts: []analytics.Fact{{At: ms(t0), Type: "FindingDueDateSet", Severity: "low", StatusBefore: "open", StatusAfter: "open", DueAt: ms(t0.Add(48 * h))}}}},
		{"KEV then EPSS", func(l *analyticstest.Log) {
			l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "high"})
			l.Exploitability(1, ptr(true), nil)
			l.Exploitability(1, nil, ptr(0.5))
		}, want{facts: []analytics.Fact{{At: ms(t0), Type: "FindingExploitabilityChanged", Severity: "high", StatusBefore: "open", StatusAfter: "open", RiskDelta: 5000, KEV: true, EPSS: 0.5, HasEPSS: true}},
			dim: func(d *analytics.FindingDim) {
				if d.Risk != 15000 || !d.KEV || d.EPSS != 0.5 {
					t.Errorf("dim: %+v", d)
				}
			}}},
		{"exploitability of a closed finding scores nothing", func(l *analyticstest.Log) {
			l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "high"})
			l.Close(1, 2)
			l.Exploitability(1, ptr(true), nil)
		}, want{facts: []analytics.Fact{{At: ms(t0), Type: "FindingExploitabilityChanged", Severity: "high", StatusBefore: "closed", StatusAfter: "closed", KEV: true}}}},
		{"SLA breached at breached_at", func(l *analyticstest.Log) {
			l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "high"})
			l.Due(1, t0.Add(h))
			l.Advance(2 * h)
			l.Breach(1, t0.Add(h), "high", "open")
		}, want{facts: []analytics.Fact{{At: ms(t0.Add(2 * h)), Type: "SLABreached", Severity: "high", StatusBefore: "open", StatusAfter: "open", DueAt: ms(t0.Add(h))}}}},
		{"assigned", func(l *analyticstest.Log) {
			l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "high"})
			l.Assign(1)
		}, want{facts: []analytics.Fact{{At: ms(t0), Type: "FindingAssigned", Severity: "high", StatusBefore: "open", StatusAfter: "open"}}}},
		{"commented", func(l *analyticstest.Log) {
			l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "high"})
			l.Comment(1)
		}, want{facts: []analytics.Fact{{At: ms(t0), Type: "FindingCommented", Severity: "high", StatusBefore: "open", StatusAfter: "open"}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := analyticstest.NewLog(t, t0)
			c.build(l)
			last := l.Events[len(l.Events)-1]
			out, st := foldLast(t, l.Events)
			for i := range c.want.facts {
				f := &c.want.facts[i]
				f.EventID, f.Position, f.FindingID, f.AssetID, f.Scanner = last.EventID, last.GlobalPosition, f1, a1, "trivy"
			}
			if !reflect.DeepEqual(out.Facts, c.want.facts) {
				t.Errorf("facts\n got %+v\nwant %+v", out.Facts, c.want.facts)
			}
			if len(out.Findings) != 1 || !reflect.DeepEqual(out.Findings[0], *st.Findings[f1]) || out.Findings[0].Version != last.Version {
				t.Errorf("changed findings = %+v, want the one at version %d", out.Findings, last.Version)
			}
			if c.want.dim != nil {
				c.want.dim(st.Findings[f1])
			}
		})
	}
}

func TestFoldScanned(t *testing.T) {
	l := analyticstest.NewLog(t, t0)
	l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "high"})
	l.Open(2, analyticstest.FindingSpec{Asset: 1, Severity: "low", Format: "nessus"})
	l.Advance(time.Hour)
	l.Seen(1, 2, "", "")
	l.Triage(1)
	l.Resolve(2, 0)
	l.Advance(time.Hour)
	l.Reopen(2, 3)
	out, err := analytics.Fold(&analytics.State{}, l.Events)
	if err != nil {
		t.Fatal(err)
	}
	want := []analytics.Scanned{
		{AssetID: analyticstest.AssetID(1), Scanner: "trivy", At: ms(t0.Add(time.Hour))},
		{AssetID: analyticstest.AssetID(1), Scanner: "nessus", At: ms(t0.Add(2 * time.Hour))},
	}
	if !reflect.DeepEqual(out.Scanned, want) {
		t.Errorf("scanned = %+v, want %+v", out.Scanned, want)
	}
}

func TestFoldAssetEvents(t *testing.T) {
	l := analyticstest.NewLog(t, t0)
	l.Register(1, analyticstest.AssetSpec{Name: "web-1", Team: "red", Environment: "production", Tags: []string{"pci"}, Criticality: "high"})
	out, st := foldLast(t, l.Events)
	want := analytics.AssetDim{AssetID: analyticstest.AssetID(1), Name: "web-1", Kind: "host", Team: "red", Environment: "production", Tags: []string{"pci"}, Criticality: "high", Version: 1}
	if !reflect.DeepEqual(out.Assets, []analytics.AssetDim{want}) {
		t.Fatalf("registered: %+v", out.Assets)
	}
	steps := []struct {
		name  string
		emit  func() events.Envelope
		apply func(a *analytics.AssetDim)
	}{
		{"classified", func() events.Envelope {
			return l.Classify(1, contracts.AssetClassified{OwnerTeam: ptr("blue"), Environment: ptr(contracts.EnvironmentStaging), Tags: &[]string{"internet", "pci"}, Criticality: ptr(contracts.CriticalityCritical)})
		}, func(a *analytics.AssetDim) {
			a.Team, a.Environment, a.Tags, a.Criticality = "blue", "staging", []string{"internet", "pci"}, "critical"
		}},
		{"classified: team and tags cleared", func() events.Envelope {
			return l.Classify(1, contracts.AssetClassified{OwnerTeam: ptr(""), Tags: &[]string{}})
		}, func(a *analytics.AssetDim) { a.Team, a.Tags = "", nil }},
		{"renamed", func() events.Envelope { return l.Rename(1, "web-one") }, func(a *analytics.AssetDim) { a.Name = "web-one" }},
		{"retired", func() events.Envelope { return l.Retire(1) }, func(a *analytics.AssetDim) {}},
		{"merged into", func() events.Envelope { return l.Merge(1, 2)[0] }, func(a *analytics.AssetDim) { a.MergedInto = analyticstest.AssetID(2) }},
	}
	for _, s := range steps {
		e := s.emit()
		out, err := analytics.Fold(st, []events.Envelope{e})
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		s.apply(&want)
		want.Version = e.Version
		if !reflect.DeepEqual(out.Assets, []analytics.AssetDim{want}) {
			t.Errorf("%s: %+v, want %+v", s.name, out.Assets, want)
		}
	}

	weak := l.Emit(analyticstest.AssetID(3), contracts.TypeAssetRegisteredWeakly, 1, contracts.AssetRegisteredWeakly{Kind: "repository", Name: "app", WeakKey: "weak:trivy:app-repo", ScanID: analyticstest.ScanID(1)})
	out, err := analytics.Fold(st, []events.Envelope{weak})
	if err != nil {
		t.Fatal(err)
	}
	if want := (analytics.AssetDim{AssetID: analyticstest.AssetID(3), Name: "app", Kind: "repository", Version: 1}); !reflect.DeepEqual(out.Assets, []analytics.AssetDim{want}) {
		t.Errorf("registered weakly: %+v", out.Assets)
	}
}

func TestFoldScanEvents(t *testing.T) {
	l := analyticstest.NewLog(t, t0)
	a := l.ScanCompleted(1, "trivy", true)
	l.Advance(time.Minute)
	b := l.ScanCompleted(2, "nessus", false)
	c := l.ScanFailed(3, "zap")
	out, err := analytics.Fold(&analytics.State{}, l.Events)
	if err != nil {
		t.Fatal(err)
	}
	want := []analytics.ScanFact{
		{EventID: a.EventID, At: ms(t0), ScanID: analyticstest.ScanID(1), Scanner: "trivy"},
		{EventID: b.EventID, At: ms(t0.Add(time.Minute)), ScanID: analyticstest.ScanID(2), Scanner: "nessus"},
		{EventID: c.EventID, At: ms(t0.Add(time.Minute)), ScanID: analyticstest.ScanID(3), Scanner: "zap", Failed: true},
	}
	if !reflect.DeepEqual(out.Scans, want) {
		t.Errorf("scans = %+v, want %+v", out.Scans, want)
	}
}

func TestFoldSkipsRedeliveries(t *testing.T) {
	l := analyticstest.NewLog(t, t0)
	l.Register(1, analyticstest.AssetSpec{Team: "red"})
	l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "high"})
	l.Triage(1)
	l.Resolve(1, 0)
	st := &analytics.State{}
	first, err := analytics.Fold(st, l.Events)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Facts) != 3 {
		t.Fatalf("first delivery made %d facts, want 3", len(first.Facts))
	}
	again, err := analytics.Fold(st, l.Events[1:])
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Facts)+len(again.Findings)+len(again.Assets) != 0 {
		t.Errorf("a redelivered batch changed the model: %+v", again)
	}
}

func TestFoldPoisonEvents(t *testing.T) {
	l := analyticstest.NewLog(t, t0)
	seen := l.Seen(1, 1, "", "") // before FindingOpened
	bad := l.Open(2, analyticstest.FindingSpec{Asset: 1, Severity: "high"})
	bad.Data = []byte(`{"severity": 7}`)
	badAsset := l.Register(3, analyticstest.AssetSpec{})
	badAsset.Data = []byte(`[]`)
	for _, e := range []events.Envelope{seen, bad, badAsset} {
		_, err := analytics.Fold(&analytics.State{}, []events.Envelope{e})
		var ee *projections.EventError
		if !errors.As(err, &ee) || ee.Event.EventID != e.EventID {
			t.Errorf("%s: err = %v, want an EventError for it", e.Type, err)
		}
	}
}

func TestKeys(t *testing.T) {
	l := analyticstest.NewLog(t, t0)
	l.Register(1, analyticstest.AssetSpec{})
	l.Open(2, analyticstest.FindingSpec{Asset: 1, Severity: "high"})
	l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "high"})
	l.Triage(2)
	l.Rename(1, "x")
	l.ScanCompleted(1, "trivy", false)
	f, a := analytics.Keys(l.Events)
	if !reflect.DeepEqual(f, []string{analyticstest.FindingID(2), analyticstest.FindingID(1)}) || !reflect.DeepEqual(a, []string{analyticstest.AssetID(1)}) {
		t.Errorf("Keys = %v, %v", f, a)
	}
}
