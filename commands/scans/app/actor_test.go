package app_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/domain"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/access"
)

// An idempotency key names one request of one actor: the same key of another actor is a new
// request, which neither replays nor learns what the first one created.
func TestIdempotencyKeysAreScopedToTheActor(t *testing.T) {
	e := newOrchEnv(t)
	alice := es.Meta{Actor: "user:alice", IdempotencyKey: "k1"}
	first, err := e.orch.CreateDefinition(e.ctx, nmapSpec(1, 0), alice)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.orch.CreateDefinition(e.ctx, nmapSpec(1, 0), alice)
	if err != nil || again.ID != first.ID || !again.Replayed {
		t.Fatalf("the same actor's retry: %+v %v, want a replay of %s", again, err, first.ID)
	}
	bob, err := e.orch.CreateDefinition(e.ctx, nmapSpec(1, 0), es.Meta{Actor: "user:bob", IdempotencyKey: "k1"})
	if err != nil || bob.ID == first.ID || bob.Replayed {
		t.Fatalf("another actor, the same key: %+v %v", bob, err)
	}
	r1, err := e.orch.RequestRun(e.ctx, first.ID, alice)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := e.orch.RequestRun(e.ctx, first.ID, es.Meta{Actor: "user:bob", IdempotencyKey: "k1"})
	if err != nil || r2.ID == r1.ID {
		t.Fatalf("runs of two actors with one key: %s %s %v", r1.ID, r2.ID, err)
	}
}

// A command a saga sends acts as that saga (the node's dispatcher puts it on the context).
func TestSagaCommandActsAsTheSaga(t *testing.T) {
	e := newOrchEnv(t)
	run := e.manualRun(e.define(nmapSpec(1, 0)))
	b, _ := json.Marshal(map[string]any{"run_id": run, "reason": "the saga gave up"})
	if err := e.bus.Dispatch(access.With(e.ctx, access.System("scan_run")), "a1", app.CmdAbortRun, b); err != nil {
		t.Fatal(err)
	}
	evs, err := e.store.ReadStream(context.Background(), domain.RunStreamID(run), events.ReadStreamOptions{})
	if err != nil || len(evs) != 2 || evs[1].Actor != "system:scan_run" {
		t.Fatalf("the aborted run: %+v %v", evs, err)
	}
}
