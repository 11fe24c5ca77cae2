package app

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/notifications/channels"
	"github.com/socplatform/soc/commands/notifications/domain"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/events/snapshot"
)

// indexOf returns the worker's index in a comparable form.
func indexOf(w *Worker) (snapshot.Mark, indexState) {
	at, st := w.idx.capture()
	sort.Slice(st.Live, func(i, j int) bool { return st.Live[i].ID < st.Live[j].ID })
	sort.Slice(st.Buckets, func(i, j int) bool { return st.Buckets[i].ID < st.Buckets[j].ID })
	sort.Strings(st.Digests)
	return at, st
}

// A restart restores the index from the snapshot and reads only the events after it; the index
// then equals the one a full replay of $all builds. A corrupt snapshot is ignored: the index is
// rebuilt from the whole log, with the same result.
func TestIndexSnapshotRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir := snapshot.Dir{Path: t.TempDir()}
	e.prefs.Set(domain.Preferences{UserID: alice.UserID, Digest: map[string]domain.DigestMode{slack: {Interval: time.Hour}}})
	s := &fakeSender{failFirst: 2}
	senders := map[string]channels.Sender{email: s}
	withSnaps := func(c *WorkerConfig) { c.Snapshots = dir; c.ReadBatch = 7 }

	// History before the snapshot: sent, retrying and pending notifications, an open digest.
	w1 := e.worker(e.store, senders, withSnaps)
	for i := range 6 {
		e.request(fmt.Sprintf("before-%d", i), email, "high", fmt.Sprintf("before %d", i))
	}
	e.request("digest-1", slack, "medium", "into the digest")
	e.pass(w1)
	e.request("pending", email, "low", "not yet attempted")
	if err := w1.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := w1.SaveSnapshot(); err != nil {
		t.Fatal(err)
	}
	snapAt, _ := indexOf(w1)
	if live, digests := w1.Pending(); live == 0 || digests != 1 {
		t.Fatalf("the snapshot should hold live notifications and a digest: %d, %d", live, digests)
	}

	// After it: retries and sends of notifications the snapshot holds, and new requests.
	e.clock.Advance(time.Hour)
	for i := range 3 {
		e.request(fmt.Sprintf("after-%d", i), email, "critical", fmt.Sprintf("after %d", i))
	}
	e.request("digest-2", slack, "high", "into the digest too")
	e.pass(e.worker(e.store, senders, nil))
	head := eventstest.Head(t, e.store)
	if snapAt.Position == 0 || head <= snapAt.Position {
		t.Fatalf("snapshot at %d, head %d", snapAt.Position, head)
	}

	full := e.worker(e.reopen(), senders, nil)
	if err := full.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantAt, want := indexOf(full)

	restart := func(name string) (*eventstest.ReadCounter, *Worker) {
		t.Helper()
		c := &eventstest.ReadCounter{EventStore: e.reopen()}
		w := e.worker(c, senders, withSnaps)
		if err := w.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
		if at, got := indexOf(w); at != wantAt || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: index at %+v differs from the full replay's at %+v:\n%+v\n%+v", name, at, wantAt, got, want)
		}
		return c, w
	}
	c, _ := restart("after the snapshot")
	// The snapshot is checked by reading the one event at its position, then the rest follows.
	if got, max := c.Read(), head-snapAt.Position+1; got > max {
		t.Fatalf("the restart read %d events, want at most %d (head %d, snapshot at %d)", got, max, head, snapAt.Position)
	}

	// A corrupt snapshot: the body fails its checksum, the index is rebuilt from position 0.
	eventstest.FlipLastByte(t, filepath.Join(dir.Path, indexSnapshotName+".snap"))
	if c, _ := restart("after a corrupt snapshot"); c.Read() < head {
		t.Fatalf("the rebuild read %d events, want the whole log (%d)", c.Read(), head)
	}
}

// Run writes a snapshot when it stops, so the next start reads only what came after.
func TestRunSnapshotsWhenItStops(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir := snapshot.Dir{Path: t.TempDir()}
	e.request("one", email, "high", "one")
	w := e.worker(e.store, map[string]channels.Sender{email: &fakeSender{}}, func(c *WorkerConfig) { c.Snapshots = dir })
	stop := eventstest.Start(t, context.Background(), w.Run)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if live, _ := w.Pending(); live == 0 && w.idx.position() > 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker did not send the notification")
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var st indexState
	at, ok, err := dir.Load(context.Background(), e.store, indexSnapshotName, indexSnapshotVersion, &st)
	if err != nil || !ok {
		t.Fatalf("no snapshot after Run: %v", err)
	}
	if at.Position != w.idx.position() || len(st.Live) != 0 {
		t.Fatalf("snapshot at %d with %d live, want %d with none", at.Position, len(st.Live), w.idx.position())
	}
}
