package sagas_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/sagas"
	"github.com/socplatform/soc/sagas/sagastest"
	"github.com/socplatform/soc/schemas/contracts"
)

// findingAlert is the toy saga: a critical finding notifies its owner and gets a reminder 24h
// later; resolving it cancels the reminder and completes the instance. A dead notification is
// compensated by paging the on-call person.
type findingAlert struct{}

type alertState struct {
	Title    string `json:"title"`
	Reminded bool   `json:"reminded,omitempty"`
	Paged    bool   `json:"paged,omitempty"`
}

func (findingAlert) Name() string       { return "finding_alert" }
func (findingAlert) Contexts() []string { return []string{"vulns"} }
func (findingAlert) Correlate(e *events.Envelope) (string, bool) {
	if events.StreamTypeOf(e.StreamID) != "vulns-finding" {
		return "", false
	}
	return e.StreamID, true
}

func (findingAlert) Handle(_ context.Context, raw json.RawMessage, e events.Envelope, now time.Time) (sagas.Decision, error) {
	var st *alertState
	if raw != nil {
		if err := json.Unmarshal(raw, &st); err != nil {
			return sagas.Decision{}, err
		}
	}
	switch e.Type {
	case "FindingOpened":
		var d struct{ Severity, Title string }
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return sagas.Decision{}, err
		}
		if st != nil || d.Severity != "critical" {
			return sagas.Decision{}, nil
		}
		state, _ := json.Marshal(alertState{Title: d.Title})
		return sagas.Decision{
			State:    state,
			Commands: []sagas.CommandRequest{{Type: "NotifyOwner", Payload: map[string]string{"finding_id": e.StreamID, "title": d.Title}}},
			Schedule: []sagas.TimerRequest{{Name: "reminder", DueAt: now.Add(24 * time.Hour), Payload: map[string]string{"finding_id": e.StreamID}}},
		}, nil
	case "FindingResolved":
		if st == nil {
			return sagas.Decision{}, nil
		}
		return sagas.Decision{Cancel: []string{"reminder"}, Done: true}, nil
	case contracts.TypeSagaTimerFired:
		t, ok := sagas.TimerOf(&e)
		if !ok || st == nil {
			return sagas.Decision{}, fmt.Errorf("unexpected timer envelope %s", e.Data)
		}
		st.Reminded = true
		state, _ := json.Marshal(st)
		return sagas.Decision{State: state, Commands: []sagas.CommandRequest{{Type: "SendReminder", Payload: t.Payload}}}, nil
	}
	return sagas.Decision{}, nil
}

func (findingAlert) Compensate(_ context.Context, raw json.RawMessage, f sagas.FailedCommand, _ time.Time) (sagas.Decision, error) {
	var st alertState
	if err := json.Unmarshal(raw, &st); err != nil {
		return sagas.Decision{}, err
	}
	st.Paged = true
	state, _ := json.Marshal(st)
	return sagas.Decision{State: state, Commands: []sagas.CommandRequest{{Type: "PageOnCall",
		Payload: map[string]any{"failed_command": f.Command.ID, "error": f.Error, "attempts": f.Attempts}}}}, nil
}

// recBus records what it is sent; fail decides whether a call fails.
type recBus struct {
	mu   sync.Mutex
	got  []sagas.Command
	fail func(sagas.Command) error
	sent chan sagas.Command // optional: every accepted command is also sent here
}

func (b *recBus) Dispatch(_ context.Context, c sagas.Command) error {
	b.mu.Lock()
	b.got = append(b.got, c)
	fail := b.fail
	b.mu.Unlock()
	if fail != nil {
		if err := fail(c); err != nil {
			return err
		}
	}
	if b.sent != nil {
		b.sent <- c
	}
	return nil
}

func (b *recBus) calls(typ string) []sagas.Command {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []sagas.Command
	for _, c := range b.got {
		if c.Type == typ {
			out = append(out, c)
		}
	}
	return out
}

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

type env struct {
	*sagastest.Process
	t   *testing.T
	bus *recBus
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return &env{Process: sagastest.Start(t, t0, findingAlert{}), t: t, bus: &recBus{}}
}

