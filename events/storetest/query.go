package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/problem"
)

// testQuery checks events.EventQuerier. A store without the capability must be reported clearly by
// Guarded (ErrQueryUnsupported, KindUnavailable); the rest of the subtest is then skipped.
func testQuery(t *testing.T, newStore NewStore) {
	t.Run("UnsupportedIsReported", func(t *testing.T) { testQueryUnsupported(t, newStore) })
	probe := newStore(t)
	_, ok := probe.(events.EventQuerier)
	_ = probe.Close()
	if !ok {
		t.Skipf("%T does not implement events.EventQuerier: audit queries (GET /v1/events) are unsupported on this store", probe)
	}
	t.Run("Filters", func(t *testing.T) { testQueryFilters(t, newStore) })
	t.Run("Paging", func(t *testing.T) { testQueryPaging(t, newStore) })
	t.Run("LimitBounds", func(t *testing.T) { testQueryLimits(t, newStore) })
	t.Run("InvalidQueries", func(t *testing.T) { testQueryInvalid(t, newStore) })
	t.Run("NeverAboveTheVisiblePrefix", func(t *testing.T) { testQueryVisibility(t, newStore) })
}

// hidden wraps a store so that only the EventStore methods are visible.
type hidden struct{ events.EventStore }

func testQueryUnsupported(t *testing.T, newStore NewStore) {
	s := newStore(t)
	defer s.Close()
	g := events.Guard(hidden{s}, Registry(), events.Limits{})
	_, err := g.QueryEvents(context.Background(), events.EventQuery{})
	if !errors.Is(err, events.ErrQueryUnsupported) {
		t.Fatalf("querying a store without EventQuerier: %v, want ErrQueryUnsupported", err)
	}
	var ke problem.KindError
	if !errors.As(err, &ke) || ke.Kind() != problem.KindUnavailable {
		t.Fatalf("ErrQueryUnsupported is not a KindUnavailable error: %v", err)
	}
	if !strings.Contains(err.Error(), "storetest.hidden") {
		t.Fatalf("the error does not name the store: %v", err)
	}
}

func (e *env) query(q events.EventQuery) []events.Envelope {
	e.t.Helper()
	evs, err := e.store.QueryEvents(e.ctx, q)
	if err != nil {
		e.t.Fatalf("query %+v: %v", q, err)
	}
	return evs
}

func ids(evs []events.Envelope) []string {
	return each(evs, func(e events.Envelope) string { return fmt.Sprintf("%d:%s", e.GlobalPosition, e.EventID) })
}

// expect is the reference answer: the events of all (in position order) that q matches.
func expect(t *testing.T, all []events.Envelope, q events.EventQuery) []events.Envelope {
	t.Helper()
	n, err := q.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	var out []events.Envelope
	for i := range all {
		j := i
		if n.Backwards {
			j = len(all) - 1 - i
		}
		if n.Matches(&all[j]) {
			out = append(out, all[j])
			if len(out) == n.Limit {
				break
			}
		}
	}
	return out
}

// queryData appends three phases of events, each recorded at a distinct time, over three
// streams, with two types, three actors (one empty) and two correlation ids (and none), and
// returns the streams, every event as ReadAll returns it and the first event of each phase.
func queryData(e *env) (streams []string, all []events.Envelope, phase [3]events.Envelope) {
	streams = []string{StreamID(), StreamID(), StreamID()}
	actors := []string{"user:alice", "user:bob", ""}
	start := e.head()
	for p := 0; p < 3; p++ {
		for k := 0; k < 6; k++ {
			batch := make([]events.Envelope, 2)
			for j := range batch {
				n := p*12 + k*2 + j
				batch[j] = Thing(fmt.Sprintf("p%d-%d", p, n), n)
				if n%3 == 0 {
					batch[j].Type = "ThingRenamed"
				}
				batch[j].Actor = actors[(k+j)%3]
				if n%4 == 1 {
					batch[j].CorrelationID = fmt.Sprintf("corr-%d", n%2+p%2)
				}
			}
			e.append(streams[k%3], events.Any, batch...)
		}
		time.Sleep(15 * time.Millisecond) // the store's clock must move between phases
	}
	var err error
	all, err = e.store.ReadAll(e.ctx, start, events.MaxReadLimit)
	if err != nil || len(all) != 36 {
		e.t.Fatalf("ReadAll after the appends: %d events, %v", len(all), err)
	}
	for p := range phase {
		phase[p] = all[p*12]
		if p > 0 && !phase[p].RecordedAt.After(all[p*12-1].RecordedAt) {
			e.t.Fatalf("phase %d recorded at %v, not after the previous phase's last event (%v)", p, phase[p].RecordedAt, all[p*12-1].RecordedAt)
		}
	}
	return streams, all, phase
}

