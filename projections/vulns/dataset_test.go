package vulns_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/assets"
	"github.com/socplatform/soc/projections/internal/testdb"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/projections/runner"
	"github.com/socplatform/soc/projections/scans"
	"github.com/socplatform/soc/projections/vulns"
)

// dataset is a small but varied world: assets of every kind and criticality, findings in every
// status with ties on every sort field, scans, CVEs.
type dataset struct {
	evs      []events.Envelope
	now      time.Time
	findings map[string]*vulns.Finding // folded, with AssetName
	assets   map[string]*assets.Asset  // folded
}

func newDataset(t testing.TB) *dataset {
	g := newGen(t)
	rnd := rand.New(rand.NewPCG(1, 2))
	ds := &dataset{}
	kinds := []string{"host", "container_image", "repository"}
	crits := []string{"critical", "high", "medium", "low", ""}
	envs := []string{"production", "staging"}
	for i := 1; i <= 8; i++ {
		d := obj{"kind": kinds[i%3], "name": fmt.Sprintf("Asset_%d%%", i%5), // duplicate names; LIKE wildcards in names
			"identifiers": obj{"hostnames": []string{fmt.Sprintf("h%d.example.com", i)}},
			"environment": envs[i%2], "owner_team": fmt.Sprintf("team-%d", i%3)}
		if c := crits[i%5]; c != "" {
			d["criticality"] = c
		}
		if i%2 == 0 {
			d["tags"] = []string{"pci", fmt.Sprintf("t_%d", i%3)}
		}
		ds.evs = append(ds.evs, g.ev(assetID(i), "AssetRegistered", d))
	}
	ds.evs = append(ds.evs, g.ev(assetID(8), "AssetRetired", obj{"reason": "gone"}))
	past, future := g.base.Add(-48*time.Hour), g.base.Add(30*24*time.Hour)
	ds.now = g.base.Add(24 * time.Hour)
	scanners := []string{"Trivy", "Grype"}
	formats := []string{"trivy", "grype"}
	for n := 1; n <= 60; n++ {
		s := findingSpec{n: n, asset: 1 + n%7, severity: vulns.Severities[rnd.IntN(5)], scanner: scanners[n%2], format: formats[n%2],
			scan: scanUUID(n % 4), title: fmt.Sprintf("%s in lib%d", []string{"Heap Overflow", "SQL injection", "XSS"}[n%3], n%4)}
		if n%3 == 0 {
			s.cves = []string{fmt.Sprintf("CVE-2024-%04d", n%5), "CVE-2023-9999"}
		}
		if n%4 == 0 {
			s.cwes = []string{fmt.Sprintf("CWE-%d", 70+n%3)}
		}
		if n%5 != 0 {
			s.cvss = float64(rnd.IntN(4)) + 6.5
		}
		ds.evs = append(ds.evs, g.openFinding(s))
		id := findingID(n)
		switch n % 4 {
		case 0:
			ds.evs = append(ds.evs, g.ev(id, "FindingDueDateSet", obj{"due_at": past.Format(time.RFC3339)}))
		case 1, 2:
			ds.evs = append(ds.evs, g.ev(id, "FindingDueDateSet", obj{"due_at": future.Add(time.Duration(n%3) * time.Hour).Format(time.RFC3339)}))
		}
		if n%3 == 1 {
			ds.evs = append(ds.evs, g.ev(id, "FindingAssigned", obj{"owner": fmt.Sprintf("owner-%d", n%2)}))
		}
		if n%6 == 0 {
			ds.evs = append(ds.evs, g.ev(id, "FindingExploitabilityChanged", obj{"kev": n%12 == 0, "epss": float64(n%4) / 10, "epss_percentile": 0.5}))
		}
		switch n % 9 {
		case 1:
			ds.evs = append(ds.evs, g.ev(id, "FindingTriaged", obj{"note": "ok"}))
		case 2:
			ds.evs = append(ds.evs, g.ev(id, "FindingResolved", obj{"reason": "fixed", "resolved_at": g.base.Format(time.RFC3339)}))
		case 3:
			ds.evs = append(ds.evs, g.ev(id, "FindingMarkedFalsePositive", obj{"justification": "no"}))
		case 4:
			ds.evs = append(ds.evs, g.ev(id, "FindingRemediationStarted", obj{"note": "on it"}))
		case 5:
			ds.evs = append(ds.evs, g.ev(id, "FindingResolved", obj{"reason": "fixed", "resolved_at": g.base.Format(time.RFC3339)}),
				g.ev(id, "FindingReopened", obj{"reason": "again", "scan_id": scanUUID(7), "seen_at": g.at(g.pos + 1).Format(time.RFC3339)}))
		}
		if n%10 == 0 {
			ds.evs = append(ds.evs, g.ev(id, "FindingSeen", obj{"scan_id": scanUUID(5), "seen_at": g.at(g.pos + 1).Format(time.RFC3339)}))
		}
	}
	ds.evs = append(ds.evs, g.ev(assetID(2), "AssetClassified", obj{"criticality": "critical"}))
	for i := 1; i <= 6; i++ {
		stream := "scans-import-" + scanUUID(i)
		ds.evs = append(ds.evs, g.ev(stream, "ScanImportStarted", obj{"scan_id": scanUUID(i), "format": formats[i%2],
			"scanner_name": scanners[i%2], "findings_total": 10 * (i % 3), "assets_total": 1}))
		switch i % 3 {
		case 0:
			ds.evs = append(ds.evs, g.ev(stream, "ScanImportCompleted", obj{"scan_id": scanUUID(i), "format": formats[i%2],
				"findings_total": 10 * (i % 3), "by_severity": obj{"critical": 1, "high": 2, "medium": 3, "low": 4, "info": 0},
				"new": 1, "unchanged": 2, "reopened": 0, "resolved": 1, "closed": 0, "skipped": 0, "assets_discovered": 1,
				"assets_matched": 0, "warnings": []string{"w"}}))
		case 1:
			ds.evs = append(ds.evs, g.ev(stream, "ScanImportFailed", obj{"scan_id": scanUUID(i), "stage": "import", "reason": "boom"}))
		}
	}
	ds.evs = append(ds.evs, g.ev("scans-import-"+scanUUID(9), "ScanImportFailed", obj{"scan_id": scanUUID(9), "stage": "detect", "reason": "unknown format"}))
	for i := 0; i < 5; i++ {
		id := fmt.Sprintf("CVE-2024-%04d", i)
		if i != 4 { // CVE 4 is only known from KEV
			ds.evs = append(ds.evs, g.ev(cveStream(i), "CVEPublished", obj{"id": id, "last_modified": "2024-05-01T00:00:00Z",
				"published": "2024-04-01T00:00:00Z", "description": "d", "cwes": []string{"CWE-79"},
				"ratings": []obj{{"version": "3.1", "vector": "CVSS:3.1/AV:N", "base_score": 9.8, "type": "Primary"}, {"version": "2.0", "vector": "AV:N", "base_score": 10}}}))
		}
		if i%2 == 0 {
			ds.evs = append(ds.evs, g.ev(cveStream(i), "CVEListedInKEV", obj{"id": id, "date_added": "2024-06-01", "source": "kev"}))
		}
	}
	// Fold every stream for the expectations.
	byStream := map[string][]events.Envelope{}
	for _, e := range ds.evs {
		byStream[e.StreamID] = append(byStream[e.StreamID], e)
	}
	ds.findings, ds.assets = map[string]*vulns.Finding{}, map[string]*assets.Asset{}
	for id, evs := range byStream {
		switch {
		case strings.HasPrefix(id, "assets-"):
			a, err := assets.FoldAsset(evs)
			if err != nil {
				t.Fatal(err)
			}
			ds.assets[id] = a
		case strings.HasPrefix(id, "vulns-finding-"):
			f, err := vulns.FoldFinding(evs)
			if err != nil {
				t.Fatal(err)
			}
			ds.findings[id] = f
		}
	}
	for _, f := range ds.findings {
		f.AssetName = ds.assets[f.AssetID].Name
		f.Overdue = vulns.IsOpen(f.Status) && f.DueAt != nil && f.DueAt.Before(ds.now)
	}
	return ds
}

