// Package domain holds the vulnerability-management rules: the Finding aggregate, its lifecycle
// state machine and the SLA policy. No I/O: the application layer loads a Finding from its
// events, calls a method, and appends the changes the method returns.
package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// Status is a finding's lifecycle state; its vocabulary is schemas/enums/FindingStatus.json.
type Status = contracts.FindingStatus

// The lifecycle's states, named as the domain speaks of them.
const (
	StatusOpen          = contracts.FindingStatusOpen
	StatusTriaged       = contracts.FindingStatusTriaged
	StatusInRemediation = contracts.FindingStatusInRemediation
	StatusResolved      = contracts.FindingStatusResolved
	StatusClosed        = contracts.FindingStatusClosed
	StatusFalsePositive = contracts.FindingStatusFalsePositive
	StatusDuplicate     = contracts.FindingStatusDuplicate
	StatusRiskAccepted  = contracts.FindingStatusRiskAccepted
	StatusReopened      = contracts.FindingStatusReopened
)

// transitions is the lifecycle: from → the states a command may move a finding to.
// resolved → closed happens when a later scan verifies the fix (not seen again);
// every "terminal-ish" state can be reopened, by a person or by a scan that sees it again.
var transitions = map[Status][]Status{
	StatusOpen:          {StatusTriaged, StatusInRemediation, StatusResolved, StatusFalsePositive, StatusDuplicate, StatusRiskAccepted},
	StatusReopened:      {StatusTriaged, StatusInRemediation, StatusResolved, StatusFalsePositive, StatusDuplicate, StatusRiskAccepted},
	StatusTriaged:       {StatusInRemediation, StatusResolved, StatusFalsePositive, StatusDuplicate, StatusRiskAccepted},
	StatusInRemediation: {StatusResolved, StatusFalsePositive, StatusDuplicate, StatusRiskAccepted},
	StatusResolved:      {StatusClosed, StatusReopened},
	StatusClosed:        {StatusReopened},
	StatusFalsePositive: {StatusReopened},
	StatusDuplicate:     {StatusReopened},
	StatusRiskAccepted:  {StatusReopened},
}

