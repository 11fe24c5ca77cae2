package reporting_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/analytics"
	"github.com/socplatform/soc/projections/analytics/analyticstest"
	"github.com/socplatform/soc/projections/analytics/sqlstore"
	"github.com/socplatform/soc/projections/assets"
	"github.com/socplatform/soc/projections/sqldb"
	"github.com/socplatform/soc/projections/vulns"
	"github.com/socplatform/soc/query-api/reporting"
	"github.com/socplatform/soc/query-api/reporting/render"
	"github.com/socplatform/soc/schemas/contracts"
)

// benchModel is SOC_BENCH_REPORT_FINDINGS findings (default 100,000) on 1,000 assets of 10
// teams, opened over the 90 days before it returns, a third of them triaged and a quarter
// resolved, projected in batches of 1,000 into one SQLite read-model file by the findings
// projection, the assets projection and the analytics projection (the embedded default's read models a report is
// built from).
func benchModel(b *testing.B, n int) (*reporting.Builder, time.Time) {
	ctx := context.Background()
	db, err := sqldb.Open(ctx, sqldb.Config{SQLitePath: filepath.Join(b.TempDir(), "readmodel.db")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.SQL.Close() })
	ps := []projections.Projection{assets.NewProjection(), vulns.NewFindingsProjection(), sqlstore.New()}
	inTx := func(f func(tx *projections.Tx) error) {
		tx, err := db.Begin(ctx, 1)
		if err != nil {
			b.Fatal(err)
		}
		defer tx.Rollback()
		if err := f(tx); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	inTx(func(tx *projections.Tx) error {
		for _, p := range ps {
			if err := p.Create(ctx, tx); err != nil {
				return err
			}
			if err := projections.PointViews(ctx, tx, p); err != nil {
				return err
			}
		}
		return nil
	})
	t := time.Now()
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	l := analyticstest.NewLog(b, start)
	l.ValidateFirstOnly()
	const nAssets = 1000
	for a := 1; a <= nAssets; a++ {
		l.Register(a, analyticstest.AssetSpec{Team: fmt.Sprintf("team-%d", a%10), Environment: "production"})
	}
	sevs := []contracts.Severity{"critical", "high", "medium", "low", "info"}
	step := 90 * 24 * time.Hour / time.Duration(n)
	for f := 1; f <= n; f++ {
		l.Advance(step)
		l.Open(f, analyticstest.FindingSpec{Asset: 1 + f%nAssets, Severity: sevs[f%len(sevs)], Scan: 1, CVE: fmt.Sprintf("CVE-2025-%05d", f%5000)})
		switch f % 12 {
		case 0, 4, 8:
			l.Triage(f - 2)
		case 3, 7, 11:
			l.Resolve(f-2, 2)
		}
	}
	project := func(evs []events.Envelope) {
		inTx(func(tx *projections.Tx) error {
			for _, p := range ps {
				var mine []events.Envelope
				for _, e := range evs {
					for _, c := range p.Contexts() {
						if e.Context() == c {
							mine = append(mine, e)
						}
					}
				}
				if len(mine) > 0 {
					if _, err := p.Apply(ctx, tx, mine); err != nil {
						return fmt.Errorf("%s: %w", p.Name(), err)
					}
				}
			}
			return nil
		})
	}
	for i := 0; i < len(l.Events); i += 1000 {
		project(l.Events[i:min(i+1000, len(l.Events))])
	}
	b.Logf("%d findings (%d events) projected in %v", n, len(l.Events), time.Since(t).Round(time.Millisecond))
	return &reporting.Builder{Analytics: sqlstore.NewReader(db), Findings: vulns.NewReader(db)}, l.Now
}

// BenchmarkGenerate: the built-in executive and findings templates built by the Builder (every
// analytics query, the findings list) over benchModel's 100,000 findings and rendered to PDF,
// end to end as a report job does (issue 16's aim: the executive PDF in ≤ 10 s), beside
// "<template>/render": rendering the same Document alone, measured in the same run.
// ms/report: lower is better.
func BenchmarkGenerate(b *testing.B) {
	bl, now := benchModel(b, analyticstest.BenchEnv(b, "SOC_BENCH_REPORT_FINDINGS", 100_000, 1_000_000))
	pdf, err := render.ForFormat(render.PDF)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, tpl := range reporting.Builtin() {
		window := reporting.Window{From: now.AddDate(0, 0, -90), To: now, Unit: analytics.Week, Location: time.UTC}
		if tpl.ID == reporting.Findings {
			window = reporting.Window{From: now.AddDate(0, 0, -30), To: now, Unit: analytics.Day, Location: time.UTC}
		}
		spec := reporting.Spec{Title: tpl.Name, Sections: tpl.Sections, Window: window, RequestedBy: "bench", Now: now}
		doc, stats, err := bl.Build(ctx, spec, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("%s: %d table rows", tpl.ID, stats.Rows)
		b.Run(tpl.ID+"/build-pdf", func(b *testing.B) {
			for b.Loop() {
				doc, _, err := bl.Build(ctx, spec, nil)
				if err != nil {
					b.Fatal(err)
				}
				if err := pdf.Render(io.Discard, doc); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(1000*b.Elapsed().Seconds()/float64(b.N), "ms/report")
		})
		b.Run(tpl.ID+"/render", func(b *testing.B) {
			for b.Loop() {
				if err := pdf.Render(io.Discard, doc); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(1000*b.Elapsed().Seconds()/float64(b.N), "ms/report")
		})
	}
}