func loadDataset(t *testing.T, db *projections.DB) *dataset {
	ds := newDataset(t)
	setup(t, db, all()...)
	feed(t, db, 1, 16, ds.evs, all()...)
	return ds
}

// allPages follows Next from the first page to the last, failing on a row seen twice.
func allPages[T any](t *testing.T, id func(T) string, get func(after *readkit.Key) (readkit.Page[T], error)) []T {
	t.Helper()
	var out []T
	seen := map[string]bool{}
	var after *readkit.Key
	for i := 0; ; i++ {
		p, err := get(after)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			if seen[id(it)] {
				t.Fatalf("row %s returned twice", id(it))
			}
			seen[id(it)] = true
		}
		out = append(out, p.Items...)
		if p.Next == nil {
			return out
		}
		if len(p.Items) == 0 || i > 1000 {
			t.Fatal("pagination does not end")
		}
		after = p.Next
	}
}

func TestFindingFilters(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *projections.DB) {
		ds := loadDataset(t, db)
		r := vulns.NewReader(db)
		ctx := context.Background()
		yes, no := ptr(true), ptr(false)
		cases := []struct {
			name string
			q    vulns.FindingQuery
			want func(f *vulns.Finding) bool
		}{
			{"all", vulns.FindingQuery{}, func(*vulns.Finding) bool { return true }},
			{"severity", vulns.FindingQuery{Severity: []string{"critical", "high"}}, func(f *vulns.Finding) bool { return f.Severity == "critical" || f.Severity == "high" }},
			{"status", vulns.FindingQuery{Status: []string{"resolved", "false_positive"}}, func(f *vulns.Finding) bool { return f.Status == "resolved" || f.Status == "false_positive" }},
			{"open", vulns.FindingQuery{Open: yes}, func(f *vulns.Finding) bool { return vulns.IsOpen(f.Status) }},
			{"not open", vulns.FindingQuery{Open: no}, func(f *vulns.Finding) bool { return !vulns.IsOpen(f.Status) }},
			{"asset", vulns.FindingQuery{AssetID: assetID(3)}, func(f *vulns.Finding) bool { return f.AssetID == assetID(3) }},
			{"cve", vulns.FindingQuery{CVE: "CVE-2024-0003"}, func(f *vulns.Finding) bool { return slices.Contains(f.CVEs, "CVE-2024-0003") }},
			{"cwe", vulns.FindingQuery{CWE: "CWE-71"}, func(f *vulns.Finding) bool { return slices.Contains(f.CWEs, "CWE-71") }},
			{"kev", vulns.FindingQuery{KEV: yes}, func(f *vulns.Finding) bool { return f.KEV }},
			{"not kev", vulns.FindingQuery{KEV: no}, func(f *vulns.Finding) bool { return !f.KEV }},
			{"epss min", vulns.FindingQuery{EPSSMin: ptr(0.2)}, func(f *vulns.Finding) bool { return f.EPSS != nil && *f.EPSS >= 0.2 }},
			{"owner", vulns.FindingQuery{Owner: "owner-1"}, func(f *vulns.Finding) bool { return f.Owner == "owner-1" }},
			{"overdue", vulns.FindingQuery{Overdue: yes}, func(f *vulns.Finding) bool { return f.Overdue }},
			{"not overdue", vulns.FindingQuery{Overdue: no}, func(f *vulns.Finding) bool { return !f.Overdue }},
			{"due before", vulns.FindingQuery{DueBefore: ds.now}, func(f *vulns.Finding) bool { return f.DueAt != nil && f.DueAt.Before(ds.now) }},
			{"due after", vulns.FindingQuery{DueAfter: ds.now}, func(f *vulns.Finding) bool { return f.DueAt != nil && !f.DueAt.Before(ds.now) }},
			{"scanner", vulns.FindingQuery{Scanner: "Grype"}, func(f *vulns.Finding) bool { return f.Scanner == "Grype" }},
			{"format", vulns.FindingQuery{Format: "trivy"}, func(f *vulns.Finding) bool { return f.Format == "trivy" }},
			{"scan", vulns.FindingQuery{ScanID: scanUUID(5)}, func(f *vulns.Finding) bool { return f.FirstScanID == scanUUID(5) || f.LastScanID == scanUUID(5) }},
			{"first seen", vulns.FindingQuery{FirstSeenFrom: ds.findings[findingID(10)].FirstSeen, FirstSeenTo: ds.findings[findingID(20)].FirstSeen},
				func(f *vulns.Finding) bool {
					return !f.FirstSeen.Before(ds.findings[findingID(10)].FirstSeen) && f.FirstSeen.Before(ds.findings[findingID(20)].FirstSeen)
				}},
			{"last seen", vulns.FindingQuery{LastSeenFrom: ds.findings[findingID(30)].LastSeen},
				func(f *vulns.Finding) bool { return !f.LastSeen.Before(ds.findings[findingID(30)].LastSeen) }},
			{"q", vulns.FindingQuery{Q: "sql INJ"}, func(f *vulns.Finding) bool { return strings.Contains(strings.ToLower(f.Title), "sql inj") }},
			{"q wildcard", vulns.FindingQuery{Q: "%"}, func(f *vulns.Finding) bool { return strings.Contains(f.Title, "%") }},
			{"triage", vulns.FindingQuery{Status: []string{"open"}, Severity: []string{"critical", "high"}}, func(f *vulns.Finding) bool {
				return f.Status == "open" && (f.Severity == "critical" || f.Severity == "high")
			}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var want []string
				for id, f := range ds.findings {
					if c.want(f) {
						want = append(want, id)
					}
				}
				if len(want) == 0 && c.name != "q wildcard" {
					t.Fatal("the dataset has no finding for this filter: the case tests nothing")
				}
				q := c.q
				q.Now, q.Limit = ds.now, 7
				got := allPages(t, func(f vulns.Finding) string { return f.ID }, func(after *readkit.Key) (readkit.Page[vulns.Finding], error) {
					q.After = after
					return r.Findings(ctx, q)
				})
				for _, f := range got {
					if w := ds.findings[f.ID]; !reflect.DeepEqual(&f, w) {
						t.Errorf("row\n got  %+v\nfold %+v", f, *w)
					}
				}
				gotIDs := ids(got, func(f vulns.Finding) string { return f.ID })
				slices.Sort(gotIDs)
				slices.Sort(want)
				if !slices.Equal(gotIDs, want) {
					t.Errorf("got %d findings, want %d:\n got  %v\nwant %v", len(gotIDs), len(want), gotIDs, want)
				}
			})
		}
	})
}

