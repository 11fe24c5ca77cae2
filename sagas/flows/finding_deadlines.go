package flows

import (
	"context"
	"encoding/json"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/sagas"
	"github.com/socplatform/soc/schemas/contracts"
)

// Timer names of FindingDeadlines.
const (
	TimerSLAReminder = "sla_reminder"
	TimerSLADue      = "sla_due"
	TimerRiskExpiry  = "risk_expiry"
)

// DefaultReminderBefore is how long before its due date a finding's owner is reminded.
const DefaultReminderBefore = 72 * time.Hour

// FindingDeadlines keeps a finding's deadlines with durable timers, one instance per finding:
//
//   - SLA: FindingDueDateSet arms a reminder (ReminderBefore the due date, unless that has
//     passed) and a due timer; the reminder asks the planner to remind the owners; the due timer
//     asks the vulns handler to record SLABreached, and that event asks the planner to escalate
//     to the owner's lead. Resolving, closing, marking false positive/duplicate or accepting the
//     risk cancels both; reopening arms them again for the due date still set (a passed one fires
//     at once: the finding is in breach).
//   - risk acceptance: FindingRiskAccepted arms an expiry timer; when it fires the vulns handler
//     reopens the finding ("risk acceptance expired"), and that reopening asks the planner to
//     tell the owners.
type FindingDeadlines struct {
	ReminderBefore time.Duration // default DefaultReminderBefore
}

// Name implements sagas.Saga.
func (FindingDeadlines) Name() string { return "finding_deadlines" }

// Contexts implements sagas.Saga.
func (FindingDeadlines) Contexts() []string { return []string{"vulns"} }

// Correlate implements sagas.Saga.
func (FindingDeadlines) Correlate(e *events.Envelope) (string, bool) {
	if !isFinding(e) {
		return "", false
	}
	switch e.Type {
	case contracts.TypeFindingDueDateSet, contracts.TypeFindingResolved, contracts.TypeFindingClosed, contracts.TypeFindingMarkedFalsePositive,
		contracts.TypeFindingMarkedDuplicate, contracts.TypeFindingRiskAccepted, contracts.TypeFindingReopened, contracts.TypeSLABreached:
		return e.StreamID, true
	}
	return "", false
}

