package testsupport

import (
	"bytes"
	"testing"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
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