// sortKey is a finding's position under a sort field, as the Reader orders it.
func findingSortKey(sort string, f *vulns.Finding) []float64 {
	due := float64(vulns.NoDue)
	if f.DueAt != nil {
		due = float64(f.DueAt.UnixMicro())
	}
	switch sort {
	case "severity":
		return []float64{float64(vulns.SeverityRank(f.Severity)), -due}
	case "due_at":
		return []float64{due}
	case "first_seen":
		return []float64{float64(f.FirstSeen.UnixMicro())}
	case "last_seen":
		return []float64{float64(f.LastSeen.UnixMicro())}
	case "updated_at":
		return []float64{float64(f.UpdatedAt.UnixMicro())}
	case "epss":
		return []float64{vulns.ScoreOr(f.EPSS)}
	case "cvss":
		return []float64{vulns.ScoreOr(f.CVSSScore)}
	}
	return nil
}

func compareKeys(a, b []float64, ida, idb string) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return strings.Compare(ida, idb)
}

// checkOrder fails unless items are strictly ordered by (key, id), reversed when desc.
func checkOrder[T any](t *testing.T, items []T, key func(*T) []float64, id func(*T) string, desc bool) {
	t.Helper()
	for i := 1; i < len(items); i++ {
		c := compareKeys(key(&items[i-1]), key(&items[i]), id(&items[i-1]), id(&items[i]))
		if (desc && c <= 0) || (!desc && c >= 0) {
			t.Fatalf("rows %d and %d out of order: %s %v, %s %v", i-1, i, id(&items[i-1]), key(&items[i-1]), id(&items[i]), key(&items[i]))
		}
	}
}