type deadlineState struct {
	DueAt       time.Time `json:"due_at,omitzero"`
	Remediated  bool      `json:"remediated,omitempty"` // resolved, closed, false positive, duplicate, accepted
	AcceptedBy  string    `json:"accepted_by,omitempty"`
	Acceptance  string    `json:"justification,omitempty"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	Breaches    int       `json:"breaches,omitempty"`
	Reminders   int       `json:"reminders,omitempty"`
	Escalations int       `json:"escalations,omitempty"`
}

// Handle implements sagas.Saga.
func (s FindingDeadlines) Handle(_ context.Context, raw json.RawMessage, e events.Envelope, now time.Time) (sagas.Decision, error) {
	st, err := decode[deadlineState](raw)
	if err != nil {
		return sagas.Decision{}, err
	}
	existed := raw != nil
	finding := e.StreamID
	if t, ok := sagas.TimerOf(&e); ok {
		p, err := decode[deadlineTimer](t.Payload)
		if err != nil {
			return sagas.Decision{}, err
		}
		finding = p.FindingID
		switch t.Name {
		case TimerSLAReminder:
			st.Reminders++
			return sagas.Decision{State: state(st), Commands: []sagas.CommandRequest{{Type: CmdNotifySLAReminder,
				Payload: contracts.NotifySLAReminder{DueAt: p.DueAt, FindingID: finding}}}}, nil
		case TimerSLADue:
			return sagas.Decision{State: state(st), Commands: []sagas.CommandRequest{{Type: CmdRecordSLABreach,
				Payload: contracts.RecordSLABreach{DueAt: p.DueAt, FindingID: finding}}}}, nil
		case TimerRiskExpiry:
			return sagas.Decision{State: state(st), Commands: []sagas.CommandRequest{{Type: CmdExpireRiskAcceptance,
				Payload: contracts.ExpireRiskAcceptance{ExpiresAt: p.DueAt, FindingID: finding}}}}, nil
		}
		return sagas.Decision{}, nil
	}
	var dec sagas.Decision
	switch e.Type {
	case contracts.TypeFindingDueDateSet:
		d, err := decode[contracts.FindingDueDateSet](e.Data)
		if err != nil {
			return sagas.Decision{}, err
		}
		st.DueAt = d.DueAt.UTC()
		if !st.Remediated {
			dec.Schedule = s.slaTimers(finding, st.DueAt, now)
			if len(dec.Schedule) < 2 {
				dec.Cancel = []string{TimerSLAReminder} // a moved deadline: the old reminder is void
			}
		}
	case contracts.TypeFindingResolved, contracts.TypeFindingClosed, contracts.TypeFindingMarkedFalsePositive, contracts.TypeFindingMarkedDuplicate:
		if !existed {
			return sagas.Decision{}, nil // nothing armed for this finding (info, no SLA)
		}
		st.Remediated = true
		dec.Cancel = []string{TimerSLAReminder, TimerSLADue, TimerRiskExpiry}
	case contracts.TypeFindingRiskAccepted:
		d, err := decode[contracts.FindingRiskAccepted](e.Data)
		if err != nil {
			return sagas.Decision{}, err
		}
		st.Remediated, st.AcceptedBy, st.Acceptance, st.ExpiresAt = true, d.Approver, d.Justification, d.ExpiresAt.UTC()
		dec.Cancel = []string{TimerSLAReminder, TimerSLADue}
		dec.Schedule = []sagas.TimerRequest{{Name: TimerRiskExpiry, DueAt: st.ExpiresAt, Payload: payload(finding, st.ExpiresAt)}}
	case contracts.TypeFindingReopened:
		if !existed {
			return sagas.Decision{}, nil
		}
		d, err := decode[contracts.FindingReopened](e.Data)
		if err != nil {
			return sagas.Decision{}, err
		}
		st.Remediated = false
		dec.Cancel = []string{TimerRiskExpiry}
		if d.Reason == RiskAcceptanceExpiredReason {
			dec.Commands = append(dec.Commands, sagas.CommandRequest{Type: CmdNotifyRiskAcceptanceExpired, Payload: contracts.NotifyRiskAcceptanceExpired{
				AcceptedBy: st.AcceptedBy, ExpiredAt: st.ExpiresAt, FindingID: finding, Justification: st.Acceptance}})
		}
		if !st.DueAt.IsZero() {
			dec.Schedule = s.slaTimers(finding, st.DueAt, now)
		}
	case contracts.TypeSLABreached:
		d, err := decode[contracts.SLABreached](e.Data)
		if err != nil {
			return sagas.Decision{}, err
		}
		st.Breaches++
		st.Escalations++
		dec.Commands = []sagas.CommandRequest{{Type: CmdNotifySLABreach, Payload: contracts.NotifySLABreach{DueAt: d.DueAt.UTC(), FindingID: finding}}}
	}
	dec.State = state(st)
	return dec, nil
}

// slaTimers arms the due timer and, when still ahead, the reminder.
func (s FindingDeadlines) slaTimers(finding string, due, now time.Time) []sagas.TimerRequest {
	before := s.ReminderBefore
	if before <= 0 {
		before = DefaultReminderBefore
	}
	var out []sagas.TimerRequest
	if r := due.Add(-before); r.After(now) {
		out = append(out, sagas.TimerRequest{Name: TimerSLAReminder, DueAt: r, Payload: payload(finding, due)})
	}
	return append(out, sagas.TimerRequest{Name: TimerSLADue, DueAt: due, Payload: payload(finding, due)})
}

func payload(finding string, due time.Time) deadlineTimer {
	return deadlineTimer{DueAt: due.UTC(), FindingID: finding}
}
