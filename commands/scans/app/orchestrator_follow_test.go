package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/events/snapshot"
)

// The orchestrator's follower (the eventlog consumer port) brings what another node appends into
// the index without a Sync, and writes snapshots by its policy as it goes.
func TestOrchestratorFollowsOtherNodes(t *testing.T) {
	e := newOrchEnv(t, "ok")
	dir := snapshot.Dir{Path: t.TempDir()}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	other, err := app.NewOrchestrator(app.OrchestratorConfig{Store: e.store, Runner: e.run, EvidenceDir: t.TempDir(), Node: "node-b",
		Now: func() time.Time { return t0 }, Snapshots: dir, SnapshotPolicy: snapshot.Policy{Events: 1, Interval: -1},
		Import: func(context.Context, app.ImportScanReport) (app.Summary, error) { return app.Summary{}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Start(ctx); err != nil {
		t.Fatal(err)
	}
	def := e.define(nmapSpec(1, 0))
	for {
		if _, ok := other.Definition(def); ok {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the other node's index never saw the definition")
		}
		time.Sleep(time.Millisecond)
	}
	path := filepath.Join(dir.Path, "scans-orchestrator.snap")
	for snapshotPositionOrZero(path) < head(t, e.store) {
		if ctx.Err() != nil {
			t.Fatalf("the follower wrote no snapshot covering the head (%d)", head(t, e.store))
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := other.Wait(); err != nil {
		t.Fatal(err)
	}
}

// snapshotPositionOrZero is the position the snapshot at path covers, 0 while there is none.
func snapshotPositionOrZero(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	var h struct {
		Position int64 `json:"position"`
	}
	if i := bytes.IndexByte(b, '\n'); i < 0 || json.Unmarshal(b[:i], &h) != nil {
		return 0
	}
	return h.Position
}
