package flows_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/sagas"
	"github.com/socplatform/soc/sagas/flows"
	"github.com/socplatform/soc/sagas/sagastest"
	"github.com/socplatform/soc/schemas/contracts"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// recBus records the commands it is sent.
type recBus struct {
	mu   sync.Mutex
	got  []sagas.Command
	fail map[string]bool // command types the bus refuses (recorded all the same)
}

func (b *recBus) Dispatch(_ context.Context, c sagas.Command) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.got = append(b.got, c)
	if b.fail[c.Type] {
		return errors.New("no handler reachable")
	}
	return nil
}

// take returns the commands received since the last take.
func (b *recBus) take() []sagas.Command {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.got
	b.got = nil
	return out
}

type env struct {
	*sagastest.Process
	t    *testing.T
	bus  *recBus
	ts   *sagas.TimerService
	disp *sagas.Dispatcher
}

// newEnv runs the notification flows' sagas.
func newEnv(t *testing.T) *env {
	return newEnvWith(t, t0, flows.NewFindings{}, flows.KEVAlert{}, flows.FindingDeadlines{})
}

func newEnvWith(t *testing.T, start time.Time, ss ...sagas.Saga) *env {
	t.Helper()
	e := &env{Process: sagastest.Start(t, start, ss...), t: t, bus: &recBus{}}
	e.workers()
	return e
}

// workers builds a fresh timer service and dispatcher on the runtime.
func (e *env) workers() {
	e.t.Helper()
	e.ts = sagas.NewTimerService(e.RT, 0)
	d, err := sagas.NewDispatcher(sagas.DispatcherConfig{Runtime: e.RT, Bus: e.bus, MaxAttempts: 3,
		MinBackoff: time.Second, MaxBackoff: 4 * time.Second})
	if err != nil {
		e.t.Fatal(err)
	}
	e.disp = d
}

// restart is a process restart: store, runtime, timer service and dispatcher all new.
func (e *env) restart() {
	e.t.Helper()
	e.Restart()
	e.workers()
}

// step runs one round of every worker (runtime, timers, dispatcher) and returns the commands
// the bus received in it.
func (e *env) step() []sagas.Command {
	e.t.Helper()
	if _, err := e.RT.Drain(e.Ctx); err != nil {
		e.t.Fatal(err)
	}
	if err := e.ts.Sync(e.Ctx); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.ts.FireDue(e.Ctx); err != nil {
		e.t.Fatal(err)
	}
	if err := e.disp.Sync(e.Ctx); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.disp.DispatchDue(e.Ctx); err != nil {
		e.t.Fatal(err)
	}
	return e.bus.take()
}

// at moves the clock to t and steps.
func (e *env) at(t time.Time) []sagas.Command {
	e.t.Helper()
	e.Clock.Set(t)
	return e.step()
}

func (e *env) append(stream string, typ string, data any) events.Envelope {
	e.t.Helper()
	return e.appendCorr(stream, typ, data, "")
}

