package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/socplatform/soc/commands/identity/tokens"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/scans/domain"
	"github.com/socplatform/soc/commands/scans/runner"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// NewDefinition answers CreateDefinition. Token is the push token of an external
// definition: it is returned once and only its SHA-256 is stored.
type NewDefinition struct {
	ID       string `json:"id"`
	Position int64  `json:"position"`
	Version  int64  `json:"version"`
	Token    string `json:"token,omitempty"`
	Replayed bool   `json:"-"`
}

// WriteResult answers the other writes.
type WriteResult struct {
	ID       string `json:"id"`
	Version  int64  `json:"version"`
	Position int64  `json:"position"`
}

// TokenError: a push without the definition's token.
type TokenError struct{ Reason string }

func (e *TokenError) Error() string { return e.Reason }

// PushFormatError: a push names another format than its definition's.
type PushFormatError struct{ Want, Got string }

func (e *PushFormatError) Error() string {
	return fmt.Sprintf("this definition receives %s reports, not %s", e.Want, e.Got)
}
func (e *PushFormatError) Kind() problem.Kind { return problem.KindInvalid }
func (e *PushFormatError) Field() string      { return "format" }

// idempotentID is the id a request's idempotency key derives, scoped to the actor (as es.Exec
// scopes the commands' keys): another principal's request with the same key is a new request,
// and cannot learn what the first one created.
func idempotentID(kind string, meta es.Meta) string {
	if meta.IdempotencyKey == "" {
		return uuid.Must(uuid.NewV7()).String()
	}
	return keyedID(kind, meta.Actor, meta.IdempotencyKey)
}

// TargetNotAllowedError: a definition being written targets what its runs would refuse (an
// address outside the allowlist, a prefix too large). Pointer names the definition's field:
// /target/addresses/<i>, or /target/asset_id for an address of the asset it targets.
type TargetNotAllowedError struct {
	Pointer string
	Asset   string // the asset whose address it is, for /target/asset_id
	Err     *runner.TargetError
}

func (e *TargetNotAllowedError) Error() string {
	if e.Asset != "" {
		return fmt.Sprintf("asset %s: %v", e.Asset, e.Err)
	}
	return e.Err.Error()
}
func (e *TargetNotAllowedError) Unwrap() error { return e.Err }

// Kind implements problem.KindError: a well-formed target the allowlist refuses is a 422.
func (e *TargetNotAllowedError) Kind() problem.Kind { return problem.KindRejected }

// Field implements problem.FieldError.
func (e *TargetNotAllowedError) Field() string { return e.Pointer }

// checkTargets refuses an nmap definition whose runs would be refused by the allowlist, so that
// it fails when it is written rather than at its first run. Each target goes through the run's
// own check (runner.CheckTargets): addresses and prefixes, host names resolved now, and the
// addresses of the targeted asset when it is active now. What cannot be told now is left to
// the run, which checks everything again: a host name that does not resolve from here, an
// asset not registered yet, and later changes of an asset's addresses or of DNS. External
// definitions are not checked: this platform never scans their targets.
func (o *Orchestrator) checkTargets(ctx context.Context, spec domain.Spec) error {
	if spec.Scanner != domain.ScannerNmap {
		return nil
	}
	for i, t := range spec.Target.Addresses {
		if te := o.refusedTarget(ctx, t); te != nil {
			return &TargetNotAllowedError{Pointer: fmt.Sprintf("/target/addresses/%d", i), Err: te}
		}
	}
	if spec.Target.AssetID == "" {
		return nil
	}
	targets, active, err := o.assetTargets(ctx, spec.Target.AssetID)
	if err != nil || !active {
		return err
	}
	for _, t := range targets {
		if te := o.refusedTarget(ctx, t); te != nil {
			return &TargetNotAllowedError{Pointer: "/target/asset_id", Asset: spec.Target.AssetID, Err: te}
		}
	}
	return nil
}

