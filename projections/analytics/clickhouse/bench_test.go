package clickhouse

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections/analytics"
	"github.com/socplatform/soc/projections/analytics/analyticstest"
	"github.com/socplatform/soc/projections/vulns"
	"github.com/socplatform/soc/schemas/contracts"
)

// benchEnv reads a positive integer from the environment (def when unset).
func benchEnv(b *testing.B, name string, def, maxN int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > maxN {
		b.Fatalf("%s=%q: want a whole number from 1 to %d", name, s, maxN)
	}
	return n
}

// benchLog is n finding events over 1,000 assets: openings, sightings, triages, resolutions,
// reopenings and SLA breaches, in the order a log holds them.
func benchLog(b *testing.B, n int) []events.Envelope {
	l := analyticstest.NewLog(b, t0)
	l.ValidateFirstOnly()
	rng := rand.New(rand.NewPCG(1, 2))
	const nAssets = 1000
	for a := 1; a <= nAssets; a++ {
		l.Register(a, analyticstest.AssetSpec{Team: fmt.Sprintf("team-%d", a%10), Environment: "production"})
	}
	sevs := []contracts.Severity{"critical", "high", "medium", "low", "info"}
	var opened []int
	state := map[int]string{}
	for f := 1; len(l.Events) < n+nAssets; {
		l.Advance(time.Duration(rng.IntN(60)) * time.Second)
		switch k := rng.IntN(10); {
		case k < 4 || len(opened) == 0:
			l.Open(f, analyticstest.FindingSpec{Asset: 1 + rng.IntN(nAssets), Severity: sevs[rng.IntN(len(sevs))], Scan: 1})
			opened, state[f] = append(opened, f), "open"
			f++
		default:
			g := opened[rng.IntN(len(opened))]
			switch {
			case state[g] == "resolved":
				l.Reopen(g, 2)
				state[g] = "open"
			case k < 6:
				l.Seen(g, 2, "", "")
			case k < 7 && state[g] == "open":
				l.Triage(g)
				state[g] = "triaged"
			case k < 8:
				l.Breach(g, l.Now.Add(-time.Hour), "high", state[g])
			default:
				l.Resolve(g, 3)
				state[g] = "resolved"
			}
		}
	}
	return l.Events
}

// written counts the rows an Output writes (the position row included).
func written(o *analytics.Output) int {
	return len(o.Facts) + len(o.Findings) + len(o.Assets) + len(o.Scans) + len(o.Scanned) + 1
}

// BenchmarkProjection: the Projector (dimension loads, Fold, batch INSERTs, position) over
// SOC_BENCH_ANALYTICS_EVENTS synthetic events (default 100,000) in batches of 500 (the store
// consumer's), beside "raw": the same rows, folded beforehand, sent by clickhouse-go batch
// INSERTs in the same batches and nothing else. Each iteration starts from an empty database.
// Issue 16's aim: projector ≥ 50% of raw rows/s.
func BenchmarkProjection(b *testing.B) {
	evs := benchLog(b, benchEnv(b, "SOC_BENCH_ANALYTICS_EVENTS", 100_000, 5_000_000))
	const batch = 500
	var outs []analytics.Output
	rows := 0
	st := &analytics.State{}
	for i := 0; i < len(evs); i += batch {
		o, err := analytics.Fold(st, evs[i:min(i+batch, len(evs))])
		if err != nil {
			b.Fatal(err)
		}
		outs = append(outs, o)
		rows += written(&o)
	}
	ctx := context.Background()
	b.Run("projector", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			db := openTest(b)
			p := NewProjector(db)
			b.StartTimer()
			for j := 0; j < len(evs); j += batch {
				if err := p.Handle(ctx, slices.Clone(evs[j:min(j+batch, len(evs))])); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.N*rows)/b.Elapsed().Seconds(), "rows/s")
		b.ReportMetric(float64(b.N*len(evs))/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("raw", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			db := openTest(b)
			b.StartTimer()
			for j := range outs {
				if err := db.write(ctx, 1, outs[j], evs[min((j+1)*batch, len(evs))-1].GlobalPosition); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.N*rows)/b.Elapsed().Seconds(), "rows/s")
		b.ReportMetric(float64(b.N*len(evs))/b.Elapsed().Seconds(), "events/s")
	})
}

