package vulns_test

import (
	"context"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/assets"
	"github.com/socplatform/soc/projections/internal/testdb"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/projections/vulns"
)

// TestFindingLifecycle applies every finding event, one batch each, and checks the row, the
// asset's open counts and the Change.
func TestFindingLifecycle(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *projections.DB) {
		ps := setupAll(t, db)
		r, ar := vulns.NewReader(db), assets.NewReader(db)
		ctx := context.Background()
		g := newGen(t)
		feed(t, db, 1, 10, []events.Envelope{g.registerAsset(1, "web-1", "")}, ps...)
		id := findingID(1)
		due := time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)
		type step struct {
			name   string
			ev     events.Envelope
			status string
			open   int64 // open high findings of the asset afterwards
			check  func(t *testing.T, f *vulns.Finding)
		}
		steps := []step{
			{"opened", g.openFinding(findingSpec{n: 1, asset: 1, severity: "high", cves: []string{"CVE-2024-0001", "CVE-2024-0002"},
				cwes: []string{"CWE-79"}, cvss: 7.5, scan: "scan-a"}), vulns.StatusOpen, 1,
				func(t *testing.T, f *vulns.Finding) {
					want := &vulns.Finding{ID: id, AssetID: assetID(1), AssetName: "web-1", Title: "Finding 1", Severity: "high",
						Status: vulns.StatusOpen, CVEs: []string{"CVE-2024-0001", "CVE-2024-0002"}, CWEs: []string{"CWE-79"},
						CVSSScore: ptr(7.5), CVSSVector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Scanner: "Trivy",
						Format: "trivy", Component: "openssl@3.0.1", Fingerprint: "fp-1", FirstScanID: "scan-a", LastScanID: "scan-a",
						FirstSeen: g.at(2), LastSeen: g.at(2), UpdatedAt: g.at(2), Version: 1}
					if !reflect.DeepEqual(f, want) {
						t.Errorf("got  %+v\nwant %+v", f, want)
					}
				}},
			{"due date set", g.ev(id, "FindingDueDateSet", obj{"due_at": due.Format(time.RFC3339), "reason": "SLA"}), vulns.StatusOpen, 1,
				func(t *testing.T, f *vulns.Finding) {
					if f.DueAt == nil || !f.DueAt.Equal(due) || f.Overdue {
						t.Errorf("due %v overdue %v", f.DueAt, f.Overdue)
					}
				}},
			{"seen with new severity", g.ev(id, "FindingSeen", obj{"scan_id": "scan-b", "seen_at": g.at(10).Format(time.RFC3339),
				"severity": "critical", "previous_severity": "high"}), vulns.StatusOpen, 0,
				func(t *testing.T, f *vulns.Finding) {
					if f.Severity != "critical" || f.LastScanID != "scan-b" || !f.LastSeen.Equal(g.at(10)) || f.FirstScanID != "scan-a" {
						t.Errorf("got %+v", f)
					}
				}},
			{"assigned", g.ev(id, "FindingAssigned", obj{"owner": "bob"}), vulns.StatusOpen, 0,
				func(t *testing.T, f *vulns.Finding) {
					if f.Owner != "bob" {
						t.Errorf("owner %q", f.Owner)
					}
				}},
			{"commented", g.ev(id, "FindingCommented", obj{"comment": "looking"}), vulns.StatusOpen, 0,
				func(t *testing.T, f *vulns.Finding) {
					if f.Version != 5 {
						t.Errorf("version %d", f.Version)
					}
				}},
			{"exploitability", g.ev(id, "FindingExploitabilityChanged", obj{"kev": true, "epss": 0.5, "epss_percentile": 0.97, "source": "kev"}), vulns.StatusOpen, 0,
				func(t *testing.T, f *vulns.Finding) {
					if !f.KEV || f.EPSS == nil || *f.EPSS != 0.5 || *f.EPSSPercentile != 0.97 {
						t.Errorf("got %+v", f)
					}
				}},
			{"triaged", g.ev(id, "FindingTriaged", obj{"note": "real"}), vulns.StatusTriaged, 0,
				func(t *testing.T, f *vulns.Finding) {
					if f.StatusReason != "real" {
						t.Errorf("reason %q", f.StatusReason)
					}
				}},
			{"remediation", g.ev(id, "FindingRemediationStarted", obj{"note": "patching"}), vulns.StatusInRemediation, 0, nil},
			{"resolved", g.ev(id, "FindingResolved", obj{"reason": "not seen by scan scan-c", "resolved_at": g.at(20).Format(time.RFC3339), "scan_id": "scan-c"}), vulns.StatusResolved, 0,
				func(t *testing.T, f *vulns.Finding) {
					if f.ResolvedAt == nil || !f.ResolvedAt.Equal(g.at(20)) || f.Overdue {
						t.Errorf("got %+v", f)
					}
				}},
			{"closed", g.ev(id, "FindingClosed", obj{"scan_id": "scan-d", "closed_at": g.at(30).Format(time.RFC3339)}), vulns.StatusClosed, 0,
				func(t *testing.T, f *vulns.Finding) {
					if f.ResolvedAt == nil || !f.ResolvedAt.Equal(g.at(20)) {
						t.Errorf("resolved_at %v", f.ResolvedAt)
					}
				}},
			{"reopened by scan", g.ev(id, "FindingReopened", obj{"reason": "seen again by scan scan-e", "scan_id": "scan-e", "seen_at": g.at(40).Format(time.RFC3339)}), vulns.StatusReopened, 0,
				func(t *testing.T, f *vulns.Finding) {
					if f.ResolvedAt != nil || f.LastScanID != "scan-e" || !f.LastSeen.Equal(g.at(40)) {
						t.Errorf("got %+v", f)
					}
				}},
			{"false positive", g.ev(id, "FindingMarkedFalsePositive", obj{"justification": "test host"}), vulns.StatusFalsePositive, 0, nil},
			{"reopened by hand", g.ev(id, "FindingReopened", obj{"reason": "was real"}), vulns.StatusReopened, 0, nil},
			{"duplicate", g.ev(id, "FindingMarkedDuplicate", obj{"duplicate_of": findingID(2)}), vulns.StatusDuplicate, 0,
				func(t *testing.T, f *vulns.Finding) {
					if f.StatusReason != "duplicate of "+findingID(2) {
						t.Errorf("reason %q", f.StatusReason)
					}
				}},
			{"reopened again", g.ev(id, "FindingReopened", obj{"reason": "not a duplicate"}), vulns.StatusReopened, 0, nil},
			{"risk accepted", g.ev(id, "FindingRiskAccepted", obj{"approver": "ciso", "justification": "compensating control", "expires_at": "2027-01-01T00:00:00Z"}), vulns.StatusRiskAccepted, 0, nil},
		}
		var evs []events.Envelope
		for _, s := range steps {
			t.Run(s.name, func(t *testing.T) {
				ch := feed(t, db, 1, 1, []events.Envelope{s.ev}, ps...)
				if len(ch) != 1 || ch[0].Projection != "findings" || ch[0].AssetID != assetID(1) || ch[0].Event.EventID != s.ev.EventID {
					t.Fatalf("changes %+v", ch)
				}
				f, err := r.Finding(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if ch[0].Severity != f.Severity {
					t.Errorf("change severity %q, row %q", ch[0].Severity, f.Severity)
				}
				if f.Status != s.status {
					t.Errorf("status %s, want %s", f.Status, s.status)
				}
				if s.check != nil {
					s.check(t, f)
				}
				a, err := ar.Asset(ctx, assetID(1))
				if err != nil {
					t.Fatal(err)
				}
				openCrit := int64(0)
				if vulns.IsOpen(f.Status) && f.Severity == "critical" {
					openCrit = 1
				}
				if a.OpenFindings["high"] != s.open || a.OpenFindings["critical"] != openCrit {
					t.Errorf("asset open findings %v", a.OpenFindings)
				}
				// FoldFinding over the same events is the row.
				evs = append(evs, s.ev)
				foldIsRow(t, vulns.FoldFinding, evs, f, func(folded *vulns.Finding) {
					folded.AssetName, folded.Overdue = f.AssetName, f.Overdue
				})
			})
		}
	})
}

