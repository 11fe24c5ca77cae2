package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/socplatform/soc/commands/scans/domain"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/snapshot"
)

// The orchestrator's snapshot: its name in the snapshot directory and the version of
// orchestratorState.
const (
	orchestratorSnapshotName    = "scans-orchestrator"
	orchestratorSnapshotVersion = 1
)

// orchestratorState is what the orchestrator's snapshot holds: not the aggregates, but which
// definition and run streams the index knew and at which version. A restore folds each of them
// from its own stream up to that version, so the index is exactly the one the snapshot's
// position gave, through the aggregates' own Apply (their unexported state included), and a
// restart reads the scans streams instead of the whole of $all.
type orchestratorState struct {
	Defs      map[string]int64    // definition id → version
	Runs      map[string]int64    // run id → version
	RunsByDef map[string][]string // in the order the runs were requested
}

// restore rebuilds the index from the snapshot, once, before the first sync. A snapshot whose
// streams do not fold (a stream shorter than recorded, an event that does not apply) is ignored
// with a log line: the index is then rebuilt from all of $all.
func (o *Orchestrator) restore(ctx context.Context) error {
	o.syncMu.Lock()
	defer o.syncMu.Unlock()
	snaps := o.cfg.Snapshots
	if o.restored || o.cursor.Position != 0 || !snaps.Enabled() {
		o.restored = true
		return nil
	}
	o.restored = true
	var st orchestratorState
	at, ok, err := snaps.Load(ctx, o.follow, orchestratorSnapshotName, orchestratorSnapshotVersion, &st)
	if err != nil || !ok {
		return err
	}
	defs := make(map[string]*defEntry, len(st.Defs))
	runs := make(map[string]*domain.Run, len(st.Runs))
	var broken error
	for id, v := range st.Defs {
		d := &defEntry{}
		if broken = o.fold(ctx, domain.DefinitionStreamID(id), v, func(e *events.Envelope) error {
			d.version = e.Version
			return d.def.Apply(e)
		}); broken != nil {
			break
		}
		defs[id] = d
	}
	for id, v := range st.Runs {
		if broken != nil {
			break
		}
		r := &domain.Run{ID: id}
		if broken = o.fold(ctx, domain.RunStreamID(id), v, r.Apply); broken == nil {
			runs[id] = r
		}
	}
	var readErr *storeReadError
	if errors.As(broken, &readErr) {
		return readErr.err
	}
	if broken != nil {
		snaps.Logger().Warn("ignoring the scans orchestrator's snapshot, rebuilding from the whole event log", "reason", broken.Error())
		return nil
	}
	o.mu.Lock()
	o.defs, o.runs, o.runVersions, o.runsByDef = defs, runs, st.Runs, st.RunsByDef
	if o.runVersions == nil {
		o.runVersions = map[string]int64{}
	}
	if o.runsByDef == nil {
		o.runsByDef = map[string][]string{}
	}
	o.mu.Unlock()
	o.cursor = at
	o.snapMu.Lock()
	o.snapTrack.Saved(at.Position, time.Now())
	o.snapMu.Unlock()
	return nil
}

// storeReadError is a failure to read the store (not a sign of a bad snapshot).
type storeReadError struct{ err error }

func (e *storeReadError) Error() string { return e.err.Error() }

// fold applies the events of stream up to version upTo and fails unless it reached exactly upTo.
func (o *Orchestrator) fold(ctx context.Context, stream string, upTo int64, apply func(*events.Envelope) error) error {
	var reached int64
	for reached < upTo {
		evs, err := o.store.ReadStream(ctx, stream, events.ReadStreamOptions{From: reached + 1, Limit: int(min(upTo-reached, events.MaxReadLimit))})
		if errors.Is(err, events.ErrStreamNotFound) {
			break
		}
		if err != nil {
			return &storeReadError{fmt.Errorf("scans orchestrator: restoring %s: %w", stream, err)}
		}
		for i := range evs {
			if evs[i].Version > upTo {
				break
			}
			if err := apply(&evs[i]); err != nil {
				return fmt.Errorf("%s v%d: %w", stream, evs[i].Version, err)
			}
			reached = evs[i].Version
		}
		if len(evs) == 0 {
			break
		}
	}
	if reached != upTo {
		return fmt.Errorf("%s: the snapshot recorded version %d, the stream gave %d", stream, upTo, reached)
	}
	return nil
}

// saveSnapshot writes a snapshot when due says so for the cursor. It is taken under syncMu, so
// the index is exactly the one at the cursor (the orchestrator applies only what sync reads).
func (o *Orchestrator) saveSnapshot(due func(t *snapshot.Tracker, pos int64) bool) error {
	if !o.cfg.Snapshots.Enabled() {
		return nil
	}
	o.snapMu.Lock()
	defer o.snapMu.Unlock()
	o.syncMu.Lock()
	at := o.cursor
	if !due(&o.snapTrack, at.Position) {
		o.syncMu.Unlock()
		return nil
	}
	o.mu.RLock()
	st := orchestratorState{Defs: make(map[string]int64, len(o.defs)), Runs: make(map[string]int64, len(o.runVersions)),
		RunsByDef: make(map[string][]string, len(o.runsByDef))}
	for id, d := range o.defs {
		st.Defs[id] = d.version
	}
	for id, v := range o.runVersions {
		st.Runs[id] = v
	}
	for def, ids := range o.runsByDef {
		st.RunsByDef[def] = append([]string(nil), ids...)
	}
	o.mu.RUnlock()
	o.syncMu.Unlock()
	if err := o.cfg.Snapshots.Save(orchestratorSnapshotName, orchestratorSnapshotVersion, at, &st); err != nil {
		return err
	}
	o.snapTrack.Saved(at.Position, time.Now())
	return nil
}
