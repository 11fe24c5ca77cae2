package app

import (
	"context"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	assetapp "github.com/socplatform/soc/commands/assets/app"
	"github.com/socplatform/soc/commands/bus"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/scans/domain"
	"github.com/socplatform/soc/commands/scans/runner"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventlog"
	"github.com/socplatform/soc/events/snapshot"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// Command types the orchestrator executes for the scan sagas; their payloads are declared by
// schemas/commands/scans (contracts.RequestScheduledScanRun …).
const (
	CmdRequestScheduledRun = contracts.CmdRequestScheduledScanRun
	CmdExecuteRun          = contracts.CmdExecuteScanRun
	CmdTimeoutRun          = contracts.CmdTimeoutScanRun
	// CmdAbortRun is the scan_run saga's compensation: one of its commands could not be
	// delivered after every retry, so the run would otherwise wait forever.
	CmdAbortRun = contracts.CmdAbortScanRun
)

// OrchestratorActor is the actor of the events the orchestrator appends on its own.
const OrchestratorActor = "system:scan-orchestrator"

// ImportFunc handles an ImportScanReport (the Importer's Import, with whatever the binary adds
// after it). The orchestrator imports each run's report under the run id, naming the
// definition's target.asset_id as AssetID: loopback and other non-identifying addresses never
// match or register an asset, so without it the findings of such a scan would be skipped.
type ImportFunc func(ctx context.Context, cmd ImportScanReport) (Summary, error)

// RunSpec is one scanner run: checked targets and the definition's nmap options.
type RunSpec = runner.Spec

// Runner runs a scanner and returns its XML report and the argv it ran.
type Runner interface {
	Run(ctx context.Context, spec RunSpec) (xml []byte, argv []string, err error)
}

// argvBuilder is implemented by the nmap runner: the argv is recorded in ScanStarted before
// the process starts.
type argvBuilder interface {
	Argv(targets []string, o domain.NmapOptions) ([]string, error)
}

// optionsValidator is implemented by the nmap runner: it knows which scripts exist, so a
// definition naming a missing script is refused when it is written, not at 3 a.m.
type optionsValidator interface {
	ValidateOptions(o domain.NmapOptions) error
}

// OrchestratorConfig configures an Orchestrator.
type OrchestratorConfig struct {
	Store  es.Store // the guarded store; it must also read $all (ReadAll, WaitForAppend)
	Import ImportFunc
	Runner Runner // nil: the nmap runner (commands/scans/runner) with defaults
	// EvidenceDir holds the raw reports: <EvidenceDir>/<run id>/attempt-<n>.<ext>; files 0600,
	// directories 0700 (reports describe weaknesses: they are sensitive).
	EvidenceDir string
	// AllowedTargets bounds what may be scanned (default 127.0.0.0/8 and ::1/128: safe by
	// default). Hostnames are resolved at run time and every resolved address must be allowed.
	AllowedTargets []netip.Prefix
	Concurrency    int // scans run at once on this node (default 2)
	Log            *slog.Logger
	Now            func() time.Time
	// Node names this node in ScanStarted (default the host name). At start the orchestrator
	// fails the attempts its node left running; another node's are left to their timeout.
	Node     string
	Resolver runner.Resolver // default net.DefaultResolver
	// Snapshots is where the index is snapshotted (zero: none; Start replays all of $all).
	Snapshots snapshot.Dir
	// SnapshotPolicy says how often the follower writes a snapshot; it also writes one when it
	// stops.
	SnapshotPolicy snapshot.Policy
	// PushTokens issues the push tokens of external definitions as platform API tokens (the
	// identity context); nil: a random token known to the definition only (tools and tests
	// that run without identity).
	PushTokens PushTokens
}

// PushTokens issues the credential an external scanner pushes one definition's reports with:
// an API token of scope imports:write restricted to that definition, owned by the caller (the
// principal in ctx). definitionStream is the definition's stream id (what the principal of the
// token names as its Definition). Only the token's SHA-256 is kept by the definition.
type PushTokens interface {
	IssuePushToken(ctx context.Context, definitionStream string) (token string, err error)
}

// Orchestrator runs scan definitions: it executes the commands the scan sagas send, runs the
// scanner, keeps its report as evidence, imports it and records the run's lifecycle.
//
// It keeps an in-memory index of every definition and run, rebuilt from the store at Start and
// kept current by following $all. Decisions are never taken on the index: every command loads
// its aggregate from its stream and appends at the loaded version, so two nodes cannot both
// move a run. The index serves the GET endpoints and the recovery at start.
type Orchestrator struct {
	cfg    OrchestratorConfig
	store  es.Store
	follow events.EventStore // cfg.Store read as the log: the eventlog consumer follows it
	runner Runner
	log    *slog.Logger
	now    func() time.Time
	sem    chan struct{}

	syncMu   sync.Mutex
	cursor   snapshot.Mark // last event of $all applied (guarded by syncMu)
	restored bool          // Start has tried the snapshot (guarded by syncMu)

	snapMu    sync.Mutex // one snapshot written at a time
	snapTrack snapshot.Tracker

	mu          sync.RWMutex
	defs        map[string]*defEntry
	runs        map[string]*domain.Run
	runVersions map[string]int64 // run id → version of the last event applied
	runsByDef   map[string][]string

	activeMu sync.Mutex
	active   map[string]*activeAttempt
	runCtx   context.Context

	scans      sync.WaitGroup
	followDone chan struct{}
	followErr  error
}

type defEntry struct {
	def     domain.Definition
	version int64
}

type activeAttempt struct {
	attempt int
	cancel  context.CancelCauseFunc
}

// NewOrchestrator checks the configuration and returns an orchestrator; call Start.
func NewOrchestrator(cfg OrchestratorConfig) (*Orchestrator, error) {
	var problems []string
	if cfg.Store == nil {
		problems = append(problems, "Store is required")
	}
	f, ok := cfg.Store.(events.EventStore)
	if cfg.Store != nil && !ok {
		problems = append(problems, "Store must read $all (an events.EventStore): pass the guarded store")
	}
	if cfg.Import == nil {
		problems = append(problems, "Import is required")
	}
	if cfg.EvidenceDir == "" {
		problems = append(problems, "EvidenceDir is required")
	}
	if cfg.Concurrency < 0 {
		problems = append(problems, "Concurrency must not be negative")
	}
	if len(problems) > 0 {
		return nil, errors.New("scans orchestrator: " + strings.Join(problems, "; "))
	}
	if cfg.AllowedTargets == nil {
		cfg.AllowedTargets = runner.DefaultAllowedTargets()
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if cfg.Runner == nil {
		cfg.Runner = runner.New(runner.Config{Path: os.Getenv("SOC_NMAP_PATH"), AllowedTargets: cfg.AllowedTargets, Resolver: cfg.Resolver})
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 2
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Node == "" {
		cfg.Node, _ = os.Hostname()
	}
	return &Orchestrator{cfg: cfg, store: cfg.Store, follow: f, runner: cfg.Runner, log: cfg.Log, now: cfg.Now,
		sem: make(chan struct{}, cfg.Concurrency), defs: map[string]*defEntry{}, runs: map[string]*domain.Run{},
		runsByDef: map[string][]string{}, active: map[string]*activeAttempt{}, runVersions: map[string]int64{},
		snapTrack: snapshot.Tracker{Policy: cfg.SnapshotPolicy}}, nil
}

// Start rebuilds the index from the store (from its snapshot and the events after it, when
// there is a usable one), fails the attempts this node left running (a process that died
// mid-scan: the retry policy then applies), and follows the store until ctx ends, writing
// snapshots by the policy and when it stops. Scans started later run under ctx.
func (o *Orchestrator) Start(ctx context.Context) error {
	if err := o.restore(ctx); err != nil {
		return err
	}
	if err := o.sync(ctx); err != nil {
		return err
	}
	o.activeMu.Lock()
	o.runCtx = ctx
	o.activeMu.Unlock()
	o.mu.RLock()
	var interrupted []*domain.Run
	for _, r := range o.runs {
		if r.Status == domain.RunRunning && (r.Node == o.cfg.Node || r.Node == "") {
			c := *r
			interrupted = append(interrupted, &c)
		}
	}
	o.mu.RUnlock()
	for _, r := range interrupted {
		key := fmt.Sprintf("interrupted|%s|%d", r.ID, r.Attempt)
		err := o.decideRun(ctx, r.ID, es.Meta{Actor: OrchestratorActor, IdempotencyKey: key}, func(cur *domain.Run) ([]es.Change, error) {
			if !cur.IsRunning(r.Attempt) {
				return nil, nil
			}
			return cur.FailAttempt(r.Attempt, "interrupted: the node stopped while the attempt ran", false, o.now())
		})
		if err != nil {
			return fmt.Errorf("recovering run %s: %w", r.ID, err)
		}
		o.log.Warn("scan attempt interrupted by a restart", "run_id", r.ID, "attempt", r.Attempt)
	}
	o.followDone = make(chan struct{})
	go func() {
		defer close(o.followDone)
		// The next start reads only what comes after this snapshot.
		defer func() {
			if err := o.saveSnapshot(func(t *snapshot.Tracker, pos int64) bool { return t.Changed(pos) }); err != nil {
				o.log.Warn("scans orchestrator: writing the index snapshot", "err", err)
			}
		}()
		c := &eventlog.StoreConsumer{Store: o.follow, BatchSize: orchestratorBatch, StartFrom: func(context.Context) (int64, error) {
			o.syncMu.Lock()
			defer o.syncMu.Unlock()
			return o.cursor.Position, nil
		}}
		if err := c.Run(ctx, o.followBatch); err != nil && ctx.Err() == nil {
			o.followErr = err
		}
	}()
	return nil
}

// orchestratorBatch is the $all page size of the index.
const orchestratorBatch = 1000

// followBatch applies a batch delivered by the consumer. Events at or below the cursor were
// applied already (a sync read them first, or the batch is redelivered) and are skipped.
func (o *Orchestrator) followBatch(_ context.Context, batch []events.Envelope) error {
	o.syncMu.Lock()
	err := o.applyBatchLocked(batch)
	o.syncMu.Unlock()
	if err != nil {
		return err
	}
	// A snapshot that cannot be written is only a slower next start: the follower goes on.
	if err := o.saveSnapshot(func(t *snapshot.Tracker, pos int64) bool { return t.Due(pos, time.Now()) }); err != nil {
		o.log.Warn("scans orchestrator: writing the index snapshot", "err", err)
	}
	return nil
}

// Wait blocks until the follower and every scan running have stopped (Start's ctx ended) and
// returns the follower's error, if any.
func (o *Orchestrator) Wait() error {
	o.scans.Wait()
	if o.followDone == nil {
		return nil
	}
	<-o.followDone
	return o.followErr
}

// sync applies every event after the cursor to the index.
func (o *Orchestrator) sync(ctx context.Context) error {
	o.syncMu.Lock()
	defer o.syncMu.Unlock()
	return eventlog.ReadToHead(ctx, o.follow, o.cursor.Position, orchestratorBatch, o.applyBatchLocked)
}

// applyBatchLocked applies the events of batch after the cursor to the index and moves the
// cursor past each one applied, so that a failure mid-batch never applies an event twice. The
// caller holds syncMu.
func (o *Orchestrator) applyBatchLocked(batch []events.Envelope) error {
	for i := range batch {
		if batch[i].GlobalPosition <= o.cursor.Position {
			continue
		}
		if err := o.apply(&batch[i]); err != nil {
			return err
		}
		o.cursor = snapshot.Mark{Position: batch[i].GlobalPosition, EventID: batch[i].EventID}
	}
	return nil
}

func (o *Orchestrator) apply(e *events.Envelope) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case strings.HasPrefix(e.StreamID, "scans-definition-"):
		id := strings.TrimPrefix(e.StreamID, "scans-definition-")
		d := entryOf(o.defs, id, func() *defEntry { return &defEntry{} })
		d.version = e.Version
		return d.def.Apply(e)
	case strings.HasPrefix(e.StreamID, "scans-run-"):
		id := strings.TrimPrefix(e.StreamID, "scans-run-")
		r := entryOf(o.runs, id, func() *domain.Run { return &domain.Run{ID: id} })
		if err := r.Apply(e); err != nil {
			return err
		}
		o.runVersions[id] = e.Version
		if e.Type == contracts.TypeScanRequested {
			o.runsByDef[r.DefinitionID] = append(o.runsByDef[r.DefinitionID], id)
		}
	}
	return nil
}

// entryOf is m's entry for id, made by newEntry and added when there is none yet.
func entryOf[T any](m map[string]*T, id string, newEntry func() *T) *T {
	v := m[id]
	if v == nil {
		v = newEntry()
		m[id] = v
	}
	return v
}

func expected(version int64) events.ExpectedVersion {
	if version == 0 {
		return events.NoStream
	}
	return events.Exact(version)
}

// save appends and brings the index up to date, so a read after a write sees it.
func (o *Orchestrator) save(ctx context.Context, stream string, version int64, meta es.Meta, changes []es.Change) (events.AppendResult, error) {
	res, err := es.Save(ctx, o.store, stream, expected(version), meta, changes)
	if err != nil {
		return res, err
	}
	if err := o.sync(ctx); err != nil {
		o.log.Warn("scans orchestrator: refreshing the index after a write", "err", err)
	}
	return res, nil
}

func (o *Orchestrator) loadRun(ctx context.Context, id string) (*domain.Run, int64, error) {
	r := &domain.Run{ID: id}
	v, err := es.Load(ctx, o.store, domain.RunStreamID(id), r)
	return r, v, err
}

func (o *Orchestrator) loadDefinition(ctx context.Context, id string) (*domain.Definition, int64, error) {
	d := &domain.Definition{ID: id}
	v, err := es.Load(ctx, o.store, domain.DefinitionStreamID(id), d)
	return d, v, err
}

// existingDefinition loads a definition a caller names; one that was never created (or an id
// that is no UUID, so it could not have been) is a NotFoundError. A deleted one is returned.
func (o *Orchestrator) existingDefinition(ctx context.Context, id string) (*domain.Definition, int64, error) {
	notFound := &domain.NotFoundError{What: "scan definition", ID: id}
	if !isUUID(id) {
		return nil, 0, notFound
	}
	d, v, err := o.loadDefinition(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	if !d.Exists() {
		return nil, 0, notFound
	}
	return d, v, nil
}

// decideRun loads a run, decides and appends; a version conflict (another node or goroutine
// moved the run meanwhile) reloads and decides again. decide returning no change appends
// nothing.
func (o *Orchestrator) decideRun(ctx context.Context, id string, meta es.Meta, decide func(r *domain.Run) ([]es.Change, error)) error {
	_, err := o.decideRunResult(ctx, id, meta, decide)
	return err
}

func (o *Orchestrator) decideRunResult(ctx context.Context, id string, meta es.Meta, decide func(r *domain.Run) ([]es.Change, error)) (events.AppendResult, error) {
	for try := 0; ; try++ {
		r, v, err := o.loadRun(ctx, id)
		if err != nil {
			return events.AppendResult{}, err
		}
		changes, err := decide(r)
		if err != nil || len(changes) == 0 {
			return events.AppendResult{NextExpectedVersion: v}, err
		}
		res, err := o.save(ctx, domain.RunStreamID(id), v, meta, changes)
		var vc *events.VersionConflictError
		if errors.As(err, &vc) && try < 5 {
			continue
		}
		return res, err
	}
}

// runIDNamespace derives deterministic run ids.
var runIDNamespace = uuid.MustParse("3c1f6f0e-5a2b-4f7d-8e9a-2b6c4d1e7f30")

// ScheduledRunID is the run id of a definition's scheduled run at scheduledFor: the same
// (definition, time) always names the same run, so a redelivered command requests it once.
func ScheduledRunID(definitionID string, scheduledFor time.Time) string {
	return uuid.NewHash(sha1.New(), runIDNamespace, []byte(definitionID+"|"+scheduledFor.UTC().Format(time.RFC3339Nano)), 5).String()
}

func keyedID(parts ...string) string {
	return uuid.NewHash(sha1.New(), runIDNamespace, []byte(strings.Join(parts, "\x00")), 5).String()
}

// CommandError is a malformed command payload.
type CommandError struct {
	Type   string
	Reason string
}

func (e *CommandError) Error() string      { return e.Type + ": " + e.Reason }
func (e *CommandError) Kind() problem.Kind { return problem.KindInvalid }

func isUUID(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && u.String() == s
}

// RegisterCommands registers the handlers of the scan sagas' commands on b. o nil (a process
// without the orchestrator: no commands target) registers them failing with that reason, so the
// dispatcher records why and retries. The command's id is the idempotency key: a redelivered
// command appends nothing twice (the event ids derive from it, and a run that has moved past
// what the command asks for makes it a no-op).
func RegisterCommands(b *bus.Bus, o *Orchestrator) error {
	return errors.Join(
		registerCommand(b, o, CmdRequestScheduledRun, (*Orchestrator).requestScheduledCommand),
		registerCommand(b, o, CmdExecuteRun, (*Orchestrator).executeCommand),
		registerCommand(b, o, CmdTimeoutRun, (*Orchestrator).timeoutCommand),
		registerCommand(b, o, CmdAbortRun, (*Orchestrator).abortCommand),
	)
}

// registerCommand registers h for typ, called with the orchestrator and the metadata of the
// events the command appends.
func registerCommand[C any](b *bus.Bus, o *Orchestrator, typ string, h func(*Orchestrator, context.Context, es.Meta, C) error) error {
	return bus.Register(b, typ, func(ctx context.Context, id string, c C) error {
		if o == nil {
			return fmt.Errorf("%s: the commands target (which runs scans) is not running in this process", typ)
		}
		return h(o, ctx, es.Meta{Actor: es.ActorOf(ctx, OrchestratorActor), IdempotencyKey: id, CausationID: id}, c)
	})
}

// The schemas check the payloads' shape; the handlers check what a schema cannot say: a
// canonical, lower-case uuid (stream ids are built from it).

func (o *Orchestrator) requestScheduledCommand(ctx context.Context, meta es.Meta, p contracts.RequestScheduledScanRun) error {
	if !isUUID(p.DefinitionID) || p.ScheduledFor.IsZero() {
		return &CommandError{Type: CmdRequestScheduledRun, Reason: "payload must be {definition_id: uuid, scheduled_for: time}"}
	}
	return o.requestScheduled(ctx, meta, p.DefinitionID, p.ScheduledFor)
}

func (o *Orchestrator) executeCommand(ctx context.Context, meta es.Meta, p contracts.ExecuteScanRun) error {
	if err := checkRunAttempt(CmdExecuteRun, p.RunID, p.Attempt); err != nil {
		return err
	}
	return o.execute(ctx, meta, p.RunID, p.Attempt)
}

func (o *Orchestrator) timeoutCommand(ctx context.Context, meta es.Meta, p contracts.TimeoutScanRun) error {
	if err := checkRunAttempt(CmdTimeoutRun, p.RunID, p.Attempt); err != nil {
		return err
	}
	return o.timeout(ctx, meta, p.RunID, p.Attempt)
}

func (o *Orchestrator) abortCommand(ctx context.Context, meta es.Meta, p contracts.AbortScanRun) error {
	if !isUUID(p.RunID) || p.Reason == "" {
		return &CommandError{Type: CmdAbortRun, Reason: "payload must be {run_id: uuid, reason: text}"}
	}
	return o.abort(ctx, meta, p.RunID, p.Reason)
}

func checkRunAttempt(typ, runID string, attempt int) error {
	if !isUUID(runID) || attempt < 1 {
		return &CommandError{Type: typ, Reason: "payload must be {run_id: uuid, attempt: n ≥ 1}"}
	}
	return nil
}

// abort fails a run that is not finished: the attempt in progress fails for good (its process
// is stopped if it runs here), a run waiting for an attempt fails. A finished run is left alone.
func (o *Orchestrator) abort(ctx context.Context, meta es.Meta, runID, reason string) error {
	meta.CorrelationID = runID
	running := 0
	err := o.decideRun(ctx, runID, meta, func(cur *domain.Run) ([]es.Change, error) {
		switch {
		case !cur.Exists() || cur.Status.Terminal():
			return nil, nil
		case cur.IsRunning(cur.Attempt):
			running = cur.Attempt
			return cur.FailAttempt(cur.Attempt, "aborted: "+reason, true, o.now())
		default:
			return cur.Abort("aborted: " + reason)
		}
	})
	if err == nil && running > 0 {
		o.stop(runID, running, errors.New("aborted: "+reason))
	}
	return err
}

func (o *Orchestrator) requestScheduled(ctx context.Context, meta es.Meta, defID string, at time.Time) error {
	def, _, err := o.loadDefinition(ctx, defID)
	if err != nil {
		return err
	}
	if !def.Exists() || def.Deleted || def.Spec.Scanner != domain.ScannerNmap {
		// The schedule outlived its definition (the saga completes on deletion): nothing to run.
		return nil
	}
	at = at.UTC()
	runID := ScheduledRunID(defID, at)
	meta.CorrelationID = runID
	return o.decideRun(ctx, runID, meta, func(r *domain.Run) ([]es.Change, error) {
		if r.Exists() {
			return nil, nil // requested already: a redelivery
		}
		return r.Request(domain.RunRequest{DefinitionID: defID, Trigger: domain.TriggerSchedule, ScheduledFor: &at, Policy: policyOf(def.Spec)})
	})
}

func policyOf(s domain.Spec) domain.Policy {
	return domain.Policy{TimeoutSeconds: s.TimeoutSeconds, MaxAttempts: s.MaxAttempts, RetryBackoffSeconds: s.RetryBackoffSeconds}
}

// execute starts attempt n of a run: ScanStarted is stored before the command returns; the
// scanner runs in the background (bounded by Concurrency) and its outcome is appended later.
func (o *Orchestrator) execute(ctx context.Context, meta es.Meta, runID string, attempt int) error {
	o.activeMu.Lock()
	runCtx := o.runCtx
	o.activeMu.Unlock()
	if runCtx == nil {
		return errors.New("scans orchestrator: not started")
	}
	r, _, err := o.loadRun(ctx, runID)
	if err != nil {
		return err
	}
	if !r.IsNextAttempt(attempt) {
		return nil // stale: started already, overtaken, cancelled or finished
	}
	meta.CorrelationID = runID
	def, _, err := o.loadDefinition(ctx, r.DefinitionID)
	if err != nil {
		return err
	}
	if !def.Exists() || def.Deleted {
		return o.decideRun(ctx, runID, meta, func(cur *domain.Run) ([]es.Change, error) {
			if !cur.IsNextAttempt(attempt) {
				return nil, nil
			}
			return cur.Abort("the scan definition was deleted")
		})
	}
	spec, argv, prepErr := o.prepare(ctx, def.Spec, runID, attempt)
	if prepErr != nil {
		argv = []string{}
	}
	started := false
	err = o.decideRun(ctx, runID, meta, func(cur *domain.Run) ([]es.Change, error) {
		if !cur.IsNextAttempt(attempt) {
			return nil, nil
		}
		started = true
		return cur.Start(attempt, argv, o.cfg.Node)
	})
	if err != nil || !started {
		return err
	}
	if prepErr != nil {
		// Refused targets or options cannot get better by retrying: fail the run now.
		o.finishAttempt(runID, attempt, func(cur *domain.Run) ([]es.Change, error) {
			return cur.FailAttempt(attempt, prepErr.Error(), runner.Permanent(prepErr), o.now())
		})
		return nil
	}
	actx, cancel := context.WithCancelCause(runCtx)
	o.activeMu.Lock()
	if old := o.active[runID]; old != nil {
		old.cancel(errors.New("superseded by a later attempt"))
	}
	a := &activeAttempt{attempt: attempt, cancel: cancel}
	o.active[runID] = a
	o.activeMu.Unlock()
	o.scans.Add(1)
	go func() {
		defer o.scans.Done()
		defer func() {
			cancel(nil)
			o.activeMu.Lock()
			if o.active[runID] == a {
				delete(o.active, runID)
			}
			o.activeMu.Unlock()
		}()
		select {
		case o.sem <- struct{}{}:
			defer func() { <-o.sem }()
		case <-actx.Done():
			return // cancelled or timed out while queued: whoever did it recorded it
		}
		o.attempt(actx, runCtx, runID, attempt, spec)
	}()
	return nil
}

// prepare resolves the definition's targets against the allowlist and builds the argv.
func (o *Orchestrator) prepare(ctx context.Context, s domain.Spec, runID string, attempt int) (RunSpec, []string, error) {
	spec := RunSpec{RunID: runID, Attempt: attempt, AssetID: s.Target.AssetID}
	if s.Options != nil {
		spec.Options = *s.Options
	}
	targets := append([]string(nil), s.Target.Addresses...)
	if s.Target.AssetID != "" {
		ts, active, err := o.assetTargets(ctx, s.Target.AssetID)
		if err != nil {
			return spec, nil, err
		}
		if !active {
			return spec, nil, &runner.TargetError{Target: s.Target.AssetID, Reason: "no such active asset"}
		}
		targets = append(targets, ts...)
	}
	checked, err := runner.CheckTargets(ctx, o.cfg.Resolver, targets, o.cfg.AllowedTargets)
	if err != nil {
		return spec, nil, err
	}
	spec.Targets = checked
	if b, ok := o.runner.(argvBuilder); ok {
		argv, err := b.Argv(checked, spec.Options)
		return spec, argv, err
	}
	return spec, append([]string{fmt.Sprintf("%T", o.runner)}, checked...), nil
}

// assetTargets are what a definition targeting the asset scans, as the assets context has them
// now (see assetapp.ScanTargets).
func (o *Orchestrator) assetTargets(ctx context.Context, assetID string) (targets []string, active bool, err error) {
	return assetapp.ScanTargets(ctx, o.store, assetID)
}

// attempt runs the scanner, keeps the evidence, imports it and records the outcome. The import
// runs under the orchestrator's context, not the attempt's: once the scanner has finished, a
// cancel or timeout stops nothing half-way through recording findings.
func (o *Orchestrator) attempt(actx, runCtx context.Context, runID string, attempt int, spec RunSpec) {
	fail := func(err error, permanent bool) {
		o.finishAttempt(runID, attempt, func(cur *domain.Run) ([]es.Change, error) {
			return cur.FailAttempt(attempt, err.Error(), permanent, o.now())
		})
	}
	xml, _, err := o.runner.Run(actx, spec)
	if actx.Err() != nil {
		return // cancelled or timed out: recorded by whoever stopped it
	}
	if err != nil {
		fail(err, runner.Permanent(err))
		return
	}
	ev, err := o.writeEvidence(runID, fmt.Sprintf("attempt-%d.xml", attempt), strings.NewReader(string(xml)))
	if err != nil {
		fail(fmt.Errorf("keeping the evidence: %w", err), false)
		return
	}
	sum, err, permanent := o.importEvidence(runCtx, ev, ImportScanReport{Format: "nmap", ScanID: runID, Actor: OrchestratorActor, Asset: spec.AssetID})
	if err != nil {
		fail(fmt.Errorf("import: %w", err), permanent)
		return
	}
	o.finishAttempt(runID, attempt, func(cur *domain.Run) ([]es.Change, error) {
		return cur.Complete(attempt, ev, sum)
	})
}

// finishAttempt records an attempt's outcome unless the attempt is not running any more (a
// timeout or a cancel decided first).
func (o *Orchestrator) finishAttempt(runID string, attempt int, decide func(cur *domain.Run) ([]es.Change, error)) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	meta := es.Meta{Actor: OrchestratorActor, CorrelationID: runID, IdempotencyKey: fmt.Sprintf("finish|%s|%d", runID, attempt)}
	err := o.decideRun(ctx, runID, meta, func(cur *domain.Run) ([]es.Change, error) {
		if !cur.IsRunning(attempt) {
			return nil, nil
		}
		return decide(cur)
	})
	if err != nil {
		o.log.Error("recording a scan attempt's outcome", "run_id", runID, "attempt", attempt, "err", err)
	}
}

// importEvidence imports the evidence file. A scan id can be imported once: when an earlier
// attempt's import of this run completed (a crash between the import and ScanCompleted, or a
// timeout that overtook it), its summary is reused; a failed earlier import cannot be redone
// under the same scan id, so that is a permanent failure.
func (o *Orchestrator) importEvidence(ctx context.Context, ev domain.Evidence, cmd ImportScanReport) (domain.ImportSummary, error, bool) {
	f, err := os.Open(o.evidencePath(ev.Path))
	if err != nil {
		return domain.ImportSummary{}, err, false
	}
	defer f.Close()
	cmd.Report = f
	res, err := o.cfg.Import(ctx, cmd)
	runID := cmd.ScanID
	var already *AlreadyImportedError
	if errors.As(err, &already) {
		evs, rerr := o.store.ReadStream(ctx, ImportStreamID(runID), events.ReadStreamOptions{})
		if rerr == nil && len(evs) > 0 && evs[len(evs)-1].Type == contracts.TypeScanImportCompleted {
			var sum domain.ImportSummary
			if jerr := json.Unmarshal(evs[len(evs)-1].Data, &sum); jerr == nil {
				return sum, nil, false
			}
		}
		return domain.ImportSummary{}, err, true
	}
	if err != nil {
		var ke problem.KindError
		return domain.ImportSummary{}, err, errors.As(err, &ke) && ke.Kind() == problem.KindInvalid
	}
	return res.runSummary(), nil, false
}

func (o *Orchestrator) evidencePath(rel string) string {
	return o.cfg.EvidenceDir + string(os.PathSeparator) + rel
}

// writeEvidence stores a report as <run id>/<name> under EvidenceDir and hashes it.
func (o *Orchestrator) writeEvidence(runID, name string, r io.Reader) (domain.Evidence, error) {
	dir := o.evidencePath(runID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return domain.Evidence{}, err
	}
	rel := runID + "/" + name
	f, err := os.OpenFile(o.evidencePath(rel), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return domain.Evidence{}, err
	}
	h := newHasher()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(o.evidencePath(rel))
		return domain.Evidence{}, err
	}
	return domain.Evidence{Path: rel, SHA256: h.hex(), Bytes: n}, nil
}

// timeout fails attempt n if it still runs and stops its process.
func (o *Orchestrator) timeout(ctx context.Context, meta es.Meta, runID string, attempt int) error {
	var limit int
	timedOut := false
	meta.CorrelationID = runID
	err := o.decideRun(ctx, runID, meta, func(cur *domain.Run) ([]es.Change, error) {
		if !cur.IsRunning(attempt) {
			return nil, nil // finished, cancelled or a later attempt: stale
		}
		limit, timedOut = cur.Policy.TimeoutSeconds, true
		return cur.FailAttempt(attempt, fmt.Sprintf("timed out after %s", time.Duration(limit)*time.Second), false, o.now())
	})
	if err != nil || !timedOut {
		return err
	}
	o.stop(runID, attempt, fmt.Errorf("timed out after %ds", limit))
	return nil
}

// stop kills the process of a run's attempt if it runs on this node. It is called after the
// event that ends the attempt is stored, so the attempt's own outcome finds it not running.
func (o *Orchestrator) stop(runID string, attempt int, cause error) {
	o.activeMu.Lock()
	defer o.activeMu.Unlock()
	if a := o.active[runID]; a != nil && (attempt == 0 || a.attempt == attempt) {
		a.cancel(cause)
	}
}