func TestFindingSortsAndPages(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *projections.DB) {
		ds := loadDataset(t, db)
		r := vulns.NewReader(db)
		for _, sort := range vulns.FindingSorts {
			for _, desc := range []bool{false, true} {
				for _, limit := range []int{1, 4, 1000} {
					t.Run(fmt.Sprintf("%s/desc=%v/limit=%d", sort, desc, limit), func(t *testing.T) {
						got := allPages(t, func(f vulns.Finding) string { return f.ID }, func(after *readkit.Key) (readkit.Page[vulns.Finding], error) {
							return r.Findings(context.Background(), vulns.FindingQuery{Now: ds.now, List: readkit.List{Sort: sort, Desc: desc, Limit: limit, After: after}})
						})
						if len(got) != len(ds.findings) {
							t.Fatalf("visited %d rows, want %d", len(got), len(ds.findings))
						}
						checkOrder(t, got, func(f *vulns.Finding) []float64 { return findingSortKey(sort, f) }, func(f *vulns.Finding) string { return f.ID }, desc)
					})
				}
			}
		}
		// The default is severity, descending: critical first, earliest due date first.
		p, err := r.Findings(context.Background(), vulns.FindingQuery{Now: ds.now, List: readkit.List{Limit: 60}})
		if err != nil {
			t.Fatal(err)
		}
		checkOrder(t, p.Items, func(f *vulns.Finding) []float64 { return findingSortKey("severity", f) }, func(f *vulns.Finding) string { return f.ID }, true)
		if p.Next != nil || p.Items[0].Severity != "critical" {
			t.Errorf("default sort: next %v, first %s", p.Next, p.Items[0].Severity)
		}
	})
}

