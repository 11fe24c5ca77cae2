package vulns_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/assets"
	"github.com/socplatform/soc/projections/internal/testdb"
	"github.com/socplatform/soc/projections/ownership"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/projections/vulns"
)

// workload produces finding events as scan imports and people do: new findings (FindingOpened
// and the SLA's FindingDueDateSet), findings seen again, assignments, enrichment, lifecycle moves.
type workload struct {
	g      *gen
	rnd    *rand.Rand
	assets int
	n      int                       // findings opened so far
	state  map[string]*vulns.Finding // folded, for the baseline's rows
}

func newWorkload(tb testing.TB, assets int) *workload {
	g := newGen(tb)
	g.validate = false // the first event of each type is still validated
	return &workload{g: g, rnd: rand.New(rand.NewPCG(7, 11)), assets: assets, state: map[string]*vulns.Finding{}}
}

var lorem = strings.Repeat("A crafted request lets a remote attacker read memory. ", 6)

func (w *workload) open() []events.Envelope {
	w.n++
	n := w.n
	asset := 1 + w.rnd.IntN(w.assets)
	fp := fmt.Sprintf("CVE-2024-%05d|openssl@3.0.%d", n%20000, n)
	d := obj{
		"asset_id": assetID(asset), "scope": assetID(asset) + "|trivy", "identity_key": assetID(asset) + "|trivy|" + fp,
		"fingerprint": fp, "scan_id": scanUUID(n / 500), "format": "trivy", "scanner": "Trivy",
		"title": fmt.Sprintf("CVE-2024-%05d in openssl", n%20000), "severity": vulns.Severities[w.rnd.IntN(5)],
		"scanner_severity": "HIGH", "cves": []string{fmt.Sprintf("CVE-2024-%05d", n%20000)}, "cwes": []string{"CWE-787"},
		"cvss":        []obj{{"version": "3.1", "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "score": 9.8, "scanner_score": 9.8}},
		"component":   obj{"name": "openssl", "version": fmt.Sprintf("3.0.%d", n), "fixed_version": "3.0.99", "type": "deb"},
		"description": lorem, "remediation": "Upgrade openssl to 3.0.99.", "references": []string{"https://nvd.nist.gov/vuln/detail/CVE-2024-0001"},
		"seen_at": w.g.at(w.g.pos + 1).Format(time.RFC3339Nano),
	}
	id := findingID(n)
	evs := []events.Envelope{w.g.ev(id, "FindingOpened", d)}
	if d["severity"] != "info" {
		evs = append(evs, w.g.ev(id, "FindingDueDateSet", obj{"due_at": w.g.at(w.g.pos + 86400*30).Format(time.RFC3339), "reason": "SLA"}))
	}
	return evs
}

func (w *workload) batch(size int) []events.Envelope {
	out := make([]events.Envelope, 0, size+1)
	for len(out) < size {
		r := w.rnd.Float64()
		if w.n < 100 || r < 0.3 {
			out = append(out, w.open()...)
			continue
		}
		id := findingID(1 + w.rnd.IntN(w.n))
		switch {
		case r < 0.7:
			out = append(out, w.g.ev(id, "FindingSeen", obj{"scan_id": scanUUID(w.n / 500), "seen_at": w.g.at(w.g.pos + 1).Format(time.RFC3339Nano)}))
		case r < 0.8:
			out = append(out, w.g.ev(id, "FindingAssigned", obj{"owner": fmt.Sprintf("owner-%d", w.rnd.IntN(20))}))
		case r < 0.88:
			out = append(out, w.g.ev(id, "FindingExploitabilityChanged", obj{"kev": w.rnd.IntN(10) == 0, "epss": w.rnd.Float64(), "epss_percentile": w.rnd.Float64(), "source": "epss"}))
		case r < 0.94:
			out = append(out, w.g.ev(id, "FindingTriaged", obj{"note": "confirmed"}))
		default:
			out = append(out, w.g.ev(id, "FindingResolved", obj{"reason": "not seen by scan x", "resolved_at": w.g.at(w.g.pos).Format(time.RFC3339)}))
		}
	}
	return out
}

// rows folds a batch into the workload's state and returns the rows it touched (what the
// projection writes for it).
func (w *workload) rows(tb testing.TB, evs []events.Envelope) []*vulns.Finding {
	var touched []string
	for i := range evs {
		f, err := vulns.ApplyFinding(w.state[evs[i].StreamID], &evs[i])
		if err != nil {
			tb.Fatal(err)
		}
		if !slices.Contains(touched, evs[i].StreamID) {
			touched = append(touched, evs[i].StreamID)
		}
		w.state[evs[i].StreamID] = f
	}
	out := make([]*vulns.Finding, len(touched))
	for i, id := range touched {
		out[i] = w.state[id]
	}
	return out
}

func benchDialects(b *testing.B, f func(b *testing.B, db *projections.DB)) {
	b.Run("sqlite", func(b *testing.B) { f(b, testdb.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { f(b, testdb.Postgres(b)) })
}

const benchBatch = 1000

// BenchmarkFindingsProjection measures Apply: one transaction per batch of 1000 events, as the
// runner feeds it. Compare its events/s with BenchmarkFindingsBaselineInsert's.
func BenchmarkFindingsProjection(b *testing.B) {
	benchDialects(b, func(b *testing.B, db *projections.DB) {
		p := vulns.NewFindingsProjection()
		setup(b, db, p)
		w := newWorkload(b, 2000)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			evs := w.batch(benchBatch)
			b.StartTimer()
			if _, err := applyBatch(db, 1, p, evs); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "events/s")
	})
}

// BenchmarkFindingsBaselineInsert writes the rows the projection writes for the same batches
// with plain multi-row INSERTs into the same table and indexes (no load, no fold, no upsert, no
// side tables, no aggregate): the floor Apply is measured against.
func BenchmarkFindingsBaselineInsert(b *testing.B) {
	benchDialects(b, func(b *testing.B, db *projections.DB) {
		p := vulns.NewFindingsProjection()
		setup(b, db, p)
		w := newWorkload(b, 2000)
		cache := &readkit.SQLCache{}
		names := vulns.FindingTable.Names()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			evs := w.batch(benchBatch)
			touched := w.rows(b, evs)
			rows := make([][]any, len(touched))
			for j, f := range touched {
				rows[j] = vulns.FindingTable.Values(f)
				rows[j][0] = fmt.Sprintf("%s-%d", f.ID, i) // a fresh key per batch: plain INSERT
			}
			b.StartTimer()
			tx, err := db.Begin(context.Background(), 1)
			if err != nil {
				b.Fatal(err)
			}
			if err := readkit.WriteRows(context.Background(), tx, cache, tx.Table("findings"), names, "", rows); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "events/s")
	})
}

// BenchmarkFindingsQuery measures the triage list over 100,000 findings on SQLite: open,
// critical or high, sorted by severity then due date, 50 a page; the first page and a deep one
// (after 5,000 rows); and the first page of a remediator's (team-scoped: one team of 20 owns a
// twentieth of the assets).
//
// SOC_BENCH_QUERY_DB=<file> keeps the database in that file and reuses it when it exists (to
// look at query plans with the sqlite3 shell).
func BenchmarkFindingsQuery(b *testing.B) {
	path := os.Getenv("SOC_BENCH_QUERY_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "query.db")
	}
	_, statErr := os.Stat(path)
	db := testdb.SQLitePath(b, path)
	ps := []projections.Projection{assets.NewProjection(), vulns.NewFindingsProjection()}
	if statErr == nil {
		benchQueries(b, db)
		return
	}
	setup(b, db, ps...)
	w := newWorkload(b, 2000)
	var assets []events.Envelope
	for i := 1; i <= w.assets; i++ {
		assets = append(assets, w.g.registerAsset(i, fmt.Sprintf("host-%d", i), vulns.Severities[i%4]),
			w.g.ev(assetID(i), "AssetClassified", obj{"owner_team": fmt.Sprintf("team-%d", i%20)}))
	}
	feed(b, db, 1, benchBatch, assets, ps[0])
	for w.n < 100_000 {
		var evs []events.Envelope
		for len(evs) < benchBatch {
			evs = append(evs, w.open()...)
			if w.rnd.IntN(3) == 0 { // a third get resolved
				evs = append(evs, w.g.ev(findingID(w.n), "FindingResolved", obj{"reason": "fixed", "resolved_at": w.g.at(w.g.pos).Format(time.RFC3339)}))
			}
		}
		if _, err := applyBatch(db, 1, ps[1], evs); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := db.SQL.Exec("ANALYZE"); err != nil { // as a long-running SQLite gets from PRAGMA optimize
		b.Fatal(err)
	}
	benchQueries(b, db)
}

func benchQueries(b *testing.B, db *projections.DB) {
	r := vulns.NewReader(db)
	ctx := context.Background()
	q := vulns.FindingQuery{Status: []string{"open"}, Severity: []string{"critical", "high"}, List: readkit.List{Sort: "severity", Desc: true, Limit: 50}}
	deep := q
	deep.Limit = 1000
	var after *readkit.Key
	for i := 0; i < 5; i++ {
		deep.After = after
		p, err := r.Findings(ctx, deep)
		if err != nil || p.Next == nil {
			b.Fatalf("deep page: %v", err)
		}
		after = p.Next
	}
	deep.Limit, deep.After = 50, after
	scoped := q
	scoped.Scope = ownership.Scope{"team-3"}
	for _, c := range []struct {
		name string
		q    vulns.FindingQuery
	}{{"page1", q}, {"deep", deep}, {"open_any_sort_due", vulns.FindingQuery{Open: ptr(true), List: readkit.List{Sort: "due_at", Limit: 50}}},
		{"scoped_page1", scoped}} {
		b.Run(c.name, func(b *testing.B) {
			durs := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				start := time.Now()
				p, err := r.Findings(ctx, c.q)
				durs = append(durs, time.Since(start))
				if err != nil || len(p.Items) != 50 {
					b.Fatalf("%d items, %v", len(p.Items), err)
				}
			}
			slices.Sort(durs)
			b.ReportMetric(float64(durs[len(durs)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(durs[len(durs)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
