package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/bus"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/vulns/app"
	"github.com/socplatform/soc/commands/vulns/domain"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

func slaFinding(t *testing.T, store es.Store, opened, due time.Time) string {
	t.Helper()
	ctx := context.Background()
	id := events.NewStreamID("vulns", "finding")
	if _, err := es.Save(ctx, store, id, events.NoStream, es.Meta{}, []es.Change{
		{Type: contracts.TypeFindingOpened, Data: openedData(opened)},
		{Type: contracts.TypeFindingAssigned, Data: map[string]any{"owner": "alice@example.com"}},
		{Type: contracts.TypeFindingDueDateSet, Data: map[string]any{"due_at": due, "reason": "sla policy"}},
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

// weekSLAFinding is a finding opened on 1 January 2026 and due a week later, in a fresh store.
func weekSLAFinding(t *testing.T) (store *events.Guarded, id string, due time.Time) {
	t.Helper()
	store = expiryStore(t)
	opened := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	due = opened.Add(7 * 24 * time.Hour)
	return store, slaFinding(t, store, opened, due), due
}

func breaches(t *testing.T, store es.Store, id string) []events.Envelope {
	t.Helper()
	evs, err := store.ReadStream(context.Background(), id, events.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []events.Envelope
	for _, e := range evs {
		if e.Type == contracts.TypeSLABreached {
			out = append(out, e)
		}
	}
	return out
}

func TestRecordSLABreachOnce(t *testing.T) {
	store, id, due := weekSLAFinding(t)
	ctx := context.Background()

	// Before the deadline: refused, nothing appended.
	done, err := app.RecordSLABreach(ctx, store, id, due, due.Add(-time.Minute))
	var re *domain.RuleError
	if done || !errors.As(err, &re) {
		t.Fatalf("before the deadline: %v %v", done, err)
	}
	for i := range 2 { // the saga's command redelivered
		done, err := app.RecordSLABreach(ctx, store, id, due, due.Add(time.Duration(i+1)*time.Minute))
		if err != nil || done != (i == 0) {
			t.Fatalf("call %d: %v %v", i, done, err)
		}
	}
	got := breaches(t, store, id)
	if len(got) != 1 {
		t.Fatalf("%d SLABreached events, want 1", len(got))
	}
	// The same JSON value, whatever the order of its keys: the payload is the generated struct
	// now (schema order), the events recorded before were written from a map (sorted keys).
	want := `{"breached_at":"2026-01-08T00:01:00Z","due_at":"2026-01-08T00:00:00Z","owner":"alice@example.com","severity":"high","status":"open"}`
	var gotV, wantV any
	if err := json.Unmarshal(got[0].Data, &gotV); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &wantV); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotV, wantV) {
		t.Fatalf("data %s, want %s", got[0].Data, want)
	}
	if got[0].Actor != "system:sla" {
		t.Fatalf("actor %q, want system:sla", got[0].Actor)
	}
	var f domain.Finding
	if _, err := es.Load(ctx, store, id, &f); err != nil || !f.SLABreachedFor.Equal(due) {
		t.Fatalf("finding after breach: %v %v", f.SLABreachedFor, err)
	}
}

func TestRecordSLABreachConcurrentNodes(t *testing.T) {
	store, id, due := weekSLAFinding(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := app.RecordSLABreach(ctx, store, id, due, due.Add(time.Minute)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := len(breaches(t, store, id)); n != 1 {
		t.Fatalf("%d SLABreached events, want 1", n)
	}
}

func TestRecordSLABreachNothingToDo(t *testing.T) {
	store := expiryStore(t)
	ctx := context.Background()
	opened := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	due := opened.Add(7 * 24 * time.Hour)

	resolved := slaFinding(t, store, opened, due)
	if _, err := es.Save(ctx, store, resolved, events.StreamExists, es.Meta{}, []es.Change{{Type: contracts.TypeFindingResolved,
		Data: map[string]any{"reason": "patched", "resolved_at": opened.Add(time.Hour)}}}); err != nil {
		t.Fatal(err)
	}
	moved := slaFinding(t, store, opened, due)
	if _, err := es.Save(ctx, store, moved, events.StreamExists, es.Meta{}, []es.Change{{Type: contracts.TypeFindingDueDateSet,
		Data: map[string]any{"due_at": due.Add(48 * time.Hour), "reason": "extended"}}}); err != nil {
		t.Fatal(err)
	}
	for name, id := range map[string]string{"resolved": resolved, "moved": moved} {
		done, err := app.RecordSLABreach(ctx, store, id, due, due.Add(time.Hour))
		if err != nil || done {
			t.Fatalf("%s: %v %v", name, done, err)
		}
		if n := len(breaches(t, store, id)); n != 0 {
			t.Fatalf("%s: %d SLABreached events", name, n)
		}
	}
	// An unknown finding is refused.
	if done, err := app.RecordSLABreach(ctx, store, events.NewStreamID("vulns", "finding"), due, due.Add(time.Hour)); err == nil || done {
		t.Fatalf("unknown finding: %v %v", done, err)
	}
}

func TestRecordSLABreachDueDateMovedBack(t *testing.T) {
	// due1 breached, moved to due2 and breached, moved back to due1: due1's breach is recorded
	// already (same idempotency key), so nothing is appended and RecordSLABreach says so.
	store := expiryStore(t)
	ctx := context.Background()
	opened := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	due1, due2 := opened.Add(24*time.Hour), opened.Add(48*time.Hour)
	id := slaFinding(t, store, opened, due1)
	setDue := func(at time.Time) {
		t.Helper()
		if _, err := es.Save(ctx, store, id, events.StreamExists, es.Meta{}, []es.Change{{Type: contracts.TypeFindingDueDateSet,
			Data: map[string]any{"due_at": at, "reason": "moved"}}}); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range []struct {
		due, now time.Time
		move     time.Time
		want     bool
		total    int
	}{
		{due: due1, now: due1, move: due2, want: true, total: 1},
		{due: due2, now: due2, move: due1, want: true, total: 2},
		{due: due1, now: due2.Add(time.Hour), want: false, total: 2},
	} {
		done, err := app.RecordSLABreach(ctx, store, id, c.due, c.now)
		if err != nil || done != c.want {
			t.Fatalf("step %d: %v %v, want %v", i, done, err, c.want)
		}
		if n := len(breaches(t, store, id)); n != c.total {
			t.Fatalf("step %d: %d SLABreached events, want %d", i, n, c.total)
		}
		if !c.move.IsZero() {
			setDue(c.move)
		}
	}
}

// The saga commands reach the deadline handlers through the bus, typed, and decide at the
// bus's clock.
func TestDeadlineCommandsThroughTheBus(t *testing.T) {
	store, id, due := weekSLAFinding(t)
	ctx := context.Background()
	b, err := bus.New(testsupport.CommandSchemas(t))
	if err != nil {
		t.Fatal(err)
	}
	now := due.Add(time.Hour)
	if err := app.RegisterCommands(b, store, func() time.Time { return now }); err != nil {
		t.Fatal(err)
	}
	if got, want := b.Handled(), []string{contracts.CmdExpireRiskAcceptance, contracts.CmdRecordSLABreach}; !reflect.DeepEqual(got, want) {
		t.Fatalf("registered %v, want %v", got, want)
	}
	payload, _ := json.Marshal(contracts.RecordSLABreach{FindingID: id, DueAt: due})
	for range 2 { // a redelivery records nothing new
		if err := b.Dispatch(ctx, "c-1", contracts.CmdRecordSLABreach, payload); err != nil {
			t.Fatal(err)
		}
	}
	if got := breaches(t, store, id); len(got) != 1 {
		t.Fatalf("%d SLABreached, want 1", len(got))
	}
	// The handler decides at the bus's clock: an acceptance running past it is not expired.
	until := now.Add(time.Hour)
	acceptRisk(t, store, id, until, now)
	expire, _ := json.Marshal(contracts.ExpireRiskAcceptance{FindingID: id, ExpiresAt: until})
	if err := b.Dispatch(ctx, "c-2", contracts.CmdExpireRiskAcceptance, expire); err != nil {
		t.Fatal(err)
	}
	var f domain.Finding
	if _, err := es.Load(ctx, store, id, &f); err != nil || f.Status != domain.StatusRiskAccepted {
		t.Fatalf("before expiry: %s %v", f.Status, err)
	}
	now = until.Add(time.Minute)
	if err := b.Dispatch(ctx, "c-3", contracts.CmdExpireRiskAcceptance, expire); err != nil {
		t.Fatal(err)
	}
	var after domain.Finding
	if _, err := es.Load(ctx, store, id, &after); err != nil || after.Status != domain.StatusReopened {
		t.Fatalf("after expiry: %s %v", after.Status, err)
	}
}
