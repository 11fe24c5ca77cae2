package es

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/socplatform/soc/events"
)

// Snapshotter is an aggregate whose state can be saved as a snapshot and restored from one, so
// that a command on a long stream reads the snapshot and the events after it. Restoring must
// give the very state replaying the same events gives (each aggregate's tests check it over a
// long generated stream).
type Snapshotter interface {
	Aggregate
	// SnapshotSchema is the version of the state's shape: a constant per aggregate type, bumped
	// whenever MarshalSnapshot's output changes meaning. A snapshot of another version is ignored
	// (the stream is replayed), so a deploy never restores a state it cannot read.
	SnapshotSchema() int
	MarshalSnapshot() ([]byte, error)
	// UnmarshalSnapshot replaces the whole state with the snapshot's.
	UnmarshalSnapshot(data []byte) error
}

// snapshotStore is the store side: events.Guarded over an adapter that keeps snapshots.
type snapshotStore interface {
	events.SnapshotStore
	// SnapshotEvery is how many events a stream grows between two snapshots; 0: snapshots off.
	SnapshotEvery() int
}

// loaded is where a load left the aggregate.
type loaded struct {
	version  int64 // the stream's version (0: no stream)
	position int64 // global position of the last event applied
	snapshot int64 // version of the snapshot it started from (0: none)
}

// load applies the stream to agg, starting from the stream's snapshot when there is a usable one.
// A snapshot is a cache: one that cannot be read, is of another schema, or no longer matches the
// stream (soft-deleted since) is dropped and the stream replayed from its first event.
func load(ctx context.Context, s Store, streamID string, agg Aggregate) (loaded, error) {
	if st, ok := fromSnapshot(ctx, s, streamID, agg); ok {
		st, err := replay(ctx, s, streamID, agg, st)
		if !errors.Is(err, errSnapshotStale) {
			return st, err
		}
		if err := reset(agg); err != nil {
			return loaded{}, err
		}
	}
	return replay(ctx, s, streamID, agg, loaded{})
}

// fromSnapshot restores agg from the stream's snapshot when the store keeps snapshots, agg can
// be restored, and the snapshot is of agg's schema.
func fromSnapshot(ctx context.Context, s Store, streamID string, agg Aggregate) (loaded, bool) {
	ss, ok := s.(snapshotStore)
	sa, ok2 := agg.(Snapshotter)
	if !ok || !ok2 || ss.SnapshotEvery() == 0 {
		return loaded{}, false
	}
	snap, found, err := ss.LoadSnapshot(ctx, streamID)
	if err != nil || !found || snap.SchemaVersion != sa.SnapshotSchema() {
		return loaded{}, false
	}
	if err := sa.UnmarshalSnapshot(snap.Data); err != nil {
		// A half-restored state must not be replayed onto. (A Snapshotter restores through a
		// pointer receiver, so agg is a pointer and reset cannot fail.)
		_ = reset(agg)
		return loaded{}, false
	}
	return loaded{version: snap.Version, position: snap.Position, snapshot: snap.Version}, true
}

// errSnapshotStale: the stream no longer continues where its snapshot ends.
var errSnapshotStale = errors.New("the snapshot no longer matches its stream")

// replay applies the events after from.version to agg.
func replay(ctx context.Context, s Store, streamID string, agg Aggregate, from loaded) (loaded, error) {
	st := from
	for {
		evs, err := s.ReadStream(ctx, streamID, events.ReadStreamOptions{From: st.version + 1})
		if errors.Is(err, events.ErrStreamNotFound) {
			if from.snapshot > 0 {
				return loaded{}, errSnapshotStale // deleted since the snapshot was taken
			}
			return st, nil
		}
		if err != nil {
			return loaded{}, err
		}
		if from.snapshot > 0 && st.version == from.snapshot && len(evs) > 0 && evs[0].Version != st.version+1 {
			return loaded{}, errSnapshotStale // soft-deleted and written again since
		}
		for i := range evs {
			if err := agg.Apply(&evs[i]); err != nil {
				return loaded{}, fmt.Errorf("applying %s v%d of %s: %w", evs[i].Type, evs[i].Version, streamID, err)
			}
			st.version, st.position = evs[i].Version, evs[i].GlobalPosition
		}
		if len(evs) < events.MaxReadLimit {
			return st, nil
		}
	}
}

// snapshotDue returns the snapshot of agg to save after the command's append, or nil when none
// is due: the store keeps snapshots and the stream grew by SnapshotEvery events since the last.
// It is taken before decide runs, so it is the loaded state whatever decide does.
func snapshotDue(s Store, streamID string, agg Aggregate, st loaded) *events.Snapshot {
	ss, ok := s.(snapshotStore)
	sa, ok2 := agg.(Snapshotter)
	if !ok || !ok2 || ss.SnapshotEvery() == 0 || st.version-st.snapshot < int64(ss.SnapshotEvery()) {
		return nil
	}
	data, err := sa.MarshalSnapshot()
	if err != nil {
		return nil // the stream is replayed instead; the command does not depend on it
	}
	return &events.Snapshot{StreamID: streamID, Version: st.version, Position: st.position, SchemaVersion: sa.SnapshotSchema(), Data: data}
}

// saveSnapshot stores snap, best effort: a snapshot that fails to save costs the next loads a
// longer replay, never the command its answer.
func saveSnapshot(ctx context.Context, s Store, snap *events.Snapshot) {
	if snap == nil {
		return
	}
	if ss, ok := s.(snapshotStore); ok {
		_ = ss.SaveSnapshot(ctx, *snap)
	}
}

// reset zeroes agg, the empty aggregate every load starts from. Handlers' decide functions close
// over the aggregate they passed, so a reload (a retry, a dropped snapshot) must reuse it.
func reset(agg Aggregate) error {
	v := reflect.ValueOf(agg)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("es: aggregate %T is not a pointer: it cannot be reloaded", agg)
	}
	v.Elem().SetZero()
	return nil
}
