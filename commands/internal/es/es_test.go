package es_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/vulns/domain"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// store is the guarded SQLite store with probes: how many events stream reads returned, and
// snapshot saves that fail or race with a write.
type store struct {
	*events.Guarded
	read      atomic.Int64
	failSaves bool
	// beforeAppend runs before each append (a concurrent writer slipping in).
	beforeAppend func()
}

func (s *store) ReadStream(ctx context.Context, id string, opts events.ReadStreamOptions) ([]events.Envelope, error) {
	evs, err := s.Guarded.ReadStream(ctx, id, opts)
	s.read.Add(int64(len(evs)))
	return evs, err
}

func (s *store) Append(ctx context.Context, id string, exp events.ExpectedVersion, evs []events.Envelope) (events.AppendResult, error) {
	if s.beforeAppend != nil {
		s.beforeAppend()
	}
	return s.Guarded.Append(ctx, id, exp, evs)
}

func (s *store) SaveSnapshot(ctx context.Context, snap events.Snapshot) error {
	if s.failSaves {
		return errors.New("disk full")
	}
	return s.Guarded.SaveSnapshot(ctx, snap)
}

func newStore(t *testing.T, every int) *store {
	g := testsupport.SQLiteStore(t)
	g.SetSnapshotEvery(every)
	return &store{Guarded: g}
}

var ctx = context.Background()

// finding opens a finding and comments on it n times, without going through Exec.
func (s *store) finding(t *testing.T, n int) string {
	t.Helper()
	id := events.NewStreamID("vulns", "finding")
	opened := contracts.FindingOpened{AssetID: events.NewStreamID("assets", "asset"), Scope: "s", IdentityKey: "k-" + id, Fingerprint: "fp",
		ScanID: "scan-1", Format: "trivy", Title: "CVE-2024-0001", Severity: "high", SeenAt: time.Now().UTC()}
	changes := []es.Change{{Type: contracts.TypeFindingOpened, Data: opened}}
	for i := range n {
		changes = append(changes, es.Change{Type: contracts.TypeFindingCommented, Data: contracts.FindingCommented{Comment: fmt.Sprint("c", i)}})
	}
	for v := 0; len(changes) > 0; {
		batch := changes[:min(len(changes), 1000)]
		exp := events.Exact(int64(v))
		if v == 0 {
			exp = events.NoStream
		}
		if _, err := es.Save(ctx, s, id, exp, es.Meta{Actor: "test"}, batch); err != nil {
			t.Fatal(err)
		}
		v += len(batch)
		changes = changes[len(batch):]
	}
	return id
}

// interlope appends a comment to id behind the commands' back: another process's write.
func (s *store) interlope(t *testing.T, id string) {
	if _, err := es.Save(ctx, s.Guarded, id, events.Any, es.Meta{}, []es.Change{{Type: contracts.TypeFindingCommented, Data: contracts.FindingCommented{Comment: "between"}}}); err != nil {
		t.Error(err)
	}
}

func comment(s es.Store, id string, inv es.Invocation, text string) (es.Outcome, error) {
	return es.ExecExisting(ctx, s, "finding", id, func(string) bool { return true }, inv, func(f *domain.Finding) ([]es.Change, error) {
		return f.Comment(text)
	})
}