// refusedTarget is the run's refusal of target t, or nil when the run would scan it or it cannot
// be told now (resolving a host name failed).
func (o *Orchestrator) refusedTarget(ctx context.Context, t string) *runner.TargetError {
	_, err := runner.CheckTargets(ctx, o.cfg.Resolver, []string{t}, o.cfg.AllowedTargets)
	var te *runner.TargetError
	if errors.As(err, &te) {
		return te
	}
	return nil
}

// CreateDefinition validates spec and appends ScanDefinitionCreated. With an idempotency key
// the id derives from it, so a retried request creates nothing twice (and answers Replayed,
// without the token, which only the first answer carries).
func (o *Orchestrator) CreateDefinition(ctx context.Context, spec domain.Spec, meta es.Meta) (NewDefinition, error) {
	if err := o.checkOptions(&spec); err != nil {
		return NewDefinition{}, err
	}
	if err := o.checkTargets(ctx, spec); err != nil {
		return NewDefinition{}, err
	}
	id := idempotentID("definition", meta)
	d, v, err := o.loadDefinition(ctx, id)
	if err != nil {
		return NewDefinition{}, err
	}
	if d.Exists() && meta.IdempotencyKey != "" {
		return NewDefinition{ID: id, Version: v, Replayed: true}, nil
	}
	var token, tokenHash string
	if spec.Scanner == domain.ScannerExternal {
		if token, err = o.pushToken(ctx, id); err != nil {
			return NewDefinition{}, err
		}
		// Hashed as the identity context hashes its API tokens: in the binary the push token
		// is one, and its hash is how a push is told from any other bearer of imports:write.
		tokenHash = tokens.HashSecret(token)
	}
	changes, err := d.Create(spec, tokenHash)
	if err != nil {
		return NewDefinition{}, err
	}
	meta.CorrelationID = id
	res, err := o.save(ctx, domain.DefinitionStreamID(id), v, meta, changes)
	if err != nil {
		return NewDefinition{}, err
	}
	return NewDefinition{ID: id, Position: res.LastPosition, Version: res.NextExpectedVersion, Token: token}, nil
}

