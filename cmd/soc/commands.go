package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	assetports "github.com/socplatform/soc/commands/assets/ports"
	scanapp "github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/ports"
	"github.com/socplatform/soc/commands/scans/runner"
	"github.com/socplatform/soc/commands/vulns/catalogue"
	vulndomain "github.com/socplatform/soc/commands/vulns/domain"
	vulnports "github.com/socplatform/soc/commands/vulns/ports"
	"github.com/socplatform/soc/events/snapshot"
	"github.com/socplatform/soc/schemas"
)

// writeSide is what the commands target offers the modules beside it: the orchestrator runs the
// sagas' scan commands, the importer's finding index answers their asset questions.
type writeSide struct {
	scans   *scanapp.Orchestrator
	imports *scanapp.Importer
}

// startCommands serves the write API: finding and asset commands, and scanner report imports.
// The importer and the CVE catalogue restore their lookups (snapshot, then the events after it)
// before the node answers, then follow the store.
func startCommands(ctx context.Context, a *app, in inputs) (any, readiness, error) {
	if err := registerIdentityRoutes(a, in.identity()); err != nil {
		return nil, nil, err
	}
	push, err := newPushTokens(in.identity(), a.cfg.Identity.MaxTokenTTL)
	if err != nil {
		return nil, nil, err
	}
	sla, err := loadSLAPolicy(a.cfg.SLAPolicyFile)
	if err != nil {
		return nil, nil, err
	}
	snaps := snapshotDir(a)
	im, err := scanapp.New(a.store, scanapp.Options{SLA: sla, Snapshots: snaps, MaxCloseShare: a.cfg.ReimportMaxCloseShare})
	if err != nil {
		return nil, nil, err
	}
	if err := im.Start(ctx); err != nil {
		return nil, nil, err
	}
	cat := catalogue.New(a.store, catalogue.Options{Snapshots: snaps})
	if err := cat.Start(ctx); err != nil {
		return nil, nil, err
	}
	// importReport is the one import path: HTTP uploads, orchestrated scans and pushed reports.
	importReport := func(ctx context.Context, cmd scanapp.ImportScanReport) (scanapp.Summary, error) {
		sum, err := im.Import(ctx, cmd)
		if err != nil {
			return sum, err
		}
		// Findings opened by this scan get the KEV/EPSS state the catalogue already knows.
		if _, err := cat.EnrichNew(ctx); err != nil {
			a.log.Warn("enriching the scan's findings from the CVE catalogue failed; the next import retries", "scan_id", sum.ScanID, "err", err)
		}
		return sum, nil
	}
	// Uploads: accepted once spooled and recorded; the imports this node accepted before a stop
	// or a crash resume here (or fail with the reason), before the node answers.
	imports, err := ports.NewImports(ctx, ports.ImportsConfig{MaxBodyBytes: a.cfg.MaxImportBytes, Workers: a.cfg.ImportWorkers,
		QueueLength: a.cfg.ImportQueue, UploadsPerClient: a.cfg.ImportUploadsPerClient, SpoolDir: importSpoolDir(a.cfg),
		CheckAsset: func(ctx context.Context, ref string) error {
			_, err := im.ResolveAsset(ctx, ref)
			return err
		}}, importReport, im, a.log)
	if err != nil {
		return nil, nil, err
	}
	imports.Register(a.mux)
	// Scan definitions, scheduled and manual runs (nmap), and reports pushed by external
	// scanners; the sagas target drives runs through the command bus.
	allowed := make([]netip.Prefix, 0, len(a.cfg.ScanAllowedTargets))
	for _, p := range a.cfg.ScanAllowedTargets {
		allowed = append(allowed, netip.MustParsePrefix(p)) // validated with the configuration
	}
	orch, err := scanapp.NewOrchestrator(scanapp.OrchestratorConfig{Store: a.store, Log: a.log, AllowedTargets: allowed,
		Concurrency: a.cfg.ScanConcurrency, EvidenceDir: filepath.Join(a.cfg.DataDir, "evidence", "scans"), Snapshots: snaps,
		Runner: runner.New(runner.Config{Path: a.cfg.NmapPath, AllowedTargets: allowed}),
		Import: importReport, PushTokens: push})
	if err != nil {
		return nil, nil, err
	}
	if err := orch.Start(ctx); err != nil {
		return nil, nil, err
	}
	if err := ports.Register(a.mux, orch, ports.Config{Schemas: schemas.CommandsFS(), MaxBodyBytes: a.cfg.MaxImportBytes, Log: a.log}); err != nil {
		return nil, nil, err
	}
	if err := vulnports.Register(a.mux, a.store, vulnports.Config{Schemas: schemas.CommandsFS(), Log: a.log}); err != nil {
		return nil, nil, err
	}
	if err := assetports.Register(a.mux, a.store, im.Index(), assetports.Config{Schemas: schemas.CommandsFS(), Log: a.log}); err != nil {
		return nil, nil, err
	}
	// Risk acceptances reopen their findings when they expire: a durable timer of the
	// finding_deadlines saga (sagas target) per acceptance, which also notifies the owners.
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		<-ctx.Done()
		// Running imports may finish within the shutdown timeout; queued ones, and those cut
		// off, stay requested in the store and resume on the next start.
		grace, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout/2)
		imports.Close(grace)
		cancel()
		if err := orch.Wait(); err != nil {
			a.log.Error("scan orchestrator stopped", "err", err)
		}
		if err := im.Wait(); err != nil {
			a.log.Error("importer stopped following the store", "err", err)
		}
		if err := cat.Wait(); err != nil { // it writes the snapshot as it stops
			a.log.Warn("the CVE catalogue stopped following the store", "err", err)
		}
	}()
	return &writeSide{scans: orch, imports: im}, nil, nil
}

// snapshotDir is where the lookups keep their snapshots: a directory per node (they are caches
// of this process's memory, whichever store backend holds the events).
func snapshotDir(a *app) snapshot.Dir {
	switch dir := a.cfg.SnapshotDir; {
	case dir == "off":
		return snapshot.Dir{}
	case dir != "":
		return snapshot.Dir{Path: dir, Log: a.log}
	case a.cfg.DataDir != "":
		return snapshot.Dir{Path: filepath.Join(a.cfg.DataDir, "snapshots"), Log: a.log}
	}
	return snapshot.Dir{}
}

// importSpoolDir is where accepted uploads wait: under the data directory by default, so that
// they survive a restart (a temporary directory may not).
func importSpoolDir(cfg *Config) string {
	if cfg.ImportSpoolDir != "" {
		return cfg.ImportSpoolDir
	}
	return filepath.Join(cfg.DataDir, "spool")
}

// loadSLAPolicy reads the SLA policy file; no file means the default policy.
func loadSLAPolicy(path string) (*vulndomain.SLAPolicy, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--sla-policy/SOC_SLA_POLICY: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p vulndomain.SLAPolicy
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("--sla-policy/SOC_SLA_POLICY: %s: %w", path, err)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("--sla-policy/SOC_SLA_POLICY: %s: %w", path, err)
	}
	return &p, nil
}
