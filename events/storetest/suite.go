// Package storetest is the contract suite every events.EventStore adapter must pass.
// An adapter's test calls Run with a constructor that returns a fresh, empty store.
//
// The suite appends through events.Guard with its own registry (context "suite"), so it checks
// the adapter together with the validation every production append goes through.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/problem"
)

// NewStore returns a fresh, empty store. The suite closes it.
type NewStore func(t *testing.T) events.EventStore

// ThingSchema is the JSON Schema of the suite's test events (a name and an optional count), for
// tests elsewhere that register test types of their own.
const ThingSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["name"],
  "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 100},
    "n": {"type": "integer", "minimum": 0}
  }
}`

// Registry returns the registry the suite validates against: ThingCreated and ThingRenamed
// in context "suite". Exported for adapter-specific tests and benchmarks.
func Registry() *events.Registry {
	r := events.NewRegistry()
	for _, typ := range []string{"ThingCreated", "ThingRenamed"} {
		if err := r.Register("suite", typ, 1, []byte(ThingSchema)); err != nil {
			panic(err)
		}
	}
	return r
}

// Thing returns a valid event for the suite's registry.
func Thing(name string, n int) events.Envelope {
	d, _ := json.Marshal(map[string]any{"name": name, "n": n})
	return events.Envelope{Type: "ThingCreated", Data: d}
}

// StreamID returns a fresh stream id in the suite's context.
func StreamID() string { return events.NewStreamID("suite", "thing") }

type env struct {
	t     *testing.T
	ctx   context.Context
	store *events.Guarded
}

func setup(t *testing.T, newStore NewStore) *env {
	t.Helper()
	s := newStore(t)
	t.Cleanup(func() { _ = s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return &env{t: t, ctx: ctx, store: events.Guard(s, Registry(), events.Limits{MaxBatchEvents: 500, MaxEventBytes: 64 << 10})}
}

func (e *env) append(stream string, exp events.ExpectedVersion, evs ...events.Envelope) events.AppendResult {
	e.t.Helper()
	res, err := e.store.Append(e.ctx, stream, exp, evs)
	if err != nil {
		e.t.Fatalf("append to %s: %v", stream, err)
	}
	return res
}

func (e *env) head() int64 {
	e.t.Helper()
	h, err := e.store.HeadPosition(e.ctx)
	if err != nil {
		e.t.Fatalf("head position: %v", err)
	}
	return h
}

func (e *env) readStream(stream string, opts events.ReadStreamOptions) []events.Envelope {
	e.t.Helper()
	evs, err := e.store.ReadStream(e.ctx, stream, opts)
	if err != nil {
		e.t.Fatalf("read %s: %v", stream, err)
	}
	return evs
}

// each maps every event through f: the part of a read that a check compares.
func each[T any](evs []events.Envelope, f func(events.Envelope) T) []T {
	out := make([]T, len(evs))
	for i, e := range evs {
		out[i] = f(e)
	}
	return out
}

func versions(evs []events.Envelope) []int64 {
	return each(evs, func(e events.Envelope) int64 { return e.Version })
}

func jsonEqual(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b) || string(a) == "null" || string(b) == "null"
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// Run runs the whole contract suite.
func Run(t *testing.T, newStore NewStore) {
	t.Run("AppendAndReadStream", func(t *testing.T) { testAppendAndRead(t, newStore) })
	t.Run("EnvelopeRoundTrip", func(t *testing.T) { testRoundTrip(t, newStore) })
	t.Run("ExpectedVersions", func(t *testing.T) { testExpectedVersions(t, newStore) })
	t.Run("ConcurrentWritersSameStream", func(t *testing.T) { testConcurrentSameStream(t, newStore) })
	t.Run("IdempotentReappend", func(t *testing.T) { testIdempotent(t, newStore) })
	t.Run("BadInputAppendsNothing", func(t *testing.T) { testBadInput(t, newStore) })
	t.Run("ReadAll", func(t *testing.T) { testReadAll(t, newStore) })
	t.Run("ReadEvent", func(t *testing.T) { testReadEvent(t, newStore) })
	t.Run("CatchUpNeverSkipsUnderConcurrentWriters", func(t *testing.T) { testCatchUpConcurrent(t, newStore) })
	t.Run("ReadStreamAsOf", func(t *testing.T) { testAsOf(t, newStore) })
	t.Run("SoftDelete", func(t *testing.T) { testSoftDelete(t, newStore) })
	t.Run("Tombstone", func(t *testing.T) { testTombstone(t, newStore) })
	t.Run("StreamMetadata", func(t *testing.T) { testMetadata(t, newStore) })
	t.Run("WaitForAppendWakes", func(t *testing.T) { testWait(t, newStore) })
	t.Run("QueryEvents", func(t *testing.T) { testQuery(t, newStore) })
}

func testAppendAndRead(t *testing.T, newStore NewStore) {
	e := setup(t, newStore)
	s := StreamID()
	if _, err := e.store.ReadStream(e.ctx, s, events.ReadStreamOptions{}); !errors.Is(err, events.ErrStreamNotFound) {
		t.Fatalf("reading a missing stream: got %v, want ErrStreamNotFound", err)
	}
	r1 := e.append(s, events.NoStream, Thing("a", 1), Thing("b", 2), Thing("c", 3))
	if r1.NextExpectedVersion != 3 || r1.LastPosition-r1.FirstPosition != 2 || r1.Duplicate {
		t.Fatalf("first append result %+v: want version 3 and three consecutive positions", r1)
	}
	r2 := e.append(s, events.Exact(3), Thing("d", 4), Thing("e", 5))
	if r2.NextExpectedVersion != 5 || r2.FirstPosition <= r1.LastPosition {
		t.Fatalf("second append result %+v after %+v", r2, r1)
	}
	all := e.readStream(s, events.ReadStreamOptions{})
	if got := versions(all); !reflect.DeepEqual(got, []int64{1, 2, 3, 4, 5}) {
		t.Fatalf("versions %v", got)
	}
	for i := 1; i < len(all); i++ {
		if all[i].GlobalPosition <= all[i-1].GlobalPosition {
			t.Fatalf("global positions not increasing within a stream: %d then %d", all[i-1].GlobalPosition, all[i].GlobalPosition)
		}
	}
	if all[4].GlobalPosition != r2.LastPosition {
		t.Fatalf("last event at position %d, append reported %d", all[4].GlobalPosition, r2.LastPosition)
	}
	if got := versions(e.readStream(s, events.ReadStreamOptions{From: 2, Limit: 2})); !reflect.DeepEqual(got, []int64{2, 3}) {
		t.Fatalf("forwards from 2 limit 2: %v", got)
	}
	if got := versions(e.readStream(s, events.ReadStreamOptions{Backwards: true})); !reflect.DeepEqual(got, []int64{5, 4, 3, 2, 1}) {
		t.Fatalf("backwards: %v", got)
	}
	if got := versions(e.readStream(s, events.ReadStreamOptions{Backwards: true, From: 3, Limit: 2})); !reflect.DeepEqual(got, []int64{3, 2}) {
		t.Fatalf("backwards from 3 limit 2: %v", got)
	}
	if got := e.readStream(s, events.ReadStreamOptions{From: 6}); len(got) != 0 {
		t.Fatalf("reading past the end returned %d events", len(got))
	}
	info, err := e.store.StreamInfo(e.ctx, s)
	if err != nil || info.Version != 5 || !info.Exists || info.Deleted || info.Tombstoned || info.StreamType != "suite-thing" {
		t.Fatalf("stream info %+v, %v", info, err)
	}
	if other := e.readStream(s, events.ReadStreamOptions{}); other[0].StreamID != s {
		t.Fatalf("stream id not stored: %q", other[0].StreamID)
	}
}

func testRoundTrip(t *testing.T, newStore NewStore) {
	e := setup(t, newStore)
	s := StreamID()
	occurred := time.Date(2026, 3, 4, 5, 6, 7, 891234000, time.UTC)
	in := events.Envelope{
		EventID:       events.NewEventID(),
		Type:          "ThingRenamed",
		Data:          json.RawMessage(`{"name":"ünïcode ✓ \"quoted\"","n":7}`),
		Metadata:      json.RawMessage(`{"source":"suite","nested":{"k":[1,2]}}`),
		OccurredAt:    occurred,
		CorrelationID: "corr-1",
		CausationID:   "cause-1",
		Actor:         "user:alice",
		Tenant:        "acme",
		TraceParent:   "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	}
	before := time.Now().Add(-time.Minute)
	res := e.append(s, events.NoStream, in)
	got := e.readStream(s, events.ReadStreamOptions{})
	if len(got) != 1 {
		t.Fatalf("read %d events", len(got))
	}
	out := got[0]
	if out.EventID != in.EventID || out.StreamID != s || out.StreamType != "suite-thing" || out.Version != 1 ||
		out.GlobalPosition != res.LastPosition || out.Type != in.Type || out.SchemaVersion != 1 ||
		!out.OccurredAt.Equal(occurred) || out.CorrelationID != in.CorrelationID || out.CausationID != in.CausationID ||
		out.Actor != in.Actor || out.Tenant != in.Tenant || out.TraceParent != in.TraceParent {
		t.Fatalf("round trip mismatch:\n in  %+v\n out %+v", in, out)
	}
	if !jsonEqual(out.Data, in.Data) || !jsonEqual(out.Metadata, in.Metadata) {
		t.Fatalf("data/metadata changed: %s / %s", out.Data, out.Metadata)
	}
	if out.RecordedAt.Before(before) || out.RecordedAt.After(time.Now().Add(time.Minute)) {
		t.Fatalf("recorded_at %v not the store's current time", out.RecordedAt)
	}
	viaAll, err := e.store.ReadAll(e.ctx, res.LastPosition-1, 1)
	if err != nil || len(viaAll) != 1 || viaAll[0].EventID != in.EventID || !viaAll[0].RecordedAt.Equal(out.RecordedAt) {
		t.Fatalf("ReadAll returned %+v, %v", viaAll, err)
	}
}

func testExpectedVersions(t *testing.T, newStore NewStore) {
	e := setup(t, newStore)
	s := StreamID()
	conflict := func(exp events.ExpectedVersion, wantActual int64, wantExists bool) {
		t.Helper()
		h := e.head()
		_, err := e.store.Append(e.ctx, s, exp, []events.Envelope{Thing("x", 0)})
		var vc *events.VersionConflictError
		if !errors.As(err, &vc) {
			t.Fatalf("expected %v: got %v, want *VersionConflictError", exp, err)
		}
		if vc.Actual != wantActual || vc.Exists != wantExists || vc.StreamID != s || vc.Expected != exp {
			t.Fatalf("conflict details %+v, want actual %d exists %v", vc, wantActual, wantExists)
		}
		if e.head() != h {
			t.Fatalf("a refused append moved the head position")
		}
	}
	conflict(events.StreamExists, 0, false)
	conflict(events.Exact(1), 0, false)
	e.append(s, events.Exact(0), Thing("first", 1))
	conflict(events.NoStream, 1, true)
	conflict(events.Exact(0), 1, true)
	conflict(events.Exact(2), 1, true)
	e.append(s, events.StreamExists, Thing("second", 2))
	e.append(s, events.Any, Thing("third", 3))
	e.append(s, events.Exact(3), Thing("fourth", 4))
	if got := versions(e.readStream(s, events.ReadStreamOptions{})); !reflect.DeepEqual(got, []int64{1, 2, 3, 4}) {
		t.Fatalf("versions after the conflicts: %v", got)
	}
	s2 := StreamID()
	e.append(s2, events.Any, Thing("any on new stream", 0))
	if _, err := e.store.Append(e.ctx, s2, events.ExpectedVersion(-3), []events.Envelope{Thing("x", 0)}); err == nil {
		t.Fatal("an invalid expected version was accepted")
	}
}

// testConcurrentSameStream: 32 writers race to append to one stream with exact expected versions.
// Every version must be written exactly once and every loser must get a typed conflict.
func testConcurrentSameStream(t *testing.T, newStore NewStore) {
	e := setup(t, newStore)
	s := StreamID()
	const writers, target = 32, 100
	var (
		wg        sync.WaitGroup
		wins      atomic.Int64
		conflicts atomic.Int64
		mu        sync.Mutex
		written   = map[string]int64{} // event id → version the winner was told
		failure   error
	)
	start := make(chan struct{})
	for w := 0; w < writers; w++ {
		wg.Go(func() {
			<-start
			for i := 0; ; i++ {
				info, err := e.store.StreamInfo(e.ctx, s)
				if err != nil {
					mu.Lock()
					failure = err
					mu.Unlock()
					return
				}
				if info.Version >= target {
					return
				}
				ev := Thing(fmt.Sprintf("w%d-%d", w, i), i)
				ev.EventID = events.NewEventID()
				res, err := e.store.Append(e.ctx, s, events.Exact(info.Version), []events.Envelope{ev})
				var vc *events.VersionConflictError
				switch {
				case err == nil:
					wins.Add(1)
					mu.Lock()
					written[ev.EventID] = res.NextExpectedVersion
					mu.Unlock()
					if res.NextExpectedVersion != info.Version+1 {
						mu.Lock()
						failure = fmt.Errorf("append at expected %d returned version %d", info.Version, res.NextExpectedVersion)
						mu.Unlock()
						return
					}
				case errors.As(err, &vc):
					conflicts.Add(1)
				default:
					mu.Lock()
					failure = fmt.Errorf("writer %d: untyped error: %w", w, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if failure != nil {
		t.Fatal(failure)
	}
	evs := e.readStream(s, events.ReadStreamOptions{})
	if int64(len(evs)) != wins.Load() || len(evs) < target {
		t.Fatalf("stream has %d events, %d appends succeeded (target %d)", len(evs), wins.Load(), target)
	}
	for i, ev := range evs {
		if ev.Version != int64(i+1) {
			t.Fatalf("event %d has version %d: versions must be 1..n without gaps or repeats", i, ev.Version)
		}
		if v, ok := written[ev.EventID]; !ok || v != ev.Version {
			t.Fatalf("event %s at version %d was not acknowledged at that version (ack %d, %v)", ev.EventID, ev.Version, v, ok)
		}
	}
	if conflicts.Load() == 0 {
		t.Logf("note: no writer lost a race (possible on a store that serialises writers completely)")
	}
	t.Logf("%d appends won, %d lost with a conflict", wins.Load(), conflicts.Load())
}

func testIdempotent(t *testing.T, newStore NewStore) {
	e := setup(t, newStore)
	s := StreamID()
	batch := []events.Envelope{Thing("a", 1), Thing("b", 2), Thing("c", 3)}
	for i := range batch {
		batch[i].EventID = events.NewEventID()
	}
	first := e.append(s, events.NoStream, batch...)
	h := e.head()
	for _, exp := range []events.ExpectedVersion{events.NoStream, events.Any, events.Exact(0), events.Exact(3)} {
		again, err := e.store.Append(e.ctx, s, exp, batch)
		if err != nil {
			t.Fatalf("re-append with %v: %v", exp, err)
		}
		if !again.Duplicate || again.FirstPosition != first.FirstPosition || again.LastPosition != first.LastPosition || again.NextExpectedVersion != 3 {
			t.Fatalf("re-append with %v returned %+v, want the original %+v marked duplicate", exp, again, first)
		}
	}
	if e.head() != h || len(e.readStream(s, events.ReadStreamOptions{})) != 3 {
		t.Fatal("an idempotent re-append wrote events")
	}
	// The stream moves on; re-sending the original batch still answers with the original positions.
	e.append(s, events.Exact(3), Thing("later", 4))
	h = e.head()
	if again, err := e.store.Append(e.ctx, s, events.Exact(0), batch); err != nil || !again.Duplicate || again.LastPosition != first.LastPosition {
		t.Fatalf("re-append after the stream moved on: %+v, %v", again, err)
	}
	// A batch that mixes stored and new events is ambiguous: refused, nothing written.
	mixed := []events.Envelope{batch[2], Thing("d", 4)}
	if _, err := e.store.Append(e.ctx, s, events.Any, mixed); err == nil {
		t.Fatal("a batch mixing a stored event id with a new event was accepted")
	}
	// The same event id in another stream is a different fact with a clashing id: refused.
	if _, err := e.store.Append(e.ctx, StreamID(), events.Any, batch[:1]); err == nil {
		t.Fatal("a stored event id was accepted in another stream")
	}
	if e.head() != h {
		t.Fatal("a refused duplicate moved the head position")
	}
	// Concurrent identical appends (a retried request racing itself) end with one write.
	s2 := StreamID()
	retry := []events.Envelope{Thing("r", 1)}
	retry[0].EventID = events.NewEventID()
	var wg sync.WaitGroup
	results := make([]events.AppendResult, 8)
	errs := make([]error, 8)
	for i := range results {
		wg.Go(func() {
			results[i], errs[i] = e.store.Append(e.ctx, s2, events.Any, retry)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent identical append %d: %v", i, err)
		}
		if results[i].LastPosition != results[0].LastPosition {
			t.Fatalf("concurrent identical appends landed at %d and %d", results[0].LastPosition, results[i].LastPosition)
		}
	}
	if n := len(e.readStream(s2, events.ReadStreamOptions{})); n != 1 {
		t.Fatalf("concurrent identical appends wrote %d events", n)
	}
}

func testBadInput(t *testing.T, newStore NewStore) {
	e := setup(t, newStore)
	s := StreamID()
	e.append(s, events.NoStream, Thing("seed", 0))
	h := e.head()
	bad := func(name string, stream string, evs []events.Envelope, check func(error) bool, wantField string) {
		t.Helper()
		_, err := e.store.Append(e.ctx, stream, events.Any, evs)
		if err == nil || !check(err) {
			t.Fatalf("%s: got %v (%T)", name, err, err)
		}
		if wantField != "" {
			var fe problem.FieldError
			if !errors.As(err, &fe) || fe.Field() != wantField {
				t.Fatalf("%s: field %q, want %q (%v)", name, fieldOf(err), wantField, err)
			}
		}
		if e.head() != h {
			t.Fatalf("%s: nothing may be appended, but the head moved", name)
		}
	}
	is := func(target any) func(error) bool { return func(err error) bool { return errors.As(err, target) } }
	var ut *events.UnknownEventTypeError
	var sv *events.SchemaViolationError
	var ie *events.InvalidEventError
	var tl *events.BatchTooLargeError

	unknown := Thing("x", 1)
	unknown.Type = "ThingExploded"
	bad("unknown type in the middle", s, []events.Envelope{Thing("ok", 1), unknown, Thing("ok", 2)}, is(&ut), "/events/1/type")
	bad("schema violation", s, []events.Envelope{Thing("ok", 1), {Type: "ThingCreated", Data: json.RawMessage(`{"name":"x","n":-1}`)}}, is(&sv), "/events/1/data/n")
	bad("missing required field", s, []events.Envelope{{Type: "ThingCreated", Data: json.RawMessage(`{"n":1}`)}}, is(&sv), "/events/0/data/name")
	bad("unexpected field", s, []events.Envelope{{Type: "ThingCreated", Data: json.RawMessage(`{"name":"x","evil":true}`)}}, is(&sv), "/events/0/data/evil")
	bad("data not JSON", s, []events.Envelope{{Type: "ThingCreated", Data: json.RawMessage(`{"name":`)}}, is(&sv), "")
	bad("bad stream id", "not a stream", []events.Envelope{Thing("x", 1)}, is(&ie), "/stream_id")
	bad("stream of another context", events.NewStreamID("assets", "asset"), []events.Envelope{Thing("x", 1)}, is(&ie), "/events/0/type")
	bad("empty batch", s, nil, is(&ie), "/events")
	bad("bad event id", s, []events.Envelope{{EventID: "nope", Type: "ThingCreated", Data: json.RawMessage(`{"name":"x"}`)}}, is(&ie), "/events/0/event_id")
	bad("metadata not an object", s, []events.Envelope{{Type: "ThingCreated", Data: json.RawMessage(`{"name":"x"}`), Metadata: json.RawMessage(`[1]`)}}, is(&ie), "/events/0/metadata")
	big := make([]events.Envelope, 501)
	for i := range big {
		big[i] = Thing("x", i)
	}
	bad("too many events", s, big, is(&tl), "/events")
	huge := Thing("x", 1)
	huge.Metadata = json.RawMessage(`{"pad":"` + string(make([]byte, 70<<10)) + `"}`)
	bad("event too large", s, []events.Envelope{Thing("ok", 0), huge}, is(&tl), "/events/1")
	if got := versions(e.readStream(s, events.ReadStreamOptions{})); !reflect.DeepEqual(got, []int64{1}) {
		t.Fatalf("refused batches changed the stream: %v", got)
	}
}

func containsStream(evs []events.Envelope, stream string) bool {
	for _, e := range evs {
		if e.StreamID == stream {
			return true
		}
	}
	return false
}

func fieldOf(err error) string {
	var fe problem.FieldError
	if errors.As(err, &fe) {
		return fe.Field()
	}
	return ""
}

func testReadAll(t *testing.T, newStore NewStore) {
	e := setup(t, newStore)
	start := e.head()
	var ids []string
	for i := 0; i < 5; i++ {
		s := StreamID()
		for j := 0; j < 4; j++ {
			ev := Thing(fmt.Sprintf("%d-%d", i, j), j)
			ev.EventID = events.NewEventID()
			ids = append(ids, ev.EventID)
			e.append(s, events.Any, ev)
		}
	}
	var got []string
	after := start
	for {
		page, err := e.store.ReadAll(e.ctx, after, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 7 {
			t.Fatalf("ReadAll returned %d events for limit 7", len(page))
		}
		if len(page) == 0 {
			break
		}
		for _, ev := range page {
			if ev.GlobalPosition <= after {
				t.Fatalf("ReadAll returned position %d after %d", ev.GlobalPosition, after)
			}
			after = ev.GlobalPosition
			got = append(got, ev.EventID)
		}
	}
	if !reflect.DeepEqual(got, ids) {
		t.Fatalf("ReadAll order differs from append order:\n got  %v\n want %v", got, ids)
	}
	if h := e.head(); h != after {
		t.Fatalf("head %d, last read position %d", h, after)
	}
}

// testCatchUpConcurrent is the test that catches the classic bug of SQL-backed stores: a reader
// that sees position n+1 committed before n and moves past n forever. 16 writers append while a
// catch-up subscription reads; it must deliver every event exactly once, in increasing order.
func testCatchUpConcurrent(t *testing.T, newStore NewStore) {
	e := setup(t, newStore)
	const writers, perWriter = 16, 60
	total := writers * perWriter
	start := e.head()

	subCtx, stopSub := context.WithCancel(e.ctx)
	defer stopSub()
	var (
		mu       sync.Mutex
		seen     = map[string]int64{}
		last     = start
		orderErr error
		done     = make(chan struct{})
	)
	subErr := make(chan error, 1)
	go func() {
		subErr <- events.CatchUp(subCtx, e.store, start, 37, func(_ context.Context, batch []events.Envelope) error {
			mu.Lock()
			defer mu.Unlock()
			for _, ev := range batch {
				if ev.GlobalPosition <= last && orderErr == nil {
					orderErr = fmt.Errorf("position %d delivered after %d", ev.GlobalPosition, last)
				}
				last = ev.GlobalPosition
				if _, dup := seen[ev.EventID]; dup && orderErr == nil {
					orderErr = fmt.Errorf("event %s delivered twice", ev.EventID)
				}
				seen[ev.EventID] = ev.GlobalPosition
			}
			if len(seen) >= total {
				select {
				case <-done:
				default:
					close(done)
				}
			}
			return nil
		})
	}()

	var wg sync.WaitGroup
	appended := make(chan string, total)
	errc := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Go(func() {
			s := StreamID()
			for i := 0; i < perWriter; {
				n := 1 + (i+w)%3 // batches of 1–3 so commit sizes differ
				if i+n > perWriter {
					n = perWriter - i
				}
				batch := make([]events.Envelope, n)
				for j := range batch {
					batch[j] = Thing(fmt.Sprintf("w%d-%d", w, i+j), i+j)
					batch[j].EventID = events.NewEventID()
				}
				if _, err := e.store.Append(e.ctx, s, events.Exact(int64(i)), batch); err != nil {
					errc <- err
					return
				}
				for _, ev := range batch {
					appended <- ev.EventID
				}
				i += n
			}
		})
	}
	wg.Wait()
	close(errc)
	close(appended)
	for err := range errc {
		t.Fatalf("writer: %v", err)
	}
	select {
	case <-done:
	case err := <-subErr:
		t.Fatalf("subscription ended early: %v", err)
	case <-time.After(60 * time.Second):
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		t.Fatalf("subscription delivered %d of %d events: it skipped events committed out of order", n, total)
	}
	stopSub()
	if err := <-subErr; err != nil {
		t.Fatalf("subscription: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if orderErr != nil {
		t.Fatal(orderErr)
	}
	var missing []string
	for id := range appended {
		if _, ok := seen[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 || len(seen) != total {
		t.Fatalf("subscription saw %d events, %d appended events missing", len(seen), len(missing))
	}
	positions := make([]int64, 0, len(seen))
	for _, p := range seen {
		positions = append(positions, p)
	}
	sort.Slice(positions, func(i, j int) bool { return positions[i] < positions[j] })
	for i := 1; i < len(positions); i++ {
		if positions[i] == positions[i-1] {
			t.Fatalf("two events share position %d", positions[i])
		}
	}
}

func testAsOf(t *testing.T, newStore NewStore) {
	e := setup(t, newStore)
	s := StreamID()
	e.append(s, events.NoStream, Thing("v1", 1))
	e.append(s, events.Exact(1), Thing("v2", 2))
	first := e.readStream(s, events.ReadStreamOptions{})
	time.Sleep(20 * time.Millisecond) // recorded_at must differ; the store's clock is the judge
	e.append(s, events.Exact(2), Thing("v3", 3))
	got := e.readStream(s, events.ReadStreamOptions{AsOf: first[1].RecordedAt})
	if !reflect.DeepEqual(versions(got), []int64{1, 2}) {
		t.Fatalf("as of the second event's time: versions %v, want [1 2]", versions(got))
	}
	if back := e.readStream(s, events.ReadStreamOptions{AsOf: first[1].RecordedAt, Backwards: true}); !reflect.DeepEqual(versions(back), []int64{2, 1}) {
		t.Fatalf("backwards as of: %v", versions(back))
	}
	if _, err := e.store.ReadStream(e.ctx, s, events.ReadStreamOptions{AsOf: first[0].RecordedAt.Add(-time.Hour)}); !errors.Is(err, events.ErrStreamNotFound) {
		t.Fatalf("as of before the stream existed: %v, want ErrStreamNotFound", err)
	}
	if now := e.readStream(s, events.ReadStreamOptions{AsOf: time.Now().Add(time.Hour)}); len(now) != 3 {
		t.Fatalf("as of the future: %d events", len(now))
	}
}

func testSoftDelete(t *testing.T, newStore NewStore) {
	e := setup(t, newStore)
	s := StreamID()
	res := e.append(s, events.NoStream, Thing("a", 1), Thing("b", 2))
	var vc *events.VersionConflictError
	if err := e.store.DeleteStream(e.ctx, s, events.Exact(1)); !errors.As(err, &vc) {
		t.Fatalf("delete with a stale version: %v, want a conflict", err)
	}
	if err := e.store.DeleteStream(e.ctx, s, events.Exact(2)); err != nil {
		t.Fatalf("delete: %v", err)
	}
	// A soft-deleted stream has no live events: a conflict reports version 0, not the old one.
	if _, err := e.store.Append(e.ctx, s, events.StreamExists, []events.Envelope{Thing("x", 0)}); !errors.As(err, &vc) || vc.Actual != 0 || vc.Exists {
		t.Fatalf("StreamExists on a soft-deleted stream: %v, want a conflict at version 0", err)
	}
	if _, err := e.store.ReadStream(e.ctx, s, events.ReadStreamOptions{}); !errors.Is(err, events.ErrStreamNotFound) {
		t.Fatalf("read after soft delete: %v, want ErrStreamNotFound", err)
	}
	info, err := e.store.StreamInfo(e.ctx, s)
	if err != nil || !info.Deleted || info.Exists || info.Version != 2 {
		t.Fatalf("info after soft delete: %+v, %v", info, err)
	}
	all, err := e.store.ReadAll(e.ctx, res.FirstPosition-1, 10)
	if err != nil || len(all) < 2 || all[0].StreamID != s {
		t.Fatalf("$all must keep soft-deleted events for audit: %v, %v", all, err)
	}
	// Writing again revives the stream: versions continue, old events stay hidden.
	r := e.append(s, events.NoStream, Thing("c", 3))
	if r.NextExpectedVersion != 3 {
		t.Fatalf("append after soft delete at version %d, want 3", r.NextExpectedVersion)
	}
	if got := versions(e.readStream(s, events.ReadStreamOptions{})); !reflect.DeepEqual(got, []int64{3}) {
		t.Fatalf("after revival the stream reads %v, want [3]", got)
	}
	if got := versions(e.readStream(s, events.ReadStreamOptions{From: 1})); !reflect.DeepEqual(got, []int64{3}) {
		t.Fatalf("reading from 1 after revival: %v, want [3]", got)
	}
	if err := e.store.DeleteStream(e.ctx, StreamID(), events.Any); !errors.Is(err, events.ErrStreamNotFound) {
		t.Fatalf("deleting a missing stream: %v, want ErrStreamNotFound", err)
	}
}

func testTombstone(t *testing.T, newStore NewStore) {
	e := setup(t, newStore)
	s := StreamID()
	e.append(s, events.NoStream, Thing("a", 1))
	if err := e.store.TombstoneStream(e.ctx, s, events.Exact(1)); err != nil {
		t.Fatalf("tombstone: %v", err)
	}
	var sd *events.StreamDeletedError
	if _, err := e.store.ReadStream(e.ctx, s, events.ReadStreamOptions{}); !errors.As(err, &sd) {
		t.Fatalf("read of a tombstoned stream: %v", err)
	}
	h := e.head()
	for _, exp := range []events.ExpectedVersion{events.Any, events.NoStream, events.Exact(1)} {
		if _, err := e.store.Append(e.ctx, s, exp, []events.Envelope{Thing("b", 2)}); !errors.As(err, &sd) {
			t.Fatalf("append (%v) to a tombstoned stream: %v", exp, err)
		}
	}
	if err := e.store.DeleteStream(e.ctx, s, events.Any); !errors.As(err, &sd) {
		t.Fatalf("soft delete of a tombstoned stream: %v", err)
	}
	if e.head() != h {
		t.Fatal("a write to a tombstoned stream moved the head")
	}
	info, err := e.store.StreamInfo(e.ctx, s)
	if err != nil || !info.Tombstoned || info.Exists {
		t.Fatalf("info of a tombstoned stream: %+v, %v", info, err)
	}
	// $all keeps a tombstoned stream's events: the store is the audit trail.
	if all, err := e.store.ReadAll(e.ctx, 0, events.MaxReadLimit); err != nil || !containsStream(all, s) {
		t.Fatalf("$all lost the tombstoned stream's events: %v", err)
	}
	// Tombstoning a stream that never existed reserves its id for good.
	s2 := StreamID()
	if err := e.store.TombstoneStream(e.ctx, s2, events.Any); err != nil {
		t.Fatalf("tombstone of a new stream id: %v", err)
	}
	if _, err := e.store.Append(e.ctx, s2, events.Any, []events.Envelope{Thing("b", 2)}); !errors.As(err, &sd) {
		t.Fatalf("append to a tombstoned new stream id: %v", err)
	}
}

func testMetadata(t *testing.T, newStore NewStore) {
	e := setup(t, newStore)
	s := StreamID()
	e.append(s, events.NoStream, Thing("a", 1))
	meta := json.RawMessage(`{"owner":"team-red","retention_days":30}`)
	if err := e.store.SetStreamMetadata(e.ctx, s, meta); err != nil {
		t.Fatalf("set metadata: %v", err)
	}
	info, err := e.store.StreamInfo(e.ctx, s)
	if err != nil || !jsonEqual(info.Metadata, meta) {
		t.Fatalf("metadata %s, %v", info.Metadata, err)
	}
	if err := e.store.SetStreamMetadata(e.ctx, s, json.RawMessage(`"string"`)); err == nil {
		t.Fatal("non-object metadata accepted")
	}
	if info2, _ := e.store.StreamInfo(e.ctx, s); !jsonEqual(info2.Metadata, meta) || info2.Version != 1 {
		t.Fatalf("refused metadata changed the stream: %+v", info2)
	}
	// Metadata may be set before a stream's first event (e.g. an ACL prepared ahead).
	s2 := StreamID()
	if err := e.store.SetStreamMetadata(e.ctx, s2, meta); err != nil {
		t.Fatalf("metadata on a new stream: %v", err)
	}
	e.append(s2, events.NoStream, Thing("first", 1))
	if info3, _ := e.store.StreamInfo(e.ctx, s2); info3.Version != 1 || !jsonEqual(info3.Metadata, meta) {
		t.Fatalf("stream with metadata set first: %+v", info3)
	}
	missing, err := e.store.StreamInfo(e.ctx, StreamID())
	if err != nil || missing.Exists || missing.Version != 0 {
		t.Fatalf("info of an unknown stream: %+v, %v", missing, err)
	}
}

func testWait(t *testing.T, newStore NewStore) {
	e := setup(t, newStore)
	h := e.head()
	woke := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
		defer cancel()
		for {
			if err := e.store.WaitForAppend(ctx, h); err != nil {
				woke <- err
				return
			}
			if now, err := e.store.HeadPosition(ctx); err != nil || now > h {
				woke <- err
				return
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	e.append(StreamID(), events.NoStream, Thing("wake", 1))
	if err := <-woke; err != nil {
		t.Fatalf("waiter did not see the append: %v", err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	if err := e.store.WaitForAppend(ctx, e.head()); err == nil {
		t.Fatal("WaitForAppend with a cancelled context returned nil")
	}
}