// pushToken is the token an external definition's reports are pushed with: an API token from
// PushTokens, else 32 random bytes of its own.
func (o *Orchestrator) pushToken(ctx context.Context, definitionID string) (string, error) {
	if o.cfg.PushTokens != nil {
		return o.cfg.PushTokens.IssuePushToken(ctx, domain.DefinitionStreamID(definitionID))
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// checkOptions validates the spec, and nmap options against the runner (scripts that exist).
func (o *Orchestrator) checkOptions(spec *domain.Spec) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	if v, ok := o.runner.(optionsValidator); ok && spec.Options != nil {
		return v.ValidateOptions(*spec.Options)
	}
	return nil
}

// UpdateDefinition replaces a definition's spec. ifMatch, when not nil, is the version the
// caller expects.
func (o *Orchestrator) UpdateDefinition(ctx context.Context, id string, spec domain.Spec, ifMatch *int64, meta es.Meta) (WriteResult, error) {
	if err := o.checkOptions(&spec); err != nil {
		return WriteResult{}, err
	}
	if err := o.checkTargets(ctx, spec); err != nil {
		return WriteResult{}, err
	}
	return o.decideDefinition(ctx, id, ifMatch, meta, func(d *domain.Definition) ([]es.Change, error) { return d.Update(spec) })
}

// DeleteDefinition deletes a definition: its schedule stops and pushes are refused.
func (o *Orchestrator) DeleteDefinition(ctx context.Context, id, reason string, ifMatch *int64, meta es.Meta) (WriteResult, error) {
	return o.decideDefinition(ctx, id, ifMatch, meta, func(d *domain.Definition) ([]es.Change, error) { return d.Delete(reason) })
}

func (o *Orchestrator) decideDefinition(ctx context.Context, id string, ifMatch *int64, meta es.Meta, decide func(*domain.Definition) ([]es.Change, error)) (WriteResult, error) {
	d, v, err := o.existingDefinition(ctx, id)
	if err != nil {
		return WriteResult{}, err
	}
	if ifMatch != nil && *ifMatch != v {
		return WriteResult{}, &events.VersionConflictError{StreamID: domain.DefinitionStreamID(id), Expected: events.Exact(*ifMatch), Actual: v}
	}
	changes, err := decide(d)
	if err != nil {
		return WriteResult{}, err
	}
	meta.CorrelationID = id
	res, err := o.save(ctx, domain.DefinitionStreamID(id), v, meta, changes)
	if err != nil {
		return WriteResult{}, err
	}
	return WriteResult{ID: id, Version: res.NextExpectedVersion, Position: res.LastPosition}, nil
}

// RequestRun requests a manual run of an nmap definition; its saga executes it.
func (o *Orchestrator) RequestRun(ctx context.Context, definitionID string, meta es.Meta) (WriteResult, error) {
	def, _, err := o.existingDefinition(ctx, definitionID)
	if err != nil {
		return WriteResult{}, err
	}
	if def.Deleted {
		return WriteResult{}, &domain.StateError{What: "scan definition", ID: definitionID, State: "deleted", Action: "run it"}
	}
	if def.Spec.Scanner != domain.ScannerNmap {
		return WriteResult{}, &domain.StateError{What: "scan definition", ID: definitionID, State: "external", Action: "run it here (its scanner pushes its reports)"}
	}
	runID := idempotentID("manual-run|"+definitionID, meta)
	meta.CorrelationID = runID
	res, err := o.decideRunResult(ctx, runID, meta, func(r *domain.Run) ([]es.Change, error) {
		if r.Exists() {
			return nil, nil // the same idempotency key: already requested
		}
		return r.Request(domain.RunRequest{DefinitionID: definitionID, Trigger: domain.TriggerManual, RequestedBy: meta.Actor, Policy: policyOf(def.Spec)})
	})
	if err != nil {
		return WriteResult{}, err
	}
	return WriteResult{ID: runID, Version: res.NextExpectedVersion, Position: res.LastPosition}, nil
}

// CancelRun cancels a run that has not finished and kills its process if it runs here.
func (o *Orchestrator) CancelRun(ctx context.Context, runID, reason string, meta es.Meta) (WriteResult, error) {
	if !isUUID(runID) {
		return WriteResult{}, &domain.NotFoundError{What: "scan run", ID: runID}
	}
	meta.CorrelationID = runID
	res, err := o.decideRunResult(ctx, runID, meta, func(r *domain.Run) ([]es.Change, error) {
		if !r.Exists() {
			return nil, &domain.NotFoundError{What: "scan run", ID: runID}
		}
		if r.Status == domain.RunCancelled && meta.IdempotencyKey != "" {
			return nil, nil // a retried cancel
		}
		return r.Cancel(reason, meta.Actor)
	})
	if err != nil {
		return WriteResult{}, err
	}
	o.stop(runID, 0, errors.New("cancelled"))
	return WriteResult{ID: runID, Version: res.NextExpectedVersion, Position: res.LastPosition}, nil
}

// PushResult answers PushReport.
type PushResult struct {
	RunID    string               `json:"run_id"`
	Position int64                `json:"position"`
	Status   domain.RunStatus     `json:"status"`
	Summary  domain.ImportSummary `json:"summary"`
	Error    string               `json:"error,omitempty"`
}

// AuthorizePush checks token against an external definition's token hash in constant time.
// The definition must exist, be live and be external.
func (o *Orchestrator) AuthorizePush(ctx context.Context, definitionID, token string) (domain.Spec, error) {
	def, _, err := o.existingDefinition(ctx, definitionID)
	if err != nil {
		return domain.Spec{}, err
	}
	if def.TokenSHA256 == "" {
		return domain.Spec{}, &TokenError{Reason: "this definition does not accept pushed reports"}
	}
	if token == "" || !tokens.SecretMatches(token, def.TokenSHA256) {
		return domain.Spec{}, &TokenError{Reason: "missing or wrong push token"}
	}
	if def.Deleted {
		return domain.Spec{}, &domain.StateError{What: "scan definition", ID: definitionID, State: "deleted", Action: "receive reports"}
	}
	return def.Spec, nil
}

// PushReport imports a report pushed by an external scanner: a run (trigger push) with one
// attempt, the report kept as evidence, imported under the run id. Call AuthorizePush first.
// With an idempotency key the run id derives from it, so a retried push imports once.
func (o *Orchestrator) PushReport(ctx context.Context, definitionID string, spec domain.Spec, format string, body io.Reader, meta es.Meta) (PushResult, error) {
	if format == "" {
		format = spec.Format
	}
	if format != spec.Format {
		return PushResult{}, &PushFormatError{Want: spec.Format, Got: format}
	}
	runID := idempotentID("push|"+definitionID, meta)
	if r, _, err := o.loadRun(ctx, runID); err != nil {
		return PushResult{}, err
	} else if r.Exists() {
		return pushResultOf(r), nil
	}
	ev, err := o.writeEvidence(runID, "attempt-1."+format, body)
	if err != nil {
		return PushResult{}, err
	}
	if ev.Bytes == 0 {
		os.RemoveAll(o.evidencePath(runID))
		return PushResult{}, &PushFormatError{Want: "a report", Got: "an empty body"}
	}
	meta.CorrelationID = runID
	// One push is one attempt: the report cannot be pushed again by us, so no retry.
	pol := domain.Policy{TimeoutSeconds: spec.TimeoutSeconds, MaxAttempts: 1, RetryBackoffSeconds: 0}
	r := &domain.Run{ID: runID}
	changes, err := r.Request(domain.RunRequest{DefinitionID: definitionID, Trigger: domain.TriggerPush, RequestedBy: meta.Actor, Policy: pol})
	if err != nil {
		return PushResult{}, err
	}
	// The run's first events are decided on a run that does not exist yet; their data is
	// fixed, so they are appended as one batch at NoStream.
	changes = append(changes, es.Change{Type: contracts.TypeScanStarted, Data: contracts.ScanStarted{Attempt: 1, Command: []string{}, Node: o.cfg.Node}})
	if _, err := o.save(ctx, domain.RunStreamID(runID), 0, meta, changes); err != nil {
		os.RemoveAll(o.evidencePath(runID))
		return PushResult{}, err
	}
	sum, ierr, _ := o.importEvidence(ctx, ev, ImportScanReport{Format: format, ScanID: runID, Actor: meta.Actor, Asset: spec.Target.AssetID})
	fmeta := meta
	fmeta.IdempotencyKey = ""
	res, err := o.decideRunResult(context.WithoutCancel(ctx), runID, fmeta, func(cur *domain.Run) ([]es.Change, error) {
		if !cur.IsRunning(1) {
			return nil, nil // cancelled meanwhile
		}
		if ierr != nil {
			return cur.FailAttempt(1, "import: "+ierr.Error(), true, o.now())
		}
		return cur.Complete(1, ev, sum)
	})
	if err != nil {
		return PushResult{}, err
	}
	out := PushResult{RunID: runID, Position: res.LastPosition, Summary: sum, Status: domain.RunCompleted}
	if ierr != nil {
		out.Status, out.Error = domain.RunFailed, ierr.Error()
		return out, ierr
	}
	return out, nil
}

func pushResultOf(r *domain.Run) PushResult {
	out := PushResult{RunID: r.ID, Status: r.Status, Error: r.LastError}
	if r.Import != nil {
		out.Summary = *r.Import
	}
	return out
}

// DefinitionView is a definition as the API shows it (never the token hash).
type DefinitionView struct {
	ID                  string              `json:"id"`
	Name                string              `json:"name"`
	Scanner             string              `json:"scanner"`
	Target              domain.Target       `json:"target"`
	Options             *domain.NmapOptions `json:"options,omitempty"`
	Schedule            string              `json:"schedule,omitempty"`
	TimeoutSeconds      int                 `json:"timeout_seconds"`
	MaxAttempts         int                 `json:"max_attempts"`
	RetryBackoffSeconds int                 `json:"retry_backoff_seconds"`
	Format              string              `json:"format"`
	Deleted             bool                `json:"deleted"`
	Version             int64               `json:"version"`
	Runs                []RunView           `json:"runs,omitempty"`
}

// RunView is a run as the API shows it.
type RunView struct {
	ID            string                `json:"id"`
	DefinitionID  string                `json:"definition_id"`
	Trigger       string                `json:"trigger"`
	Status        domain.RunStatus      `json:"status"`
	Attempt       int                   `json:"attempt"`
	MaxAttempts   int                   `json:"max_attempts"`
	ScheduledFor  *time.Time            `json:"scheduled_for,omitempty"`
	RequestedBy   string                `json:"requested_by,omitempty"`
	Node          string                `json:"node,omitempty"`
	Command       []string              `json:"command,omitempty"`
	LastError     string                `json:"last_error,omitempty"`
	NextAttemptAt *time.Time            `json:"next_attempt_at,omitempty"`
	Evidence      *domain.Evidence      `json:"evidence,omitempty"`
	Import        *domain.ImportSummary `json:"import,omitempty"`
	CancelReason  string                `json:"cancel_reason,omitempty"`
	RequestedAt   time.Time             `json:"requested_at"`
	StartedAt     *time.Time            `json:"started_at,omitempty"`
	FinishedAt    *time.Time            `json:"finished_at,omitempty"`
}

// RecentRuns is how many runs GET /v1/scan-definitions/{id} shows.
const RecentRuns = 20

func defView(id string, e *defEntry) DefinitionView {
	s := e.def.Spec
	return DefinitionView{ID: id, Name: s.Name, Scanner: s.Scanner, Target: s.Target, Options: s.Options, Schedule: s.Schedule,
		TimeoutSeconds: s.TimeoutSeconds, MaxAttempts: s.MaxAttempts, RetryBackoffSeconds: s.RetryBackoffSeconds,
		Format: s.Format, Deleted: e.def.Deleted, Version: e.version}
}

func runView(r *domain.Run) RunView {
	t := func(x time.Time) *time.Time {
		if x.IsZero() {
			return nil
		}
		return &x
	}
	return RunView{ID: r.ID, DefinitionID: r.DefinitionID, Trigger: r.Trigger, Status: r.Status, Attempt: r.Attempt,
		MaxAttempts: r.Policy.MaxAttempts, ScheduledFor: r.ScheduledFor, RequestedBy: r.RequestedBy, Node: r.Node,
		Command: r.Command, LastError: r.LastError, NextAttemptAt: r.NextAttemptAt, Evidence: r.Evidence, Import: r.Import,
		CancelReason: r.CancelReason, RequestedAt: r.RequestedAt, StartedAt: t(r.StartedAt), FinishedAt: t(r.FinishedAt)}
}

// Definitions lists the definitions (deleted ones too, marked), by name.
func (o *Orchestrator) Definitions() []DefinitionView {
	o.mu.RLock()
	defer o.mu.RUnlock()
	out := make([]DefinitionView, 0, len(o.defs))
	for id, e := range o.defs {
		if e.def.Exists() {
			out = append(out, defView(id, e))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Definition returns a definition with its RecentRuns latest runs, newest first.
func (o *Orchestrator) Definition(id string) (DefinitionView, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	e := o.defs[id]
	if e == nil || !e.def.Exists() {
		return DefinitionView{}, false
	}
	v := defView(id, e)
	ids := o.runsByDef[id]
	for i := len(ids) - 1; i >= 0 && len(v.Runs) < RecentRuns; i-- {
		v.Runs = append(v.Runs, runView(o.runs[ids[i]]))
	}
	return v, true
}

// Run returns a run.
func (o *Orchestrator) Run(id string) (RunView, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	r := o.runs[id]
	if r == nil || !r.Exists() {
		return RunView{}, false
	}
	return runView(r), true
}

// Sync brings the index up to date with the store (tests, and readers that need their own
// write reflected).
func (o *Orchestrator) Sync(ctx context.Context) error { return o.sync(ctx) }
