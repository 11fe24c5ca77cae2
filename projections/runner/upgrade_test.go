package runner

import (
	"context"
	"slices"
	"testing"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/readkit"
)

// upgradingProj is countProj after a release that added counts.note: Upgrade adds it to a
// generation created before.
type upgradingProj struct {
	*countProj
	upgraded []int64 // the generations Upgrade ran on
}

func (p *upgradingProj) Upgrade(ctx context.Context, tx *projections.Tx) error {
	p.upgraded = append(p.upgraded, tx.Generation)
	return readkit.AddColumns(ctx, tx, "counts", readkit.Column{"note", readkit.TText})
}

// TestStartUpgradesTheLiveGeneration: a projection whose tables gained a column gets it on its
// live generation at start, every start (idempotently), and its view shows it.
func TestStartUpgradesTheLiveGeneration(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		s := events.NewStreamID("suite", "thing")
		pos := e.appendThings(s, "a", 2)
		old := newCountProj()
		r := e.newRunner(old, nil, nil)
		stop := e.start(r)
		e.waitFor(r, pos)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		p := &upgradingProj{countProj: newCountProj()}
		for range 2 {
			r := e.newRunner(p, nil, nil)
			stop := e.start(r)
			e.waitFor(r, pos)
			if err := stop(); err != nil {
				t.Fatal(err)
			}
		}
		// Init and Run each make sure the projection exists: Upgrade runs at least once a start.
		if len(p.upgraded) < 2 || slices.ContainsFunc(p.upgraded, func(g int64) bool { return g != 1 }) {
			t.Fatalf("Upgrade ran on generations %v, want generation 1 at each start", p.upgraded)
		}
		var n int64
		var note string
		if err := e.db.SQL.QueryRowContext(e.ctx, "SELECT n, note FROM counts").Scan(&n, &note); err != nil {
			t.Fatalf("the view does not show the added column: %v", err)
		}
		if n != 2 || note != "" {
			t.Fatalf("n %d note %q", n, note)
		}
	})
}
