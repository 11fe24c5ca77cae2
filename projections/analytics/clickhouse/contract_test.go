package clickhouse

import (
	"context"
	"testing"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections/analytics/analyticstest"
)

// backend is the Projector and the Reader over one fresh database: each batch is handled as a
// consumer would hand it over (a batch may come twice).
type backend struct {
	*Reader
	p *Projector
}

func (b *backend) Apply(ctx context.Context, batch []events.Envelope) error {
	return b.p.Handle(ctx, append([]events.Envelope(nil), batch...))
}

func TestContract(t *testing.T) {
	analyticstest.Run(t, func(t *testing.T) analyticstest.Backend {
		db := openTest(t)
		return &backend{Reader: NewReader(db), p: NewProjector(db)}
	})
}

// After a rebuild from the log (soc replay --projection analytics) the answers are the
// oracle's, as they were before it.
func TestContractAfterRebuild(t *testing.T) {
	l := analyticstest.NewLog(t, analyticstest.Start)
	analyticstest.Random(l, 7, 10, 400)
	db := openTest(t)
	project(t, NewProjector(db), l.Events, 50)
	r := NewReader(db)
	analyticstest.Compare(t, r, l.Events)
	if _, err := Rebuild(context.Background(), db, sliceLog(l.Events), 64); err != nil {
		t.Fatal(err)
	}
	analyticstest.Compare(t, r, l.Events)
}
