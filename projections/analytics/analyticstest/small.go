package analyticstest

import (
	"context"
	"testing"
	"time"

	"github.com/socplatform/soc/projections/analytics"
	"github.com/socplatform/soc/projections/ownership"
)

// testSmall checks the answers for the small scenario (scenario.go: small) against numbers
// worked out by hand, not by the oracle:
//
//	asset 1 web-1 (red, production, host, pci, criticality high: factor 1.2)
//	asset 2 img-2 (blue, staging, container_image, not classified: factor 1.0)
//	Mar 2 09:00 F1 critical trivy on 1; 10:00 F2 high nessus on 2; 11:00 F3 low trivy on 1
//	Mar 3 09:00 F1 triaged (24 h after opening), due Mar 5 09:00
//	Mar 4 09:00 F2 resolved by hand (47 h open)
//	Mar 5 09:00 F4 medium trivy on 2, due Mar 10 09:00; 10:00 KEV-listed, EPSS 0.35
//	Mar 6 09:00 F1 breaches its SLA; 10:00 F1 KEV-listed
//	Mar 7 09:00 F1 resolved by reimport (5 days open, after its due date); 10:00 F3 false positive
//	scans: Mar 2 08:00 trivy completed, Mar 4 12:00 nessus failed
func testSmall(t *testing.T, b Backend) {
	l := NewLog(t, Start)
	small(l)
	feed(t, b, l.Events, 4, false)
	ctx := context.Background()
	day := func(d int) time.Time { return time.Date(2026, 3, 2+d, 0, 0, 0, 0, time.UTC) }
	q := analytics.Query{From: day(0), To: day(7), Unit: analytics.Day, Now: day(7)}
	opt := analytics.Options{}

	open, err := b.OpenFindings(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	wantOpen := []struct{ total, c, h, m, l int64 }{{3, 1, 1, 0, 1}, {3, 1, 1, 0, 1}, {2, 1, 0, 0, 1}, {3, 1, 0, 1, 1}, {3, 1, 0, 1, 1}, {1, 0, 0, 1, 0}, {1, 0, 0, 1, 0}}
	if len(open) != 7 {
		t.Fatalf("OpenFindings: %d buckets, want 7", len(open))
	}
	for i, w := range wantOpen {
		p := open[i]
		if !p.Start.Equal(day(i)) || p.Total != w.total || p.BySeverity["critical"] != w.c || p.BySeverity["high"] != w.h ||
			p.BySeverity["medium"] != w.m || p.BySeverity["low"] != w.l || p.BySeverity["info"] != 0 {
			t.Errorf("OpenFindings day %d = %+v, want %+v", i, p, w)
		}
	}
	scoped := q
	scoped.Scope = ownership.Scope{"blue"}
	if open, err := b.OpenFindings(ctx, scoped); err != nil || open[0].Total != 1 || open[2].Total != 0 || open[3].Total != 1 {
		t.Errorf("OpenFindings scoped to blue = %+v, %v; want 1, 1, 0, 1, …", open, err)
	}

	flow, err := b.Flow(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	wantFlow := []struct{ disc, resolved, removed, net int64 }{{3, 0, 0, 3}, {0, 0, 0, 0}, {0, 1, 0, -1}, {1, 0, 0, 1}, {0, 0, 0, 0}, {0, 1, 1, -2}, {0, 0, 0, 0}}
	for i, w := range wantFlow {
		p := flow[i]
		if p.Discovered != w.disc || p.Resolved != w.resolved || p.Removed != w.removed || p.Net != w.net || p.Reopened != 0 {
			t.Errorf("Flow day %d = %+v, want %+v", i, p, w)
		}
	}
	if flow[0].BySeverity["critical"] != 1 || flow[0].BySeverity["high"] != 1 || flow[0].BySeverity["low"] != 1 || flow[3].BySeverity["medium"] != 1 {
		t.Errorf("Flow discovered by severity: %v, %v", flow[0].BySeverity, flow[3].BySeverity)
	}

	m, err := b.MTTR(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if want := (analytics.Durations{Count: 2, Mean: 300600, P50: 169200, P90: 432000}); m.Remediate != want {
		t.Errorf("MTTR remediate = %+v, want %+v", m.Remediate, want)
	}
	if want := (analytics.Durations{Count: 1, Mean: 432000, P50: 432000, P90: 432000}); m.RemediateBySev["critical"] != want || m.RemediateBySev["info"] != (analytics.Durations{}) {
		t.Errorf("MTTR remediate by severity = %+v", m.RemediateBySev)
	}
	if want := (analytics.Durations{Count: 1, Mean: 86400, P50: 86400, P90: 86400}); m.Triage != want || len(m.TriageBySeverity) != 5 {
		t.Errorf("MTTR triage = %+v (%d severities), want %+v", m.Triage, len(m.TriageBySeverity), want)
	}
	if m.ResolvedInPeriods[2].Count != 1 || m.ResolvedInPeriods[2].P50 != 169200 || m.ResolvedInPeriods[5].P90 != 432000 || m.ResolvedInPeriods[0].Count != 0 {
		t.Errorf("MTTR periods = %+v", m.ResolvedInPeriods)
	}

	sla, err := b.SLA(ctx, q, opt)
	if err != nil {
		t.Fatal(err)
	}
	if p := sla.Periods[5]; p.Resolved != 1 || p.WithinSLA != 0 || p.Rate == nil || *p.Rate != 0 || sla.Periods[4].Breaches != 1 || sla.Periods[2].Resolved != 0 || sla.Periods[2].Rate != nil {
		t.Errorf("SLA periods = %+v", sla.Periods)
	}
	if sla.Overdue != 0 || sla.DueSoon != 1 || sla.DueSoonBy["medium"] != 1 || sla.DueWithinDays != 7 || len(sla.OverdueBy) != 5 {
		t.Errorf("SLA now = %+v", sla)
	}

	risk, err := b.Risk(ctx, q, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range []float64{17.6, 17.6, 12.6, 18, 30, 5.4, 5.4} {
		if d := risk.Series[i].Score - w; d > 1e-9 || d < -1e-9 {
			t.Errorf("risk on day %d = %v, want %v", i, risk.Series[i].Score, w)
		}
	}
	if len(risk.TopAssets) != 1 || risk.TopAssets[0].AssetID != AssetID(2) || risk.TopAssets[0].Name != "img-2" || risk.TopAssets[0].Points != 5.4 ||
		risk.TopAssets[0].Factor != 1 || risk.TopAssets[0].Score != 5.4 || risk.TopAssets[0].Open != 1 || risk.TopAssets[0].Team != "blue" {
		t.Errorf("top assets = %+v", risk.TopAssets)
	}
	if len(risk.Teams) != 1 || risk.Teams[0] != (analytics.GroupRisk{Key: "blue", Assets: 1, Score: 5.4}) ||
		len(risk.Environments) != 1 || risk.Environments[0].Key != "staging" {
		t.Errorf("risk teams %+v, environments %+v", risk.Teams, risk.Environments)
	}

	x, err := b.Exploitability(ctx, q, opt)
	if err != nil {
		t.Fatal(err)
	}
	if x.OpenKEV != 1 || x.OpenKEVBySev["medium"] != 1 || x.KEVOverdue != 0 || x.NoEPSS != 0 || len(x.EPSS) != 10 || x.EPSS[3].Count != 1 || x.EPSS[3].Min != 0.3 {
		t.Errorf("exploitability = %+v", x)
	}

	c, err := b.Coverage(ctx, q, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Scanners) != 2 || c.Scanners[0].Scanner != "nessus" || c.Scanners[0].AssetsScanned != 1 || c.Scanners[1].Scanner != "trivy" ||
		c.Scanners[1].AssetsScanned != 2 || c.Scanners[1].Stale != 0 {
		t.Errorf("coverage scanners = %+v", c.Scanners)
	}
	if c.Scans[0].Completed != 1 || c.Scans[0].ByScanner["trivy"] != 1 || c.Scans[2].Failed != 1 || c.Scans[1].Completed+c.Scans[1].Failed != 0 {
		t.Errorf("coverage scans = %+v", c.Scans)
	}
	// Six days later nothing was scanned for five days: with StaleAfter 5 days every asset is stale.
	later := q
	later.Now = day(11)
	if c, err := b.Coverage(ctx, later, analytics.Options{StaleAfter: 5 * 24 * time.Hour, Limit: 1}); err != nil || c.Scanners[1].Stale != 2 ||
		len(c.Scanners[1].StaleAssets) != 1 || c.Scanners[1].StaleAssets[0].AssetID != AssetID(1) || !c.Scanners[1].StaleAssets[0].LastScanned.Equal(time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("stale coverage = %+v, %v", c, err)
	}
}
