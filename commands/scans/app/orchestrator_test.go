package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/bus"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/domain"
	"github.com/socplatform/soc/commands/scans/runner"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/snapshot"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// fakeRunner stands in for nmap (the runner package tests the real one): each call takes the
// next behaviour; "block" waits until the attempt is stopped.
type fakeRunner struct {
	mu       sync.Mutex
	script   []string // "ok", "fail", "block"
	calls    int
	specs    []app.RunSpec
	xml      []byte
	started  chan int // receives the call number when a call starts
	returned chan int // receives the call number when a call returns
}

func (f *fakeRunner) Run(ctx context.Context, spec app.RunSpec) ([]byte, []string, error) {
	f.mu.Lock()
	f.calls++
	n := f.calls
	what := "ok"
	if n <= len(f.script) {
		what = f.script[n-1]
	}
	f.specs = append(f.specs, spec)
	f.mu.Unlock()
	defer func() { f.returned <- n }()
	f.started <- n
	switch what {
	case "fail":
		return nil, []string{"fake"}, errors.New("fake scanner failed")
	case "block":
		<-ctx.Done()
		return nil, []string{"fake"}, ctx.Err()
	}
	return f.xml, []string{"fake"}, nil
}

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

type orchEnv struct {
	t      *testing.T
	ctx    context.Context
	cancel context.CancelFunc
	store  *events.Guarded
	run    *fakeRunner
	orch   *app.Orchestrator
	bus    *bus.Bus // the orchestrator's commands registered
	dir    string
	node   string
	snaps  snapshot.Dir // where start's orchestrator keeps its snapshot (zero: none)
	// orchStore, when set, is the store start gives the orchestrator (the importer keeps store).
	orchStore *events.Guarded
	resolver  runner.Resolver // nil: the system's
}

func newOrchEnv(t *testing.T, script ...string) *orchEnv {
	t.Helper()
	e := &orchEnv{t: t, store: testsupport.SQLiteStore(t), dir: t.TempDir(), node: "node-a"}
	e.run = &fakeRunner{script: script, xml: readFile(t, "testdata/nmap_dlink_loopback.xml"), started: make(chan int, 16), returned: make(chan int, 16)}
	e.start()
	return e
}

// start builds an orchestrator (and an importer) on the store: a process start.
func (e *orchEnv) start() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	im := newImporter(e.t, e.store)
	orchStore := e.store
	if e.orchStore != nil {
		orchStore = e.orchStore
	}
	orch, err := app.NewOrchestrator(app.OrchestratorConfig{Store: orchStore, Runner: e.run, EvidenceDir: e.dir, Node: e.node,
		Now: func() time.Time { return t0 }, Snapshots: e.snaps, Resolver: e.resolver,
		Import: im.Import})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := orch.Start(ctx); err != nil {
		e.t.Fatal(err)
	}
	e.ctx, e.cancel, e.orch, e.bus = ctx, cancel, orch, commandBus(e.t, orch)
	e.t.Cleanup(func() { e.stop() })
}