// millionRows writes n facts (default 1,000,000: SOC_BENCH_ANALYTICS_FACTS) of findings over a
// year on 20,000 assets of 10 teams straight into generation 1, with the findings' final rows
// and a scan a week per scanner: the shape Fold writes (opened, triaged, resolved with their
// durations, reopened, breached), generated without the log so that it takes seconds.
func millionRows(b *testing.B, db *DB, n int) (start, end time.Time) {
	const (
		nAssets = 20_000
		day     = int64(24 * time.Hour / time.Millisecond)
		chunk   = 100_000
	)
	start = t0.AddDate(-1, 0, 0)
	end = t0
	span := end.UnixMilli() - start.UnixMilli()
	rng := rand.New(rand.NewPCG(3, 4))
	scanners := []string{"trivy", "nessus", "zap", "semgrep"}
	sla := map[string]int64{"critical": 7, "high": 30, "medium": 90, "low": 180, "info": 365}
	var out analytics.Output
	ctx := context.Background()
	flush := func(force bool) {
		if len(out.Facts) >= chunk || force {
			if err := db.write(ctx, 1, out, int64(n)); err != nil {
				b.Fatal(err)
			}
			out = analytics.Output{}
		}
	}
	for a := 0; a < nAssets; a++ {
		out.Assets = append(out.Assets, analytics.AssetDim{AssetID: fmt.Sprintf("asset-%05d", a), Name: fmt.Sprintf("host-%d", a),
			Kind: "host", Team: fmt.Sprintf("team-%d", a%10), Environment: []string{"production", "staging"}[a%2], Criticality: "high", Version: 1})
		for _, s := range scanners {
			out.Scanned = append(out.Scanned, analytics.Scanned{AssetID: out.Assets[a].AssetID, Scanner: s, At: end.UnixMilli() - rng.Int64N(200*day)})
		}
	}
	for w := int64(0); w < span/(7*day); w++ {
		for i, s := range scanners {
			out.Scans = append(out.Scans, analytics.ScanFact{EventID: fmt.Sprintf("scan-%d-%d", w, i), At: start.UnixMilli() + w*7*day, ScanID: fmt.Sprintf("%d-%d", w, i), Scanner: s, Failed: w%13 == 0})
		}
	}
	facts := 0
	for f := 0; facts < n; f++ {
		sev := analytics.Severities[rng.IntN(len(analytics.Severities))]
		d := analytics.FindingDim{FindingID: fmt.Sprintf("finding-%07d", f), AssetID: fmt.Sprintf("asset-%05d", rng.IntN(nAssets)), Severity: sev,
			Scanner: scanners[rng.IntN(len(scanners))], KEV: rng.IntN(20) == 0, HasEPSS: rng.IntN(10) < 7, Status: "open"}
		if d.HasEPSS {
			d.EPSS = rng.Float64()
		}
		at := start.UnixMilli() + rng.Int64N(span)
		d.OpenedAt, d.FirstSeen, d.DueAt, d.Version = at, at, at+sla[sev]*day, 1
		risk := int64(vulns.SeverityPoints[sev] * 1000)
		fact := func(typ, before, after string, delta int8, riskDelta, duration int64) {
			facts++
			out.Facts = append(out.Facts, analytics.Fact{EventID: fmt.Sprintf("e-%d-%d", f, d.Version), FindingID: d.FindingID, AssetID: d.AssetID,
				At: at, Type: typ, Severity: sev, StatusBefore: before, StatusAfter: after, OpenDelta: delta, RiskDelta: riskDelta,
				Scanner: d.Scanner, KEV: d.KEV, EPSS: d.EPSS, HasEPSS: d.HasEPSS, DueAt: d.DueAt, Duration: duration})
			d.Version++
		}
		fact(contracts.TypeFindingOpened, "", "open", 1, risk, 0)
		if rng.IntN(2) == 0 {
			at += rng.Int64N(5 * day)
			d.TriagedAt = at
			fact(contracts.TypeFindingTriaged, "open", "triaged", 0, 0, at-d.FirstSeen)
			d.Status = "triaged"
		}
		if rng.IntN(10) < 6 {
			at += rng.Int64N(60 * day)
			fact(contracts.TypeFindingResolved, d.Status, "resolved", -1, -risk, at-d.OpenedAt)
			d.Status = "resolved"
			if rng.IntN(10) == 0 {
				at += rng.Int64N(30 * day)
				d.OpenedAt = at
				fact(contracts.TypeFindingReopened, "resolved", "reopened", 1, risk, 0)
				d.Status = "reopened"
			}
		}
		if vulns.IsOpen(d.Status) && d.DueAt < end.UnixMilli() {
			at = max(at, d.DueAt)
			fact(contracts.TypeSLABreached, d.Status, d.Status, 0, 0, 0)
		}
		if vulns.IsOpen(d.Status) {
			d.Risk = risk
		}
		d.Version--
		out.Findings = append(out.Findings, d)
		flush(false)
	}
	flush(true)
	return start, end
}

