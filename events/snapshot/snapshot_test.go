package snapshot_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/snapshot"
)

// logReader serves $all from a slice: the one event Load reads to check a snapshot.
type logReader []events.Envelope

func (l logReader) ReadAll(_ context.Context, after int64, limit int) ([]events.Envelope, error) {
	var out []events.Envelope
	for _, e := range l {
		if e.GlobalPosition > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

type state struct {
	Names map[string]int
	At    time.Time
}

var log3 = logReader{{GlobalPosition: 1, EventID: "a"}, {GlobalPosition: 2, EventID: "b"}, {GlobalPosition: 3, EventID: "c"}}

func TestRoundTrip(t *testing.T) {
	d := snapshot.Dir{Path: t.TempDir()}
	in := state{Names: map[string]int{"x": 1, "y": 2}, At: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)}
	if err := d.Save("s", 1, snapshot.Mark{Position: 2, EventID: "b"}, &in); err != nil {
		t.Fatal(err)
	}
	var out state
	at, ok, err := d.Load(context.Background(), log3, "s", 1, &out)
	if err != nil || !ok || at != (snapshot.Mark{Position: 2, EventID: "b"}) {
		t.Fatalf("Load: %v %v %v", at, ok, err)
	}
	if len(out.Names) != 2 || out.Names["y"] != 2 || !out.At.Equal(in.At) {
		t.Fatalf("got %+v, want %+v", out, in)
	}
	if left, _ := filepath.Glob(filepath.Join(d.Path, "*tmp*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// Every snapshot that cannot be trusted is ignored (ok false, no error): the caller rebuilds.
func TestUntrustedSnapshotsAreIgnored(t *testing.T) {
	ctx := context.Background()
	write := func(t *testing.T) (snapshot.Dir, string) {
		d := snapshot.Dir{Path: t.TempDir()}
		if err := d.Save("s", 1, snapshot.Mark{Position: 2, EventID: "b"}, &state{Names: map[string]int{"x": 1}}); err != nil {
			t.Fatal(err)
		}
		return d, filepath.Join(d.Path, "s.snap")
	}
	edit := func(t *testing.T, path string, f func([]byte) []byte) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, f(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := map[string]func(t *testing.T, d snapshot.Dir, path string) (snapshot.Reader, int){
		"flipped body byte": func(t *testing.T, d snapshot.Dir, path string) (snapshot.Reader, int) {
			edit(t, path, func(b []byte) []byte { b[len(b)-3] ^= 1; return b })
			return log3, 1
		},
		"truncated": func(t *testing.T, d snapshot.Dir, path string) (snapshot.Reader, int) {
			edit(t, path, func(b []byte) []byte { return b[:len(b)-5] })
			return log3, 1
		},
		"trailing bytes": func(t *testing.T, d snapshot.Dir, path string) (snapshot.Reader, int) {
			edit(t, path, func(b []byte) []byte { return append(b, 'x') })
			return log3, 1
		},
		"garbage header": func(t *testing.T, d snapshot.Dir, path string) (snapshot.Reader, int) {
			edit(t, path, func(b []byte) []byte { return append([]byte("{not json\n"), b...) })
			return log3, 1
		},
		"other format": func(t *testing.T, d snapshot.Dir, path string) (snapshot.Reader, int) {
			edit(t, path, func(b []byte) []byte {
				return bytes.Replace(b, []byte(snapshot.Format), []byte("soc-lookup-snapshot/0"), 1)
			})
			return log3, 1
		},
		"other state version": func(t *testing.T, d snapshot.Dir, path string) (snapshot.Reader, int) {
			return log3, 2
		},
		"another store (other event at the position)": func(t *testing.T, d snapshot.Dir, path string) (snapshot.Reader, int) {
			return logReader{{GlobalPosition: 1, EventID: "a"}, {GlobalPosition: 2, EventID: "z"}}, 1
		},
		"a store behind the snapshot": func(t *testing.T, d snapshot.Dir, path string) (snapshot.Reader, int) {
			return logReader{{GlobalPosition: 1, EventID: "a"}}, 1
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d, path := write(t)
			r, version := tc(t, d, path)
			var out state
			at, ok, err := d.Load(ctx, r, "s", version, &out)
			if err != nil || ok || at != (snapshot.Mark{}) {
				t.Fatalf("Load = %v, %v, %v; want the snapshot ignored", at, ok, err)
			}
		})
	}
}

func TestDisabledAndMissing(t *testing.T) {
	var out state
	if _, ok, err := (snapshot.Dir{}).Load(context.Background(), log3, "s", 1, &out); ok || err != nil {
		t.Fatalf("disabled dir loaded something: %v %v", ok, err)
	}
	if err := (snapshot.Dir{}).Save("s", 1, snapshot.Mark{}, &out); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := (snapshot.Dir{Path: t.TempDir()}).Load(context.Background(), log3, "s", 1, &out); ok || err != nil {
		t.Fatalf("missing snapshot: %v %v", ok, err)
	}
}

func TestTracker(t *testing.T) {
	now := time.Now()
	tr := snapshot.Tracker{Policy: snapshot.Policy{Events: 10, Interval: time.Minute}}
	tr.Saved(100, now)
	if tr.Due(105, now.Add(time.Hour)) || tr.Due(200, now.Add(time.Second)) || !tr.Due(110, now.Add(time.Minute)) {
		t.Error("Due does not need both enough events and enough time")
	}
	if tr.Changed(100) || !tr.Changed(101) {
		t.Error("Changed")
	}
}