func testQueryFilters(t *testing.T, newStore NewStore) {
	e := setup(t, newStore)
	streams, all, phase := queryData(e)
	t1, t2 := phase[1].RecordedAt, phase[2].RecordedAt
	cases := []struct {
		name string
		q    events.EventQuery
		want int // expected count, a check on the reference itself (-1: not checked)
	}{
		{"everything", events.EventQuery{}, 36},
		{"everything backwards", events.EventQuery{Backwards: true}, 36},
		{"one type", events.EventQuery{Types: []string{"ThingRenamed"}}, 12},
		{"two types", events.EventQuery{Types: []string{"ThingRenamed", "ThingCreated"}}, 36},
		{"types backwards", events.EventQuery{Types: []string{"ThingCreated", "ThingRenamed"}, Backwards: true, Limit: 7}, 7},
		{"a type and an unknown one", events.EventQuery{Types: []string{"Nope", "ThingRenamed", "ThingRenamed"}}, 12},
		{"unknown type", events.EventQuery{Types: []string{"Nope"}}, 0},
		{"actor", events.EventQuery{Actor: "user:alice"}, -1},
		{"unknown actor", events.EventQuery{Actor: "nobody"}, 0},
		{"correlation", events.EventQuery{CorrelationID: "corr-1"}, -1},
		{"correlation backwards", events.EventQuery{CorrelationID: "corr-2", Backwards: true}, -1},
		{"stream", events.EventQuery{StreamID: streams[1]}, 12},
		{"stream backwards", events.EventQuery{StreamID: streams[1], Backwards: true, Limit: 5}, 5},
		{"stream and type", events.EventQuery{StreamID: streams[2], Types: []string{"ThingRenamed"}}, -1},
		{"stream and types", events.EventQuery{StreamID: streams[2], Types: []string{"ThingRenamed", "ThingCreated"}, Backwards: true}, 12},
		{"window = phase 1", events.EventQuery{From: t1, To: t2}, 12},
		{"window backwards", events.EventQuery{From: t1, To: t2, Backwards: true}, 12},
		{"from phase 1", events.EventQuery{From: t1}, 24},
		{"to phase 2", events.EventQuery{To: t2}, 24},
		{"from just after phase 1 began", events.EventQuery{From: t1.Add(time.Nanosecond)}, -1},
		{"to just after phase 2 began", events.EventQuery{To: t2.Add(time.Nanosecond)}, -1},
		{"empty window", events.EventQuery{From: t1, To: t1}, 0},
		{"window before everything", events.EventQuery{To: phase[0].RecordedAt}, 0},
		{"window after everything", events.EventQuery{From: time.Now().Add(time.Hour)}, 0},
		{"positions", events.EventQuery{After: all[3].GlobalPosition, Before: all[20].GlobalPosition}, 16},
		{"positions backwards", events.EventQuery{After: all[3].GlobalPosition, Before: all[20].GlobalPosition, Backwards: true, Limit: 4}, 4},
		{"type, actor and window", events.EventQuery{Types: []string{"ThingCreated"}, Actor: "user:bob", From: t1, To: t2}, -1},
		{"actor and correlation backwards", events.EventQuery{Actor: "user:alice", CorrelationID: "corr-1", Backwards: true}, -1},
		{"types in a position range", events.EventQuery{Types: []string{"ThingRenamed", "ThingCreated"}, After: all[5].GlobalPosition, Before: all[30].GlobalPosition, Limit: 10}, 10},
		{"correlation and window", events.EventQuery{CorrelationID: "corr-1", From: t1}, -1},
		{"everything narrowed", events.EventQuery{Types: []string{"ThingCreated"}, Actor: "user:bob", CorrelationID: "corr-1",
			StreamID: streams[1], From: phase[0].RecordedAt, To: time.Now().Add(time.Minute), After: all[0].GlobalPosition}, -1},
	}
	for _, c := range cases {
		want := expect(t, all, c.q)
		if c.want >= 0 && len(want) != c.want {
			t.Fatalf("%s: the reference answer has %d events, the test expects %d", c.name, len(want), c.want)
		}
		got := e.query(c.q)
		if !reflect.DeepEqual(ids(got), ids(want)) {
			t.Errorf("%s: got\n %v\nwant\n %v", c.name, ids(got), ids(want))
			continue
		}
		for i := range got { // the same envelopes as ReadAll returns
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("%s: event %d differs from ReadAll's:\n %+v\n %+v", c.name, got[i].GlobalPosition, got[i], want[i])
				break
			}
		}
	}
	// Every event's time as either end of a window: the boundaries fall everywhere.
	for i := range all {
		r := all[i].RecordedAt
		for _, q := range []events.EventQuery{{From: r}, {To: r}, {From: r, To: r.Add(time.Microsecond)},
			{From: r.Add(-time.Microsecond), To: r, Backwards: true}, {Types: []string{"ThingRenamed"}, To: r, Backwards: true}} {
			if got, want := e.query(q), expect(t, all, q); !reflect.DeepEqual(ids(got), ids(want)) {
				t.Fatalf("window %+v: got\n %v\nwant\n %v", q, ids(got), ids(want))
			}
		}
	}
	// Not vacuous: the filters with unchecked counts match something.
	for _, q := range []events.EventQuery{{Actor: "user:alice"}, {CorrelationID: "corr-1"}, {Types: []string{"ThingCreated"}, Actor: "user:bob", From: t1, To: t2}} {
		if len(expect(t, all, q)) == 0 {
			t.Fatalf("test data: %+v matches nothing", q)
		}
	}
}

