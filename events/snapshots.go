package events

import (
	"context"
	"encoding/json"
	"fmt"
)

// Snapshot is an aggregate's state as of a version of its stream, so that loading a long stream
// reads the snapshot and the events after it instead of every event. It is a cache: a store may
// lose one, and whoever loads must be able to replay the stream instead.
type Snapshot struct {
	StreamID string
	// Version is the stream version the state covers; Position the global position of that event.
	Version  int64
	Position int64
	// SchemaVersion is the version of the state's shape, set by the aggregate type: a snapshot
	// taken under another shape is ignored by the loader.
	SchemaVersion int
	Data          json.RawMessage
}

// SnapshotStore keeps the latest snapshot per stream, beside the events (the SQLite and
// PostgreSQL adapters implement it; Guarded passes it through). A soft delete or a tombstone of
// a stream discards its snapshot in the same transaction: the state it holds is of events that
// stream reads no longer return.
type SnapshotStore interface {
	// LoadSnapshot returns the stream's snapshot; found is false when it has none.
	LoadSnapshot(ctx context.Context, streamID string) (snap Snapshot, found bool, err error)
	// SaveSnapshot stores snap unless the stream's snapshot is already at a higher version (two
	// writers racing keep the newest), or the stream is not live at snap.Version (deleted, or
	// deleted since: a command that loaded before a delete saves late). Either is not an error.
	SaveSnapshot(ctx context.Context, snap Snapshot) error
}

// DefaultSnapshotEvery is how many events a stream grows between two snapshots unless
// SetSnapshotEvery says otherwise.
const DefaultSnapshotEvery = 100

// SetSnapshotEvery sets how many events a stream grows before the commands that load it save a
// new snapshot; 0 turns snapshots off (nothing is loaded or saved). Call it before the store is
// shared.
func (g *Guarded) SetSnapshotEvery(n int) { g.snapshotEvery = max(n, 0) }

// SnapshotEvery is the snapshot interval: 0 when snapshots are off or the adapter keeps none.
func (g *Guarded) SnapshotEvery() int {
	if _, ok := g.EventStore.(SnapshotStore); !ok {
		return 0
	}
	return g.snapshotEvery
}

// LoadSnapshot passes to the adapter. An adapter without snapshots has none to load.
func (g *Guarded) LoadSnapshot(ctx context.Context, streamID string) (Snapshot, bool, error) {
	ss, ok := g.EventStore.(SnapshotStore)
	if !ok {
		return Snapshot{}, false, nil
	}
	return ss.LoadSnapshot(ctx, streamID)
}

// SaveSnapshot validates snap and passes it to the adapter; an adapter without snapshots drops it
// (a snapshot is a cache).
func (g *Guarded) SaveSnapshot(ctx context.Context, snap Snapshot) error {
	ss, ok := g.EventStore.(SnapshotStore)
	if !ok {
		return nil
	}
	switch {
	case !ValidStreamID(snap.StreamID):
		return &InvalidEventError{Index: -1, Name: "stream_id", Reason: fmt.Sprintf("%q is not <context>-<aggregate>-<uuid> (lower case)", snap.StreamID)}
	case snap.Version < 1:
		return &InvalidEventError{Index: -1, Name: "version", Reason: "a snapshot covers at least one event"}
	case !json.Valid(snap.Data):
		return &InvalidEventError{Index: -1, Name: "data", Reason: "must be JSON"}
	}
	return ss.SaveSnapshot(ctx, snap)
}

// ReadEvent reads through the adapter and upcasts.
func (g *Guarded) ReadEvent(ctx context.Context, eventID string) (Envelope, error) {
	e, err := g.EventStore.ReadEvent(ctx, eventID)
	if err != nil {
		return Envelope{}, err
	}
	return e, g.reg.Upcast(&e)
}

var _ SnapshotStore = (*Guarded)(nil)
