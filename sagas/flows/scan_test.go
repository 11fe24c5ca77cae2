package flows_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/socplatform/soc/sagas"
	"github.com/socplatform/soc/sagas/flows"
)

var scanT0 = time.Date(2025, 3, 1, 9, 7, 0, 0, time.UTC)

// newScanEnv runs the two scan sagas on a real SQLite store with a manual clock; restart is a
// process restart (a new runtime, timer service and dispatcher rebuilt from the store).
func newScanEnv(t *testing.T) *env {
	return newEnvWith(t, scanT0, flows.ScanSchedule{}, flows.ScanRun{})
}

func one(t *testing.T, when string, cmds []sagas.Command, typ string) map[string]any {
	t.Helper()
	if len(cmds) != 1 || cmds[0].Type != typ {
		t.Fatalf("%s: commands %+v, want one %s", when, cmds, typ)
	}
	var p map[string]any
	if err := json.Unmarshal(cmds[0].Payload, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func none(t *testing.T, when string, cmds []sagas.Command) {
	t.Helper()
	if len(cmds) != 0 {
		t.Fatalf("%s: unexpected commands %+v", when, cmds)
	}
}

func definitionData(schedule string) map[string]any {
	d := map[string]any{"name": "loopback", "scanner": "nmap", "target": map[string]any{"addresses": []string{"127.0.0.1"}},
		"options": map[string]any{"ports": "80"}, "timeout_seconds": 60, "max_attempts": 3, "retry_backoff_seconds": 10, "format": "nmap"}
	if schedule != "" {
		d["schedule"] = schedule
	}
	return d
}

func TestScanScheduleFiresAtCronTimesOnce(t *testing.T) {
	e := newScanEnv(t)
	id := uuid.NewString()
	stream := "scans-definition-" + id
	e.append(stream, "ScanDefinitionCreated", definitionData("*/15 * * * *"))
	none(t, "created", e.step())
	if due, ok := e.ts.Next(); !ok || !due.Equal(time.Date(2025, 3, 1, 9, 15, 0, 0, time.UTC)) {
		t.Fatalf("first timer %v %v", due, ok)
	}
	none(t, "before the first time", e.at(time.Date(2025, 3, 1, 9, 14, 59, 0, time.UTC)))

	// A restart between scheduling and the deadline loses nothing and fires once.
	e.restart()
	p := one(t, "09:15", e.at(time.Date(2025, 3, 1, 9, 15, 0, 0, time.UTC)), flows.CmdScanRequestScheduledRun)
	if p["definition_id"] != id || p["scheduled_for"] != "2025-03-01T09:15:00Z" {
		t.Fatalf("payload %v", p)
	}
	none(t, "09:15 again", e.step())
	e.restart()
	none(t, "09:15 after a restart", e.step())
	p = one(t, "09:30", e.at(time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)), flows.CmdScanRequestScheduledRun)
	if p["scheduled_for"] != "2025-03-01T09:30:00Z" {
		t.Fatalf("payload %v", p)
	}

	// A long outage (09:45 … 11:45 missed) is caught up by one run, then the cron resumes.
	e.restart()
	p = one(t, "after the outage", e.at(time.Date(2025, 3, 1, 12, 1, 0, 0, time.UTC)), flows.CmdScanRequestScheduledRun)
	if p["scheduled_for"] != "2025-03-01T09:45:00Z" {
		t.Fatalf("catch-up payload %v", p)
	}
	none(t, "no burst", e.step())
	if due, _ := e.ts.Next(); !due.Equal(time.Date(2025, 3, 1, 12, 15, 0, 0, time.UTC)) {
		t.Fatalf("next after the outage %v", due)
	}

	// A new schedule replaces the pending timer.
	e.append(stream, "ScanDefinitionUpdated", definitionData("@hourly"))
	none(t, "updated", e.step())
	none(t, "old 12:15", e.at(time.Date(2025, 3, 1, 12, 15, 0, 0, time.UTC)))
	p = one(t, "13:00", e.at(time.Date(2025, 3, 1, 13, 0, 0, 0, time.UTC)), flows.CmdScanRequestScheduledRun)
	if p["scheduled_for"] != "2025-03-01T13:00:00Z" {
		t.Fatalf("payload %v", p)
	}

	// Without a schedule nothing fires; deleting completes the instance.
	e.append(stream, "ScanDefinitionUpdated", definitionData(""))
	none(t, "unscheduled", e.step())
	none(t, "unscheduled 15:00", e.at(time.Date(2025, 3, 1, 15, 0, 0, 0, time.UTC)))
	e.append(stream, "ScanDefinitionDeleted", map[string]any{"reason": "retired"})
	none(t, "deleted", e.step())
	in, err := sagas.Show(e.Ctx, e.Store, "scan_schedule", id)
	if err != nil || !in.Done || len(in.PendingTimers()) != 0 {
		t.Fatalf("instance %+v %v", in, err)
	}
}

func TestScanScheduleIgnoresUnscheduledAndExternal(t *testing.T) {
	e := newScanEnv(t)
	e.append("scans-definition-"+uuid.NewString(), "ScanDefinitionCreated", definitionData(""))
	ext := definitionData("@hourly")
	ext["scanner"], ext["format"], ext["token_sha256"] = "external", "trivy", "0000000000000000000000000000000000000000000000000000000000000000"
	delete(ext, "options")
	e.append("scans-definition-"+uuid.NewString(), "ScanDefinitionCreated", ext)
	none(t, "created", e.step())
	if e.ts.Pending() != 0 {
		t.Fatalf("%d timers", e.ts.Pending())
	}
	none(t, "a day later", e.at(scanT0.Add(24*time.Hour)))
}

func TestScanRunRetryAndTimeout(t *testing.T) {
	e := newScanEnv(t)
	run := uuid.NewString()
	stream := "scans-run-" + run
	e.append(stream, "ScanRequested", map[string]any{"definition_id": uuid.NewString(), "trigger": "manual",
		"timeout_seconds": 60, "max_attempts": 3, "retry_backoff_seconds": 10})
	p := one(t, "requested", e.step(), flows.CmdScanExecuteRun)
	if p["run_id"] != run || p["attempt"] != float64(1) {
		t.Fatalf("payload %v", p)
	}
	e.append(stream, "ScanStarted", map[string]any{"attempt": 1, "command": []string{"nmap"}})
	none(t, "started", e.step())
	next := scanT0.Add(10 * time.Second)
	e.append(stream, "ScanAttemptFailed", map[string]any{"attempt": 1, "error": "boom", "will_retry": true, "next_attempt_at": next})
	none(t, "failed", e.step())
	// The timeout of attempt 1 was cancelled: nothing at +60 s but the retry at +10 s.
	e.restart()
	p = one(t, "retry", e.at(next), flows.CmdScanExecuteRun)
	if p["attempt"] != float64(2) {
		t.Fatalf("retry payload %v", p)
	}
	e.append(stream, "ScanStarted", map[string]any{"attempt": 2, "command": []string{"nmap"}})
	none(t, "started 2", e.step())
	none(t, "attempt 1's deadline", e.at(scanT0.Add(60*time.Second)))
	p = one(t, "timeout", e.at(next.Add(60*time.Second)), flows.CmdScanTimeoutRun)
	if p["run_id"] != run || p["attempt"] != float64(2) {
		t.Fatalf("timeout payload %v", p)
	}
	e.append(stream, "ScanAttemptFailed", map[string]any{"attempt": 2, "error": "timed out after 1m0s", "will_retry": false})
	e.append(stream, "ScanFailed", map[string]any{"attempts": 2, "error": "timed out after 1m0s"})
	none(t, "failed for good", e.step())
	in, err := sagas.Show(e.Ctx, e.Store, "scan_run", run)
	if err != nil || !in.Done || len(in.PendingTimers()) != 0 {
		t.Fatalf("instance %+v %v", in, err)
	}
}

func TestScanRunCompletesAndIgnoresPushes(t *testing.T) {
	e := newScanEnv(t)
	run := uuid.NewString()
	stream := "scans-run-" + run
	e.append(stream, "ScanRequested", map[string]any{"definition_id": uuid.NewString(), "trigger": "schedule",
		"scheduled_for": scanT0, "timeout_seconds": 30, "max_attempts": 1, "retry_backoff_seconds": 0})
	one(t, "requested", e.step(), flows.CmdScanExecuteRun)
	e.append(stream, "ScanStarted", map[string]any{"attempt": 1, "command": []string{"nmap"}})
	e.append(stream, "ScanCompleted", map[string]any{"attempt": 1, "evidence": map[string]any{"path": run + "/attempt-1.xml",
		"sha256": "0000000000000000000000000000000000000000000000000000000000000000", "bytes": 10},
		"import": map[string]any{"findings_total": 0, "new": 0, "reopened": 0, "resolved": 0}})
	none(t, "completed", e.step())
	none(t, "after its timeout", e.at(scanT0.Add(time.Hour)))

	push := "scans-run-" + uuid.NewString()
	e.append(push, "ScanRequested", map[string]any{"definition_id": uuid.NewString(), "trigger": "push",
		"timeout_seconds": 30, "max_attempts": 1, "retry_backoff_seconds": 0})
	e.append(push, "ScanStarted", map[string]any{"attempt": 1, "command": []string{}})
	none(t, "push", e.step())
	if e.ts.Pending() != 0 {
		t.Fatalf("%d timers for a push", e.ts.Pending())
	}
}

// A run whose execute command is dead (every dispatch failed) is aborted by the compensation,
// once, with the reason; a dead abort is not compensated again.
func TestScanRunCompensatesADeadCommand(t *testing.T) {
	e := newScanEnv(t)
	e.bus.fail = map[string]bool{flows.CmdScanExecuteRun: true, flows.CmdScanAbortRun: true}
	run := uuid.NewString()
	e.append("scans-run-"+run, "ScanRequested", map[string]any{"definition_id": uuid.NewString(), "trigger": "manual",
		"timeout_seconds": 60, "max_attempts": 1, "retry_backoff_seconds": 0})
	var sent []string
	for i, at := 0, scanT0; i < 12; i, at = i+1, at.Add(time.Minute) { // past every dispatch backoff (max 4s)
		for _, c := range e.at(at) {
			sent = append(sent, c.Type)
			if c.Type == flows.CmdScanAbortRun {
				var p map[string]any
				_ = json.Unmarshal(c.Payload, &p)
				if p["run_id"] != run || !strings.Contains(fmt.Sprint(p["reason"]), "scans.execute_run failed 3 times") {
					t.Fatalf("abort payload %v", p)
				}
			}
		}
	}
	want := []string{flows.CmdScanExecuteRun, flows.CmdScanExecuteRun, flows.CmdScanExecuteRun,
		flows.CmdScanAbortRun, flows.CmdScanAbortRun, flows.CmdScanAbortRun}
	if !slices.Equal(sent, want) {
		t.Fatalf("commands sent %v, want %v", sent, want)
	}
}
