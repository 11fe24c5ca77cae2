package app

import (
	"context"
	"time"

	vulnapp "github.com/socplatform/soc/commands/vulns/app"
	vulns "github.com/socplatform/soc/commands/vulns/domain"
	"github.com/socplatform/soc/events/snapshot"
)

// The importer's snapshot: its name in the snapshot directory and the version of importerState.
// Bump the version whenever importerState or what it holds changes meaning: an old snapshot is
// then ignored and the lookups rebuilt from $all.
const (
	snapshotName    = "scans-importer"
	snapshotVersion = 4 // 2: index entries carry the asset name (weak keys, merges); 3: findings' last scan and outcome, pending imports; 4: no assets (the assets context's lookup holds them)
)

// importerState is what a snapshot holds: the findings catalogue, with the last version and
// position applied of every finding stream, and the pending imports. States may include events
// beyond the snapshot's position (the importer applies its own appends at once); the
// per-stream positions make replaying those events after a restore a no-op.
type importerState struct {
	Findings []findingSnap
	Pending  []PendingImport
}

type findingSnap struct {
	ID, Scope    string
	State        vulns.FindingState
	Version, Pos int64
	Scan         string
	Outcome      vulnapp.ScanOutcome
}

// restore loads the snapshot into empty lookups, once, before the first sync.
func (im *Importer) restore(ctx context.Context) error {
	im.syncMu.Lock()
	defer im.syncMu.Unlock()
	if im.restored || im.cursor.Position != 0 || !im.snaps.Enabled() {
		im.restored = true
		return nil
	}
	im.restored = true
	var st importerState
	at, ok, err := im.snaps.Load(ctx, im.store, snapshotName, snapshotVersion, &st)
	if err != nil || !ok {
		return err
	}
	im.mu.Lock()
	for _, f := range st.Findings {
		im.findings[f.ID] = &findingState{scope: f.Scope, agg: f.State.Aggregate(), version: f.Version, pos: f.Pos, scan: f.Scan, outcome: f.Outcome}
		if f.Scope != "" {
			set := im.scopes[f.Scope]
			if set == nil {
				set = map[string]struct{}{}
				im.scopes[f.Scope] = set
			}
			set[f.ID] = struct{}{}
		}
	}
	for _, p := range st.Pending {
		im.pending[p.ScanID] = p
	}
	im.mu.Unlock()
	im.cursor = at
	im.snapMu.Lock()
	im.snapTrack.Saved(at.Position, time.Now())
	im.snapMu.Unlock()
	return nil
}

// SaveSnapshot writes a snapshot of the lookups now (a no-op without Options.Snapshots).
func (im *Importer) SaveSnapshot() error {
	return im.saveSnapshot(func(*snapshot.Tracker, int64) bool { return true })
}

// saveSnapshot writes a snapshot when due says so for the cursor. The state is copied under the
// locks, with the cursor held still, so it covers at least every event up to the cursor; it is
// encoded and written after they are released.
func (im *Importer) saveSnapshot(due func(t *snapshot.Tracker, pos int64) bool) error {
	if !im.snaps.Enabled() {
		return nil
	}
	im.snapMu.Lock()
	defer im.snapMu.Unlock()
	im.syncMu.Lock()
	at := im.cursor
	if !due(&im.snapTrack, at.Position) {
		im.syncMu.Unlock()
		return nil
	}
	st := im.capture()
	im.syncMu.Unlock()
	if err := im.snaps.Save(snapshotName, snapshotVersion, at, &st); err != nil {
		return err
	}
	im.snapTrack.Saved(at.Position, time.Now())
	return nil
}

// capture copies the lookups. Callers hold syncMu.
func (im *Importer) capture() importerState {
	im.mu.RLock()
	defer im.mu.RUnlock()
	var st importerState
	st.Findings = make([]findingSnap, 0, len(im.findings))
	for id, f := range im.findings {
		st.Findings = append(st.Findings, findingSnap{ID: id, Scope: f.scope, State: f.agg.State(), Version: f.version, Pos: f.pos, Scan: f.scan, Outcome: f.outcome})
	}
	for _, p := range im.pending {
		st.Pending = append(st.Pending, p)
	}
	return st
}
