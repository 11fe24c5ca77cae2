// Package flows holds the platform's sagas: the scan → finding → notification flow, the SLA
// and risk-acceptance deadlines of findings, KEV alerts and scan scheduling.
//
// Sagas decide WHEN something must happen; the command handlers they address decide, on the
// current state read from the store, WHAT happens (a finding resolved meanwhile is not
// escalated). That keeps instance state small (a few fields, copied into every
// SagaEventHandled) and correct when projections lag. The command type strings are the
// contract with the handlers in commands/…, which this module may not import.
package flows

import (
	"encoding/json"
	"time"

	"github.com/socplatform/soc/events"
)

// Commands of the notification and finding flows (handlers: commands/notifications/app.Planner
// and the finding deadlines in commands/vulns/app).
const (
	CmdNotifyNewFindings           = "notifications.new_findings"            // {scan_id}
	CmdNotifyKEVAlert              = "notifications.kev_alert"               // {finding_id}
	CmdNotifyKEVAlertsForAsset     = "notifications.kev_alerts_for_asset"    // {asset_id}
	CmdNotifySLAReminder           = "notifications.sla_reminder"            // {finding_id, due_at}
	CmdNotifySLABreach             = "notifications.sla_breach"              // {finding_id, due_at}
	CmdNotifyRiskAcceptanceExpired = "notifications.risk_acceptance_expired" // {finding_id, accepted_by, justification, expired_at}
	CmdRecordSLABreach             = "vulns.record_sla_breach"               // {finding_id, due_at}
	CmdExpireRiskAcceptance        = "vulns.expire_risk_acceptance"          // {finding_id, expires_at}
)

// RiskAcceptanceExpiredReason is the reason FindingReopened carries when an acceptance ran out
// (commands/vulns/domain writes it).
const RiskAcceptanceExpiredReason = "risk acceptance expired"

func decode[T any](raw json.RawMessage) (T, error) {
	var v T
	if len(raw) == 0 || string(raw) == "null" {
		return v, nil
	}
	err := json.Unmarshal(raw, &v)
	return v, err
}

func state(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil { // the state types are plain structs: cannot happen
		panic(err)
	}
	return b
}

func isFinding(e *events.Envelope) bool { return events.StreamTypeOf(e.StreamID) == "vulns-finding" }

// timerPayload is what the finding timers carry.
type timerPayload struct {
	DueAt time.Time `json:"due_at"`
}
