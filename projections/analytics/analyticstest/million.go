package analyticstest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/socplatform/soc/projections/analytics"
	"github.com/socplatform/soc/projections/ownership"
	"github.com/socplatform/soc/projections/vulns"
	"github.com/socplatform/soc/schemas/contracts"
)

// BenchEnv reads a whole number from 1 to maxN from the environment variable name (def when
// unset): the benchmarks' sizes.
func BenchEnv(b *testing.B, name string, def, maxN int) int {
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

// MillionScope is the one team BenchmarkQueries' "team" case is scoped to (2,000 of
// MillionRows' 20,000 assets).
const MillionScope = "team-3"

// MillionRows generates n facts (the benchmarks' 1,000,000) of findings over the year before
// end on 20,000 assets of 10 teams, with the findings' final rows and a scan a week per scanner:
// the shape Fold writes (opened, triaged, resolved with their durations, reopened, breached),
// generated without the log so that it takes seconds. It hands the rows to write in chunks of
// about 100,000 facts (the assets and scans with the first), so that every backend's query
// benchmark loads the same rows, in batches, straight into its tables. Deterministic.
func MillionRows(end time.Time, n int, write func(analytics.Output) error) (start time.Time, err error) {
	const (
		nAssets = 20_000
		day     = int64(24 * time.Hour / time.Millisecond)
		chunk   = 100_000
	)
	start = end.AddDate(-1, 0, 0)
	span := end.UnixMilli() - start.UnixMilli()
	rng := rand.New(rand.NewPCG(3, 4))
	scanners := []string{"trivy", "nessus", "zap", "semgrep"}
	sla := map[string]int64{"critical": 7, "high": 30, "medium": 90, "low": 180, "info": 365}
	var out analytics.Output
	flush := func(force bool) error {
		if len(out.Facts) < chunk && !force {
			return nil
		}
		err := write(out)
		out = analytics.Output{}
		return err
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
		if err := flush(false); err != nil {
			return start, err
		}
	}
	return start, flush(true)
}

// BenchQueries runs every dashboard query of r over MillionRows' model ending at end: the last
// 90 days by day, for every team ("all") and for MillionScope ("team"), as sub-benchmarks
// <query>/<all|team> reporting p50-ms and p99-ms, nearest-rank over the b.N queries (run
// with -benchtime Nx). Every backend's query benchmark runs this, so that `make bench` puts
// the same query on ClickHouse and on SQLite side by side.
func BenchQueries(b *testing.B, r analytics.Reader, end time.Time) {
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
		scope ownership.Scope
	}{{"all", nil}, {"team", ownership.Scope{MillionScope}}} {
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
