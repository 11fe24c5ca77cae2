package domain

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

// RunStatus is a run's lifecycle state.
type RunStatus string

const (
	RunRequested RunStatus = "requested"
	RunRunning   RunStatus = "running"
	RunCompleted RunStatus = "completed"
	RunFailed    RunStatus = "failed"
	RunCancelled RunStatus = "cancelled"
)

// Terminal reports whether no command changes the run any more.
func (s RunStatus) Terminal() bool {
	return s == RunCompleted || s == RunFailed || s == RunCancelled
}

// Triggers of a run.
const (
	TriggerSchedule = "schedule"
	TriggerManual   = "manual"
	TriggerPush     = "push"
)

// Policy is the timeout and retry policy a run copies from its definition when it is
// requested, so the run stream alone drives its saga and later edits of the definition do not
// change a run under way.
type Policy struct {
	TimeoutSeconds      int `json:"timeout_seconds"`
	MaxAttempts         int `json:"max_attempts"`
	RetryBackoffSeconds int `json:"retry_backoff_seconds"`
}

// Backoff is the wait before the attempt after attempt n: retry_backoff·2^(n-1), capped at a day.
func (p Policy) Backoff(n int) time.Duration {
	d := time.Duration(p.RetryBackoffSeconds) * time.Second
	for i := 1; i < n && d < 24*time.Hour; i++ {
		d *= 2
	}
	return min(d, 24*time.Hour)
}

// RunRequest is what a new run is requested with (Request records it as ScanRequested).
type RunRequest struct {
	DefinitionID string
	Trigger      string
	ScheduledFor *time.Time
	RequestedBy  string
	Policy
}

// Evidence is the stored report of a completed run (ScanCompleted.evidence; also shown by the API).
type Evidence struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// ImportSummary is what the import reported (app.Summary without ids and warnings), recorded as
// ScanCompleted.import and shown by the API.
type ImportSummary struct {
	FindingsTotal    int            `json:"findings_total"`
	New              int            `json:"new"`
	Unchanged        int            `json:"unchanged"`
	Reopened         int            `json:"reopened"`
	Resolved         int            `json:"resolved"`
	Closed           int            `json:"closed"`
	Skipped          int            `json:"skipped"`
	AssetsDiscovered int            `json:"assets_discovered"`
	AssetsMatched    int            `json:"assets_matched"`
	BySeverity       map[string]int `json:"by_severity,omitempty"`
}

// completed is the payload of ScanCompleted. Every count is written, zero included, as before
// the payload was generated (the schema leaves some optional, hence pointers there).
func completed(attempt int, ev Evidence, sum ImportSummary) contracts.ScanCompleted {
	return contracts.ScanCompleted{
		Attempt:  attempt,
		Evidence: contracts.ScanCompletedEvidence{Path: ev.Path, SHA256: ev.SHA256, Bytes: int(ev.Bytes)},
		Import: contracts.ScanCompletedImport{FindingsTotal: sum.FindingsTotal, New: sum.New, Unchanged: &sum.Unchanged,
			Reopened: sum.Reopened, Resolved: sum.Resolved, Closed: &sum.Closed, Skipped: &sum.Skipped,
			AssetsDiscovered: &sum.AssetsDiscovered, AssetsMatched: &sum.AssetsMatched, BySeverity: sum.BySeverity},
	}
}

func importSummary(x contracts.ScanCompletedImport) ImportSummary {
	n := func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	}
	return ImportSummary{FindingsTotal: x.FindingsTotal, New: x.New, Unchanged: n(x.Unchanged), Reopened: x.Reopened,
		Resolved: x.Resolved, Closed: n(x.Closed), Skipped: n(x.Skipped), AssetsDiscovered: n(x.AssetsDiscovered),
		AssetsMatched: n(x.AssetsMatched), BySeverity: x.BySeverity}
}

// timePtr is nil for the zero time (an optional date-time the event left out).
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// MaxErrorLen bounds the error texts recorded in events.
const MaxErrorLen = 4096

