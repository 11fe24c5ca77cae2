package flows

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/sagas"
	"github.com/socplatform/soc/schemas/contracts"
)

// Command types of the scans context, executed by the scan orchestrator; their types and
// payloads are declared by schemas/commands/scans (contracts.Cmd<Name> and contracts.<Name>).
const (
	CmdScanRequestScheduledRun = contracts.CmdRequestScheduledScanRun
	CmdScanExecuteRun          = contracts.CmdExecuteScanRun
	CmdScanTimeoutRun          = contracts.CmdTimeoutScanRun
	CmdScanAbortRun            = contracts.CmdAbortScanRun // ScanRun's compensation
)

const (
	scanDefinitionPrefix = "scans-definition-"
	scanRunPrefix        = "scans-run-"
)

// ParseScanSchedule parses a definition's schedule the way the scans domain does: 5-field
// cron or a descriptor, in UTC unless it starts with CRON_TZ=/TZ=. Reading it in the process's
// local zone would make the saga's decision depend on the machine it runs on.
func ParseScanSchedule(expr string) (cron.Schedule, error) {
	if !strings.HasPrefix(expr, "CRON_TZ=") && !strings.HasPrefix(expr, "TZ=") {
		expr = "CRON_TZ=UTC " + expr
	}
	return cron.ParseStandard(expr)
}

// ScanSchedule is the saga "scan_schedule", one instance per scan definition: it keeps one
// durable timer "next" at the definition's next cron time and, when it fires, asks the
// orchestrator for that run (scans.request_scheduled_run, idempotent on definition and time).
//
// The next timer is due at the cron's next time after max(due, now): after an outage the
// missed times are caught up by ONE run (the one for the first missed time), not a burst.
type ScanSchedule struct{}

type scanScheduleState struct {
	DefinitionID string `json:"definition_id"`
	Schedule     string `json:"schedule,omitempty"`
}

var _ sagas.Saga = ScanSchedule{}

// Name implements sagas.Saga.
func (ScanSchedule) Name() string { return "scan_schedule" }

// Contexts implements sagas.Saga.
func (ScanSchedule) Contexts() []string { return []string{"scans"} }

// Correlate implements sagas.Saga: the definition's events, keyed by its uuid.
func (ScanSchedule) Correlate(e *events.Envelope) (string, bool) {
	if !strings.HasPrefix(e.StreamID, scanDefinitionPrefix) {
		return "", false
	}
	switch e.Type {
	case contracts.TypeScanDefinitionCreated, contracts.TypeScanDefinitionUpdated, contracts.TypeScanDefinitionDeleted:
		return strings.TrimPrefix(e.StreamID, scanDefinitionPrefix), true
	}
	return "", false
}

// Handle implements sagas.Saga.
func (ScanSchedule) Handle(_ context.Context, raw json.RawMessage, e events.Envelope, now time.Time) (sagas.Decision, error) {
	st, err := decode[*scanScheduleState](raw) // nil: no instance yet
	if err != nil {
		return sagas.Decision{}, err
	}
	switch e.Type {
	case contracts.TypeScanDefinitionCreated, contracts.TypeScanDefinitionUpdated:
		scanner, schedule, err := scheduleOf(&e)
		if err != nil {
			return sagas.Decision{}, err
		}
		if scanner != contracts.ScannerNmap {
			schedule = "" // external scanners push; nothing to schedule
		}
		if schedule == "" {
			if st == nil {
				return sagas.Decision{}, nil // no instance for an unscheduled definition
			}
			return sagas.Decision{State: state(scanScheduleState{DefinitionID: st.DefinitionID}), Cancel: []string{"next"}}, nil
		}
		sch, err := ParseScanSchedule(schedule)
		if err != nil {
			// The domain validated it: an unparseable schedule is a bug, not something to retry.
			return sagas.Decision{}, fmt.Errorf("schedule %q of %s: %w", schedule, e.StreamID, err)
		}
		next := state(scanScheduleState{DefinitionID: strings.TrimPrefix(e.StreamID, scanDefinitionPrefix), Schedule: schedule})
		// Scheduling "next" again replaces the pending timer.
		return sagas.Decision{State: next, Schedule: []sagas.TimerRequest{{Name: "next", DueAt: sch.Next(now).UTC()}}}, nil
	case contracts.TypeScanDefinitionDeleted:
		if st == nil {
			return sagas.Decision{}, nil
		}
		return sagas.Decision{Done: true}, nil
	case contracts.TypeSagaTimerFired:
		t, ok := sagas.TimerOf(&e)
		if !ok || st == nil || t.Name != "next" || st.Schedule == "" {
			return sagas.Decision{}, nil
		}
		sch, err := ParseScanSchedule(st.Schedule)
		if err != nil {
			return sagas.Decision{}, err
		}
		from := t.DueAt
		if now.After(from) {
			from = now
		}
		return sagas.Decision{
			Commands: []sagas.CommandRequest{{Type: CmdScanRequestScheduledRun,
				Payload: contracts.RequestScheduledScanRun{DefinitionID: st.DefinitionID, ScheduledFor: t.DueAt.UTC()}}},
			Schedule: []sagas.TimerRequest{{Name: "next", DueAt: sch.Next(from).UTC()}},
		}, nil
	}
	return sagas.Decision{}, nil
}

// scheduleOf reads the scanner and schedule of a ScanDefinitionCreated or ScanDefinitionUpdated.
func scheduleOf(e *events.Envelope) (contracts.Scanner, string, error) {
	if e.Type == contracts.TypeScanDefinitionCreated {
		var d contracts.ScanDefinitionCreated
		err := json.Unmarshal(e.Data, &d)
		return d.Scanner, d.Schedule, err
	}
	var d contracts.ScanDefinitionUpdated
	err := json.Unmarshal(e.Data, &d)
	return d.Scanner, d.Schedule, err
}