func snapshotOf(t *testing.T, s *store, id string) (events.Snapshot, bool) {
	t.Helper()
	snap, found, err := s.LoadSnapshot(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return snap, found
}

// A command on a long stream saves a snapshot after its append; the next command loads it and
// reads only the events after it, into the state a full replay gives.
func TestSnapshotsShortenLoads(t *testing.T) {
	s := newStore(t, 100)
	id := s.finding(t, 1500)
	if _, found := snapshotOf(t, s, id); found {
		t.Fatal("a snapshot before any command")
	}
	if _, err := comment(s, id, es.Invocation{}, "first"); err != nil {
		t.Fatal(err)
	}
	snap, found := snapshotOf(t, s, id)
	if !found || snap.Version != 1501 || snap.SchemaVersion != (&domain.Finding{}).SnapshotSchema() {
		t.Fatalf("snapshot %+v %v, want one at the loaded version 1501", snap, found)
	}
	s.read.Store(0)
	var f domain.Finding
	v, err := es.Load(ctx, s, id, &f)
	if err != nil || v != 1502 {
		t.Fatalf("load: %d, %v", v, err)
	}
	if n := s.read.Load(); n != 1 {
		t.Fatalf("a load after the snapshot read %d events, want 1", n)
	}
	var full domain.Finding
	s.SetSnapshotEvery(0)
	s.read.Store(0)
	if _, err := es.Load(ctx, s, id, &full); err != nil {
		t.Fatal(err)
	}
	if n := s.read.Load(); n != 1502 {
		t.Fatalf("with snapshots off the load read %d events, want all 1502", n)
	}
	s.SetSnapshotEvery(100)
	if f != full {
		t.Fatalf("from the snapshot %+v, replayed %+v", f, full)
	}
	// The next snapshot waits for 100 more events.
	for i := range 99 {
		if _, err := comment(s, id, es.Invocation{}, fmt.Sprint("more ", i)); err != nil {
			t.Fatal(err)
		}
	}
	if snap, _ := snapshotOf(t, s, id); snap.Version != 1501 {
		t.Fatalf("snapshot at %d after 99 more events, want still 1501", snap.Version)
	}
	if _, err := comment(s, id, es.Invocation{}, "the 100th"); err != nil {
		t.Fatal(err)
	}
	if snap, _ := snapshotOf(t, s, id); snap.Version != 1601 {
		t.Fatalf("snapshot at %d, want 1601", snap.Version)
	}
}

// A snapshot of another schema, or one that cannot be read, is ignored: the stream is replayed.
func TestUnusableSnapshotsAreIgnored(t *testing.T) {
	s := newStore(t, 10)
	id := s.finding(t, 20)
	var want domain.Finding
	if _, err := es.Load(ctx, s, id, &want); err != nil {
		t.Fatal(err)
	}
	for _, snap := range []events.Snapshot{
		{StreamID: id, Version: 21, Position: 1, SchemaVersion: want.SnapshotSchema() + 1, Data: json.RawMessage(`{"state":{"Owner":"x"}}`)},
		{StreamID: id, Version: 22, Position: 1, SchemaVersion: want.SnapshotSchema(), Data: json.RawMessage(`{"state":{"Owner":7}}`)},
	} {
		if err := s.Guarded.SaveSnapshot(ctx, snap); err != nil {
			t.Fatal(err)
		}
		s.read.Store(0)
		var f domain.Finding
		if v, err := es.Load(ctx, s, id, &f); err != nil || v != 21 || f != want || s.read.Load() != 21 {
			t.Fatalf("snapshot %s: version %d, %v, read %d, state %+v", snap.Data, v, err, s.read.Load(), f)
		}
	}
}

// A snapshot whose stream was deleted and written again since is not restored.
func TestSnapshotOfADeletedStreamIsNotRestored(t *testing.T) {
	s := newStore(t, 10)
	id := s.finding(t, 20)
	var f domain.Finding
	if _, err := es.Load(ctx, s, id, &f); err != nil {
		t.Fatal(err)
	}
	data, _ := f.MarshalSnapshot()
	if err := s.DeleteStream(ctx, id, events.Any); err != nil {
		t.Fatal(err)
	}
	// Saved late, by a command that loaded before the delete.
	if err := s.Guarded.SaveSnapshot(ctx, events.Snapshot{StreamID: id, Version: 21, Position: 21, SchemaVersion: f.SnapshotSchema(), Data: data}); err != nil {
		t.Fatal(err)
	}
	var gone domain.Finding
	if v, err := es.Load(ctx, s, id, &gone); err != nil || v != 0 || gone.Exists() {
		t.Fatalf("deleted stream: version %d, %v, exists %v", v, err, gone.Exists())
	}
	if _, err := es.Save(ctx, s, id, events.Any, es.Meta{}, []es.Change{{Type: contracts.TypeFindingCommented, Data: contracts.FindingCommented{Comment: "x"}}}); err != nil {
		t.Fatal(err)
	}
	var revived domain.Finding
	if v, err := es.Load(ctx, s, id, &revived); err != nil || v != 22 || revived.Exists() {
		t.Fatalf("revived stream: version %d, %v, exists %v (restored from the old snapshot?)", v, err, revived.Exists())
	}
}

// Snapshots are a cache: a save that fails never fails the command.
func TestFailedSnapshotSaveKeepsTheCommand(t *testing.T) {
	s := newStore(t, 5)
	s.failSaves = true
	id := s.finding(t, 10)
	out, err := comment(s, id, es.Invocation{}, "still here")
	if err != nil || out.Version != 12 {
		t.Fatalf("%+v, %v", out, err)
	}
	if _, found := snapshotOf(t, s, id); found {
		t.Fatal("a snapshot was saved")
	}
}

// Without an expected version, a write that slips in between load and append is retried; with
// one, it is a conflict naming the client's version and the current one.
func TestConflictRetriedOnlyWithoutExpectedVersion(t *testing.T) {
	s := newStore(t, 0)
	id := s.finding(t, 2)
	var slipped atomic.Int64
	s.beforeAppend = func() {
		if slipped.Add(1) == 1 { // a concurrent writer, once
			s.interlope(t, id)
		}
	}
	out, err := comment(s, id, es.Invocation{}, "mine")
	if err != nil || out.Version != 5 {
		t.Fatalf("without If-Match: %+v, %v; want version 5 after a retry", out, err)
	}
	slipped.Store(0)
	expected := int64(5)
	_, err = comment(s, id, es.Invocation{Expected: &expected}, "pinned")
	vc, ok := errors.AsType[*events.VersionConflictError](err)
	if !ok || vc.Expected != events.Exact(5) || vc.Actual != 6 {
		t.Fatalf("with If-Match: %v, want a conflict expecting 5 at 6", err)
	}
	d := problem.From(err)
	if d.Status != 409 || d.Extensions["expected_version"] != int64(5) || d.Extensions["current_version"] != int64(6) {
		t.Fatalf("problem %+v", d)
	}
}

// A stream that changes under every attempt ends the retries with a 409 naming only the current
// version.
func TestRetriesAreBounded(t *testing.T) {
	s := newStore(t, 0)
	id := s.finding(t, 0)
	var attempts atomic.Int64
	s.beforeAppend = func() {
		attempts.Add(1)
		s.interlope(t, id)
	}
	_, err := comment(s, id, es.Invocation{}, "never")
	ce, ok := errors.AsType[*es.ContendedError](err)
	if !ok || ce.Attempts != int(attempts.Load()) || ce.Current != 1+attempts.Load() {
		t.Fatalf("%v after %d attempts", err, attempts.Load())
	}
	d := problem.From(err)
	if d.Status != 409 || d.Extensions["current_version"] != ce.Current || d.Extensions["expected_version"] != nil {
		t.Fatalf("problem %+v", d)
	}
}

// An idempotency key bound to a request replays that request's answer, even once the stream
// has a snapshot past it, and refuses another request (422); the same key of another principal
// is another key.
func TestIdempotencyKeyIsBoundToItsRequest(t *testing.T) {
	s := newStore(t, 5)
	id := s.finding(t, 3)
	inv := es.Invocation{Meta: es.Meta{Actor: "alice", IdempotencyKey: "k1"}, Fingerprint: "fp-1"}
	first, err := comment(s, id, inv, "hello")
	if err != nil || first.Replayed || first.Version != 5 {
		t.Fatalf("first: %+v, %v", first, err)
	}
	for i := range 12 { // past the next snapshot
		if _, err := comment(s, id, es.Invocation{}, fmt.Sprint("later ", i)); err != nil {
			t.Fatal(err)
		}
	}
	if snap, found := snapshotOf(t, s, id); !found || snap.Version <= first.Version {
		t.Fatalf("no snapshot past the keyed write: %+v", snap)
	}
	again, err := comment(s, id, inv, "hello")
	if err != nil || !again.Replayed || again.Version != first.Version || again.GlobalPosition != first.GlobalPosition {
		t.Fatalf("replay: %+v, %v; first %+v", again, err, first)
	}
	other := inv
	other.Fingerprint = "fp-2"
	_, err = comment(s, id, other, "a different body")
	if _, ok := errors.AsType[*es.KeyReusedError](err); !ok {
		t.Fatalf("reuse with another fingerprint: %v", err)
	}
	if d := problem.From(err); d.Status != 422 || d.Field != "idempotency_key" {
		t.Fatalf("problem %+v", d)
	}
	bob := inv
	bob.Meta.Actor = "bob"
	if out, err := comment(s, id, bob, "hello"); err != nil || out.Replayed {
		t.Fatalf("another principal's key: %+v, %v", out, err)
	}
}

// Another process appending with the same key between this command's load and append (its
// ids are the same, so this append is a duplicate): the same request is answered as its replay,
// another is refused; neither appends.
func TestKeyRaceWithAnotherProcess(t *testing.T) {
	for _, c := range []struct {
		theirs string
		reused bool
	}{{"fp-1", false}, {"fp-other", true}} {
		s := newStore(t, 0)
		id := s.finding(t, 0)
		inv := es.Invocation{Meta: es.Meta{Actor: "alice", IdempotencyKey: "k"}, Fingerprint: "fp-1"}
		var theirs events.AppendResult
		var once sync.Once
		s.beforeAppend = func() {
			once.Do(func() {
				// The ids of a bound key are scoped to the principal; the request's fingerprint
				// is in the events' metadata.
				evs, err := es.Envelopes(es.Meta{IdempotencyKey: "alice\x00k"}, id, []es.Change{{Type: contracts.TypeFindingCommented, Data: contracts.FindingCommented{Comment: "theirs"}}})
				if err != nil {
					t.Fatal(err)
				}
				evs[0].Metadata = json.RawMessage(`{"request_fingerprint":"` + c.theirs + `"}`)
				if theirs, err = s.Guarded.Append(ctx, id, events.Exact(1), evs); err != nil {
					t.Error(err)
				}
			})
		}
		out, err := comment(s, id, inv, "mine")
		if _, reused := errors.AsType[*es.KeyReusedError](err); reused != c.reused || (!c.reused && err != nil) {
			t.Fatalf("theirs %s: %v", c.theirs, err)
		}
		if !c.reused && (!out.Replayed || out.Version != theirs.NextExpectedVersion || out.GlobalPosition != theirs.LastPosition) {
			t.Fatalf("theirs %s: %+v, want their write %+v replayed", c.theirs, out, theirs)
		}
		if v, err := es.Load(ctx, s, id, &domain.Finding{}); err != nil || v != 2 {
			t.Fatalf("stream at %d, %v; want only their comment", v, err)
		}
	}
}