// TestRisk checks an asset's score and that its components recompute it.
func TestRisk(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *projections.DB) {
		ps := setupAll(t, db)
		ar := assets.NewReader(db)
		ctx := context.Background()
		g := newGen(t)
		evs := []events.Envelope{
			g.registerAsset(1, "critical-host", "critical"),
			g.registerAsset(2, "huge-host", "high"),
			g.registerAsset(3, "quiet-host", "low"),
			g.openFinding(findingSpec{n: 1, asset: 1, severity: "critical"}),
			g.ev(findingID(1), "FindingExploitabilityChanged", obj{"kev": true, "epss": 0.5}),
			g.openFinding(findingSpec{n: 2, asset: 1, severity: "high"}),
			g.openFinding(findingSpec{n: 3, asset: 1, severity: "high"}),
			g.openFinding(findingSpec{n: 4, asset: 1, severity: "medium"}),
			g.openFinding(findingSpec{n: 5, asset: 1, severity: "info"}),
			g.openFinding(findingSpec{n: 6, asset: 1, severity: "critical"}),
			g.ev(findingID(6), "FindingResolved", obj{"reason": "fixed", "resolved_at": g.at(50).Format(time.RFC3339)}),
			g.openFinding(findingSpec{n: 7, asset: 1, severity: "low"}),
			g.ev(findingID(7), "FindingExploitabilityChanged", obj{"epss": 0.124}),
		}
		for i := 0; i < 12; i++ {
			evs = append(evs, g.openFinding(findingSpec{n: 100 + i, asset: 2, severity: "critical"}))
		}
		feed(t, db, 1, 5, evs, ps...)
		a, err := ar.Asset(ctx, assetID(1))
		if err != nil {
			t.Fatal(err)
		}
		// critical: 10 × 2 (KEV) × 1.5 (EPSS 0.5) = 30; high 2 × 5 = 10; medium 2; low 0.5 × 1.124 = 0.562;
		// info 0; × 1.5 (critical asset) = 63.843
		wantPoints := 30 + 10 + 2 + 0.562
		if math.Abs(a.Risk.Score-wantPoints*1.5) > 1e-9 {
			t.Errorf("score %v, want %v", a.Risk.Score, wantPoints*1.5)
		}
		if got := recompute(t, a.Risk); math.Abs(got-a.Risk.Score) > 1e-9 {
			t.Errorf("components give %v, score is %v: %+v", got, a.Risk.Score, a.Risk)
		}
		want := map[string]int64{"critical": 1, "high": 2, "medium": 1, "low": 1, "info": 1}
		if !reflect.DeepEqual(a.OpenFindings, want) {
			t.Errorf("open %v, want %v", a.OpenFindings, want)
		}
		big, err := ar.Asset(ctx, assetID(2))
		if err != nil {
			t.Fatal(err)
		}
		if big.Risk.Score != assets.MaxRisk || recompute(t, big.Risk) != assets.MaxRisk {
			t.Errorf("capped score %v (%+v)", big.Risk.Score, big.Risk)
		}
		quiet, err := ar.Asset(ctx, assetID(3))
		if err != nil {
			t.Fatal(err)
		}
		if quiet.Risk.Score != 0 || !reflect.DeepEqual(quiet.OpenFindings, vulns.ZeroCounts()) {
			t.Errorf("asset without findings: %+v", quiet)
		}
		// Sorting by risk (the default) and MinRisk work in SQL.
		p, err := ar.Assets(ctx, assets.Query{List: readkit.List{Limit: 10}})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != 3 || p.Items[0].ID != assetID(2) || p.Items[1].ID != assetID(1) || p.Items[2].ID != assetID(3) {
			t.Errorf("risk order: %v", ids(p.Items, func(a assets.Asset) string { return a.Name }))
		}
		p, err = ar.Assets(ctx, assets.Query{MinRisk: ptr(63.0), List: readkit.List{Sort: "risk"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != 2 {
			t.Errorf("min risk 63: %v", ids(p.Items, func(a assets.Asset) string { return a.Name }))
		}
	})
}

// recompute follows RiskFormula from the components alone.
func recompute(t *testing.T, r assets.Risk) float64 {
	t.Helper()
	var sum, factor, points float64
	for _, c := range r.Components {
		switch c.Name {
		case "critical", "high", "medium", "low", "info":
			sum += c.Value
		case "points":
			points = c.Value
		case "criticality_factor":
			factor = c.Value
		}
	}
	if math.Abs(sum-points) > 1e-9 {
		t.Errorf("severity terms sum to %v, points component is %v", sum, points)
	}
	return math.Min(assets.MaxRisk, sum*factor)
}

func ids[T any](items []T, f func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = f(it)
	}
	return out
}

