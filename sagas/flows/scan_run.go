package flows

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/sagas"
	"github.com/socplatform/soc/schemas/contracts"
)

// ScanRun is the saga "scan_run", one instance per run: it asks the orchestrator to execute
// each attempt, arms the attempt's timeout, waits out the retry backoff, and completes with the
// run. Everything it needs is on the run's stream (ScanRequested carries the definition's
// timeout), so it reads no other stream.
//
//	ScanRequested (schedule, manual)   → scans.execute_run {attempt 1}
//	ScanStarted {n}                    → timer "timeout" at now + timeout_seconds
//	ScanAttemptFailed, will_retry      → cancel "timeout"; timer "retry" at next_attempt_at
//	"retry" fires                      → scans.execute_run {attempt n+1}
//	"timeout" fires                    → scans.timeout_run {attempt n}
//	ScanCompleted | ScanFailed | ScanCancelled → done
//
// Pushed runs (trigger push) are imported on the request path; the saga ignores them.
//
// Compensation: when scans.execute_run or scans.timeout_run cannot be delivered after every
// retry (the orchestrator is not running anywhere, say), the run would wait forever; the saga
// then asks for scans.abort_run, which fails the run with the reason.
type ScanRun struct{}

var _ sagas.Compensator = ScanRun{}

// Compensate implements sagas.Compensator.
func (ScanRun) Compensate(_ context.Context, raw json.RawMessage, f sagas.FailedCommand, _ time.Time) (sagas.Decision, error) {
	var st scanRunState
	if err := json.Unmarshal(raw, &st); err != nil || st.RunID == "" || f.Command.Type == CmdScanAbortRun {
		return sagas.Decision{}, err // nothing to abort, or the abort itself is dead: left to an operator
	}
	reason := fmt.Sprintf("%s failed %d times: %s", f.Command.Type, f.Attempts, f.Error)
	return sagas.Decision{Commands: []sagas.CommandRequest{{Type: CmdScanAbortRun,
		Payload: contracts.AbortScanRun{Reason: reason, RunID: st.RunID}}}}, nil
}

type scanRunState struct {
	RunID          string `json:"run_id"`
	TimeoutSeconds int    `json:"timeout_seconds"`
	Attempt        int    `json:"attempt"`
}

var _ sagas.Saga = ScanRun{}

// Name implements sagas.Saga.
func (ScanRun) Name() string { return "scan_run" }

// Contexts implements sagas.Saga.
func (ScanRun) Contexts() []string { return []string{"scans"} }

// Correlate implements sagas.Saga: a run's events, keyed by its uuid.
func (ScanRun) Correlate(e *events.Envelope) (string, bool) {
	if !strings.HasPrefix(e.StreamID, scanRunPrefix) {
		return "", false
	}
	return strings.TrimPrefix(e.StreamID, scanRunPrefix), true
}

type attemptPayload struct {
	Attempt int `json:"attempt"`
}

// Handle implements sagas.Saga.
func (ScanRun) Handle(_ context.Context, raw json.RawMessage, e events.Envelope, now time.Time) (sagas.Decision, error) {
	st, err := decode[*scanRunState](raw) // nil: no instance yet
	if err != nil {
		return sagas.Decision{}, err
	}
	execute := func(runID string, attempt int) sagas.CommandRequest {
		return sagas.CommandRequest{Type: CmdScanExecuteRun, Payload: contracts.ExecuteScanRun{Attempt: attempt, RunID: runID}}
	}
	switch e.Type {
	case contracts.TypeScanRequested:
		var d contracts.ScanRequested
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return sagas.Decision{}, err
		}
		if st != nil || d.Trigger == contracts.ScanTriggerPush {
			return sagas.Decision{}, nil
		}
		runID := strings.TrimPrefix(e.StreamID, scanRunPrefix)
		return sagas.Decision{State: state(scanRunState{RunID: runID, TimeoutSeconds: d.TimeoutSeconds}), Commands: []sagas.CommandRequest{execute(runID, 1)}}, nil
	case contracts.TypeScanStarted:
		if st == nil {
			return sagas.Decision{}, nil
		}
		var d attemptPayload
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return sagas.Decision{}, err
		}
		st.Attempt = d.Attempt
		return sagas.Decision{State: state(st), Schedule: []sagas.TimerRequest{{Name: "timeout",
			DueAt: now.Add(time.Duration(st.TimeoutSeconds) * time.Second), Payload: d}}}, nil
	case contracts.TypeScanAttemptFailed:
		if st == nil {
			return sagas.Decision{}, nil
		}
		var d contracts.ScanAttemptFailed
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return sagas.Decision{}, err
		}
		dec := sagas.Decision{Cancel: []string{"timeout"}}
		if d.WillRetry && !d.NextAttemptAt.IsZero() {
			dec.Schedule = []sagas.TimerRequest{{Name: "retry", DueAt: d.NextAttemptAt, Payload: attemptPayload{Attempt: d.Attempt + 1}}}
		}
		return dec, nil
	case contracts.TypeScanCompleted, contracts.TypeScanFailed, contracts.TypeScanCancelled:
		if st == nil {
			return sagas.Decision{}, nil
		}
		return sagas.Decision{Done: true}, nil
	case contracts.TypeSagaTimerFired:
		t, ok := sagas.TimerOf(&e)
		if !ok || st == nil {
			return sagas.Decision{}, nil
		}
		var p attemptPayload
		if err := json.Unmarshal(t.Payload, &p); err != nil || p.Attempt < 1 {
			return sagas.Decision{}, nil
		}
		switch t.Name {
		case "retry":
			return sagas.Decision{Commands: []sagas.CommandRequest{execute(st.RunID, p.Attempt)}}, nil
		case "timeout":
			return sagas.Decision{Commands: []sagas.CommandRequest{{Type: CmdScanTimeoutRun,
				Payload: contracts.TimeoutScanRun{Attempt: p.Attempt, RunID: st.RunID}}}}, nil
		}
	}
	return sagas.Decision{}, nil
}
