package clickhouse

import (
	"context"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections/analytics"
	"github.com/socplatform/soc/projections/analytics/analyticstest"
	"github.com/socplatform/soc/schemas/contracts"
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

// The Reader keeps the asset rows between queries: an asset event applied since is seen by the
// next query (here a reclassification that moves the asset into the filtered team).
func TestReaderSeesAssetChanges(t *testing.T) {
	l := analyticstest.NewLog(t, analyticstest.Start)
	l.Register(1, analyticstest.AssetSpec{Team: "blue"})
	l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "high"})
	db := openTest(t)
	p := NewProjector(db)
	project(t, p, l.Events, 10)
	r := NewReader(db)
	q := analytics.Query{From: analyticstest.Start, To: analyticstest.Start.Add(24 * time.Hour), Unit: analytics.Day, Now: l.Now}
	q.Teams = []string{"red"}
	ctx := context.Background()
	if top, err := r.TopAssets(ctx, q, analytics.Options{}); err != nil || len(top) != 0 {
		t.Fatalf("red's top assets before the reclassification = %+v, %v; want none", top, err)
	}
	l.Classify(1, contracts.AssetClassified{OwnerTeam: ptr("red")})
	project(t, p, l.Events[len(l.Events)-1:], 1)
	top, err := r.TopAssets(ctx, q, analytics.Options{})
	if err != nil || len(top) != 1 || top[0].AssetID != analyticstest.AssetID(1) || top[0].Team != "red" {
		t.Fatalf("red's top assets after the reclassification = %+v, %v; want asset 1", top, err)
	}
}
