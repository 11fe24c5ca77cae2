package testsupport

import (
	"bytes"
	"testing"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/events/snapshot"
)

// SnapshotPlusTailIsReplay checks an aggregate's snapshots over a stream (a long generated one):
// for each split point k, the aggregate restored from a snapshot of evs[:k] and given evs[k:] is
// in the state a full replay gives. States compare by their snapshot encoding, which carries every
// field (each aggregate's tests count its fields against its snapshot schema), so that an empty and
// a nil set compare equal. The snapshot is restored into an aggregate that already holds another
// state: restoring must replace it whole.
func SnapshotPlusTailIsReplay[A any, P interface {
	*A
	es.Snapshotter
}](tb testing.TB, evs []events.Envelope, splits ...int) {
	tb.Helper()
	replay := func(agg P, evs []events.Envelope) {
		tb.Helper()
		for i := range evs {
			if err := agg.Apply(&evs[i]); err != nil {
				tb.Fatal(err)
			}
		}
	}
	encode := func(agg P) []byte {
		tb.Helper()
		b, err := agg.MarshalSnapshot()
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	full := P(new(A))
	replay(full, evs)
	want := encode(full)
	for _, k := range splits {
		head := P(new(A))
		replay(head, evs[:k])
		snap := encode(head)
		restored := P(new(A))
		replay(restored, evs) // a state the snapshot must replace
		if err := restored.UnmarshalSnapshot(snap); err != nil {
			tb.Fatal(err)
		}
		if got := encode(restored); !bytes.Equal(got, snap) {
			tb.Fatalf("restoring the snapshot at %d kept some of the state before:\n%s\nwant\n%s", k, got, snap)
		}
		replay(restored, evs[k:])
		if got := encode(restored); !bytes.Equal(got, want) {
			tb.Fatalf("snapshot at %d + tail:\n%s\nfull replay:\n%s", k, got, want)
		}
	}
}

// CountedStore is store with its ReadAll counted: what a lookup's start reads of the log.
func CountedStore(store *events.Guarded) (*events.Guarded, *eventstest.ReadCounter) {
	c := &eventstest.ReadCounter{EventStore: store.Unwrap()}
	return events.Guard(c, store.Registry(), events.Limits{}), c
}

// LookupLoader loads a lookup over store with its snapshots in dir (zero: none, a full replay)
// and returns its dump, the whole state as text.
type LookupLoader func(store *events.Guarded, dir snapshot.Dir) string

// RestartReadsOnlyTheTail checks a lookup's restart from its snapshot in dir, which covers the
// store up to position snapped: the lookup restored and caught up equals a full replay, and the
// restart read only the events after the snapshot (and one to check it against the store).
func RestartReadsOnlyTheTail(tb testing.TB, store *events.Guarded, dir snapshot.Dir, snapped int64, load LookupLoader) {
	tb.Helper()
	total := eventstest.Head(tb, store)
	if total <= snapped {
		tb.Fatalf("nothing appended after the snapshot at %d (head %d)", snapped, total)
	}
	want := load(store, snapshot.Dir{})
	cs, count := CountedStore(store)
	if got := load(cs, dir); got != want {
		tb.Fatalf("snapshot + catch-up differs from a full replay:\n got: %s\nwant: %s", got, want)
	}
	if n := count.Read(); n != total-snapped+1 {
		tb.Errorf("the restart read %d events; want %d (after the snapshot at %d of %d) + 1", n, total-snapped+1, snapped, total)
	}
}

// CorruptSnapshotReplaysAll corrupts the snapshot file at path and checks that the lookup then
// ignores it: it reads the whole log and equals a full replay.
func CorruptSnapshotReplaysAll(tb testing.TB, store *events.Guarded, dir snapshot.Dir, path string, load LookupLoader) {
	tb.Helper()
	eventstest.FlipLastByte(tb, path)
	want := load(store, snapshot.Dir{})
	cs, count := CountedStore(store)
	if got := load(cs, dir); got != want {
		tb.Fatalf("after a corrupt snapshot the lookup differs from a full replay:\n got: %s\nwant: %s", got, want)
	}
	if n, h := count.Read(), eventstest.Head(tb, store); n != h {
		tb.Errorf("after a corrupt snapshot the restart read %d events, want all %d", n, h)
	}
}