// Run is the aggregate of one scan run.
type Run struct {
	ID            string // the uuid (also the import's scan_id)
	DefinitionID  string
	Trigger       string
	ScheduledFor  *time.Time
	RequestedBy   string
	Policy        Policy
	Status        RunStatus
	Attempt       int // the last attempt started (0 before the first)
	Node          string
	Command       []string
	LastError     string
	NextAttemptAt *time.Time
	Evidence      *Evidence
	Import        *ImportSummary
	RequestedAt   time.Time
	StartedAt     time.Time
	FinishedAt    time.Time
	CancelReason  string
}

var _ es.Aggregate = (*Run)(nil)

// Exists reports whether the run was requested.
func (r *Run) Exists() bool { return r.Status != "" }

// Apply implements es.Aggregate.
func (r *Run) Apply(e *events.Envelope) error {
	at := e.RecordedAt
	if at.IsZero() {
		at = e.OccurredAt
	}
	switch e.Type {
	case contracts.TypeScanRequested:
		var x contracts.ScanRequested
		if err := json.Unmarshal(e.Data, &x); err != nil {
			return err
		}
		r.ID = strings.TrimPrefix(e.StreamID, "scans-run-")
		r.DefinitionID, r.Trigger, r.ScheduledFor, r.RequestedBy = x.DefinitionID, string(x.Trigger), timePtr(x.ScheduledFor), x.RequestedBy
		r.Policy = Policy{TimeoutSeconds: x.TimeoutSeconds, MaxAttempts: x.MaxAttempts, RetryBackoffSeconds: x.RetryBackoffSeconds}
		r.Status, r.RequestedAt = RunRequested, at
	case contracts.TypeScanStarted:
		var x contracts.ScanStarted
		if err := json.Unmarshal(e.Data, &x); err != nil {
			return err
		}
		r.Status, r.Attempt, r.Command, r.Node, r.NextAttemptAt = RunRunning, x.Attempt, x.Command, x.Node, nil
		r.StartedAt = at
	case contracts.TypeScanAttemptFailed:
		var x contracts.ScanAttemptFailed
		if err := json.Unmarshal(e.Data, &x); err != nil {
			return err
		}
		r.LastError = x.Error
		if x.WillRetry {
			r.Status, r.NextAttemptAt = RunRequested, timePtr(x.NextAttemptAt)
		}
	case contracts.TypeScanCompleted:
		var x contracts.ScanCompleted
		if err := json.Unmarshal(e.Data, &x); err != nil {
			return err
		}
		ev, sum := Evidence{Path: x.Evidence.Path, SHA256: x.Evidence.SHA256, Bytes: int64(x.Evidence.Bytes)}, importSummary(x.Import)
		r.Status, r.Evidence, r.Import, r.FinishedAt = RunCompleted, &ev, &sum, at
	case contracts.TypeScanFailed:
		var x contracts.ScanFailed
		if err := json.Unmarshal(e.Data, &x); err != nil {
			return err
		}
		r.Status, r.LastError, r.FinishedAt = RunFailed, x.Error, at
	case contracts.TypeScanCancelled:
		var x contracts.ScanCancelled
		if err := json.Unmarshal(e.Data, &x); err != nil {
			return err
		}
		r.Status, r.CancelReason, r.FinishedAt = RunCancelled, x.Reason, at
	}
	return nil
}

func (r *Run) refuse(action string) error {
	if !r.Exists() {
		return &NotFoundError{What: "scan run", ID: r.ID}
	}
	return &StateError{What: "scan run", ID: r.ID, State: string(r.Status), Action: action}
}

// Request decides ScanRequested for a new run.
func (r *Run) Request(d RunRequest) ([]es.Change, error) {
	if r.Exists() {
		return nil, &StateError{What: "scan run", ID: r.ID, State: string(r.Status), Action: "request it again"}
	}
	switch d.Trigger {
	case TriggerSchedule, TriggerManual, TriggerPush:
	default:
		return nil, invalid("/trigger", "must be schedule, manual or push")
	}
	if d.MaxAttempts < 1 || d.TimeoutSeconds < 1 {
		return nil, invalid("/max_attempts", "a run needs max_attempts and timeout_seconds of at least 1")
	}
	x := contracts.ScanRequested{DefinitionID: d.DefinitionID, Trigger: contracts.ScanTrigger(d.Trigger), RequestedBy: d.RequestedBy,
		TimeoutSeconds: d.TimeoutSeconds, MaxAttempts: d.MaxAttempts, RetryBackoffSeconds: d.RetryBackoffSeconds}
	if d.ScheduledFor != nil {
		x.ScheduledFor = *d.ScheduledFor
	}
	return []es.Change{{Type: contracts.TypeScanRequested, Data: x}}, nil
}

