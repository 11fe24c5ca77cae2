package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/socplatform/soc/projections/analytics"
	"github.com/socplatform/soc/projections/analytics/analyticstest"
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
