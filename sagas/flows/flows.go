// Package flows holds the platform's sagas: the scan → finding → notification flow, the SLA
// and risk-acceptance deadlines of findings, KEV alerts and scan scheduling.
//
// Sagas decide WHEN something must happen; the command handlers they address decide, on the
// current state read from the store, WHAT happens (a finding resolved meanwhile is not
// escalated). That keeps instance state small (a few fields, copied into every
// SagaEventHandled) and correct when projections lag. The command types (x-command-type of
// schemas/commands, contracts.Cmd…) and their payloads (contracts.<Name>) are the contract with
// the handlers, which each context registers on commands/bus; this module may not import them.
package flows

import (
	"encoding/json"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

// Commands of the notification and finding flows (handlers: commands/notifications/app.Planner
// and the finding deadlines in commands/vulns/app). Their types and payloads are declared by
// schemas/commands (contracts.Cmd<Name> and contracts.<Name>).
const (
	CmdNotifyNewFindings           = contracts.CmdNotifyNewFindings
	CmdNotifyKEVAlert              = contracts.CmdNotifyKEVAlert
	CmdNotifyKEVAlertsForAsset     = contracts.CmdNotifyKEVAlertsForAsset
	CmdNotifySLAReminder           = contracts.CmdNotifySLAReminder
	CmdNotifySLABreach             = contracts.CmdNotifySLABreach
	CmdNotifyRiskAcceptanceExpired = contracts.CmdNotifyRiskAcceptanceExpired
	CmdRecordSLABreach             = contracts.CmdRecordSLABreach
	CmdExpireRiskAcceptance        = contracts.CmdExpireRiskAcceptance
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

// deadlineTimer is what the finding timers carry. Its fields are in the order of the map it
// replaced (sorted), so timers scheduled before read the same.
type deadlineTimer struct {
	DueAt     time.Time `json:"due_at"`
	FindingID string    `json:"finding_id"`
}