func TestAssetQueries(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *projections.DB) {
		ds := loadDataset(t, db)
		ar := assets.NewReader(db)
		ctx := context.Background()
		rows := allPages(t, func(a assets.Asset) string { return a.ID }, func(after *readkit.Key) (readkit.Page[assets.Asset], error) {
			return ar.Assets(ctx, assets.Query{List: readkit.List{Limit: 3, After: after}})
		})
		if len(rows) != len(ds.assets) {
			t.Fatalf("%d assets, want %d", len(rows), len(ds.assets))
		}
		byID := map[string]assets.Asset{}
		for _, a := range rows {
			byID[a.ID] = a
			// The row is the fold of its stream plus what the findings projection adds.
			f := *ds.assets[a.ID]
			f.OpenFindings, f.Risk = a.OpenFindings, a.Risk
			if !reflect.DeepEqual(&f, &a) {
				t.Errorf("row\n got  %+v\nfold %+v", a, f)
			}
			// Open counts are those of the folded findings.
			want := vulns.ZeroCounts()
			for _, fi := range ds.findings {
				if fi.AssetID == a.ID && vulns.IsOpen(fi.Status) {
					want[fi.Severity]++
				}
			}
			if !reflect.DeepEqual(a.OpenFindings, want) {
				t.Errorf("%s open %v, want %v", a.ID, a.OpenFindings, want)
			}
		}
		yes, no := ptr(true), ptr(false)
		cases := []struct {
			name string
			q    assets.Query
			want func(a assets.Asset) bool
		}{
			{"kind", assets.Query{Kind: []string{"host", "repository"}}, func(a assets.Asset) bool { return a.Kind == "host" || a.Kind == "repository" }},
			{"criticality", assets.Query{Criticality: []string{"critical"}}, func(a assets.Asset) bool { return a.Criticality == "critical" }},
			{"environment", assets.Query{Environment: "staging"}, func(a assets.Asset) bool { return a.Environment == "staging" }},
			{"owner", assets.Query{OwnerTeam: "team-1"}, func(a assets.Asset) bool { return a.OwnerTeam == "team-1" }},
			{"status", assets.Query{Status: "retired"}, func(a assets.Asset) bool { return a.Status == "retired" }},
			{"tag", assets.Query{Tag: "t_1"}, func(a assets.Asset) bool { return slices.Contains(a.Tags, "t_1") }},
			{"tag wildcard", assets.Query{Tag: "t%"}, func(a assets.Asset) bool { return slices.Contains(a.Tags, "t%") }},
			{"q", assets.Query{Q: "asset_1%"}, func(a assets.Asset) bool { return strings.Contains(strings.ToLower(a.Name), "asset_1%") }},
			{"min risk", assets.Query{MinRisk: ptr(20.0)}, func(a assets.Asset) bool { return a.Risk.Score >= 20 }},
			{"has open", assets.Query{HasOpen: yes}, func(a assets.Asset) bool {
				return a.OpenFindings["critical"]+a.OpenFindings["high"]+a.OpenFindings["medium"]+a.OpenFindings["low"]+a.OpenFindings["info"] > 0
			}},
			{"no open", assets.Query{HasOpen: no}, func(a assets.Asset) bool {
				return a.OpenFindings["critical"]+a.OpenFindings["high"]+a.OpenFindings["medium"]+a.OpenFindings["low"]+a.OpenFindings["info"] == 0
			}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var want []string
				for _, a := range rows {
					if c.want(a) {
						want = append(want, a.ID)
					}
				}
				q := c.q
				q.Limit = 2
				got := ids(allPages(t, func(a assets.Asset) string { return a.ID }, func(after *readkit.Key) (readkit.Page[assets.Asset], error) {
					q.After = after
					return ar.Assets(ctx, q)
				}), func(a assets.Asset) string { return a.ID })
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("got %v, want %v", got, want)
				}
			})
		}
		key := func(sort string) func(a *assets.Asset) []float64 {
			return func(a *assets.Asset) []float64 {
				switch sort {
				case "risk":
					return []float64{a.Risk.Score}
				case "criticality":
					return []float64{float64(assets.CriticalityRank(a.Criticality))}
				case "open_critical":
					return []float64{float64(a.OpenFindings["critical"])}
				case "updated_at":
					return []float64{float64(a.UpdatedAt.UnixMicro())}
				}
				return nil
			}
		}
		for _, sort := range assets.Sorts {
			for _, desc := range []bool{false, true} {
				t.Run(fmt.Sprintf("sort %s desc=%v", sort, desc), func(t *testing.T) {
					got := allPages(t, func(a assets.Asset) string { return a.ID }, func(after *readkit.Key) (readkit.Page[assets.Asset], error) {
						return ar.Assets(ctx, assets.Query{List: readkit.List{Sort: sort, Desc: desc, Limit: 2, After: after}})
					})
					if len(got) != len(rows) {
						t.Fatalf("visited %d, want %d", len(got), len(rows))
					}
					if sort == "name" {
						for i := 1; i < len(got); i++ {
							c := strings.Compare(got[i-1].Name+"\x00"+got[i-1].ID, got[i].Name+"\x00"+got[i].ID)
							if (desc && c <= 0) || (!desc && c >= 0) {
								t.Fatalf("out of order: %s %s", got[i-1].Name, got[i].Name)
							}
						}
						return
					}
					checkOrder(t, got, key(sort), func(a *assets.Asset) string { return a.ID }, desc)
				})
			}
		}
	})
}