// Statuses returns every status of the lifecycle (for the read side's and the API's checks).
func Statuses() []Status {
	out := make([]Status, 0, len(transitions))
	for s := range transitions {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// CanTransition reports whether the lifecycle allows from → to.
func CanTransition(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// TransitionError refuses a lifecycle move that the current state does not allow.
type TransitionError struct {
	FindingID string
	From, To  Status
}

func (e *TransitionError) Error() string {
	allowed := make([]string, 0, len(transitions[e.From]))
	for _, s := range transitions[e.From] {
		allowed = append(allowed, string(s))
	}
	return fmt.Sprintf("finding %s is %s and cannot become %s (allowed from %s: %s)", e.FindingID, e.From, e.To, e.From, strings.Join(allowed, ", "))
}
func (e *TransitionError) Kind() problem.Kind { return problem.KindConflict }
func (e *TransitionError) Field() string      { return "/status" }

// RuleError is a command refused by a rule other than the lifecycle (missing justification, …).
type RuleError = problem.RuleError

// Severity of a finding, normalised (the event schemas' vocabulary).
type Severity = contracts.Severity

// The severities, named as the domain speaks of them.
const (
	Critical = contracts.SeverityCritical
	High     = contracts.SeverityHigh
	Medium   = contracts.SeverityMedium
	Low      = contracts.SeverityLow
	Info     = contracts.SeverityInfo
)

// Finding is the aggregate. Its identity is (asset, vulnerability or rule id, component+version or
// location): the stream id is derived from that key, so the same finding reported twice lands on
// the same stream.
type Finding struct {
	ID              string
	AssetID         string
	Status          Status
	Severity        Severity
	Owner           string
	DueAt           time.Time
	FirstSeen       time.Time
	LastSeen        time.Time
	LastScanID      string
	RiskAcceptedTil time.Time
	// SLABreachedFor is the due date whose breach was last recorded (zero: none), so that a
	// deadline is breached once however often the saga's command is delivered.
	SLABreachedFor time.Time
	KEV            bool
	EPSS           float64
	opened         bool
}

// Apply implements es.Aggregate. Only the events that change the aggregate's state are decoded.
func (f *Finding) Apply(e *events.Envelope) error {
	if s, ok := contracts.FindingStatusAfter[e.Type]; ok {
		f.Status = s
	}
	switch e.Type {
	case contracts.TypeFindingOpened:
		return events.OnPayload(e.Data, func(d contracts.FindingOpenedV2) {
			f.ID, f.AssetID, f.Severity, f.opened = e.StreamID, d.AssetID, d.Severity, true
			f.FirstSeen, f.LastSeen, f.LastScanID = d.SeenAt, d.SeenAt, d.ScanID
		})
	case contracts.TypeFindingSeen:
		return events.OnPayload(e.Data, func(d contracts.FindingSeen) {
			f.LastSeen, f.LastScanID = d.SeenAt, d.ScanID
			if d.Severity != "" {
				f.Severity = d.Severity
			}
		})
	case contracts.TypeFindingReopened:
		return events.OnPayload(e.Data, func(d contracts.FindingReopened) {
			if !d.SeenAt.IsZero() {
				f.LastSeen, f.LastScanID = d.SeenAt, d.ScanID
			}
			f.RiskAcceptedTil = time.Time{}
		})
	case contracts.TypeFindingAssigned:
		return events.OnPayload(e.Data, func(d contracts.FindingAssigned) { f.Owner = d.Owner })
	case contracts.TypeFindingDueDateSet:
		return events.OnPayload(e.Data, func(d contracts.FindingDueDateSet) { f.DueAt = d.DueAt })
	case contracts.TypeFindingRiskAccepted:
		return events.OnPayload(e.Data, func(d contracts.FindingRiskAccepted) { f.RiskAcceptedTil = d.ExpiresAt })
	case contracts.TypeSLABreached:
		return events.OnPayload(e.Data, func(d contracts.SLABreached) { f.SLABreachedFor = d.DueAt })
	case contracts.TypeFindingExploitabilityChanged:
		return events.OnPayload(e.Data, func(d contracts.FindingExploitabilityChanged) {
			if d.KEV != nil {
				f.KEV = *d.KEV
			}
			if d.EPSS != nil {
				f.EPSS = *d.EPSS
			}
		})
	}
	return nil
}

var _ es.Aggregate = (*Finding)(nil)

// Exists reports whether the finding has been opened.
func (f *Finding) Exists() bool { return f.opened }

func (f *Finding) move(to Status, typ string, data any) ([]es.Change, error) {
	if !f.opened {
		return nil, &events.InvalidEventError{Index: -1, Name: "finding_id", Reason: "no such finding"}
	}
	if !CanTransition(f.Status, to) {
		return nil, &TransitionError{FindingID: f.ID, From: f.Status, To: to}
	}
	return []es.Change{{Type: typ, Data: data}}, nil
}

// Triage confirms the finding needs work.
func (f *Finding) Triage(note string) ([]es.Change, error) {
	return f.move(StatusTriaged, contracts.TypeFindingTriaged, contracts.FindingTriaged{Note: note})
}

// StartRemediation records that someone works on a fix.
func (f *Finding) StartRemediation(note string) ([]es.Change, error) {
	return f.move(StatusInRemediation, contracts.TypeFindingRemediationStarted, contracts.FindingRemediationStarted{Note: note})
}

// Resolve marks the finding fixed (by a person, or by a scan that no longer sees it).
func (f *Finding) Resolve(reason, scanID string, at time.Time) ([]es.Change, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, problem.Rule("/reason", "a resolution needs a reason")
	}
	return f.move(StatusResolved, contracts.TypeFindingResolved, contracts.FindingResolved{Reason: reason, ResolvedAt: at.UTC(), ScanID: scanID})
}

// Close verifies a resolved finding: a later scan of the same scope did not see it.
func (f *Finding) Close(scanID string, at time.Time) ([]es.Change, error) {
	return f.move(StatusClosed, contracts.TypeFindingClosed, contracts.FindingClosed{ScanID: scanID, ClosedAt: at.UTC()})
}

// Reopen brings a finding back: seen again by a scan, a risk acceptance expired, or a person.
func (f *Finding) Reopen(reason, scanID string, at time.Time) ([]es.Change, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, problem.Rule("/reason", "reopening needs a reason")
	}
	d := contracts.FindingReopened{Reason: reason}
	if scanID != "" {
		d.ScanID, d.SeenAt = scanID, at.UTC()
	}
	return f.move(StatusReopened, contracts.TypeFindingReopened, d)
}

// MarkFalsePositive records that the finding is not real. Imports never resolve or reopen it.
func (f *Finding) MarkFalsePositive(justification string) ([]es.Change, error) {
	if strings.TrimSpace(justification) == "" {
		return nil, problem.Rule("/justification", "a false positive needs a justification")
	}
	return f.move(StatusFalsePositive, contracts.TypeFindingMarkedFalsePositive, contracts.FindingMarkedFalsePositive{Justification: justification})
}

// MarkDuplicate records that another finding covers this one.
func (f *Finding) MarkDuplicate(of string) ([]es.Change, error) {
	if of == "" || of == f.ID {
		return nil, problem.Rule("/duplicate_of", "duplicate_of must name another finding")
	}
	return f.move(StatusDuplicate, contracts.TypeFindingMarkedDuplicate, contracts.FindingMarkedDuplicate{DuplicateOf: of})
}

// AcceptRisk accepts the finding until expiresAt, when it reopens by itself.
func (f *Finding) AcceptRisk(approver, justification string, expiresAt, now time.Time) ([]es.Change, error) {
	switch {
	case strings.TrimSpace(approver) == "":
		return nil, problem.Rule("/approver", "a risk acceptance needs an approver")
	case strings.TrimSpace(justification) == "":
		return nil, problem.Rule("/justification", "a risk acceptance needs a justification")
	case !expiresAt.After(now):
		return nil, problem.Rule("/expires_at", "a risk acceptance must expire in the future")
	}
	return f.move(StatusRiskAccepted, contracts.TypeFindingRiskAccepted,
		contracts.FindingRiskAccepted{Approver: approver, Justification: justification, ExpiresAt: expiresAt.UTC()})
}

// ExpireRiskAcceptance reopens a finding whose acceptance has run out (called by the SLA saga).
func (f *Finding) ExpireRiskAcceptance(now time.Time) ([]es.Change, error) {
	if f.Status != StatusRiskAccepted {
		return nil, &TransitionError{FindingID: f.ID, From: f.Status, To: StatusReopened}
	}
	if now.Before(f.RiskAcceptedTil) {
		return nil, problem.Rule("/expires_at", "the risk acceptance runs until %s", f.RiskAcceptedTil.Format(time.RFC3339))
	}
	return f.Reopen("risk acceptance expired", "", now)
}

// BreachSLA records that the deadline dueAt passed with the finding not remediated. It records
// nothing (nil, nil) when there is nothing to breach: the finding is remediated or accepted, its
// due date moved away from dueAt, or that breach is recorded already. now before dueAt is refused.
func (f *Finding) BreachSLA(dueAt, now time.Time) ([]es.Change, error) {
	if !f.opened {
		return nil, &events.InvalidEventError{Index: -1, Name: "finding_id", Reason: "no such finding"}
	}
	if now.Before(dueAt) {
		return nil, problem.Rule("/due_at", "the deadline %s has not passed", dueAt.UTC().Format(time.RFC3339))
	}
	switch f.Status {
	case StatusResolved, StatusClosed, StatusFalsePositive, StatusDuplicate, StatusRiskAccepted:
		return nil, nil
	}
	if f.DueAt.IsZero() || !f.DueAt.Equal(dueAt) || f.SLABreachedFor.Equal(dueAt) {
		return nil, nil
	}
	d := contracts.SLABreached{DueAt: dueAt.UTC(), BreachedAt: now.UTC(), Severity: f.Severity, Status: string(f.Status), Owner: f.Owner}
	return []es.Change{{Type: contracts.TypeSLABreached, Data: d}}, nil
}

// Assign sets the owner.
func (f *Finding) Assign(owner string) ([]es.Change, error) {
	if !f.opened {
		return nil, &events.InvalidEventError{Index: -1, Name: "finding_id", Reason: "no such finding"}
	}
	if strings.TrimSpace(owner) == "" {
		return nil, problem.Rule("/owner", "owner is required")
	}
	if owner == f.Owner {
		return nil, nil // already so: nothing to record
	}
	return []es.Change{{Type: contracts.TypeFindingAssigned, Data: contracts.FindingAssigned{Owner: owner}}}, nil
}

// Comment adds a note.
func (f *Finding) Comment(text string) ([]es.Change, error) {
	if !f.opened {
		return nil, &events.InvalidEventError{Index: -1, Name: "finding_id", Reason: "no such finding"}
	}
	if strings.TrimSpace(text) == "" {
		return nil, problem.Rule("/comment", "comment is empty")
	}
	return []es.Change{{Type: contracts.TypeFindingCommented, Data: contracts.FindingCommented{Comment: text}}}, nil
}

// SetDueDate sets the remediation deadline by hand (the SLA policy sets it on open).
func (f *Finding) SetDueDate(due time.Time, reason string) ([]es.Change, error) {
	if !f.opened {
		return nil, &events.InvalidEventError{Index: -1, Name: "finding_id", Reason: "no such finding"}
	}
	if due.IsZero() {
		return nil, problem.Rule("/due_at", "due_at is required")
	}
	// reason is written even when empty, as it always was (the generator's alwaysWritten).
	return []es.Change{{Type: contracts.TypeFindingDueDateSet, Data: contracts.FindingDueDateSet{DueAt: due.UTC(), Reason: reason}}}, nil
}

// Active reports whether the finding still needs attention (counts toward SLAs and risk).
func (f *Finding) Active() bool {
	switch f.Status {
	case StatusOpen, StatusReopened, StatusTriaged, StatusInRemediation:
		return true
	}
	return false
}
