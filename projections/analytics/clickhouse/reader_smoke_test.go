package clickhouse

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/socplatform/soc/projections/analytics"
)

func TestReaderSmoke(t *testing.T) {
	l := scenario(t)
	db := openTest(t)
	project(t, NewProjector(db), l.Events, 5)
	r := NewReader(db)
	ctx := context.Background()
	q := analytics.Query{From: t0.Add(-24 * time.Hour), To: t0.Add(10 * 24 * time.Hour), Unit: analytics.Day, Now: l.Now}
	show := func(name string, v any, err error) {
		b, _ := json.Marshal(v)
		t.Logf("%s: %v %s", name, err, b)
	}
	v1, err := r.OpenFindings(ctx, q)
	show("open", v1, err)
	v2, err := r.Flow(ctx, q)
	show("flow", v2, err)
	v3, err := r.MTTR(ctx, q)
	show("mttr", v3, err)
	v4, err := r.SLA(ctx, q, analytics.Options{})
	show("sla", v4, err)
	v5, err := r.Risk(ctx, q, analytics.Options{})
	show("risk", v5, err)
	v6, err := r.Exploitability(ctx, q, analytics.Options{})
	show("expl", v6, err)
	v7, err := r.Coverage(ctx, q, analytics.Options{})
	show("cov", v7, err)
	q.Scope = []string{"red"}
	v8, err := r.TopAssets(ctx, q, analytics.Options{})
	show("top red", v8, err)
}
