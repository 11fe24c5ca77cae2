package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/bus"
	notifyapp "github.com/socplatform/soc/commands/notifications/app"
	scanapp "github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/schemas/contracts"
)

// busNode is the app and the planner of a node's command bus, on a fresh store.
func busNode(t *testing.T) (*app, *notifyapp.Planner) {
	t.Helper()
	cfg := &Config{StoreConfig: StoreConfig{DataDir: t.TempDir()}}
	store, be, _, err := openStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	a := &app{cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil)), store: store, backend: be, kind: "sqlite"}
	dir, err := notifyapp.NewDirectory(notifyapp.Directory{})
	if err != nil {
		t.Fatal(err)
	}
	planner, err := notifyapp.NewPlanner(notifyapp.PlannerConfig{Store: store, Querier: store, Service: notifyapp.NewService(store, dir, nil), Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return a, planner
}

// In a full node every command the sagas issue (every x-command-type of the command schemas)
// has its handler, registered by its own context; the bus refuses a second one.
func TestCommandBusHandlesEverySagaCommand(t *testing.T) {
	a, planner := busNode(t)
	orch, err := scanapp.NewOrchestrator(scanapp.OrchestratorConfig{Store: a.store, EvidenceDir: t.TempDir(),
		Import: func(context.Context, scanapp.ImportScanReport) (scanapp.Summary, error) {
			return scanapp.Summary{}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := commandBus(a, planner, orch)
	if err != nil {
		t.Fatal(err)
	}
	handled := b.Handled()
	if types := b.Types(); !slices.Equal(handled, types) {
		t.Fatalf("handled %v, want every command type %v", handled, types)
	}
	// The types the sagas issue (sagas/flows' constants are these contracts constants).
	for _, typ := range []string{
		contracts.CmdNotifyNewFindings, contracts.CmdNotifyKEVAlert, contracts.CmdNotifyKEVAlertsForAsset,
		contracts.CmdNotifySLAReminder, contracts.CmdNotifySLABreach, contracts.CmdNotifyRiskAcceptanceExpired,
		contracts.CmdRecordSLABreach, contracts.CmdExpireRiskAcceptance,
		contracts.CmdRequestScheduledScanRun, contracts.CmdExecuteScanRun, contracts.CmdTimeoutScanRun, contracts.CmdAbortScanRun,
	} {
		if !slices.Contains(handled, typ) {
			t.Errorf("no handler for %s", typ)
		}
		if err := bus.Register(b, typ, func(context.Context, string, json.RawMessage) error { return nil }); err == nil {
			t.Errorf("%s: a second handler was accepted", typ)
		}
	}
}

// Without the commands target the scan commands fail with the reason, retried; the others
// are still handled here.
func TestCommandBusWithoutOrchestrator(t *testing.T) {
	a, planner := busNode(t)
	b, err := commandBus(a, planner, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Dispatch(context.Background(), "c-1", contracts.CmdExecuteScanRun, json.RawMessage(`{"run_id":"0190a8a4-6f2a-7c3e-8a4b-1c2d3e4f5a6b","attempt":1}`))
	if err == nil || !strings.Contains(err.Error(), "the commands target (which runs scans) is not running in this process") {
		t.Fatalf("scan command without an orchestrator: %v", err)
	}
	if _, ok := err.(interface{ Permanent() bool }); ok {
		t.Fatal("a missing orchestrator must stay retryable")
	}
	// An unknown type and a bad payload: typed, the latter permanent.
	if _, ok := errors.AsType[*bus.UnknownCommandError](b.Dispatch(context.Background(), "c-2", "scans.bogus", nil)); !ok {
		t.Fatal("unknown type: no UnknownCommandError")
	}
	err = b.Dispatch(context.Background(), "c-3", contracts.CmdRecordSLABreach, json.RawMessage(`{"finding_id":""}`))
	if pe, ok := errors.AsType[*bus.PayloadError](err); !ok || !pe.Permanent() {
		t.Fatalf("bad payload: %v", err)
	}
}