func TestScansAndCVEs(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *projections.DB) {
		ds := loadDataset(t, db)
		r, sr := vulns.NewReader(db), scans.NewReader(db)
		ctx := context.Background()
		s, err := sr.Scan(ctx, scanUUID(3))
		if err != nil {
			t.Fatal(err)
		}
		if s.Status != "completed" || s.FinishedAt == nil || s.Outcome["new"] != 1 || s.Outcome["assets_discovered"] != 1 ||
			s.BySeverity["low"] != 4 || !reflect.DeepEqual(s.Warnings, []string{"w"}) || s.Scanner != "Grype" || s.Actor != "user:alice" ||
			s.StreamID != "scans-import-"+scanUUID(3) || s.Version != 2 || s.Error != nil {
			t.Errorf("completed scan %+v", s)
		}
		if s, err = sr.Scan(ctx, scanUUID(1)); err != nil || s.Status != "failed" || s.Error == nil || s.Error.Stage != "import" || s.FindingsTotal != 10 {
			t.Errorf("failed scan %+v %v", s, err)
		}
		if s, err = sr.Scan(ctx, scanUUID(9)); err != nil || s.Status != "failed" || s.Error.Reason != "unknown format" || s.StartedAt.IsZero() {
			t.Errorf("scan that failed to start %+v %v", s, err)
		}
		if s, err = sr.Scan(ctx, scanUUID(2)); err != nil || s.Status != "running" || s.FinishedAt != nil {
			t.Errorf("running scan %+v %v", s, err)
		}
		for _, c := range []struct {
			q    scans.Query
			want int
		}{{scans.Query{}, 7}, {scans.Query{Status: "failed"}, 3}, {scans.Query{Format: "grype"}, 3}, {scans.Query{Actor: "user:alice"}, 7},
			{scans.Query{Actor: "nobody"}, 0}, {scans.Query{From: s.StartedAt}, 6}, {scans.Query{To: s.StartedAt}, 1}} {
			for _, sort := range scans.Sorts {
				q := c.q
				q.Sort, q.Limit = sort, 2
				got := allPages(t, func(s scans.Scan) string { return s.ID }, func(after *readkit.Key) (readkit.Page[scans.Scan], error) {
					q.After = after
					return sr.Scans(ctx, q)
				})
				if len(got) != c.want {
					t.Errorf("%+v: %d scans, want %d", q, len(got), c.want)
				}
				if sort == "findings_total" {
					checkOrder(t, got, func(s *scans.Scan) []float64 { return []float64{float64(s.FindingsTotal)} }, func(s *scans.Scan) string { return s.ID }, false)
				}
			}
		}
		c, err := r.ScopedCVE(ctx, "CVE-2024-0000", nil)
		if err != nil {
			t.Fatal(err)
		}
		open0 := int64(0)
		for _, f := range ds.findings {
			if vulns.IsOpen(f.Status) && slices.Contains(f.CVEs, "CVE-2024-0000") {
				open0++
			}
		}
		if !c.KEV || c.KEVDateAdded != "2024-06-01" || c.CVSSScore == nil || *c.CVSSScore != 9.8 || c.CVSSVector != "CVSS:3.1/AV:N" ||
			c.OpenFindings != open0 || open0 == 0 || c.Published == nil || !reflect.DeepEqual(c.CWEs, []string{"CWE-79"}) || c.Version != 2 {
			t.Errorf("CVE %+v (want %d open findings)", c, open0)
		}
		if c, err = r.ScopedCVE(ctx, "CVE-2024-0004", nil); err != nil || !c.KEV || c.Published != nil || c.Version != 1 {
			t.Errorf("KEV-only CVE %+v %v", c, err)
		}
	})
}