func (e *env) dispatcher(maxAttempts int) *sagas.Dispatcher {
	e.t.Helper()
	d, err := sagas.NewDispatcher(sagas.DispatcherConfig{Runtime: e.RT, Bus: e.bus, MaxAttempts: maxAttempts,
		MinBackoff: time.Second, MaxBackoff: 4 * time.Second})
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

func (e *env) finding(severity string) string {
	e.t.Helper()
	stream := events.NewStreamID("vulns", "finding")
	asset := events.NewStreamID("assets", "asset")
	data, _ := json.Marshal(map[string]any{
		"asset_id": asset, "scope": asset + "|nmap", "identity_key": asset + "|nmap|fp-" + stream,
		"fingerprint": "fp-" + stream, "scan_id": "scan-1", "format": "nmap", "title": "OpenSSH " + severity,
		"severity": severity, "seen_at": t0.Format(time.RFC3339),
	})
	if _, err := e.Store.Append(e.Ctx, stream, events.NoStream, []events.Envelope{{Type: "FindingOpened", Data: data}}); err != nil {
		e.t.Fatal(err)
	}
	return stream
}

func (e *env) resolve(stream string) {
	e.t.Helper()
	data, _ := json.Marshal(map[string]any{"reason": "patched", "resolved_at": e.Clock.Now().Format(time.RFC3339)})
	if _, err := e.Store.Append(e.Ctx, stream, events.StreamExists, []events.Envelope{{Type: "FindingResolved", Data: data}}); err != nil {
		e.t.Fatal(err)
	}
}

// syncedTimers returns a new timer service over the runtime that has indexed the store.
func (e *env) syncedTimers() *sagas.TimerService {
	e.t.Helper()
	ts := sagas.NewTimerService(e.RT, 0)
	mustN(e.t, "sync", 0, ts.Sync(e.Ctx), 0)
	return ts
}

func (e *env) drain() {
	e.t.Helper()
	if _, err := e.RT.Drain(e.Ctx); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) show(key string) *sagas.Instance {
	e.t.Helper()
	in, err := sagas.Show(e.Ctx, e.Store, "finding_alert", key)
	if err != nil {
		e.t.Fatal(err)
	}
	return in
}

func countType(in *sagas.Instance, typ string) int {
	n := 0
	for _, h := range in.History {
		if h.Type == typ {
			n++
		}
	}
	return n
}

// firstAttempt opens a critical finding, lets the saga issue its command and makes the first
// attempt to dispatch it, with a dispatcher of maxAttempts; it returns the dispatcher and the
// finding.
func (e *env) firstAttempt(maxAttempts int) (*sagas.Dispatcher, string) {
	e.t.Helper()
	f := e.finding("critical")
	e.drain()
	d := e.dispatcher(maxAttempts)
	mustN(e.t, "sync", 0, d.Sync(e.Ctx), 0)
	n, err := d.DispatchDue(e.Ctx)
	mustN(e.t, "attempt 1", n, err, 1)
	return d, f
}

func mustN(t *testing.T, what string, n int, err error, want int) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if n != want {
		t.Fatalf("%s: %d, want %d", what, n, want)
	}
}

