package storetest

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/socplatform/soc/events"
)

// testReadEvent: an event is found by its id, upcast like any read, and stays findable after its
// stream is soft-deleted (as in $all); an unknown or malformed id is ErrEventNotFound.
func testReadEvent(t *testing.T, newStore NewStore) {
	e := setup(t, newStore)
	s := StreamID()
	ev := Thing("a", 1)
	ev.EventID = events.NewEventID()
	ev.Metadata = json.RawMessage(`{"k":"v"}`)
	res := e.append(s, events.NoStream, Thing("first", 0), ev)
	for range 2 {
		got, err := e.store.ReadEvent(e.ctx, ev.EventID)
		if err != nil {
			t.Fatalf("read event: %v", err)
		}
		if got.EventID != ev.EventID || got.StreamID != s || got.Version != 2 || got.GlobalPosition != res.LastPosition ||
			!jsonEqual(got.Data, ev.Data) || !jsonEqual(got.Metadata, ev.Metadata) {
			t.Fatalf("read event: %+v", got)
		}
		if err := e.store.DeleteStream(e.ctx, s, events.Any); err != nil && !errors.Is(err, events.ErrStreamNotFound) {
			t.Fatal(err)
		}
	}
	for _, id := range []string{events.NewEventID(), "not-a-uuid"} {
		if _, err := e.store.ReadEvent(e.ctx, id); !errors.Is(err, events.ErrEventNotFound) {
			t.Errorf("read event %q: %v, want ErrEventNotFound", id, err)
		}
	}
}

// Snapshots is the contract of the aggregate snapshot stores (events.SnapshotStore) kept beside
// the events: newStore must return a fresh store that implements it. It checks it through
// events.Guard, as commands use it.
func Snapshots(t *testing.T, newStore NewStore) {
	e := setup(t, newStore)
	if _, ok := e.store.Unwrap().(events.SnapshotStore); !ok {
		t.Fatalf("%T does not implement events.SnapshotStore", e.store.Unwrap())
	}
	s := StreamID()
	res := e.append(s, events.NoStream, Thing("a", 1), Thing("b", 2), Thing("c", 3))
	load := func() (events.Snapshot, bool) {
		t.Helper()
		snap, found, err := e.store.LoadSnapshot(e.ctx, s)
		if err != nil {
			t.Fatalf("load snapshot: %v", err)
		}
		return snap, found
	}
	if _, found := load(); found {
		t.Fatal("a stream never snapshotted has a snapshot")
	}
	save := func(v int64, data string) {
		t.Helper()
		err := e.store.SaveSnapshot(e.ctx, events.Snapshot{StreamID: s, Version: v, Position: res.FirstPosition + v - 1, SchemaVersion: int(v), Data: json.RawMessage(data)})
		if err != nil {
			t.Fatalf("save snapshot at %d: %v", v, err)
		}
	}
	save(2, `{"names":["a","b"]}`)
	if snap, found := load(); !found || snap.StreamID != s || snap.Version != 2 || snap.Position != res.FirstPosition+1 ||
		snap.SchemaVersion != 2 || !jsonEqual(snap.Data, json.RawMessage(`{"names":["a","b"]}`)) {
		t.Fatalf("round trip: %+v, %v", snap, found)
	}
	save(3, `{"names":["a","b","c"]}`)
	save(1, `{"names":["a"]}`) // late: an older snapshot never replaces a newer one
	if snap, _ := load(); snap.Version != 3 || !jsonEqual(snap.Data, json.RawMessage(`{"names":["a","b","c"]}`)) {
		t.Fatalf("after saving 3 then 1: %+v, want the snapshot at 3", snap)
	}
	if _, found, err := e.store.LoadSnapshot(e.ctx, StreamID()); err != nil || found {
		t.Fatalf("another stream: %v, %v", found, err)
	}
	var ie *events.InvalidEventError
	for _, bad := range []events.Snapshot{{StreamID: "nope", Version: 1, Data: json.RawMessage(`{}`)},
		{StreamID: s, Version: 0, Data: json.RawMessage(`{}`)}, {StreamID: s, Version: 4, Data: json.RawMessage(`{`)}} {
		if err := e.store.SaveSnapshot(e.ctx, bad); !errors.As(err, &ie) {
			t.Errorf("save %+v: %v, want an InvalidEventError", bad, err)
		}
	}
	// A soft delete discards the snapshot: its state is of events the stream no longer reads.
	if err := e.store.DeleteStream(e.ctx, s, events.Exact(3)); err != nil {
		t.Fatal(err)
	}
	if snap, found := load(); found {
		t.Fatalf("snapshot survived a soft delete: %+v", snap)
	}
	// A command that loaded before the delete saves late; then the stream is written again.
	save(3, `{"names":["a","b","c"]}`)
	if snap, found := load(); found {
		t.Fatalf("snapshot stored for a deleted stream: %+v", snap)
	}
	e.append(s, events.Any, Thing("d", 4))
	save(3, `{"names":["a","b","c"]}`)
	if snap, found := load(); found {
		t.Fatalf("snapshot stored from before the stream's delete: %+v", snap)
	}
	if err := e.store.SaveSnapshot(e.ctx, events.Snapshot{StreamID: s, Version: 4, Position: 9, SchemaVersion: 1, Data: json.RawMessage(`{"names":["d"]}`)}); err != nil {
		t.Fatal(err)
	}
	if snap, found := load(); !found || snap.Version != 4 {
		t.Fatalf("snapshot of the revived stream: %+v, %v", snap, found)
	}
	// Nor one of a stream that does not exist, or ahead of its stream.
	for _, snap := range []events.Snapshot{{StreamID: StreamID(), Version: 1}, {StreamID: s, Version: 5}} {
		snap.Position, snap.SchemaVersion, snap.Data = 1, 1, json.RawMessage(`{}`)
		if err := e.store.SaveSnapshot(e.ctx, snap); err != nil {
			t.Fatal(err)
		}
		if got, found, err := e.store.LoadSnapshot(e.ctx, snap.StreamID); err != nil || (found && got.Version == 5) || (found && snap.StreamID != s) {
			t.Fatalf("snapshot %+v stored: %+v, %v", snap, got, err)
		}
	}
	// So does a tombstone.
	s2 := StreamID()
	e.append(s2, events.NoStream, Thing("a", 1))
	if err := e.store.SaveSnapshot(e.ctx, events.Snapshot{StreamID: s2, Version: 1, Position: 1, SchemaVersion: 1, Data: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.TombstoneStream(e.ctx, s2, events.Any); err != nil {
		t.Fatal(err)
	}
	if _, found, err := e.store.LoadSnapshot(e.ctx, s2); err != nil || found {
		t.Fatalf("snapshot after a tombstone: %v, %v", found, err)
	}
}
