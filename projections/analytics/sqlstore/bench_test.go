package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/socplatform/soc/projections/analytics"
	"github.com/socplatform/soc/projections/analytics/analyticstest"
	"github.com/socplatform/soc/projections/analytics/sqlstore"
	"github.com/socplatform/soc/projections/internal/testdb"
	"github.com/socplatform/soc/projections/ownership"
)

// BenchmarkQueries measures each Reader method over a seeded random model on SQLite (45,000
// events, 300 assets, 13 years; weekly buckets over the whole range, scoped to one team).
func BenchmarkQueries(b *testing.B) {
	l := analyticstest.NewLog(b, analyticstest.Start)
	l.ValidateFirstOnly()
	analyticstest.Random(l, 7, 300, 30000)
	be := open(b, testdb.SQLite(b))
	ctx := context.Background()
	for start := 0; start < len(l.Events); start += 1000 {
		if err := be.Apply(ctx, l.Events[start:min(len(l.Events), start+1000)]); err != nil {
			b.Fatal(err)
		}
	}
	q := analytics.Query{From: analyticstest.Start, To: l.Now, Unit: analytics.Week, Now: l.Now, Filter: analytics.Filter{Scope: ownership.Scope{"red"}}}
	o := analytics.Options{}
	calls := map[string]func() error{
		"open":           func() error { _, err := be.OpenFindings(ctx, q); return err },
		"flow":           func() error { _, err := be.Flow(ctx, q); return err },
		"mttr":           func() error { _, err := be.MTTR(ctx, q); return err },
		"sla":            func() error { _, err := be.SLA(ctx, q, o); return err },
		"risk":           func() error { _, err := be.Risk(ctx, q, o); return err },
		"exploitability": func() error { _, err := be.Exploitability(ctx, q, o); return err },
		"coverage":       func() error { _, err := be.Coverage(ctx, q, o); return err },
	}
	b.Logf("%d events over %s", len(l.Events), l.Now.Sub(analyticstest.Start).Round(time.Hour))
	for name, call := range calls {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := call(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMillionQueries is clickhouse's BenchmarkQueries on the embedded default: the same
// analyticstest.MillionRows (SOC_BENCH_ANALYTICS_FACTS facts, default 1,000,000) written
// straight into the SQLite tables in its chunks of about 100,000 facts, one transaction each,
// then analyticstest.BenchQueries (the same queries, period and scopes; p50-ms, p99-ms).
// Run with -benchtime Nx; the set-up's time is logged.
func BenchmarkMillionQueries(b *testing.B) {
	db := testdb.SQLite(b)
	ctx := context.Background()
	open(b, db) // creates the tables
	p := sqlstore.New()
	n := analyticstest.BenchEnv(b, "SOC_BENCH_ANALYTICS_FACTS", 1_000_000, 20_000_000)
	t := time.Now()
	end := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	_, err := analyticstest.MillionRows(end, n, func(out analytics.Output) error {
		tx, err := db.Begin(ctx, 1)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if err := p.WriteOutput(ctx, tx, out, int64(n)); err != nil {
			return err
		}
		return tx.Commit()
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("wrote the rows in %v", time.Since(t).Round(time.Millisecond))
	analyticstest.BenchQueries(b, sqlstore.NewReader(db), end)
}