func TestQueryErrorsAndNotFound(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *projections.DB) {
		loadDataset(t, db)
		r, ar, sr := vulns.NewReader(db), assets.NewReader(db), scans.NewReader(db)
		ctx := context.Background()
		bad := []struct {
			name  string
			param string
			run   func() error
		}{
			{"finding sort", "sort", func() error {
				_, err := r.Findings(ctx, vulns.FindingQuery{List: readkit.List{Sort: "title"}})
				return err
			}},
			{"asset sort", "sort", func() error {
				_, err := ar.Assets(ctx, assets.Query{List: readkit.List{Sort: "1; DROP TABLE assets"}})
				return err
			}},
			{"scan sort", "sort", func() error { _, err := sr.Scans(ctx, scans.Query{List: readkit.List{Sort: "status"}}); return err }},
			{"limit high", "limit", func() error {
				_, err := r.Findings(ctx, vulns.FindingQuery{List: readkit.List{Limit: readkit.MaxLimit + 1}})
				return err
			}},
			{"limit negative", "limit", func() error { _, err := ar.Assets(ctx, assets.Query{List: readkit.List{Limit: -1}}); return err }},
			{"severity key", "cursor", func() error {
				_, err := r.Findings(ctx, vulns.FindingQuery{List: readkit.List{After: &readkit.Key{Value: "urgent|", ID: "x"}}})
				return err
			}},
			{"time key", "cursor", func() error {
				_, err := r.Findings(ctx, vulns.FindingQuery{List: readkit.List{Sort: "first_seen", After: &readkit.Key{Value: "yesterday", ID: "x"}}})
				return err
			}},
			{"risk key", "cursor", func() error {
				_, err := ar.Assets(ctx, assets.Query{List: readkit.List{After: &readkit.Key{Value: "high", ID: "x"}}})
				return err
			}},
			{"key without id", "cursor", func() error {
				_, err := sr.Scans(ctx, scans.Query{List: readkit.List{After: &readkit.Key{Value: "2026-01-01T00:00:00Z"}}})
				return err
			}},
		}
		for _, c := range bad {
			var qe *readkit.QueryError
			if err := c.run(); !errors.As(err, &qe) || qe.Param != c.param {
				t.Errorf("%s: got %v, want a QueryError for %s", c.name, err, c.param)
			}
		}
		for name, err := range map[string]error{
			"asset":   second(ar.Asset(ctx, assetID(99))),
			"finding": second(r.Finding(ctx, findingID(999))),
			"scan":    second(sr.Scan(ctx, scanUUID(99))),
			"cve":     second(r.ScopedCVE(ctx, "CVE-1999-0001", nil)),
		} {
			if !errors.Is(err, readkit.ErrNotFound) {
				t.Errorf("%s: %v, want ErrNotFound", name, err)
			}
		}
	})
}

func second[T any](_ T, err error) error { return err }

// TestIncrementalEqualsRebuild applies the same events in batches of different sizes (each into
// its own generation of one database) and compares every table.
func TestIncrementalEqualsRebuild(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *projections.DB) {
		ds := newDataset(t)
		sizes := []int{1, 7, 64, len(ds.evs)}
		for i, size := range sizes {
			ps := all()
			createGen(t, db, int64(i+1), false, ps...)
			feed(t, db, int64(i+1), size, ds.evs, ps...)
		}
		for _, p := range all() {
			for _, base := range p.Tables() {
				first := dump(t, db, projections.TableName(base, 1))
				if len(first) == 0 {
					t.Errorf("%s is empty", base)
				}
				for i := 1; i < len(sizes); i++ {
					if got := dump(t, db, projections.TableName(base, int64(i+1))); !reflect.DeepEqual(got, first) {
						t.Errorf("%s with batches of %d differs from batches of 1", base, sizes[i])
					}
				}
			}
		}
	})
}

// dump is every row of table, as runner.Snapshot shows it.
func dump(t *testing.T, db *projections.DB, table string) [][]string {
	t.Helper()
	_, rows, err := runner.TableRows(context.Background(), db, table)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
