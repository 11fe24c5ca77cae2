package clickhouse

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections/analytics"
	"github.com/socplatform/soc/projections/analytics/analyticstest"
	"github.com/socplatform/soc/schemas/contracts"
)

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
	evs := benchLog(b, analyticstest.BenchEnv(b, "SOC_BENCH_ANALYTICS_EVENTS", 100_000, 5_000_000))
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

// millionRows writes analyticstest.MillionRows' n facts straight into generation 1, in its
// chunks, each with the position n.
func millionRows(b *testing.B, db *DB, n int) (start, end time.Time) {
	start, err := analyticstest.MillionRows(t0, n, func(out analytics.Output) error {
		return db.write(context.Background(), 1, out, int64(n))
	})
	if err != nil {
		b.Fatal(err)
	}
	return start, t0
}

// BenchmarkQueries: every dashboard query's latency over 1,000,000 finding events on
// ClickHouse (issue 16's aim: p99 ≤ 200 ms): analyticstest.BenchQueries over
// analyticstest.MillionRows (SOC_BENCH_ANALYTICS_FACTS facts). Run with -benchtime Nx (N
// queries each). sqlstore's BenchmarkMillionQueries is the same on SQLite.
func BenchmarkQueries(b *testing.B) {
	db := openTest(b)
	t := time.Now()
	_, end := millionRows(b, db, analyticstest.BenchEnv(b, "SOC_BENCH_ANALYTICS_FACTS", 1_000_000, 20_000_000))
	b.Logf("wrote the rows in %v", time.Since(t).Round(time.Millisecond))
	analyticstest.BenchQueries(b, NewReader(db), end)
}