// IsNextAttempt reports whether attempt is the one the run waits for: a command for any other
// attempt is stale (redelivered, or overtaken by a timeout or a cancel).
func (r *Run) IsNextAttempt(attempt int) bool {
	return r.Status == RunRequested && attempt == r.Attempt+1
}

// IsRunning reports whether attempt is the one running now.
func (r *Run) IsRunning(attempt int) bool { return r.Status == RunRunning && attempt == r.Attempt }

// Start decides ScanStarted for the next attempt.
func (r *Run) Start(attempt int, argv []string, node string) ([]es.Change, error) {
	if !r.IsNextAttempt(attempt) {
		return nil, r.refuse(fmt.Sprintf("start attempt %d", attempt))
	}
	if attempt > r.Policy.MaxAttempts {
		return nil, r.refuse(fmt.Sprintf("start attempt %d of %d", attempt, r.Policy.MaxAttempts))
	}
	return []es.Change{{Type: contracts.TypeScanStarted, Data: contracts.ScanStarted{Attempt: attempt, Command: argv, Node: node}}}, nil
}

// FailAttempt decides ScanAttemptFailed for the running attempt, and ScanFailed when the policy
// allows no further attempt (or permanent is set: retrying cannot help).
func (r *Run) FailAttempt(attempt int, cause string, permanent bool, now time.Time) ([]es.Change, error) {
	if !r.IsRunning(attempt) {
		return nil, r.refuse(fmt.Sprintf("fail attempt %d", attempt))
	}
	cause = Clip(cause, MaxErrorLen)
	d := contracts.ScanAttemptFailed{Attempt: attempt, Error: cause}
	if !permanent && attempt < r.Policy.MaxAttempts {
		d.WillRetry, d.NextAttemptAt = true, now.UTC().Add(r.Policy.Backoff(attempt)).Truncate(time.Millisecond)
		return []es.Change{{Type: contracts.TypeScanAttemptFailed, Data: d}}, nil
	}
	return []es.Change{{Type: contracts.TypeScanAttemptFailed, Data: d}, {Type: contracts.TypeScanFailed, Data: contracts.ScanFailed{Attempts: attempt, Error: cause}}}, nil
}

// Abort decides ScanFailed for a run waiting for an attempt that cannot start (its definition
// was deleted).
func (r *Run) Abort(cause string) ([]es.Change, error) {
	if r.Status != RunRequested {
		return nil, r.refuse("abort it")
	}
	return []es.Change{{Type: contracts.TypeScanFailed, Data: contracts.ScanFailed{Attempts: r.Attempt, Error: Clip(cause, MaxErrorLen)}}}, nil
}

// Complete decides ScanCompleted for the running attempt.
func (r *Run) Complete(attempt int, ev Evidence, sum ImportSummary) ([]es.Change, error) {
	if !r.IsRunning(attempt) {
		return nil, r.refuse(fmt.Sprintf("complete attempt %d", attempt))
	}
	return []es.Change{{Type: contracts.TypeScanCompleted, Data: completed(attempt, ev, sum)}}, nil
}

// Cancel decides ScanCancelled; a finished run cannot be cancelled.
func (r *Run) Cancel(reason, by string) ([]es.Change, error) {
	if !r.Exists() || r.Status.Terminal() {
		return nil, r.refuse("cancel it")
	}
	if reason == "" {
		reason = "cancelled"
	}
	return []es.Change{{Type: contracts.TypeScanCancelled, Data: contracts.ScanCancelled{Reason: Clip(reason, 1024), By: Clip(by, 256)}}}, nil
}

// Clip cuts s to at most n bytes on a rune boundary.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