// TestPoison: undecodable data of a handled type, or an event before its stream's first, is an
// *EventError naming the event; unknown types are ignored.
func TestPoison(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *projections.DB) {
		ps := setupAll(t, db)
		g := newGen(t)
		good := []events.Envelope{g.registerAsset(1, "a", ""), g.openFinding(findingSpec{n: 1, asset: 1, severity: "low"})}
		feed(t, db, 1, 10, good, ps...)
		bad := func(stream, typ, data string) events.Envelope {
			e := g.ev(stream, "FindingCommented", obj{"comment": "x"}) // a valid envelope, then broken
			e.Type, e.Data = typ, []byte(data)
			return e
		}
		cases := []struct {
			p  projections.Projection
			ev events.Envelope
		}{
			{ps[1], bad(findingID(1), "FindingSeen", `{"scan_id": 5}`)},
			{ps[1], bad(findingID(1), "FindingAssigned", `not json`)},
			{ps[1], bad(findingID(9), "FindingTriaged", `{"note": "before opened"}`)},
			{ps[1], bad(findingID(8), "FindingOpened", `{"severity": "urgent", "asset_id": "x", "seen_at": "2026-01-01T00:00:00Z"}`)},
			{ps[0], bad(assetID(7), "AssetRetired", `{"reason": "never registered"}`)},
			{ps[0], bad(assetID(1), "AssetClassified", `{"tags": "not a list"}`)},
			{ps[2], bad("scans-import-"+scanUUID(1), "ScanImportStarted", `{"findings_total": "many"}`)},
			{ps[3], bad(cveStream(1), "CVEEPSSScored", `{"id": 1}`)},
		}
		for _, c := range cases {
			ok := g.ev(c.ev.StreamID, "FindingCommented", obj{"comment": "fine"})
			ok.Type = "SomethingNew" // unknown types are ignored
			_, err := applyBatch(db, 1, c.p, []events.Envelope{ok, c.ev})
			var ee *projections.EventError
			if !errors.As(err, &ee) || ee.Event.EventID != c.ev.EventID {
				t.Errorf("%s %s: got %v, want an EventError for the event", c.p.Name(), c.ev.Data, err)
			}
		}
		// Nothing of a failed batch was kept.
		f, err := vulns.NewReader(db).Finding(context.Background(), findingID(1))
		if err != nil || f.Version != 1 {
			t.Errorf("finding after poison: %+v %v", f, err)
		}
	})
}