func testQueryPaging(t *testing.T, newStore NewStore) {
	e := setup(t, newStore)
	_, all, phase := queryData(e)
	for _, q := range []events.EventQuery{
		{},
		{Types: []string{"ThingRenamed", "ThingCreated"}},
		{Actor: "user:bob"},
		{CorrelationID: "corr-1"},
		{From: phase[1].RecordedAt, Types: []string{"ThingCreated"}},
	} {
		for _, backwards := range []bool{false, true} {
			q.Backwards, q.Limit = backwards, 3
			want := expect(t, all, events.EventQuery{Types: q.Types, Actor: q.Actor, CorrelationID: q.CorrelationID,
				From: q.From, Backwards: backwards})
			var got []events.Envelope
			seen := map[string]bool{}
			for pages := 0; ; pages++ {
				if pages > len(all) {
					t.Fatalf("%+v: paging does not end", q)
				}
				page := e.query(q)
				if len(page) > 3 {
					t.Fatalf("%+v: page of %d events for limit 3", q, len(page))
				}
				if len(page) == 0 {
					break
				}
				for _, ev := range page {
					if seen[ev.EventID] {
						t.Fatalf("%+v: event %d returned twice", q, ev.GlobalPosition)
					}
					seen[ev.EventID] = true
				}
				got = append(got, page...)
				if last := page[len(page)-1].GlobalPosition; backwards {
					q.Before = last
				} else {
					q.After = last
				}
			}
			if !reflect.DeepEqual(ids(got), ids(want)) {
				t.Fatalf("paging %+v: got\n %v\nwant\n %v", q, ids(got), ids(want))
			}
			q.After, q.Before = 0, 0
		}
	}
}

