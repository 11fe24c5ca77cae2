package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/events/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) events.EventStore { return openTest(t, Config{}) })
}

func TestSnapshots(t *testing.T) {
	storetest.Snapshots(t, func(t *testing.T) events.EventStore { return openTest(t, Config{}) })
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func thing(name string) events.Envelope {
	ev := storetest.Thing(name, 1)
	ev.EventID = events.NewEventID()
	ev.SchemaVersion = 1
	return ev
}

func TestConfigValidateReportsEverything(t *testing.T) {
	err := Config{Schema: "Bad-Name", MaxConns: -1, PollInterval: -time.Second}.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"url is required", "schema", "max conns", "poll interval"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if err := (Config{URL: "postgres://u@localhost/db"}).Validate(); err != nil {
		t.Fatalf("minimal config refused: %v", err)
	}
	if c := (Config{}).withDefaults(); c.Schema != "soc" || c.PollInterval != 200*time.Millisecond {
		t.Fatalf("defaults %+v", c)
	}
}

// TestErrorsDoNotLeakPassword: neither a malformed URL nor a failed connection quotes the password.
func TestErrorsDoNotLeakPassword(t *testing.T) {
	const pw = "s3cr3t-Pa55"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, url := range []string{
		"postgres://soc:" + pw + "@127.0.0.1:1/soc?sslmode=disable&connect_timeout=2", // nothing listens on port 1
		"postgres://soc:" + pw + "@127.0.0.1:notaport/soc",
		"host=127.0.0.1 port=1 user=soc password=" + pw + " connect_timeout=2 sslmode=disable",
		"host=127.0.0.1 port=x user=soc password='" + pw + " sslmode=disable",
	} {
		if err := (Config{URL: url}).Validate(); err != nil && strings.Contains(err.Error(), pw) {
			t.Errorf("Validate leaks the password: %v", err)
		}
		s, err := Open(ctx, Config{URL: url})
		if err == nil {
			s.Close()
			t.Fatalf("Open succeeded on %s", strings.ReplaceAll(url, pw, "***"))
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("Open's error leaks the password: %v", err)
		}
	}
}

func TestCheckpoints(t *testing.T) {
	s := openTest(t, Config{})
	ctx := testCtx(t)
	storetest.Checkpoints(t, ctx, s)
}

// TestConcurrentOpen: processes starting at once on an empty schema all migrate successfully.
func TestConcurrentOpen(t *testing.T) {
	url := eventstest.PostgresURL(t)
	schema := eventstest.FreshSchema(t, url, "t_")
	ctx := testCtx(t)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() {
			s, err := Open(ctx, Config{URL: url, Schema: schema, MaxConns: 2})
			if err == nil {
				_, err = s.HeadPosition(ctx)
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("open %d: %v", i, err)
		}
	}
}

// TestExpectedVersionMatchesPort: append_events implements ExpectedVersion.Check in SQL; compare
// the two over every stream state (new, live, soft-deleted, revived) and expectation.
func TestExpectedVersionMatchesPort(t *testing.T) {
	s := openTest(t, Config{})
	ctx := testCtx(t)
	type state struct {
		name    string
		setup   func(stream string)
		current int64
		exists  bool
		last    int64 // version written last (numbering continues from it)
	}
	mustAppend := func(stream string, n int) {
		for i := 0; i < n; i++ {
			if _, err := s.Append(ctx, stream, events.Any, []events.Envelope{thing("x")}); err != nil {
				t.Fatal(err)
			}
		}
	}
	states := []state{
		{"new", func(string) {}, 0, false, 0},
		{"live at 2", func(st string) { mustAppend(st, 2) }, 2, true, 2},
		{"soft-deleted at 2", func(st string) {
			mustAppend(st, 2)
			if err := s.DeleteStream(ctx, st, events.Exact(2)); err != nil {
				t.Fatal(err)
			}
		}, 0, false, 2},
		{"revived at 3", func(st string) {
			mustAppend(st, 2)
			if err := s.DeleteStream(ctx, st, events.Any); err != nil {
				t.Fatal(err)
			}
			mustAppend(st, 1)
		}, 3, true, 3},
		{"metadata only", func(st string) {
			if err := s.SetStreamMetadata(ctx, st, json.RawMessage(`{"a":1}`)); err != nil {
				t.Fatal(err)
			}
		}, 0, false, 0},
	}
	exps := []events.ExpectedVersion{events.Any, events.NoStream, events.StreamExists, events.Exact(0), events.Exact(1), events.Exact(2), events.Exact(3)}
	for _, st := range states {
		for _, exp := range exps {
			stream := storetest.StreamID()
			st.setup(stream)
			res, err := s.Append(ctx, stream, exp, []events.Envelope{thing("probe")})
			want := exp.Check(st.current, st.exists)
			var vc *events.VersionConflictError
			switch {
			case want && err != nil:
				t.Errorf("%s, expected %v: %v, want success", st.name, exp, err)
			case want && res.NextExpectedVersion != st.last+1:
				t.Errorf("%s, expected %v: version %d, want %d", st.name, exp, res.NextExpectedVersion, st.last+1)
			case !want && !errors.As(err, &vc):
				t.Errorf("%s, expected %v: %v, want a VersionConflictError", st.name, exp, err)
			case !want && (vc.Actual != st.current || vc.Exists != st.exists || vc.Expected != exp || vc.StreamID != stream):
				t.Errorf("%s, expected %v: conflict %+v, want actual %d exists %v", st.name, exp, vc, st.current, st.exists)
			}
		}
	}
}

// TestConcurrentWritersSameStream: 32 writers, one stream, exact expected versions.
func TestConcurrentWritersSameStream(t *testing.T) {
	s := openTest(t, Config{MaxConns: 32})
	ctx := testCtx(t)
	stream := storetest.StreamID()
	const writers, target = 32, 200
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		acked     = map[string]int64{}
		conflicts atomic.Int64
		failed    atomic.Value
	)
	start := make(chan struct{})
	for w := 0; w < writers; w++ {
		wg.Go(func() {
			<-start
			for {
				info, err := s.StreamInfo(ctx, stream)
				if err != nil {
					failed.Store(err)
					return
				}
				if info.Version >= target {
					return
				}
				ev := thing(fmt.Sprintf("w%d", w))
				res, err := s.Append(ctx, stream, events.Exact(info.Version), []events.Envelope{ev})
				var vc *events.VersionConflictError
				switch {
				case err == nil:
					if res.NextExpectedVersion != info.Version+1 {
						failed.Store(fmt.Errorf("expected %d, got version %d", info.Version, res.NextExpectedVersion))
						return
					}
					mu.Lock()
					acked[ev.EventID] = res.NextExpectedVersion
					mu.Unlock()
				case errors.As(err, &vc):
					if vc.Actual <= info.Version || !vc.Exists && info.Version > 0 {
						failed.Store(fmt.Errorf("conflict %+v after reading version %d", vc, info.Version))
						return
					}
					conflicts.Add(1)
				default:
					failed.Store(fmt.Errorf("writer %d: untyped error: %w", w, err))
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatal(err)
	}
	evs, err := s.ReadStream(ctx, stream, events.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != len(acked) || len(evs) < target {
		t.Fatalf("%d events stored, %d acknowledged, target %d", len(evs), len(acked), target)
	}
	for i, ev := range evs {
		if ev.Version != int64(i+1) || acked[ev.EventID] != ev.Version {
			t.Fatalf("event %d: version %d, acknowledged as %d", i, ev.Version, acked[ev.EventID])
		}
	}
	if conflicts.Load() == 0 {
		t.Fatal("no writer lost a race: the test did not exercise the conflict path")
	}
	t.Logf("%d appends, %d conflicts", len(acked), conflicts.Load())
}

// TestReadAllFollowerNeverSkips: a reader follows ReadAll (small pages, no waiting) while 16
// writers append batches of varying size to their own streams. Positions are gapless in this
// design, so the reader must see exactly last+1 each time; a position seen out of order, skipped or
// repeated fails. recorded_at must not decrease along positions.
func TestReadAllFollowerNeverSkips(t *testing.T) {
	followAll(t, openTest(t, Config{MaxConns: 24, PollInterval: 20 * time.Millisecond}))
}

func followAll(t *testing.T, s *Store) {
	ctx := testCtx(t)
	const writers, perWriter = 16, 150
	total := int64(writers * perWriter)

	readerErr := make(chan error, 1)
	var read atomic.Int64
	stop := make(chan struct{})
	go func() {
		var last int64
		var lastRecorded time.Time
		for read.Load() < total {
			select {
			case <-stop:
				readerErr <- fmt.Errorf("stopped after %d of %d events", read.Load(), total)
				return
			default:
			}
			page, err := s.ReadAll(ctx, last, 13)
			if err != nil {
				readerErr <- err
				return
			}
			for _, ev := range page {
				if ev.GlobalPosition != last+1 {
					readerErr <- fmt.Errorf("position %d read after %d", ev.GlobalPosition, last)
					return
				}
				if ev.RecordedAt.Before(lastRecorded) {
					readerErr <- fmt.Errorf("recorded_at went back at position %d: %v < %v", ev.GlobalPosition, ev.RecordedAt, lastRecorded)
					return
				}
				last, lastRecorded = ev.GlobalPosition, ev.RecordedAt
				read.Add(1)
			}
		}
		readerErr <- nil
	}()

	var wg sync.WaitGroup
	errc := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Go(func() {
			stream := storetest.StreamID()
			for i := 0; i < perWriter; {
				n := min(1+(i+w)%4, perWriter-i)
				batch := make([]events.Envelope, n)
				for j := range batch {
					batch[j] = thing(fmt.Sprintf("w%d-%d", w, i+j))
				}
				if _, err := s.Append(ctx, stream, events.Exact(int64(i)), batch); err != nil {
					errc <- err
					return
				}
				i += n
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	select {
	case err := <-readerErr:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		close(stop)
		t.Fatalf("reader stuck: %v", <-readerErr)
	}
	if h, err := s.HeadPosition(ctx); err != nil || h != total {
		t.Fatalf("head %d, %v; want %d", h, err, total)
	}
}

// TestIdempotency covers the adapter's duplicate handling without Guard in front.
func TestIdempotency(t *testing.T) {
	s := openTest(t, Config{MaxConns: 16})
	ctx := testCtx(t)
	stream := storetest.StreamID()
	batch := []events.Envelope{thing("a"), thing("b"), thing("c")}
	first, err := s.Append(ctx, stream, events.NoStream, batch)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, stream, events.Exact(3), []events.Envelope{thing("d")}); err != nil {
		t.Fatal(err)
	}
	// A re-sent batch is a no-op even though the stream moved on and the expectation fails now.
	again, err := s.Append(ctx, stream, events.NoStream, batch)
	if err != nil || !again.Duplicate || again.FirstPosition != first.FirstPosition || again.LastPosition != first.LastPosition || again.NextExpectedVersion != 3 {
		t.Fatalf("re-append: %+v, %v; want the original %+v as duplicate", again, err, first)
	}
	// A subset starting at the first stored id is the same events at the same places: a duplicate.
	if sub, err := s.Append(ctx, stream, events.Any, batch[1:]); err != nil || !sub.Duplicate || sub.NextExpectedVersion != 3 {
		t.Fatalf("re-append of a tail: %+v, %v", sub, err)
	}
	var de *events.DuplicateEventError
	for name, b := range map[string][]events.Envelope{
		"reordered":          {batch[1], batch[0]},
		"stored then new":    {batch[0], thing("new")},
		"new then stored":    {thing("new"), batch[2]},
		"stored, gap":        {batch[0], batch[2]},
		"into another place": {batch[2]}, // fine alone (a duplicate), so test it in another stream below
	} {
		if name == "into another place" {
			if _, err := s.Append(ctx, storetest.StreamID(), events.Any, b); !errors.As(err, &de) || de.EventID != b[0].EventID {
				t.Errorf("%s: %v, want DuplicateEventError for %s", name, err, b[0].EventID)
			}
			continue
		}
		if _, err := s.Append(ctx, stream, events.Any, b); !errors.As(err, &de) {
			t.Errorf("%s: %v, want DuplicateEventError", name, err)
		}
	}
	if h, _ := s.HeadPosition(ctx); h != 4 {
		t.Fatalf("refused duplicates moved the head to %d", h)
	}

	// The same new batch raced into one stream by 8 goroutines: one write, all see its positions.
	// Raced into 8 different streams: one wins, every other gets a DuplicateEventError (never a
	// raw unique violation).
	for _, sameStream := range []bool{true, false} {
		b := []events.Envelope{thing("r1"), thing("r2")}
		shared := storetest.StreamID()
		var wg sync.WaitGroup
		res := make([]events.AppendResult, 8)
		errs := make([]error, 8)
		start := make(chan struct{})
		for i := range res {
			wg.Go(func() {
				st := shared
				if !sameStream {
					st = storetest.StreamID()
				}
				<-start
				res[i], errs[i] = s.Append(ctx, st, events.Any, b)
			})
		}
		close(start)
		wg.Wait()
		wins := 0
		for i, err := range errs {
			switch {
			case err == nil && (sameStream || !res[i].Duplicate):
				if res[i].LastPosition != res[0].LastPosition && sameStream {
					t.Fatalf("identical appends landed at %d and %d", res[0].LastPosition, res[i].LastPosition)
				}
				if !res[i].Duplicate {
					wins++
				}
			case !sameStream && errors.As(err, &de):
			default:
				t.Fatalf("same stream %v, append %d: %+v, %v (%T)", sameStream, i, res[i], err, err)
			}
		}
		if wins != 1 {
			t.Fatalf("same stream %v: %d appends wrote, want 1", sameStream, wins)
		}
	}
}

// TestAppendWithoutGuard: the adapter fills what Guard normally does and refuses what PostgreSQL
// would reject, with typed errors naming the event.
func TestAppendWithoutGuard(t *testing.T) {
	s := openTest(t, Config{})
	ctx := testCtx(t)
	stream := storetest.StreamID()
	res, err := s.Append(ctx, stream, events.NoStream, []events.Envelope{{Type: "ThingCreated", Data: json.RawMessage(`{"name": "x"}`)}})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := s.ReadStream(ctx, stream, events.ReadStreamOptions{})
	if err != nil || len(evs) != 1 {
		t.Fatalf("%v, %v", evs, err)
	}
	e := evs[0]
	if e.EventID == "" || e.StreamID != stream || e.StreamType != "suite-thing" || e.GlobalPosition != res.LastPosition ||
		!e.OccurredAt.Equal(e.RecordedAt) || string(e.Data) != `{"name":"x"}` || e.Metadata != nil {
		t.Fatalf("stored %+v", e)
	}
	var ie *events.InvalidEventError
	for name, c := range map[string]struct {
		stream string
		exp    events.ExpectedVersion
		evs    []events.Envelope
		field  string
	}{
		"empty stream id":  {"", events.Any, []events.Envelope{thing("x")}, "/stream_id"},
		"bad expected":     {stream, events.ExpectedVersion(-3), []events.Envelope{thing("x")}, "/expected_version"},
		"empty batch":      {stream, events.Any, nil, "/events"},
		"upper-case id":    {stream, events.Any, []events.Envelope{thing("x"), {EventID: strings.ToUpper(events.NewEventID()), Type: "T", Data: json.RawMessage(`{}`)}}, "/events/1/event_id"},
		"bad data":         {stream, events.Any, []events.Envelope{thing("x"), {Type: "T", Data: json.RawMessage(`{"a":`)}}, "/events/1/data"},
		"nul in data":      {stream, events.Any, []events.Envelope{{Type: "T", Data: json.RawMessage(`{"a":"\u0000"}`)}}, "/events/0/data"},
		"array metadata":   {stream, events.Any, []events.Envelope{{Type: "T", Data: json.RawMessage(`{}`), Metadata: json.RawMessage(`[1]`)}}, "/events/0/metadata"},
		"missing type":     {stream, events.Any, []events.Envelope{{Data: json.RawMessage(`{}`)}}, "/events/0/type"},
		"nul byte in type": {stream, events.Any, []events.Envelope{{Type: "T\x00", Data: json.RawMessage(`{}`)}}, "/events"},
	} {
		_, err := s.Append(ctx, c.stream, c.exp, c.evs)
		if !errors.As(err, &ie) || ie.Field() != c.field {
			t.Errorf("%s: %v, want InvalidEventError at %s", name, err, c.field)
		}
	}
	if h, _ := s.HeadPosition(ctx); h != 1 {
		t.Fatalf("refused appends moved the head to %d", h)
	}
	if err := s.SetStreamMetadata(ctx, stream, json.RawMessage(`null`)); !errors.As(err, &ie) || ie.Field() != "/metadata" {
		t.Fatalf("null metadata: %v", err)
	}
}

// TestWaitForAppendUsesNotifications: with a poll interval far longer than the test, the waiter
// can only wake in time through LISTEN/NOTIFY. A store on another schema does not wake it.
func TestWaitForAppendUsesNotifications(t *testing.T) {
	s := openTest(t, Config{PollInterval: time.Minute})
	other := openTest(t, Config{})
	ctx := testCtx(t)
	// The listener publishes the head when it connects; wait until it has.
	if err := s.WaitForAppend(ctx, -1); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		head, _ := s.HeadPosition(ctx)
		woke := make(chan time.Time, 1)
		go func() {
			if err := s.WaitForAppend(ctx, head); err != nil {
				t.Error(err)
			}
			woke <- time.Now()
		}()
		time.Sleep(50 * time.Millisecond)
		if _, err := other.Append(ctx, storetest.StreamID(), events.Any, []events.Envelope{thing("elsewhere")}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-woke:
			t.Fatal("an append to another schema woke the waiter")
		case <-time.After(300 * time.Millisecond):
		}
		appended := time.Now()
		if _, err := s.Append(ctx, storetest.StreamID(), events.Any, []events.Envelope{thing("wake")}); err != nil {
			t.Fatal(err)
		}
		select {
		case at := <-woke:
			t.Logf("woke %v after the append returned", at.Sub(appended))
		case <-time.After(5 * time.Second):
			t.Fatal("the waiter was not notified")
		}
	}
	// Many waiters share the one listener connection.
	head, _ := s.HeadPosition(ctx)
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Go(func() {
			if err := s.WaitForAppend(ctx, head); err != nil {
				t.Error(err)
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	if _, err := s.Append(ctx, storetest.StreamID(), events.Any, []events.Envelope{thing("wake all")}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("not every waiter woke")
	}
}

func TestClosedStore(t *testing.T) {
	s := openTest(t, Config{})
	ctx := testCtx(t)
	go func() { _ = s.WaitForAppend(ctx, 1<<40) }()
	time.Sleep(20 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if _, err := s.Append(ctx, storetest.StreamID(), events.Any, []events.Envelope{thing("x")}); !errors.Is(err, events.ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
	if _, err := s.ReadAll(ctx, 0, 1); !errors.Is(err, events.ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	if err := s.WaitForAppend(ctx, 0); !errors.Is(err, events.ErrClosed) {
		t.Fatalf("wait after close: %v", err)
	}
}