// TestFixedColumnsRewritten: rows that existed before a batch are written without the columns
// only FindingOpened sets; should a stream ever carry a second FindingOpened, the whole row is
// still written.
func TestFixedColumnsRewritten(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *projections.DB) {
		ps := setupAll(t, db)
		g := newGen(t)
		feed(t, db, 1, 10, []events.Envelope{g.registerAsset(1, "a", ""), g.openFinding(findingSpec{n: 1, asset: 1, severity: "low", title: "old"})}, ps...)
		feed(t, db, 1, 10, []events.Envelope{g.openFinding(findingSpec{n: 1, asset: 1, severity: "high", title: "new", cves: []string{"CVE-2024-1234"}})}, ps...)
		f, err := vulns.NewReader(db).Finding(context.Background(), findingID(1))
		if err != nil {
			t.Fatal(err)
		}
		if f.Title != "new" || f.Severity != "high" || f.Version != 2 || len(f.CVEs) != 1 {
			t.Errorf("got %+v", f)
		}
		p, err := vulns.NewReader(db).Findings(context.Background(), vulns.FindingQuery{CVE: "CVE-2024-1234"})
		if err != nil || len(p.Items) != 1 {
			t.Errorf("side table: %v %v", p.Items, err)
		}
	})
}

// TestCVEEvents applies every CVE event, one batch each.
func TestCVEEvents(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *projections.DB) {
		ps := setupAll(t, db)
		r := vulns.NewReader(db)
		g := newGen(t)
		s := cveStream(1)
		id := "CVE-2024-3094"
		steps := []struct {
			ev    events.Envelope
			check func(c *vulns.CVE) bool
		}{
			{g.ev(s, "CVEEPSSScored", obj{"id": id, "epss": 0.2, "percentile": 0.9, "model_version": "v2025.03.14", "score_date": "2025-03-14T00:00:00Z"}),
				func(c *vulns.CVE) bool {
					return *c.EPSS == 0.2 && *c.EPSSPercentile == 0.9 && c.Published == nil && c.StreamID == s
				}},
			{g.ev(s, "CVEPublished", obj{"id": id, "published": "2024-03-29T17:15:21.15Z", "last_modified": "2024-04-01T00:00:00Z",
				"status": "Analyzed", "description": "xz backdoor", "cwes": []string{"CWE-506"},
				"ratings": []obj{{"version": "3.1", "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", "base_score": 10, "type": "Primary"}}}),
				func(c *vulns.CVE) bool {
					return c.Description == "xz backdoor" && *c.CVSSScore == 10 && c.Published.Equal(time.Date(2024, 3, 29, 17, 15, 21, 150000000, time.UTC)) &&
						*c.EPSS == 0.2 && len(c.Ratings) > 0
				}},
			{g.ev(s, "CVEUpdated", obj{"id": id, "last_modified": "2024-05-01T00:00:00Z", "description": "xz/liblzma backdoor",
				"ratings": []obj{{"version": "4.0", "vector": "CVSS:4.0/AV:N", "base_score": 9.3, "type": "Secondary"}, {"version": "3.1", "vector": "CVSS:3.1/AV:N", "base_score": 10, "type": "Primary"}}}),
				func(c *vulns.CVE) bool {
					return c.Description == "xz/liblzma backdoor" && *c.CVSSScore == 9.3 && c.CVSSVector == "CVSS:4.0/AV:N" && c.CWEs == nil &&
						c.LastModified.Equal(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
				}},
			{g.ev(s, "CVEListedInKEV", obj{"id": id, "date_added": "2024-04-02", "due_date": "2024-04-23", "known_ransomware_campaign_use": "Unknown", "source": "kev"}),
				func(c *vulns.CVE) bool {
					return c.KEV && c.KEVDueDate == "2024-04-23" && c.KEVRansomware == "Unknown" && c.Version == 4 && *c.EPSS == 0.2
				}},
		}
		for _, st := range steps {
			feed(t, db, 1, 1, []events.Envelope{st.ev}, ps...)
			c, err := r.ScopedCVE(context.Background(), id, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !st.check(c) {
				t.Errorf("after %s: %+v", st.ev.Type, c)
			}
		}
	})
}