func testQueryLimits(t *testing.T, newStore NewStore) {
	e := setup(t, newStore)
	s := StreamID()
	for i := 0; i < 3; i++ {
		batch := make([]events.Envelope, 400)
		for j := range batch {
			batch[j] = Thing("many", i*400+j)
		}
		e.append(s, events.Any, batch...)
	}
	for _, c := range []struct{ limit, want int }{{0, events.MaxQueryLimit}, {-5, events.MaxQueryLimit},
		{events.MaxQueryLimit + 1, events.MaxQueryLimit}, {1 << 30, events.MaxQueryLimit}, {1, 1}, {999, 999}} {
		for _, backwards := range []bool{false, true} {
			got := e.query(events.EventQuery{Limit: c.limit, Backwards: backwards})
			if len(got) != c.want {
				t.Fatalf("limit %d (backwards %v): %d events, want %d", c.limit, backwards, len(got), c.want)
			}
			head := e.head()
			if backwards && got[0].GlobalPosition != head {
				t.Fatalf("backwards from the head starts at %d, head is %d", got[0].GlobalPosition, head)
			}
		}
	}
	if got := e.query(events.EventQuery{StreamID: s, Types: []string{"ThingCreated"}}); len(got) != events.MaxQueryLimit {
		t.Fatalf("filtered query without a limit: %d events, want %d", len(got), events.MaxQueryLimit)
	}
}

func testQueryInvalid(t *testing.T, newStore NewStore) {
	e := setup(t, newStore)
	e.append(StreamID(), events.NoStream, Thing("a", 1))
	now := time.Now()
	many := make([]string, events.MaxQueryTypes+1)
	for i := range many {
		many[i] = fmt.Sprintf("Type%d", i)
	}
	for _, c := range []struct {
		q     events.EventQuery
		field string
	}{
		{events.EventQuery{After: -1}, "/after"},
		{events.EventQuery{Before: -1, Backwards: true}, "/before"},
		{events.EventQuery{From: now, To: now.Add(-time.Second)}, "/to"},
		{events.EventQuery{Types: many}, "/types"},
	} {
		_, err := e.store.QueryEvents(e.ctx, c.q)
		var ie *events.InvalidEventError
		if !errors.As(err, &ie) || ie.Field() != c.field {
			t.Fatalf("query %+v: %v, want an InvalidEventError on %s", c.q, err, c.field)
		}
	}
}

// testQueryVisibility: while writers append, a backwards page from the head, unfiltered, is a run
// of consecutive positions (a query never shows an event above one that is not visible yet), and
// never above the head read after it.
func testQueryVisibility(t *testing.T, newStore NewStore) {
	e := setup(t, newStore)
	const writers, appends = 4, 40
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Go(func() {
			s := StreamID()
			for i := 0; i < appends; i++ {
				batch := []events.Envelope{Thing("v", i), Thing("v", i)}
				if _, err := e.store.Append(e.ctx, s, events.Any, batch); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		page, err := e.store.QueryEvents(e.ctx, events.EventQuery{Backwards: true, Limit: 25})
		if err != nil {
			t.Fatal(err)
		}
		head := e.head()
		for i := range page {
			if i > 0 && page[i].GlobalPosition != page[i-1].GlobalPosition-1 {
				t.Fatalf("backwards page from the head skips from %d to %d: an event above an invisible one was returned",
					page[i-1].GlobalPosition, page[i].GlobalPosition)
			}
			if page[i].GlobalPosition > head {
				t.Fatalf("query returned position %d above the head %d read after it", page[i].GlobalPosition, head)
			}
		}
	}
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
}