// commandBus is a command bus with o's handlers registered (o nil: a process without it).
func commandBus(t *testing.T, o *app.Orchestrator) *bus.Bus {
	t.Helper()
	b, err := bus.New(testsupport.CommandSchemas(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := app.RegisterCommands(b, o); err != nil {
		t.Fatal(err)
	}
	return b
}

func (e *orchEnv) stop() {
	if e.cancel != nil {
		e.cancel()
		_ = e.orch.Wait()
		e.cancel = nil
	}
}

func (e *orchEnv) define(spec domain.Spec) string {
	e.t.Helper()
	res, err := e.orch.CreateDefinition(e.ctx, spec, es.Meta{Actor: "alice"})
	if err != nil {
		e.t.Fatal(err)
	}
	return res.ID
}

func nmapSpec(attempts, backoff int) domain.Spec {
	return domain.Spec{Name: "loopback", Scanner: "nmap", Target: domain.Target{Addresses: []string{"127.0.0.1"}},
		Options: &domain.NmapOptions{Ports: "80"}, TimeoutSeconds: 60, MaxAttempts: attempts, RetryBackoffSeconds: backoff}
}

func (e *orchEnv) command(id, typ string, payload any) {
	e.t.Helper()
	b, _ := json.Marshal(payload)
	if err := e.bus.Dispatch(e.ctx, id, typ, b); err != nil {
		e.t.Fatalf("%s: %v", typ, err)
	}
}

func (e *orchEnv) types(runID string) []string {
	e.t.Helper()
	evs, err := e.store.ReadStream(context.Background(), domain.RunStreamID(runID), events.ReadStreamOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Type)
	}
	return out
}

// waitFor waits (bounded by the test's context) until the run's stream has n events.
func (e *orchEnv) waitFor(runID string, n int) []string {
	e.t.Helper()
	for {
		ts := e.types(runID)
		if len(ts) >= n {
			return ts
		}
		if e.ctx.Err() != nil {
			e.t.Fatalf("run %s has events %v, waited for %d", runID, ts, n)
		}
		if err := e.store.WaitForAppend(e.ctx, 0); err != nil {
			e.t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
}

func (e *orchEnv) manualRun(defID string) string {
	e.t.Helper()
	res, err := e.orch.RequestRun(e.ctx, defID, es.Meta{Actor: "alice"})
	if err != nil {
		e.t.Fatal(err)
	}
	return res.ID
}

// executeNewRun defines spec, requests a manual run of it and delivers its first attempt's
// execute command (command id c1), the way the run saga would.
func (e *orchEnv) executeNewRun(spec domain.Spec) string {
	e.t.Helper()
	runID := e.manualRun(e.define(spec))
	e.command("c1", app.CmdExecuteRun, map[string]any{"run_id": runID, "attempt": 1})
	return runID
}

func (e *orchEnv) loadRun(id string) *domain.Run {
	e.t.Helper()
	r := &domain.Run{}
	if _, err := es.Load(context.Background(), e.store, domain.RunStreamID(id), r); err != nil {
		e.t.Fatal(err)
	}
	return r
}

func TestOrchestratorLifecycleAndEvidence(t *testing.T) {
	e := newOrchEnv(t)
	def := e.define(nmapSpec(1, 0))
	due := t0.Add(time.Hour)
	req := map[string]any{"definition_id": def, "scheduled_for": due}
	e.command("cmd-1", app.CmdRequestScheduledRun, req)
	e.command("cmd-1", app.CmdRequestScheduledRun, req)  // redelivered
	e.command("cmd-1b", app.CmdRequestScheduledRun, req) // another id, same run: still one
	runID := app.ScheduledRunID(def, due)
	if got := e.types(runID); !slices.Equal(got, []string{contracts.TypeScanRequested}) {
		t.Fatalf("after the requests: %v", got)
	}
	e.command("cmd-2", app.CmdExecuteRun, map[string]any{"run_id": runID, "attempt": 1})
	e.command("cmd-2", app.CmdExecuteRun, map[string]any{"run_id": runID, "attempt": 1}) // redelivered: no-op
	got := e.waitFor(runID, 3)
	if !slices.Equal(got, []string{contracts.TypeScanRequested, contracts.TypeScanStarted, contracts.TypeScanCompleted}) {
		t.Fatalf("events %v", got)
	}
	r := e.loadRun(runID)
	if r.Status != domain.RunCompleted || r.Import == nil || r.Import.FindingsTotal != 1 || r.Import.BySeverity["high"] != 1 || r.Evidence == nil {
		t.Fatalf("run %+v import %+v", r, r.Import)
	}
	if r.Evidence.Path != runID+"/attempt-1.xml" {
		t.Fatalf("evidence path %s", r.Evidence.Path)
	}
	path := filepath.Join(e.dir, r.Evidence.Path)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != r.Evidence.SHA256 || int64(len(b)) != r.Evidence.Bytes {
		t.Fatalf("evidence %+v does not match the file", r.Evidence)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("evidence mode %v", st.Mode())
	}
	if st, _ := os.Stat(filepath.Dir(path)); st.Mode().Perm() != 0o700 {
		t.Fatalf("evidence dir mode %v", st.Mode())
	}
	// The import ran under the run id.
	imp, err := e.store.ReadStream(e.ctx, app.ImportStreamID(runID), events.ReadStreamOptions{})
	if err != nil || imp[len(imp)-1].Type != contracts.TypeScanImportCompleted || imp[0].Actor != app.OrchestratorActor {
		t.Fatalf("import stream %v %v", imp, err)
	}
	// The runner was given the checked target and the definition's options.
	if s := e.run.specs[0]; !slices.Equal(s.Targets, []string{"127.0.0.1"}) || s.Options.Ports != "80" || s.RunID != runID {
		t.Fatalf("spec %+v", s)
	}
	// A stale command (attempt 1 again, attempt 2 of a finished run, a timeout) appends nothing.
	e.command("cmd-3", app.CmdExecuteRun, map[string]any{"run_id": runID, "attempt": 2})
	e.command("cmd-4", app.CmdTimeoutRun, map[string]any{"run_id": runID, "attempt": 1})
	if got := e.types(runID); len(got) != 3 {
		t.Fatalf("stale commands appended: %v", got)
	}
	// Cancelling a completed run is a conflict.
	_, err = e.orch.CancelRun(e.ctx, runID, "too late", es.Meta{Actor: "bob"})
	var se *domain.StateError
	if !errors.As(err, &se) || se.Kind() != problem.KindConflict {
		t.Fatalf("cancel of a completed run: %v", err)
	}
	// The index serves it.
	if err := e.orch.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	v, ok := e.orch.Definition(def)
	if !ok || len(v.Runs) != 1 || v.Runs[0].Status != domain.RunCompleted {
		t.Fatalf("definition view %+v", v)
	}
	want := []string{app.CmdAbortRun, app.CmdExecuteRun, app.CmdRequestScheduledRun, app.CmdTimeoutRun}
	slices.Sort(want)
	if got := e.bus.Handled(); !slices.Equal(got, want) {
		t.Fatalf("the orchestrator registered %v, want %v", got, want)
	}
}

func TestOrchestratorRetryThenSuccess(t *testing.T) {
	e := newOrchEnv(t, "fail", "ok")
	runID := e.executeNewRun(nmapSpec(3, 10))
	got := e.waitFor(runID, 3)
	r := e.loadRun(runID)
	if got[2] != contracts.TypeScanAttemptFailed || r.Status != domain.RunRequested || r.NextAttemptAt == nil || !r.NextAttemptAt.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("after a failed attempt: %v %+v", got, r)
	}
	e.command("c2", app.CmdExecuteRun, map[string]any{"run_id": runID, "attempt": 2})
	got = e.waitFor(runID, 5)
	if !slices.Equal(got[3:], []string{contracts.TypeScanStarted, contracts.TypeScanCompleted}) {
		t.Fatalf("events %v", got)
	}
	if r := e.loadRun(runID); r.Evidence.Path != runID+"/attempt-2.xml" {
		t.Fatalf("evidence %+v", r.Evidence)
	}
}

func TestOrchestratorRetriesExhausted(t *testing.T) {
	e := newOrchEnv(t, "fail", "fail", "fail")
	runID := e.executeNewRun(nmapSpec(2, 5))
	e.waitFor(runID, 3)
	// The backoff doubles: 5 s after attempt 1.
	if r := e.loadRun(runID); !r.NextAttemptAt.Equal(t0.Add(5 * time.Second)) {
		t.Fatalf("next attempt %v", r.NextAttemptAt)
	}
	e.command("c2", app.CmdExecuteRun, map[string]any{"run_id": runID, "attempt": 2})
	got := e.waitFor(runID, 6)
	want := []string{contracts.TypeScanRequested, contracts.TypeScanStarted, contracts.TypeScanAttemptFailed, contracts.TypeScanStarted, contracts.TypeScanAttemptFailed, contracts.TypeScanFailed}
	if !slices.Equal(got, want) {
		t.Fatalf("events %v", got)
	}
	if r := e.loadRun(runID); r.Status != domain.RunFailed || !strings.Contains(r.LastError, "fake scanner failed") {
		t.Fatalf("run %+v", r)
	}
	e.command("c3", app.CmdExecuteRun, map[string]any{"run_id": runID, "attempt": 3})
	if got := e.types(runID); len(got) != 6 {
		t.Fatalf("an attempt after the last: %v", got)
	}
}

func TestOrchestratorTimeoutKillsAndRetries(t *testing.T) {
	e := newOrchEnv(t, "block", "ok")
	runID := e.executeNewRun(nmapSpec(2, 1))
	<-e.run.started
	e.command("t1", app.CmdTimeoutRun, map[string]any{"run_id": runID, "attempt": 1})
	e.command("t1", app.CmdTimeoutRun, map[string]any{"run_id": runID, "attempt": 1}) // redelivered
	<-e.run.returned                                                                  // the blocked scan was stopped
	got := e.types(runID)
	r := e.loadRun(runID)
	if len(got) != 3 || got[2] != contracts.TypeScanAttemptFailed || !strings.Contains(r.LastError, "timed out after 1m0s") || r.Status != domain.RunRequested {
		t.Fatalf("after the timeout: %v %+v", got, r)
	}
	e.command("c2", app.CmdExecuteRun, map[string]any{"run_id": runID, "attempt": 2})
	if got := e.waitFor(runID, 5); got[4] != contracts.TypeScanCompleted {
		t.Fatalf("events %v", got)
	}
}

func TestOrchestratorCancel(t *testing.T) {
	e := newOrchEnv(t, "block")
	runID := e.executeNewRun(nmapSpec(3, 1))
	<-e.run.started
	if _, err := e.orch.CancelRun(e.ctx, runID, "wrong target", es.Meta{Actor: "bob"}); err != nil {
		t.Fatal(err)
	}
	<-e.run.returned // the process was stopped
	got := e.types(runID)
	if !slices.Equal(got, []string{contracts.TypeScanRequested, contracts.TypeScanStarted, contracts.TypeScanCancelled}) {
		t.Fatalf("events %v", got)
	}
	if _, err := e.orch.CancelRun(e.ctx, runID, "again", es.Meta{Actor: "bob"}); err == nil {
		t.Fatal("cancelled twice")
	}
	e.command("c2", app.CmdExecuteRun, map[string]any{"run_id": runID, "attempt": 2})
	if got := e.types(runID); len(got) != 3 {
		t.Fatalf("a cancelled run ran again: %v", got)
	}
}

func TestOrchestratorRecoversInterruptedRuns(t *testing.T) {
	e := newOrchEnv(t, "block")
	runID := e.executeNewRun(nmapSpec(2, 30))
	<-e.run.started
	// The process dies: the orchestrator stops without recording the attempt's outcome.
	e.stop()
	if got := e.types(runID); got[len(got)-1] != contracts.TypeScanStarted {
		t.Fatalf("events %v", got)
	}
	e.start()
	got := e.types(runID)
	r := e.loadRun(runID)
	if len(got) != 3 || got[2] != contracts.TypeScanAttemptFailed || !strings.Contains(r.LastError, "interrupted") || r.Status != domain.RunRequested {
		t.Fatalf("after the restart: %v %+v", got, r)
	}
	// A second restart does not fail it again.
	e.stop()
	e.start()
	if got := e.types(runID); len(got) != 3 {
		t.Fatalf("events %v", got)
	}
}

func TestOrchestratorConfigErrors(t *testing.T) {
	if _, err := app.NewOrchestrator(app.OrchestratorConfig{}); err == nil || !strings.Contains(err.Error(), "Store") || !strings.Contains(err.Error(), "EvidenceDir") {
		t.Fatalf("%v", err)
	}
}

// A definition targeting a known asset scans its addresses and attaches the findings to it,
// though loopback addresses identify no asset by themselves.
func TestOrchestratorScansAnAssetAndAttachesItsFindings(t *testing.T) {
	e := newOrchEnv(t)
	asset := e.registerAsset("127.0.0.1")
	spec := nmapSpec(1, 0)
	spec.Target = domain.Target{AssetID: asset}
	runID := e.executeNewRun(spec)
	if got := e.waitFor(runID, 3); got[2] != contracts.TypeScanCompleted {
		t.Fatalf("events %v", got)
	}
	if s := e.run.specs[0]; !slices.Equal(s.Targets, []string{"127.0.0.1"}) || s.AssetID != asset {
		t.Fatalf("spec %+v", s)
	}
	if r := e.loadRun(runID); r.Import.New != 1 || r.Import.Skipped != 0 {
		t.Fatalf("import %+v", r.Import)
	}
}

// The scan_run saga's compensation: a waiting run fails, a running attempt fails for good and
// its process stops, a finished run is left alone; a redelivered abort appends nothing.
func TestOrchestratorAbort(t *testing.T) {
	e := newOrchEnv(t, "block")
	def := e.define(nmapSpec(3, 1))
	waiting := e.manualRun(def)
	e.command("a1", app.CmdAbortRun, map[string]any{"run_id": waiting, "reason": "scans.execute_run failed 8 times"})
	e.command("a1", app.CmdAbortRun, map[string]any{"run_id": waiting, "reason": "scans.execute_run failed 8 times"})
	if got := e.types(waiting); !slices.Equal(got, []string{contracts.TypeScanRequested, contracts.TypeScanFailed}) {
		t.Fatalf("waiting run: %v", got)
	}
	if r := e.loadRun(waiting); r.Status != domain.RunFailed || !strings.Contains(r.LastError, "aborted: scans.execute_run failed 8 times") {
		t.Fatalf("waiting run %+v", r)
	}

	running := e.manualRun(def)
	e.command("c1", app.CmdExecuteRun, map[string]any{"run_id": running, "attempt": 1})
	<-e.run.started
	e.command("a2", app.CmdAbortRun, map[string]any{"run_id": running, "reason": "scans.timeout_run failed 8 times"})
	<-e.run.returned // the blocked scan was stopped
	want := []string{contracts.TypeScanRequested, contracts.TypeScanStarted, contracts.TypeScanAttemptFailed, contracts.TypeScanFailed}
	if got := e.types(running); !slices.Equal(got, want) {
		t.Fatalf("running run: %v, want %v (no retry after an abort)", got, want)
	}
	e.command("a3", app.CmdAbortRun, map[string]any{"run_id": running, "reason": "again"})
	if got := e.types(running); len(got) != len(want) {
		t.Fatalf("a finished run was aborted again: %v", got)
	}
	err := e.bus.Dispatch(e.ctx, "a4", app.CmdAbortRun, []byte(`{"run_id":"nope"}`))
	if pe, ok := errors.AsType[*bus.PayloadError](err); !ok || !pe.Permanent() {
		t.Fatalf("bad abort payload: %v, want a permanent PayloadError", err)
	}
	// What the schema cannot say: a run id in canonical (lower-case) form.
	err = e.bus.Dispatch(e.ctx, "a5", app.CmdAbortRun, []byte(`{"run_id":"`+strings.ToUpper(running)+`","reason":"x"}`))
	if ce, ok := errors.AsType[*app.CommandError](err); !ok || ce.Type != app.CmdAbortRun {
		t.Fatalf("upper-case run id: %v, want a CommandError", err)
	}
}

// In a process without the orchestrator the scan commands fail with the reason, and stay
// retryable (the dispatcher records why).
func TestScanCommandsWithoutOrchestrator(t *testing.T) {
	b := commandBus(t, nil)
	payload := []byte(`{"run_id":"0190a8a4-6f2a-7c3e-8a4b-1c2d3e4f5a6b","attempt":1}`)
	err := b.Dispatch(context.Background(), "x", app.CmdExecuteRun, payload)
	if err == nil || err.Error() != app.CmdExecuteRun+": the commands target (which runs scans) is not running in this process" {
		t.Fatalf("without an orchestrator: %v", err)
	}
	if _, ok := err.(interface{ Permanent() bool }); ok {
		t.Fatal("a missing orchestrator must stay retryable")
	}
}
