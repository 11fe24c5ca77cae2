package app

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/socplatform/soc/schemas/access"
)

// The notifications a saga's command requests carry that saga as their actor (the node's
// dispatcher puts its principal on the context); without one the planner acts as itself.
func TestPlannerActsAsTheSendingSaga(t *testing.T) {
	e, s, due := newDueScenario(t)
	e.clock.Set(due.Add(-72 * time.Hour))
	payload, _ := json.Marshal(map[string]any{"finding_id": s.crit, "due_at": due})
	ctx := access.With(context.Background(), access.System("finding_deadlines"))
	if err := e.bus.Dispatch(ctx, "r-1", CmdSLAReminder, payload); err != nil {
		t.Fatal(err)
	}
	evs, err := e.store.ReadAll(context.Background(), e.seen, 500)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Type != req {
			continue
		}
		n++
		if ev.Actor != "system:finding_deadlines" {
			t.Errorf("%s requested by %q", ev.StreamID, ev.Actor)
		}
	}
	if n == 0 {
		t.Fatal("the reminder requested nothing")
	}
}