func (e *env) appendCorr(stream string, typ string, data any, corr string) events.Envelope {
	e.t.Helper()
	b, err := json.Marshal(data)
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := e.Store.Append(e.Ctx, stream, events.Any, []events.Envelope{{Type: typ, Data: b, CorrelationID: corr}})
	if err != nil {
		e.t.Fatalf("append %s to %s: %v", typ, stream, err)
	}
	_ = res
	evs, err := e.Store.ReadStream(e.Ctx, stream, events.ReadStreamOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return evs[len(evs)-1]
}

// finding opens a finding (data valid for FindingOpened.v1) and returns its stream id.
func (e *env) finding(severity string) string {
	e.t.Helper()
	stream := events.NewStreamID("vulns", "finding")
	asset := events.NewStreamID("assets", "asset")
	e.append(stream, "FindingOpened", map[string]any{
		"asset_id": asset, "scope": asset + "|nmap", "identity_key": asset + "|nmap|fp-" + stream,
		"fingerprint": "fp-" + stream, "scan_id": "scan-1", "format": "nmap", "title": "OpenSSH " + severity,
		"severity": severity, "seen_at": t0.Format(time.RFC3339),
	})
	return stream
}

func (e *env) setDue(f string, due time.Time) {
	e.t.Helper()
	e.append(f, "FindingDueDateSet", map[string]any{"due_at": due.Format(time.RFC3339), "reason": "sla policy"})
}

func (e *env) resolve(f string) {
	e.t.Helper()
	e.append(f, "FindingResolved", map[string]any{"reason": "patched", "resolved_at": e.Clock.Now().Format(time.RFC3339)})
}

func (e *env) reopen(f, reason string) {
	e.t.Helper()
	e.append(f, "FindingReopened", map[string]any{"reason": reason})
}

func (e *env) show(saga, key string) *sagas.Instance {
	e.t.Helper()
	in, err := sagas.Show(e.Ctx, e.Store, saga, key)
	if err != nil {
		e.t.Fatal(err)
	}
	return in
}

func (e *env) list(saga string) []sagas.InstanceSummary {
	e.t.Helper()
	l, err := sagas.List(e.Ctx, e.Store, saga)
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

func payloadOf(t *testing.T, c sagas.Command) map[string]any {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(c.Payload, &p); err != nil {
		t.Fatalf("payload %s: %v", c.Payload, err)
	}
	return p
}

// expect checks that cmds is exactly one command of typ whose payload has the given fields.
func expect(t *testing.T, when string, cmds []sagas.Command, typ string, fields map[string]any) sagas.Command {
	t.Helper()
	if len(cmds) != 1 {
		t.Fatalf("%s: bus got %d commands %v, want one %s", when, len(cmds), types(cmds), typ)
	}
	c := cmds[0]
	if c.Type != typ {
		t.Fatalf("%s: bus got %s, want %s", when, c.Type, typ)
	}
	p := payloadOf(t, c)
	for k, v := range fields {
		if p[k] != v {
			t.Fatalf("%s: %s payload[%q] = %v, want %v (payload %s)", when, typ, k, p[k], v, c.Payload)
		}
	}
	return c
}

func expectNone(t *testing.T, when string, cmds []sagas.Command) {
	t.Helper()
	if len(cmds) != 0 {
		t.Fatalf("%s: bus got %v, want nothing", when, types(cmds))
	}
}

func types(cmds []sagas.Command) []string {
	var out []string
	for _, c := range cmds {
		out = append(out, c.Type)
	}
	return out
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// wantPending fails unless the instance's pending timers are want ("name@due").
func wantPending(t *testing.T, in *sagas.Instance, want ...string) {
	t.Helper()
	if got := pendingNames(in); !slices.Equal(got, want) {
		t.Fatalf("pending timers %v, want %v", got, want)
	}
}

// slaTimers are the timers a due date arms: the breach at due, the reminder before it.
func slaTimers(due time.Time) []string {
	return []string{flows.TimerSLADue + "@" + ts(due), flows.TimerSLAReminder + "@" + ts(due.Add(-flows.DefaultReminderBefore))}
}

func pendingNames(in *sagas.Instance) []string {
	var out []string
	for _, tm := range in.PendingTimers() {
		out = append(out, tm.Name+"@"+ts(tm.DueAt))
	}
	slices.Sort(out)
	return out
}

func TestSLAReminderThenBreachThenEscalation(t *testing.T) {
	e := newEnv(t)
	f := e.finding("critical")
	due := t0.Add(10 * 24 * time.Hour)
	e.setDue(f, due)
	expectNone(t, "after due date set", e.step())

	in := e.show("finding_deadlines", f)
	wantPending(t, in, slaTimers(due)...)

	remindAt := due.Add(-flows.DefaultReminderBefore)
	expectNone(t, "just before the reminder", e.at(remindAt.Add(-time.Second)))
	c := expect(t, "at the reminder", e.at(remindAt), flows.CmdNotifySLAReminder, map[string]any{"finding_id": f, "due_at": ts(due)})
	if c.Saga != "finding_deadlines" || c.Instance != sagas.StreamID("finding_deadlines", f) {
		t.Fatalf("reminder command %+v", c)
	}
	expectNone(t, "just before the due date", e.at(due.Add(-time.Second)))
	expect(t, "at the due date", e.at(due), flows.CmdRecordSLABreach, map[string]any{"finding_id": f, "due_at": ts(due)})
	expectNone(t, "long after the due date", e.at(due.Add(30*24*time.Hour)))

	// The handler records SLABreached: the saga escalates.
	e.append(f, "SLABreached", map[string]any{"due_at": ts(due), "breached_at": ts(e.Clock.Now()), "severity": "critical", "status": "open"})
	expect(t, "after SLABreached", e.step(), flows.CmdNotifySLABreach, map[string]any{"finding_id": f, "due_at": ts(due)})
	expectNone(t, "nothing more", e.at(due.Add(60*24*time.Hour)))

	in = e.show("finding_deadlines", f)
	var st map[string]any
	if err := json.Unmarshal(in.State, &st); err != nil {
		t.Fatal(err)
	}
	if st["reminders"] != float64(1) || st["breaches"] != float64(1) || st["escalations"] != float64(1) {
		t.Fatalf("state %s", in.State)
	}
}

func TestSLAReminderCustomLeadTime(t *testing.T) {
	// FindingDeadlines.ReminderBefore is honoured.
	s := flows.FindingDeadlines{ReminderBefore: 24 * time.Hour}
	f := events.NewStreamID("vulns", "finding")
	due := t0.Add(5 * 24 * time.Hour)
	data, _ := json.Marshal(map[string]any{"due_at": ts(due)})
	d, err := s.Handle(context.Background(), nil, events.Envelope{StreamID: f, Type: "FindingDueDateSet", Data: data}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Schedule) != 2 || d.Schedule[0].Name != flows.TimerSLAReminder || !d.Schedule[0].DueAt.Equal(due.Add(-24*time.Hour)) ||
		d.Schedule[1].Name != flows.TimerSLADue || !d.Schedule[1].DueAt.Equal(due) || len(d.Cancel) != 0 {
		t.Fatalf("decision %+v", d)
	}
}

func TestResolvedFindingTimersNeverFire(t *testing.T) {
	for _, c := range []struct {
		typ  string
		data map[string]any
	}{
		{"FindingResolved", map[string]any{"reason": "patched", "resolved_at": ts(t0)}},
		{"FindingClosed", nil},
		{"FindingMarkedFalsePositive", nil},
		{"FindingMarkedDuplicate", nil},
		{"FindingRiskAccepted", map[string]any{"approver": "ciso@example.com", "justification": "compensating control", "expires_at": ts(t0.Add(400 * 24 * time.Hour))}},
	} {
		t.Run(c.typ, func(t *testing.T) {
			e := newEnv(t)
			f := e.finding("high")
			due := t0.Add(10 * 24 * time.Hour)
			e.setDue(f, due)
			expectNone(t, "armed", e.step())
			if c.data != nil {
				e.append(f, c.typ, c.data)
			} else {
				e.append(f, c.typ, minimalData(t, e, c.typ, f))
			}
			expectNone(t, "remediated", e.step())
			in := e.show("finding_deadlines", f)
			for _, tm := range in.Timers {
				if (tm.Name == flows.TimerSLADue || tm.Name == flows.TimerSLAReminder) && tm.Status != sagas.StatusCancelled {
					t.Fatalf("timer %s is %s, want cancelled", tm.Name, tm.Status)
				}
			}
			expectNone(t, "past the reminder", e.at(due.Add(-time.Hour)))
			expectNone(t, "past the due date", e.at(due.Add(24*time.Hour)))
		})
	}
}

// minimalData returns valid data for the event types whose schemas the table leaves open.
func minimalData(t *testing.T, e *env, typ, f string) map[string]any {
	t.Helper()
	switch typ {
	case "FindingClosed":
		return map[string]any{"scan_id": "scan-2", "closed_at": ts(e.Clock.Now())}
	case "FindingMarkedFalsePositive":
		return map[string]any{"justification": "not reachable"}
	case "FindingMarkedDuplicate":
		return map[string]any{"duplicate_of": events.NewStreamID("vulns", "finding")}
	}
	t.Fatalf("no data for %s", typ)
	return nil
}

func TestMovedDueDateReplacesTimers(t *testing.T) {
	e := newEnv(t)
	f := e.finding("critical")
	due1 := t0.Add(10 * 24 * time.Hour)
	due2 := t0.Add(20 * 24 * time.Hour)
	e.setDue(f, due1)
	expectNone(t, "armed", e.step())
	e.setDue(f, due2)
	expectNone(t, "moved", e.step())
	in := e.show("finding_deadlines", f)
	wantPending(t, in, slaTimers(due2)...)
	expectNone(t, "past the old reminder", e.at(due1.Add(-flows.DefaultReminderBefore)))
	expectNone(t, "past the old due date", e.at(due1.Add(time.Hour)))
	expect(t, "new reminder", e.at(due2.Add(-flows.DefaultReminderBefore)), flows.CmdNotifySLAReminder, map[string]any{"finding_id": f, "due_at": ts(due2)})
	expect(t, "new due date", e.at(due2), flows.CmdRecordSLABreach, map[string]any{"finding_id": f, "due_at": ts(due2)})
	expectNone(t, "after", e.at(due2.Add(30*24*time.Hour)))
}

func TestDueDateMovedInsideReminderWindowCancelsReminder(t *testing.T) {
	e := newEnv(t)
	f := e.finding("critical")
	due1 := t0.Add(10 * 24 * time.Hour)
	e.setDue(f, due1)
	expectNone(t, "armed", e.step())
	due2 := t0.Add(24 * time.Hour) // the reminder would have been in the past
	e.setDue(f, due2)
	expectNone(t, "moved", e.step())
	in := e.show("finding_deadlines", f)
	wantPending(t, in, flows.TimerSLADue+"@"+ts(due2))
	expect(t, "due", e.at(due2), flows.CmdRecordSLABreach, map[string]any{"finding_id": f, "due_at": ts(due2)})
	expectNone(t, "past the old dates", e.at(due1.Add(time.Hour)))
}

func TestReopenRearmsTimers(t *testing.T) {
	e := newEnv(t)
	f := e.finding("high")
	due := t0.Add(10 * 24 * time.Hour)
	e.setDue(f, due)
	expectNone(t, "armed", e.step())
	e.Clock.Set(t0.Add(24 * time.Hour))
	e.resolve(f)
	expectNone(t, "resolved", e.step())
	e.Clock.Set(t0.Add(2 * 24 * time.Hour))
	e.reopen(f, "seen again by scan")
	expectNone(t, "reopened", e.step())
	in := e.show("finding_deadlines", f)
	wantPending(t, in, slaTimers(due)...)
	expect(t, "reminder", e.at(due.Add(-flows.DefaultReminderBefore)), flows.CmdNotifySLAReminder, map[string]any{"finding_id": f, "due_at": ts(due)})
	expect(t, "due", e.at(due), flows.CmdRecordSLABreach, map[string]any{"finding_id": f, "due_at": ts(due)})
}

func TestReopenAfterDueDateFiresAtOnce(t *testing.T) {
	e := newEnv(t)
	f := e.finding("high")
	due := t0.Add(10 * 24 * time.Hour)
	e.setDue(f, due)
	e.step()
	e.resolve(f)
	expectNone(t, "resolved", e.step())
	expectNone(t, "past due while resolved", e.at(due.Add(24*time.Hour)))
	e.reopen(f, "seen again by scan")
	// No reminder for a passed deadline; the due timer fires at once.
	expect(t, "reopened in breach", e.step(), flows.CmdRecordSLABreach, map[string]any{"finding_id": f, "due_at": ts(due)})
	expectNone(t, "later", e.at(due.Add(40*24*time.Hour)))
}

func TestReopenWithoutInstanceStartsNothing(t *testing.T) {
	e := newEnv(t)
	f := e.finding("info") // no SLA: no due date
	e.resolve(f)
	e.reopen(f, "seen again by scan")
	expectNone(t, "no SLA", e.step())
	if l := e.list("finding_deadlines"); len(l) != 0 {
		t.Fatalf("instances %+v, want none", l)
	}
}

func TestRiskAcceptanceExpiry(t *testing.T) {
	e := newEnv(t)
	f := e.finding("high")
	due := t0.Add(10 * 24 * time.Hour)
	e.setDue(f, due)
	e.step()
	expires := t0.Add(30 * 24 * time.Hour)
	e.append(f, "FindingRiskAccepted", map[string]any{"approver": "ciso@example.com", "justification": "compensating control", "expires_at": ts(expires)})
	expectNone(t, "accepted", e.step())
	in := e.show("finding_deadlines", f)
	wantPending(t, in, flows.TimerRiskExpiry+"@"+ts(expires))
	expectNone(t, "past the SLA while accepted", e.at(due.Add(time.Hour)))
	expectNone(t, "before expiry", e.at(expires.Add(-time.Second)))
	expect(t, "expiry", e.at(expires), flows.CmdExpireRiskAcceptance, map[string]any{"finding_id": f, "expires_at": ts(expires)})

	// The vulns handler reopens the finding: the owners are told and the passed SLA is in breach.
	e.reopen(f, flows.RiskAcceptanceExpiredReason)
	cmds := e.step()
	if len(cmds) != 2 {
		t.Fatalf("after expiry reopening: %v, want risk_acceptance_expired and record_sla_breach", types(cmds))
	}
	byType := map[string]sagas.Command{}
	for _, c := range cmds {
		byType[c.Type] = c
	}
	expect(t, "expired notice", []sagas.Command{byType[flows.CmdNotifyRiskAcceptanceExpired]}, flows.CmdNotifyRiskAcceptanceExpired,
		map[string]any{"finding_id": f, "accepted_by": "ciso@example.com", "justification": "compensating control", "expired_at": ts(expires)})
	expect(t, "breach", []sagas.Command{byType[flows.CmdRecordSLABreach]}, flows.CmdRecordSLABreach, map[string]any{"finding_id": f, "due_at": ts(due)})
	expectNone(t, "later", e.at(expires.Add(100*24*time.Hour)))
}

func TestReopenForOtherReasonDoesNotNotifyExpiry(t *testing.T) {
	e := newEnv(t)
	f := e.finding("high")
	expires := t0.Add(30 * 24 * time.Hour)
	e.append(f, "FindingRiskAccepted", map[string]any{"approver": "ciso@example.com", "justification": "x", "expires_at": ts(expires)})
	e.step()
	e.reopen(f, "reopened by alice")
	expectNone(t, "manual reopen", e.step())
	// The reopening cancelled the expiry timer.
	expectNone(t, "past expiry", e.at(expires.Add(time.Hour)))
}

func TestTimerSurvivesRestartAndFiresOnce(t *testing.T) {
	e := newEnv(t)
	f := e.finding("critical")
	due := t0.Add(2 * 24 * time.Hour) // inside the reminder window: only the due timer
	e.setDue(f, due)
	expectNone(t, "armed", e.step())

	e.restart() // store, runtime, timer service and dispatcher all new
	e.Clock.Set(due.Add(time.Minute))
	// Two replicas fire concurrently from the rebuilt index: one of them fires it.
	if err := e.ts.Sync(e.Ctx); err != nil {
		t.Fatal(err)
	}
	if e.ts.Pending() != 1 {
		t.Fatalf("rebuilt index has %d timers, want 1", e.ts.Pending())
	}
	other := sagas.NewTimerService(e.RT, 0)
	if err := other.Sync(e.Ctx); err != nil {
		t.Fatal(err)
	}
	if fired := sagastest.FireConcurrently(e.Ctx, t, e.ts, other); fired[0]+fired[1] != 1 {
		t.Fatalf("fired %v, want exactly one firing", fired)
	}
	expect(t, "after restart", e.step(), flows.CmdRecordSLABreach, map[string]any{"finding_id": f, "due_at": ts(due)})

	e.restart()
	expectNone(t, "after a second restart", e.at(due.Add(48*time.Hour)))
	if e.ts.Pending() != 0 || e.disp.Pending() != 0 {
		t.Fatalf("pending timers %d, commands %d after restart", e.ts.Pending(), e.disp.Pending())
	}
	in := e.show("finding_deadlines", f)
	n := 0
	for _, h := range in.History {
		if h.Type == contracts.TypeSagaTimerFired {
			n++
		}
	}
	if n != 1 || len(in.Commands) != 1 {
		t.Fatalf("%d firings, %d commands in the instance, want 1 and 1", n, len(in.Commands))
	}
}

func (e *env) importCompleted(scanID string, newN, reopened int) events.Envelope {
	e.t.Helper()
	return e.appendCorr("scans-import-"+scanID, "ScanImportCompleted", map[string]any{
		"scan_id": scanID, "format": "nmap", "findings_total": newN + reopened,
		"by_severity": map[string]int{"critical": newN, "high": reopened, "medium": 0, "low": 0, "info": 0},
		"new":         newN, "unchanged": 0, "reopened": reopened, "resolved": 0, "closed": 0, "skipped": 0,
		"assets_discovered": 0, "assets_matched": 1,
	}, scanID)
}

func TestNewFindingsOneCommandPerScan(t *testing.T) {
	e := newEnv(t)
	scan := uuid.NewString()
	ev := e.importCompleted(scan, 2, 1)
	c := expect(t, "import completed", e.step(), flows.CmdNotifyNewFindings, map[string]any{"scan_id": scan})
	if c.Saga != "new_findings" || c.Instance != sagas.StreamID("new_findings", scan) || c.CausationID != ev.EventID {
		t.Fatalf("command %+v", c)
	}
	if p := payloadOf(t, c); len(p) != 1 {
		t.Fatalf("payload %s, want only scan_id", c.Payload)
	}

	// Redelivery: directly, and from a lost checkpoint.
	if err := e.RT.HandleEvent(e.Ctx, ev); err != nil {
		t.Fatal(err)
	}
	if err := e.Raw.SaveCheckpoint(e.Ctx, e.RT.CheckpointName(), 0); err != nil {
		t.Fatal(err)
	}
	expectNone(t, "redelivered", e.step())
	e.restart()
	if err := e.Raw.SaveCheckpoint(e.Ctx, e.RT.CheckpointName(), 0); err != nil {
		t.Fatal(err)
	}
	expectNone(t, "redelivered after restart", e.step())

	in := e.show("new_findings", scan)
	if !in.Done || len(in.Commands) != 1 {
		t.Fatalf("instance done=%v with %d commands", in.Done, len(in.Commands))
	}
	// A second completion event for the same scan: the instance is done.
	e.importCompleted(scan, 1, 0)
	expectNone(t, "second completion", e.step())
}

func TestNewFindingsNothingNewStartsNothing(t *testing.T) {
	e := newEnv(t)
	scan := uuid.NewString()
	e.importCompleted(scan, 0, 0)
	expectNone(t, "nothing new", e.step())
	if l := e.list("new_findings"); len(l) != 0 {
		t.Fatalf("instances %+v, want none", l)
	}
	// Reopened only counts.
	scan2 := uuid.NewString()
	e.importCompleted(scan2, 0, 3)
	expect(t, "reopened only", e.step(), flows.CmdNotifyNewFindings, map[string]any{"scan_id": scan2})
}

func TestKEVAlert(t *testing.T) {
	e := newEnv(t)
	f := e.finding("high")
	e.append(f, "FindingExploitabilityChanged", map[string]any{"epss": 0.42, "epss_percentile": 0.9, "source": "first.org"})
	e.append(f, "FindingExploitabilityChanged", map[string]any{"kev": false})
	expectNone(t, "epss only / kev false", e.step())
	if l := e.list("kev_alert"); len(l) != 0 {
		t.Fatalf("instances %+v, want none", l)
	}
	e.append(f, "FindingExploitabilityChanged", map[string]any{"kev": true, "source": "cisa"})
	c := expect(t, "kev listed", e.step(), flows.CmdNotifyKEVAlert, map[string]any{"finding_id": f})
	if c.Instance != sagas.StreamID("kev_alert", f) {
		t.Fatalf("command %+v", c)
	}
	// More EPSS updates change nothing.
	e.append(f, "FindingExploitabilityChanged", map[string]any{"epss": 0.5})
	expectNone(t, "epss after kev", e.step())
	if l := e.list("kev_alert"); len(l) != 1 {
		t.Fatalf("instances %+v, want one", l)
	}
}

// An asset that becomes a production asset asks for the KEV alerts of its open findings once
// per transition; assets never in production get no instance.
func TestKEVAlertOnAssetBecomingProduction(t *testing.T) {
	e := newEnv(t)
	staging := events.NewStreamID("assets", "asset")
	e.append(staging, "AssetRegistered", map[string]any{"kind": "host", "name": "stage-1", "identifiers": map[string]any{"ips": []string{"10.0.0.9"}}, "environment": "staging"})
	e.append(staging, "AssetClassified", map[string]any{"criticality": "high"})
	none(t, "staging asset", e.step())
	if got := e.list("kev_alert"); len(got) != 0 {
		t.Fatalf("instances for a staging asset: %+v", got)
	}

	born := events.NewStreamID("assets", "asset")
	e.append(born, "AssetRegistered", map[string]any{"kind": "host", "name": "prod-1", "identifiers": map[string]any{"ips": []string{"10.0.0.10"}}, "environment": "production"})
	none(t, "registered in production (no findings yet)", e.step())
	e.append(born, "AssetClassified", map[string]any{"environment": "production", "criticality": "critical"})
	none(t, "still in production", e.step())

	moved := events.NewStreamID("assets", "asset")
	e.append(moved, "AssetRegistered", map[string]any{"kind": "host", "name": "web-1", "identifiers": map[string]any{"ips": []string{"10.0.0.11"}}})
	e.append(moved, "AssetClassified", map[string]any{"environment": "production"})
	p := one(t, "moved to production", e.step(), flows.CmdNotifyKEVAlertsForAsset)
	if p["asset_id"] != moved {
		t.Fatalf("payload %v", p)
	}
	e.append(moved, "AssetClassified", map[string]any{"environment": "production", "tags": []string{"pci"}})
	none(t, "classified again, still production", e.step())
	e.append(moved, "AssetClassified", map[string]any{"environment": "staging"})
	none(t, "out of production", e.step())
	e.append(moved, "AssetClassified", map[string]any{"environment": "production"})
	one(t, "back in production", e.step(), flows.CmdNotifyKEVAlertsForAsset)
}
