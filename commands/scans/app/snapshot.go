package app

import (
	vulnapp "github.com/socplatform/soc/commands/vulns/app"
	vulns "github.com/socplatform/soc/commands/vulns/domain"
	"github.com/socplatform/soc/events"
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

// importerFold is the importer's lookups as their snapshot.Follower sees them.
type importerFold struct{ im *Importer }

func (f importerFold) Apply(e *events.Envelope) error { return f.im.apply(e) }
func (f importerFold) Capture() importerState         { return f.im.capture() }

// Restore loads a snapshot into the empty lookups.
func (f importerFold) Restore(st importerState) {
	im := f.im
	im.mu.Lock()
	defer im.mu.Unlock()
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
}

// SaveSnapshot writes a snapshot of the lookups now (a no-op without Options.Snapshots).
func (im *Importer) SaveSnapshot() error { return im.follow.SaveSnapshot() }

// capture copies the lookups (the follower holds its cursor still meanwhile).
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
