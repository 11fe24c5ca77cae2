package flows

import (
	"context"
	"encoding/json"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/sagas"
	"github.com/socplatform/soc/schemas/contracts"
)

// NewFindings tells owners about a scan's new critical and high findings, grouped: when a
// scan's import completes having opened or reopened findings, it issues ONE command for the
// scan; the planner lists the scan's findings (the import's correlation id) and sends one
// message per recipient. Keyed by scan id, so a redelivered completion notifies nobody twice.
type NewFindings struct{}

// Name implements sagas.Saga.
func (NewFindings) Name() string { return "new_findings" }

// Contexts implements sagas.Saga.
func (NewFindings) Contexts() []string { return []string{"scans"} }

// Correlate implements sagas.Saga.
func (NewFindings) Correlate(e *events.Envelope) (string, bool) {
	if e.Type != contracts.TypeScanImportCompleted {
		return "", false
	}
	d, err := decode[contracts.ScanImportCompleted](e.Data)
	if err != nil || d.ScanID == "" {
		return "", false
	}
	return d.ScanID, true
}

type newFindingsState struct {
	ScanID   string `json:"scan_id"`
	New      int    `json:"new"`
	Reopened int    `json:"reopened"`
}

// Handle implements sagas.Saga.
func (NewFindings) Handle(_ context.Context, _ json.RawMessage, e events.Envelope, _ time.Time) (sagas.Decision, error) {
	d, err := decode[contracts.ScanImportCompleted](e.Data)
	if err != nil {
		return sagas.Decision{}, err
	}
	if d.New+d.Reopened == 0 {
		return sagas.Decision{}, nil // nothing new: no instance at all
	}
	return sagas.Decision{
		State:    state(newFindingsState{ScanID: d.ScanID, New: d.New, Reopened: d.Reopened}),
		Commands: []sagas.CommandRequest{{Type: CmdNotifyNewFindings, Payload: contracts.NotifyNewFindings{ScanID: d.ScanID}}},
		Done:     true,
	}, nil
}