// BenchmarkQueries: every dashboard query's latency over 1,000,000 finding events on
// ClickHouse (issue 16's aim: p99 ≤ 200 ms): the last 90 days by day, for every team and for
// one team (a principal's scope: 2,000 assets). Run with -benchtime Nx (N queries each);
// p50-ms and p99-ms are nearest-rank over the N.
func BenchmarkQueries(b *testing.B) {
	db := openTest(b)
	t := time.Now()
	_, end := millionRows(b, db, benchEnv(b, "SOC_BENCH_ANALYTICS_FACTS", 1_000_000, 20_000_000))
	b.Logf("wrote the rows in %v", time.Since(t).Round(time.Millisecond))
	r := NewReader(db)
	q := analytics.Query{From: end.AddDate(0, 0, -90), To: end, Unit: analytics.Day, Now: end}
	var o analytics.Options
	queries := []struct {
		name string
		run  func(ctx context.Context, q analytics.Query) error
	}{
		{"open-findings", func(ctx context.Context, q analytics.Query) error { _, err := r.OpenFindings(ctx, q); return err }},
		{"flow", func(ctx context.Context, q analytics.Query) error { _, err := r.Flow(ctx, q); return err }},
		{"mttr", func(ctx context.Context, q analytics.Query) error { _, err := r.MTTR(ctx, q); return err }},
		{"sla", func(ctx context.Context, q analytics.Query) error { _, err := r.SLA(ctx, q, o); return err }},
		{"risk", func(ctx context.Context, q analytics.Query) error { _, err := r.Risk(ctx, q, o); return err }},
		{"top-assets", func(ctx context.Context, q analytics.Query) error { _, err := r.TopAssets(ctx, q, o); return err }},
		{"exploitability", func(ctx context.Context, q analytics.Query) error { _, err := r.Exploitability(ctx, q, o); return err }},
		{"coverage", func(ctx context.Context, q analytics.Query) error { _, err := r.Coverage(ctx, q, o); return err }},
	}
	for _, scope := range []struct {
		name  string
		scope []string
	}{{"all", nil}, {"team", []string{"team-3"}}} {
		q := q
		q.Scope = scope.scope
		for _, qq := range queries {
			b.Run(qq.name+"/"+scope.name, func(b *testing.B) {
				lat := make([]time.Duration, 0, b.N)
				for i := 0; i < b.N; i++ {
					t := time.Now()
					if err := qq.run(context.Background(), q); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t))
				}
				slices.Sort(lat)
				rank := func(p int) time.Duration { return lat[(len(lat)*p+99)/100-1] }
				b.ReportMetric(float64(rank(50).Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(rank(99).Microseconds())/1000, "p99-ms")
			})
		}
	}
}