func TestRedeliveredTriggerIssuesCommandOnce(t *testing.T) {
	e := newEnv(t)
	f := e.finding("critical")
	e.drain()
	opened, err := e.Store.ReadStream(e.Ctx, f, events.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Redelivery: the same event again, directly and from a lost checkpoint.
	if err := e.RT.HandleBatch(e.Ctx, opened); err != nil {
		t.Fatal(err)
	}
	if err := e.Raw.SaveCheckpoint(e.Ctx, e.RT.CheckpointName(), 0); err != nil {
		t.Fatal(err)
	}
	e.drain()
	// Two workers racing on the same trigger (a rebalance): still one command.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.RT.HandleEvent(e.Ctx, opened[0]); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()

	in := e.show(f)
	if got := countType(in, contracts.TypeSagaCommandIssued); got != 1 {
		t.Fatalf("SagaCommandIssued %d times, want 1", got)
	}
	if got := countType(in, contracts.TypeSagaEventHandled); got != 1 {
		t.Fatalf("SagaEventHandled %d times, want 1", got)
	}
	// The saga's own events carry it as a system actor, like the events of its commands.
	instance, err := e.Store.ReadStream(e.Ctx, sagas.StreamID("finding_alert", f), events.ReadStreamOptions{})
	if err != nil || len(instance) == 0 || instance[0].Actor != "system:finding_alert" {
		t.Fatalf("the instance's events: %+v %v", instance, err)
	}
	wantID := sagas.CommandID("finding_alert", f, opened[0].EventID, 0)
	if in.Commands[0].Command.ID != wantID {
		t.Fatalf("command id %s, want the deterministic %s", in.Commands[0].Command.ID, wantID)
	}

	d := e.dispatcher(3)
	mustN(t, "sync", 0, d.Sync(e.Ctx), 0)
	n, err := d.DispatchDue(e.Ctx)
	mustN(t, "dispatched", n, err, 1)
	// A restarted dispatcher sends nothing again.
	e.Restart()
	d2 := e.dispatcher(3)
	mustN(t, "sync", 0, d2.Sync(e.Ctx), 0)
	if d2.Pending() != 0 {
		t.Fatalf("restarted dispatcher has %d pending commands, want 0", d2.Pending())
	}
	n, err = d2.DispatchDue(e.Ctx)
	mustN(t, "dispatched after restart", n, err, 0)

	got := e.bus.calls("NotifyOwner")
	if len(got) != 1 {
		t.Fatalf("bus got %d NotifyOwner, want 1", len(got))
	}
	c := got[0]
	if c.ID != wantID || c.Saga != "finding_alert" || c.Instance != sagas.StreamID("finding_alert", f) || c.CausationID != opened[0].EventID {
		t.Fatalf("bus got %+v", c)
	}
	var p map[string]string
	if err := json.Unmarshal(c.Payload, &p); err != nil || p["finding_id"] != f {
		t.Fatalf("payload %s (%v)", c.Payload, err)
	}
	if st := e.show(f).Commands[0]; st.Status != sagas.StatusDispatched || st.Attempts != 1 {
		t.Fatalf("command record %+v", st)
	}
}

func TestDeterministicIDsAcrossStores(t *testing.T) {
	// The same trigger handled on two independent stores issues the same command id and
	// appends the same event ids: ids depend on the saga, the key and the trigger only.
	var ids [2][]string
	var cmd [2]string
	opened := events.Envelope{}
	for i := range 2 {
		e := newEnv(t)
		if i == 0 {
			f := e.finding("critical")
			evs, _ := e.Store.ReadStream(e.Ctx, f, events.ReadStreamOptions{})
			opened = evs[0]
		} else {
			if _, err := e.Store.Append(e.Ctx, opened.StreamID, events.NoStream, []events.Envelope{{EventID: opened.EventID, Type: opened.Type, Data: opened.Data}}); err != nil {
				t.Fatal(err)
			}
		}
		e.drain()
		in := e.show(opened.StreamID)
		for _, h := range in.History {
			ids[i] = append(ids[i], h.EventID)
		}
		cmd[i] = in.Commands[0].Command.ID
	}
	if !slices.Equal(ids[0], ids[1]) || cmd[0] != cmd[1] {
		t.Fatalf("ids differ: %v / %v, commands %s / %s", ids[0], ids[1], cmd[0], cmd[1])
	}
}

func TestDispatchRetriedThenDeadAndCompensated(t *testing.T) {
	e := newEnv(t)
	e.bus.fail = func(c sagas.Command) error {
		if c.Type == "NotifyOwner" {
			return errors.New("smtp: 421 service not available")
		}
		return nil
	}
	d, f := e.firstAttempt(3)
	next, ok := d.Next()
	if !ok || !next.Equal(t0.Add(time.Second)) {
		t.Fatalf("next attempt at %v (%v), want %v", next, ok, t0.Add(time.Second))
	}
	n, err := d.DispatchDue(e.Ctx) // not due yet
	mustN(t, "before backoff", n, err, 0)
	rec := e.show(f).Commands[0]
	if rec.Status != sagas.StatusRetrying || rec.Attempts != 1 || rec.LastError != "smtp: 421 service not available" {
		t.Fatalf("after attempt 1: %+v", rec)
	}

	// A restart in the middle keeps the attempt count and the next attempt time.
	e.Restart()
	d = e.dispatcher(3)
	mustN(t, "sync", 0, d.Sync(e.Ctx), 0)
	if next, _ := d.Next(); !next.Equal(t0.Add(time.Second)) {
		t.Fatalf("restarted: next attempt at %v", next)
	}
	e.Clock.Advance(time.Second)
	n, err = d.DispatchDue(e.Ctx)
	mustN(t, "attempt 2", n, err, 1)
	if next, _ := d.Next(); !next.Equal(t0.Add(3 * time.Second)) { // backoff doubled
		t.Fatalf("next attempt at %v, want %v", next, t0.Add(3*time.Second))
	}
	e.Clock.Advance(2 * time.Second)
	n, err = d.DispatchDue(e.Ctx)
	mustN(t, "attempt 3", n, err, 1)

	in := e.show(f)
	rec = in.Commands[0]
	if rec.Status != sagas.StatusDead || rec.Attempts != 3 || rec.LastError != "smtp: 421 service not available" {
		t.Fatalf("after attempt 3: %+v", rec)
	}
	if got := e.bus.calls("NotifyOwner"); len(got) != 3 || got[0].ID != got[1].ID || got[1].ID != got[2].ID {
		t.Fatalf("bus got %d NotifyOwner calls (%v), want 3 with one id", len(got), got)
	}
	// Compensation ran in the same batch as the final failure and issued PageOnCall.
	var st alertState
	if err := json.Unmarshal(in.State, &st); err != nil || !st.Paged {
		t.Fatalf("state %s after compensation", in.State)
	}
	if len(in.Commands) != 2 || in.Commands[1].Command.Type != "PageOnCall" {
		t.Fatalf("commands %+v", in.Commands)
	}
	mustN(t, "sync", 0, d.Sync(e.Ctx), 0)
	n, err = d.DispatchDue(e.Ctx)
	mustN(t, "page on call", n, err, 1)
	page := e.bus.calls("PageOnCall")
	if len(page) != 1 {
		t.Fatalf("PageOnCall sent %d times", len(page))
	}
	var pp map[string]any
	_ = json.Unmarshal(page[0].Payload, &pp)
	if pp["error"] != "smtp: 421 service not available" || pp["failed_command"] != rec.Command.ID {
		t.Fatalf("PageOnCall payload %s", page[0].Payload)
	}
	// Nothing is retried any more, however late it gets.
	e.Clock.Advance(time.Hour)
	mustN(t, "sync", 0, d.Sync(e.Ctx), 0)
	n, err = d.DispatchDue(e.Ctx)
	mustN(t, "after dead", n, err, 0)
	if got := len(e.bus.calls("NotifyOwner")); got != 3 {
		t.Fatalf("NotifyOwner sent %d times after dead, want 3", got)
	}
}

// permanentErr is a failure no retry can cure (the command bus's invalid payload).
type permanentErr struct{ msg string }

func (e *permanentErr) Error() string   { return e.msg }
func (e *permanentErr) Permanent() bool { return true }

// A permanent failure is final at its first attempt: no retry, and the saga compensates.
func TestDispatchPermanentFailureIsFinalAtOnce(t *testing.T) {
	e := newEnv(t)
	e.bus.fail = func(c sagas.Command) error {
		if c.Type == "NotifyOwner" {
			return fmt.Errorf("wrapped: %w", &permanentErr{msg: "NotifyOwner: invalid payload: /finding: required"})
		}
		return nil
	}
	d, f := e.firstAttempt(8)
	in := e.show(f)
	if rec := in.Commands[0]; rec.Status != sagas.StatusDead || rec.Attempts != 1 {
		t.Fatalf("after a permanent failure: %+v", rec)
	}
	if len(in.Commands) != 2 || in.Commands[1].Command.Type != "PageOnCall" {
		t.Fatalf("not compensated: commands %+v", in.Commands)
	}
	e.Clock.Advance(time.Hour)
	mustN(t, "sync", 0, d.Sync(e.Ctx), 0)
	if _, err := d.DispatchDue(e.Ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(e.bus.calls("NotifyOwner")); got != 1 {
		t.Fatalf("NotifyOwner sent %d times, want 1 (no retry)", got)
	}
}

func TestDispatchSucceedsAfterTransientFailure(t *testing.T) {
	e := newEnv(t)
	failures := 1
	e.bus.fail = func(sagas.Command) error {
		if failures > 0 {
			failures--
			return errors.New("bus: 503")
		}
		return nil
	}
	d, f := e.firstAttempt(5)
	e.Clock.Advance(time.Second)
	n, err := d.DispatchDue(e.Ctx)
	mustN(t, "attempt 2", n, err, 1)
	rec := e.show(f).Commands[0]
	if rec.Status != sagas.StatusDispatched || rec.Attempts != 2 || rec.LastError != "bus: 503" {
		t.Fatalf("%+v", rec)
	}
	if d.Pending() != 0 {
		t.Fatalf("%d pending", d.Pending())
	}
}

func TestTimerFiresOnceAcrossRestart(t *testing.T) {
	e := newEnv(t)
	f := e.finding("critical")
	e.drain()
	ts := e.syncedTimers()
	if due, ok := ts.Next(); !ok || !due.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("next timer %v %v", due, ok)
	}
	e.Clock.Advance(23 * time.Hour)
	n, err := ts.FireDue(e.Ctx)
	mustN(t, "fired before the deadline", n, err, 0)

	// Restart before the deadline: a new runtime and timer service rebuild from the store.
	e.Restart()
	ts = e.syncedTimers()
	if ts.Pending() != 1 {
		t.Fatalf("rebuilt index has %d timers, want 1", ts.Pending())
	}
	e.Clock.Advance(2 * time.Hour)
	n, err = ts.FireDue(e.Ctx)
	mustN(t, "fired after the deadline", n, err, 1)
	n, err = ts.FireDue(e.Ctx)
	mustN(t, "fired again", n, err, 0)
	// Another restart: the fired timer is not pending any more.
	e.Restart()
	ts3 := e.syncedTimers()
	if ts3.Pending() != 0 {
		t.Fatalf("index after firing has %d timers, want 0", ts3.Pending())
	}
	n, err = ts3.FireDue(e.Ctx)
	mustN(t, "fired by a third service", n, err, 0)

	in := e.show(f)
	if got := countType(in, contracts.TypeSagaTimerFired); got != 1 {
		t.Fatalf("SagaTimerFired %d times", got)
	}
	if tm := in.Timers[0]; tm.Status != sagas.StatusFired || !tm.FiredAt.Equal(t0.Add(25*time.Hour)) {
		t.Fatalf("timer %+v", tm)
	}
	var st alertState
	_ = json.Unmarshal(in.State, &st)
	if !st.Reminded || len(in.Commands) != 2 || in.Commands[1].Command.Type != "SendReminder" {
		t.Fatalf("state %s, commands %+v", in.State, in.Commands)
	}
	var p map[string]string
	if err := json.Unmarshal(in.Commands[1].Command.Payload, &p); err != nil || p["finding_id"] != f {
		t.Fatalf("reminder payload %s", in.Commands[1].Command.Payload)
	}
}

func TestStaleTimerIndexDoesNotFireTwice(t *testing.T) {
	e := newEnv(t)
	f := e.finding("critical")
	e.drain()
	a := sagas.NewTimerService(e.RT, 0)
	b := sagas.NewTimerService(e.RT, 0) // a second replica with the same index
	mustN(t, "sync a", 0, a.Sync(e.Ctx), 0)
	mustN(t, "sync b", 0, b.Sync(e.Ctx), 0)
	e.Clock.Advance(25 * time.Hour)
	if fired := sagastest.FireConcurrently(e.Ctx, t, a, b); fired[0]+fired[1] != 1 {
		t.Fatalf("fired %v, want once in all", fired)
	}
	if got := countType(e.show(f), contracts.TypeSagaTimerFired); got != 1 {
		t.Fatalf("SagaTimerFired %d times", got)
	}
}

func TestCancelledTimerNeverFires(t *testing.T) {
	e := newEnv(t)
	f := e.finding("critical")
	e.drain()
	stale := e.syncedTimers() // indexed while pending
	e.Clock.Advance(time.Hour)
	e.resolve(f)
	e.drain()
	in := e.show(f)
	if !in.Done || in.Timers[0].Status != sagas.StatusCancelled || countType(in, contracts.TypeSagaCompleted) != 1 {
		t.Fatalf("after resolution: done=%v timers=%+v", in.Done, in.Timers)
	}
	e.Clock.Advance(48 * time.Hour)
	n, err := stale.FireDue(e.Ctx) // its index still has the timer: the store says cancelled
	mustN(t, "stale fired", n, err, 0)
	ts := e.syncedTimers()
	if ts.Pending() != 0 {
		t.Fatalf("%d pending timers", ts.Pending())
	}
	n, err = ts.FireDue(e.Ctx)
	mustN(t, "fired", n, err, 0)
	if got := countType(e.show(f), contracts.TypeSagaTimerFired); got != 0 {
		t.Fatalf("SagaTimerFired %d times", got)
	}
	// A completed instance ignores later (and redelivered) events.
	before := e.show(f).Version
	if err := e.Raw.SaveCheckpoint(e.Ctx, e.RT.CheckpointName(), 0); err != nil {
		t.Fatal(err)
	}
	e.drain()
	if e.show(f).Version != before {
		t.Fatal("completed instance changed")
	}
}

func TestListAndShow(t *testing.T) {
	e := newEnv(t)
	crit := e.finding("critical")
	low := e.finding("low")
	crit2 := e.finding("critical")
	e.drain()
	e.Clock.Advance(time.Minute)
	e.resolve(crit2)
	e.drain()

	list, err := sagas.List(e.Ctx, e.Store, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("List: %d instances, want 2 (a low finding starts none): %+v", len(list), list)
	}
	byKey := map[string]sagas.InstanceSummary{}
	for _, s := range list {
		byKey[s.Key] = s
	}
	if s := byKey[crit]; s.Done || s.PendingTimers != 1 || s.PendingCommands != 1 || s.Saga != "finding_alert" || s.StreamID != sagas.StreamID("finding_alert", crit) {
		t.Fatalf("summary of the open one: %+v", s)
	}
	if s := byKey[crit2]; !s.Done || s.PendingTimers != 0 {
		t.Fatalf("summary of the resolved one: %+v", s)
	}
	if l, _ := sagas.List(e.Ctx, e.Store, "other_saga"); len(l) != 0 {
		t.Fatalf("filtered List: %+v", l)
	}

	byStream, err := sagas.Show(e.Ctx, e.Store, "", sagas.StreamID("finding_alert", crit))
	if err != nil {
		t.Fatal(err)
	}
	in := e.show(crit)
	if byStream.Version != in.Version || in.Key != crit || in.Saga != "finding_alert" {
		t.Fatalf("show by key %+v vs by stream %+v", in, byStream)
	}
	types := []string{}
	for _, h := range in.History {
		types = append(types, h.Type)
	}
	if want := []string{contracts.TypeSagaEventHandled, contracts.TypeSagaCommandIssued, contracts.TypeSagaTimerScheduled}; !slices.Equal(types, want) {
		t.Fatalf("history %v, want %v", types, want)
	}
	if len(in.PendingTimers()) != 1 || in.PendingTimers()[0].Name != "reminder" {
		t.Fatalf("timers %+v", in.Timers)
	}
	if _, err := json.Marshal(in); err != nil {
		t.Fatal(err)
	}
	if _, err := sagas.Show(e.Ctx, e.Store, "finding_alert", low); !errors.Is(err, sagas.ErrInstanceNotFound) {
		t.Fatalf("Show of a finding that started nothing: %v", err)
	}
}

func TestRunEndToEnd(t *testing.T) {
	// The long-running loops, driven by the store's notifications and the manual clock.
	e := newEnv(t)
	e.bus.sent = make(chan sagas.Command, 16)
	ctx, cancel := context.WithCancel(e.Ctx)
	d := e.dispatcher(3)
	ts := sagas.NewTimerService(e.RT, 0)
	var wg sync.WaitGroup
	for _, run := range []func(context.Context) error{e.RT.Run, d.Run, ts.Run} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	defer func() { cancel(); wg.Wait() }()

	f := e.finding("critical")
	wait := func(typ string) sagas.Command {
		t.Helper()
		select {
		case c := <-e.bus.sent:
			if c.Type != typ {
				t.Fatalf("bus got %s, want %s", c.Type, typ)
			}
			return c
		case <-e.Ctx.Done():
			t.Fatalf("timed out waiting for %s", typ)
		}
		return sagas.Command{}
	}
	wait("NotifyOwner")
	// The timer service indexes the timer (from the log) before it can fire it; advancing the
	// clock beyond the deadline fires it whether its loop is already waiting or not.
	e.Clock.Advance(24 * time.Hour)
	c := wait("SendReminder")
	if c.Instance != sagas.StreamID("finding_alert", f) {
		t.Fatalf("reminder %+v", c)
	}
}
