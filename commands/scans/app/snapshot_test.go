package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/importers/trivy/trivytest"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/snapshot"
)

func head(t *testing.T, store events.EventStore) int64 {
	t.Helper()
	h, err := store.HeadPosition(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// snapshotPosition reads the position a snapshot file covers from its header line.
func snapshotPosition(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no snapshot: %v", err)
	}
	var h struct {
		Position int64 `json:"position"`
	}
	if err := json.Unmarshal(b[:bytes.IndexByte(b, '\n')], &h); err != nil {
		t.Fatal(err)
	}
	return h.Position
}

func loadedWith(t *testing.T, store *events.Guarded, dir snapshot.Dir) *app.Importer {
	t.Helper()
	im, err := app.New(store, app.Options{Snapshots: dir, ReadBatch: 100})
	if err != nil {
		t.Fatal(err)
	}
	if err := im.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return im
}

// A restart restores the importer's lookups from the snapshot written when it stopped and reads
// only the events appended after it; the result equals a full replay of $all. A corrupt snapshot
// is ignored: the lookups are rebuilt from the whole log, with the same result.
func TestImporterSnapshotRestart(t *testing.T) {
	ctx := context.Background()
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	dir := snapshot.Dir{Path: t.TempDir()}

	// A node imports two reports (the second resolves findings of the first) and stops.
	runCtx, stop := context.WithCancel(ctx)
	first, err := app.New(store, app.Options{Snapshots: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(runCtx); err != nil {
		t.Fatal(err)
	}
	importBytes(t, first, trivytest.Bytes(t, 60, "registry.example.com/shop/api:1.0", detailedTrivy), app.ImportScanReport{Format: "trivy"})
	importBytes(t, first, trivytest.Bytes(t, 40, "registry.example.com/shop/api:1.0", detailedTrivy), app.ImportScanReport{Format: "trivy"})
	stop()
	if err := first.Wait(); err != nil {
		t.Fatal(err)
	}
	snapped := snapshotPosition(t, filepath.Join(dir.Path, "scans-importer.snap"))
	if snapped == 0 {
		t.Fatal("the shutdown snapshot covers nothing")
	}

	// Another writer appends while the node is down.
	other := newImporter(t, store)
	importBytes(t, other, trivytest.Bytes(t, 30, "registry.example.com/shop/web:2.0", detailedTrivy), app.ImportScanReport{Format: "trivy"})
	importBytes(t, other, trivytest.Bytes(t, 10, "registry.example.com/shop/api:1.0", detailedTrivy), app.ImportScanReport{Format: "trivy"})

	var restarted *app.Importer
	testsupport.RestartReadsOnlyTheTail(t, store, dir, snapped, func(store *events.Guarded, dir snapshot.Dir) string {
		restarted = loadedWith(t, store, dir)
		return restarted.LookupsDump()
	})
	// The restored importer keeps working: a re-import of the last report changes nothing.
	sum := importBytes(t, restarted, trivytest.Bytes(t, 10, "registry.example.com/shop/api:1.0", detailedTrivy), app.ImportScanReport{Format: "trivy"})
	if sum.New != 0 || sum.Unchanged != 10 {
		t.Errorf("re-import after the restore: %+v", sum)
	}

	// A corrupt snapshot: the restart replays the whole log and gets the same lookups.
	testsupport.CorruptSnapshotReplaysAll(t, store, dir, filepath.Join(dir.Path, "scans-importer.snap"), func(store *events.Guarded, dir snapshot.Dir) string {
		return loadedWith(t, store, dir).LookupsDump()
	})
}

// A snapshot written while imports append is taken at the follower's cursor but may hold the
// importer's own appends beyond it; replaying those after a restore must change nothing.
func TestImporterSnapshotAheadOfCursor(t *testing.T) {
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	dir := snapshot.Dir{Path: t.TempDir()}
	im := loadedWith(t, store, dir)
	importBytes(t, im, trivytest.Bytes(t, 20, "registry.example.com/a/b:1", detailedTrivy), app.ImportScanReport{Format: "trivy"})
	// The import's own appends are applied, but its final events were not read back from $all
	// yet: the cursor is behind them.
	if err := im.SaveSnapshot(); err != nil {
		t.Fatal(err)
	}
	want := newImporter(t, store).LookupsDump()
	if got := loadedWith(t, store, dir).LookupsDump(); got != want {
		t.Fatalf("restored lookups differ from a full replay:\n got: %s\nwant: %s", got, want)
	}
}

// The orchestrator's index after a restart from its snapshot equals a full replay's, and the
// restart reads from $all only the events after the snapshot; a corrupt snapshot means a full
// replay with the same index.
func TestOrchestratorSnapshotRestart(t *testing.T) {
	e := newOrchEnv(t, "ok", "ok")
	e.stop()
	e.snaps = snapshot.Dir{Path: t.TempDir()}
	e.start()
	def := e.define(nmapSpec(1, 0))
	other := e.define(nmapSpec(2, 5))
	run := e.manualRun(def)
	e.command("c1", app.CmdExecuteRun, map[string]any{"run_id": run, "attempt": 1})
	e.waitFor(run, 3)
	cancelled := e.manualRun(other)
	if _, err := e.orch.CancelRun(e.ctx, cancelled, "not now", es.Meta{Actor: "bob"}); err != nil {
		t.Fatal(err)
	}
	e.stop() // writes the snapshot
	path := filepath.Join(e.snaps.Path, "scans-orchestrator.snap")
	snapped := snapshotPosition(t, path)

	// While the node is down another one defines and runs more.
	snaps := e.snaps
	e.snaps = snapshot.Dir{}
	e.start()
	third := e.define(nmapSpec(1, 0))
	later := e.manualRun(third)
	e.command("c2", app.CmdExecuteRun, map[string]any{"run_id": later, "attempt": 1})
	e.waitFor(later, 3)
	e.manualRun(def)
	e.stop()

	e.start() // a full replay
	want := e.orch.IndexDump()
	e.stop()
	total := head(t, e.store)

	cs, count := testsupport.CountedStore(e.store)
	e.orchStore, e.snaps = cs, snaps
	e.start()
	if got := e.orch.IndexDump(); got != want {
		t.Fatalf("snapshot + catch-up differs from a full replay:\n got: %s\nwant: %s", got, want)
	}
	e.stop()
	// One event to check the snapshot, then those after it (the follower may find no more).
	if n := count.Read(); n != total-snapped+1 {
		t.Errorf("the restart read %d events of $all; want %d (after the snapshot at %d of %d) + 1", n, total-snapped+1, snapped, total)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-4] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cs, count = testsupport.CountedStore(e.store)
	e.orchStore = cs
	e.start()
	if got := e.orch.IndexDump(); got != want {
		t.Fatalf("after a corrupt snapshot the index differs from a full replay:\n got: %s\nwant: %s", got, want)
	}
	e.stop()
	if n := count.Read(); n != total {
		t.Errorf("after a corrupt snapshot the restart read %d events, want all %d", n, total)
	}
}
