package flows

import (
	"context"
	"encoding/json"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/sagas"
)

// KEVAlert raises an immediate critical alert when a finding becomes known-exploited: the CVE
// catalogue marks a finding KEV (FindingExploitabilityChanged kev=true) right after the import
// that opened it, or when CISA lists its CVE later. The planner sends it only if the finding is
// still open and its asset is in production (read at sending time).
type KEVAlert struct{}

// Name implements sagas.Saga.
func (KEVAlert) Name() string { return "kev_alert" }

// Contexts implements sagas.Saga.
func (KEVAlert) Contexts() []string { return []string{"vulns"} }

type exploitability struct {
	KEV *bool `json:"kev"`
}

// Correlate implements sagas.Saga: only a KEV listing starts or moves an instance (EPSS updates
// are frequent and must not create one per finding).
func (KEVAlert) Correlate(e *events.Envelope) (string, bool) {
	if e.Type != "FindingExploitabilityChanged" || !isFinding(e) {
		return "", false
	}
	d, err := decode[exploitability](e.Data)
	if err != nil || d.KEV == nil || !*d.KEV {
		return "", false
	}
	return e.StreamID, true
}

type kevState struct {
	Alerts int `json:"alerts"`
}

// Handle implements sagas.Saga.
func (KEVAlert) Handle(_ context.Context, raw json.RawMessage, e events.Envelope, _ time.Time) (sagas.Decision, error) {
	st, err := decode[kevState](raw)
	if err != nil {
		return sagas.Decision{}, err
	}
	st.Alerts++
	return sagas.Decision{
		State:    state(st),
		Commands: []sagas.CommandRequest{{Type: CmdNotifyKEVAlert, Payload: map[string]string{"finding_id": e.StreamID}}},
	}, nil
}
