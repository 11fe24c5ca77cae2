package runner

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventlog"
	"github.com/socplatform/soc/projections"
)

func TestConfigValidateReportsEveryProblem(t *testing.T) {
	p := newCountProj()
	p.name = "Bad-Name"
	err := Config{Projection: p, BatchSize: -1, MinBackoff: -1}.Validate()
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"database", "projection name", "event store", "batch size", "negative"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestAppliesAndResumesAfterRestart(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		p := newCountProj()
		s1, s2 := events.NewStreamID("suite", "thing"), events.NewStreamID("suite", "thing")
		e.appendThings(s1, "a", 5)
		e.appendEvents(events.NewStreamID("other", "x"), thing("OtherHappened", "ignored"))
		pos := e.appendThings(s2, "b", 3)

		var mu sync.Mutex
		var changed []projections.Change
		r := e.newRunner(p, nil, func(c *Config) {
			c.BatchSize = 2 // several batches
			c.OnChange = func(cs []projections.Change) { mu.Lock(); changed = append(changed, cs...); mu.Unlock() }
		})
		stop := e.start(r)
		e.waitFor(r, pos)
		if got := e.counts(); got[s1] != 5 || got[s2] != 3 || len(got) != 2 {
			t.Fatalf("counts = %v", got)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		if len(changed) != 8 {
			t.Errorf("OnChange saw %d changes, want 8", len(changed))
		}
		mu.Unlock()
		st := e.status(r)
		if st.Position != pos || st.EventsApplied != 8 || st.LagEvents != 0 || st.LagSeconds != 0 || st.Generation != 1 || st.Running {
			t.Errorf("status after run = %+v", st)
		}

		// Restart with a new runner on a new handle: it resumes from its position.
		e.appendThings(s1, "c", 2)
		pos = e.appendThings(events.NewStreamID("suite", "thing"), "d", 1)
		r2 := e.newRunner(p, e.reopen(), nil)
		e.start(r2)
		e.waitFor(r2, pos)
		if got := e.counts(); got[s1] != 7 || got[s2] != 3 || len(got) != 3 {
			t.Fatalf("counts after restart = %v", got)
		}
		if st := e.status(r2); st.EventsApplied != 11 || st.Position != pos || !st.Running {
			t.Errorf("status after restart = %+v", st)
		}
		if n := len(e.appliedIDs()); n != 11 {
			t.Errorf("%d applied rows, want 11", n)
		}
	})
}

func TestRedeliveryChangesNothing(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		p := newCountProj()
		s := events.NewStreamID("suite", "thing")
		e.appendThings(s, "a", 4)
		all := e.readAll()
		// The first two, the same two again, all four (two redelivered), and all four again.
		r, c := e.startOn(p, all[:2], all[:2], all, all)
		<-c.delivered
		if got := e.counts(); got[s] != 4 {
			t.Fatalf("counts = %v, want 4 for %s", got, s)
		}
		st := e.status(r)
		if st.EventsApplied != 4 || st.Position != all[3].GlobalPosition || st.Parked != nil {
			t.Errorf("status = %+v", st)
		}
	})
}

func TestGapParks(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		p := newCountProj()
		s := events.NewStreamID("suite", "thing")
		e.appendThings(s, "a", 3)
		all := e.readAll()
		r, _ := e.startOn(p, all[:1], all[2:3]) // version 2 never arrives
		st := e.waitParked(r)
		if st.Parked.EventID != all[2].EventID || !strings.Contains(st.Parked.Error, "gap") {
			t.Errorf("parked = %+v", st.Parked)
		}
		if got := e.counts(); got[s] != 1 {
			t.Errorf("counts = %v, want only version 1 applied", got)
		}
	})
}

// poisonEvents appends a, b, poison, c (c in another stream after the poison) and returns the
// events in order.
func poisonEvents(e *env) (s1, s2 string, evs []events.Envelope) {
	s1, s2 = events.NewStreamID("suite", "thing"), events.NewStreamID("suite", "thing")
	e.appendEvents(s1, thing("ThingCreated", "a"), thing("ThingCreated", "b"))
	e.appendEvents(s1, thing("ThingCreated", "poison"))
	e.appendEvents(s2, thing("ThingCreated", "c"))
	return s1, s2, e.readAll()
}

// poisonSetup appends poisonEvents and returns them with a counts projection that cannot apply
// the poison and its runner (not started).
func poisonSetup(e *env) (p *countProj, r *Runner, s1, s2 string, evs []events.Envelope) {
	p = newCountProj()
	p.Poison.Store(true)
	s1, s2, evs = poisonEvents(e)
	return p, e.newRunner(p, nil, nil), s1, s2, evs
}

func TestPoisonParksThenRetry(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		p, r, s1, s2, evs := poisonSetup(e)
		poison := evs[2]
		e.start(r)
		st := e.waitParkedAlert(r, p.Name())
		if st.Parked.EventID != poison.EventID || st.Parked.Position != poison.GlobalPosition || st.Parked.StreamID != s1 ||
			st.Parked.Type != "ThingCreated" || !strings.Contains(st.Parked.Error, "cannot apply a poison thing") || st.Parked.Since.IsZero() {
			t.Errorf("parked = %+v", st.Parked)
		}
		// What came before the poison event is applied, nothing after it.
		if got := e.counts(); got[s1] != 2 || got[s2] != 0 {
			t.Errorf("counts while parked = %v", got)
		}
		if st.Position != poison.GlobalPosition-1 {
			t.Errorf("position while parked = %d, want %d", st.Position, poison.GlobalPosition-1)
		}
		audit := e.auditEvents(p.Name())
		if len(audit) != 1 || audit[0].Type != "ProjectionParked" {
			t.Fatalf("audit = %+v", audit)
		}
		var d map[string]any
		_ = json.Unmarshal(audit[0].Data, &d)
		if d["event_id"] != poison.EventID || d["projection"] != "counts" {
			t.Errorf("ProjectionParked data = %v", d)
		}
		// WaitFor the event after the poison times out: it is not applied.
		ctx, cancel := context.WithTimeout(e.ctx, 50*time.Millisecond)
		if err := r.WaitFor(ctx, evs[3].GlobalPosition); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("WaitFor while parked = %v", err)
		}
		cancel()

		// Fix the projection, retry: everything is applied.
		p.Poison.Store(false)
		if err := r.Retry(e.ctx, "user:alice"); err != nil {
			t.Fatal(err)
		}
		e.waitFor(r, evs[3].GlobalPosition)
		if got := e.counts(); got[s1] != 3 || got[s2] != 1 {
			t.Errorf("counts after retry = %v", got)
		}
		audit = e.auditEvents(p.Name())
		if len(audit) != 2 || audit[1].Type != "ProjectionRetried" || audit[1].Actor != "user:alice" {
			t.Errorf("audit after retry = %+v", audit)
		}
		if err := r.Retry(e.ctx, "user:alice"); !errors.Is(err, ErrNotParked) {
			t.Errorf("Retry when not parked = %v", err)
		}
	})
}

func TestPoisonSkip(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		p, r, s1, s2, evs := poisonSetup(e)
		poison := evs[2]
		e.start(r)
		e.waitParkedAlert(r, p.Name())

		var wrong *WrongEventError
		if err := r.Skip(e.ctx, evs[3].EventID, "user:bob", "not that one"); !errors.As(err, &wrong) || wrong.Parked != poison.EventID {
			t.Fatalf("Skip of the wrong event = %v", err)
		}
		if n := len(e.auditEvents(p.Name())); n != 1 {
			t.Errorf("a refused skip recorded %d audit events", n-1)
		}
		if err := r.Skip(e.ctx, poison.EventID, "user:bob", "bad import, ticket SOC-12"); err != nil {
			t.Fatal(err)
		}
		e.waitFor(r, evs[3].GlobalPosition)
		if got := e.counts(); got[s1] != 2 || got[s2] != 1 {
			t.Errorf("counts after skip = %v", got)
		}
		if e.appliedIDs()[poison.EventID] {
			t.Error("the skipped event was applied")
		}
		audit := e.auditEvents(p.Name())
		if len(audit) != 2 || audit[1].Type != "ProjectionEventSkipped" || audit[1].Actor != "user:bob" {
			t.Fatalf("audit = %+v", audit)
		}
		var actor, reason string
		var gen int64
		q := newQuery(e.db.Dialect)
		if err := e.db.SQL.QueryRowContext(e.ctx, "SELECT actor, reason, generation FROM projection_skips WHERE name = "+q.arg("counts")+
			" AND event_id = "+q.arg(poison.EventID), q.args...).Scan(&actor, &reason, &gen); err != nil {
			t.Fatal(err)
		}
		if actor != "user:bob" || reason != "bad import, ticket SOC-12" || gen != 1 {
			t.Errorf("skip row = %s %s %d", actor, reason, gen)
		}
		if err := r.Skip(e.ctx, poison.EventID, "user:bob", "again"); !errors.Is(err, ErrNotParked) {
			t.Errorf("second skip = %v", err)
		}
		// A later event of the skipped event's stream applies normally (no gap).
		pos := e.appendThings(s1, "after", 1)
		e.waitFor(r, pos)
		if got := e.counts(); got[s1] != 3 {
			t.Errorf("counts = %v", got)
		}
		if st := e.status(r); st.Parked != nil || st.EventsApplied != 4 {
			t.Errorf("status = %+v", st)
		}
	})
}

func TestParkedSurvivesRestartAndAnotherProcessSkips(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		p, r, _, s2, evs := poisonSetup(e)
		poison := evs[2]
		stop := e.start(r)
		e.waitParked(r)
		if err := stop(); err != nil {
			t.Fatal(err)
		}

		// A new process: it starts parked and applies nothing.
		db2 := e.reopen()
		r2 := e.newRunner(p, db2, nil)
		st := e.status(r2)
		if st.Parked == nil || st.Parked.EventID != poison.EventID {
			t.Fatalf("status after restart = %+v", st)
		}
		applies := p.applies.Load()
		e.start(r2)
		// The CLI, a third handle: status and skip while r2 runs.
		cli := e.reopen()
		cs, err := ReadStatus(e.ctx, cli, e.store, "counts")
		if err != nil || cs.Parked == nil || cs.Parked.EventID != poison.EventID || cs.LagEvents != cs.Head-2 {
			t.Fatalf("ReadStatus = %+v, %v", cs, err)
		}
		if p.applies.Load() != applies {
			t.Error("a parked runner applied something after restart")
		}
		if err := Skip(e.ctx, cli, e.store, "counts", poison.EventID, "user:carol", "known bad"); err != nil {
			t.Fatal(err)
		}
		e.waitFor(r2, evs[3].GlobalPosition) // r2 noticed by polling
		if got := e.counts(); got[s2] != 1 {
			t.Errorf("counts = %v", got)
		}
		if err := WaitPosition(e.ctx, cli, e.store, "counts", evs[3].GlobalPosition, 10*time.Millisecond); err != nil {
			t.Errorf("WaitPosition = %v", err)
		}
	})
}

func TestTransientFailuresRetryThenIsolate(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		p := newCountProj()
		s := events.NewStreamID("suite", "thing")
		// Fails twice, then works: retried, not parked.
		p.Transient.Store(2)
		pos := e.appendEvents(s, thing("ThingCreated", "a"), thing("ThingCreated", "transient"), thing("ThingCreated", "b"))
		r := e.newRunner(p, nil, nil)
		e.start(r)
		e.waitFor(r, pos)
		st := e.status(r)
		if st.Parked != nil || st.LastError != "" || e.counts()[s] != 3 {
			t.Fatalf("after recovering: status %+v counts %v", st, e.counts())
		}

		// Always fails: after three attempts the batch is applied one event at a time and the
		// failing one is parked; the events before it are committed.
		p.Transient.Store(-1)
		s2 := events.NewStreamID("suite", "thing")
		last := e.appendEvents(s2, thing("ThingCreated", "x"), thing("ThingCreated", "transient"), thing("ThingCreated", "y"))
		st = e.waitParked(r)
		if st.Parked.Position != last-1 || !strings.Contains(st.Parked.Error, "transient failure") {
			t.Errorf("parked = %+v", st.Parked)
		}
		if got := e.counts(); got[s2] != 1 {
			t.Errorf("counts = %v, want x applied only", got)
		}
		if st.LastError == "" {
			t.Error("LastError is empty after failures")
		}
		p.Transient.Store(0)
		if err := r.Retry(e.ctx, "user:alice"); err != nil {
			t.Fatal(err)
		}
		e.waitFor(r, last)
		if got := e.counts(); got[s2] != 3 {
			t.Errorf("counts after retry = %v", got)
		}
		if st := e.status(r); st.LastError != "" {
			t.Errorf("LastError after success = %q", st.LastError)
		}
	})
}

func TestWaitFor(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		p := newCountProj()
		r := e.newRunner(p, nil, nil)
		s := events.NewStreamID("suite", "thing")
		pos := e.appendThings(s, "a", 1)

		// Not running: bounded by ctx.
		ctx, cancel := context.WithTimeout(e.ctx, 30*time.Millisecond)
		if err := r.WaitFor(ctx, pos); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("WaitFor without a runner = %v", err)
		}
		cancel()
		if ok, err := r.Applied(e.ctx, pos); ok || err != nil {
			t.Errorf("Applied before running = %v, %v", ok, err)
		}
		// An event of a context the projection does not read is satisfied at once.
		other := e.appendEvents(events.NewStreamID("other", "x"), thing("OtherHappened", "o"))
		if ok, err := r.Applied(e.ctx, other); !ok || err != nil {
			t.Errorf("Applied(other context) = %v, %v", ok, err)
		}

		waited := make(chan error, 1)
		go func() { waited <- r.WaitFor(e.ctx, pos) }()
		e.start(r)
		if err := <-waited; err != nil {
			t.Fatal(err)
		}
		if !e.appliedIDs()[e.readAll()[0].EventID] {
			t.Error("WaitFor returned before the event was applied")
		}
		// Each write, then its read.
		for i := 0; i < 5; i++ {
			pos := e.appendThings(s, "more", 1)
			e.waitFor(r, pos)
			if got := e.counts()[s]; got != int64(i+2) {
				t.Fatalf("after write %d: count %d", i, got)
			}
		}
	})
}

func TestWaitForPerStreamConsumer(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		p := newCountProj()
		s1, s2 := events.NewStreamID("suite", "thing"), events.NewStreamID("suite", "thing")
		e.appendThings(s1, "a", 2)
		e.appendThings(s2, "b", 2)
		all := e.readAll()
		// A Kafka-like consumer: s2 (later positions) arrives before s1.
		r, c := e.startOn(p, all[2:4])
		<-c.delivered
		if ok, err := r.Applied(e.ctx, all[3].GlobalPosition); !ok || err != nil {
			t.Errorf("Applied(s2's last) = %v, %v", ok, err)
		}
		if ok, err := r.Applied(e.ctx, all[1].GlobalPosition); ok || err != nil {
			t.Errorf("Applied(s1's last) = %v, %v; s1 was never delivered", ok, err)
		}
	})
}

func TestLag(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		p := newCountProj()
		s := events.NewStreamID("suite", "thing")
		e.appendThings(s, "a", 5)
		first := e.readAll()[0]
		now := first.RecordedAt.Add(90 * time.Second)
		r := e.newRunner(p, nil, func(c *Config) { c.Now = func() time.Time { return now } })
		st := e.status(r)
		if st.Head != 5 || st.Position != 0 || st.LagEvents != 5 {
			t.Errorf("status before running = %+v", st)
		}
		if st.LagSeconds < 89 || st.LagSeconds > 91 {
			t.Errorf("LagSeconds = %v, want about 90 (age of the first unapplied event)", st.LagSeconds)
		}
		e.start(r)
		e.waitFor(r, 5)
		if st := e.status(r); st.LagEvents != 0 || st.LagSeconds != 0 || st.Head != 5 {
			t.Errorf("status when caught up = %+v", st)
		}
	})
}

func TestInitRace(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for i := 0; i < 4; i++ {
			db := e.reopen()
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := New(Config{DB: db, Projection: newCountProj(), Store: e.store})
				if err == nil {
					err = r.Init(e.ctx)
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		var n, gen int64
		if err := e.db.SQL.QueryRowContext(e.ctx, "SELECT COUNT(*), MAX(generation) FROM projection_state").Scan(&n, &gen); err != nil {
			t.Fatal(err)
		}
		if n != 1 || gen != 1 {
			t.Errorf("%d state rows, generation %d", n, gen)
		}
		if got := e.counts(); len(got) != 0 {
			t.Errorf("counts = %v", got)
		}
	})
}

func tableExists(e *env, table string) bool {
	_, err := e.db.SQL.ExecContext(e.ctx, "SELECT 1 FROM "+table+" WHERE 1 = 0")
	return err == nil
}

func TestRebuildEqualsIncremental(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		p := newCountProj()
		var pos, last int64
		for i := 0; i < 6; i++ {
			last = e.appendThings(events.NewStreamID("suite", "thing"), "a", 1+i)
			pos = e.appendEvents(events.NewStreamID("other", "x"), thing("OtherHappened", "o"))
		}
		r := e.newRunner(p, nil, nil)
		stop := e.start(r)
		e.waitFor(r, last)
		// An event of another context is satisfied at once (not the projection's business), so
		// wait for the position itself to be sure the runner passed over the last one.
		e.await("the runner to pass the last event", func() bool { return e.status(r).Position == pos })
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		incremental := e.snapshot(p)

		var progress []Progress
		res, err := Rebuild(e.ctx, RebuildConfig{DB: e.db, Projection: p, Store: e.store, BatchSize: 4,
			Progress: func(pr Progress) { progress = append(progress, pr) }})
		if err != nil {
			t.Fatal(err)
		}
		if res.Generation != 2 || res.Previous != 1 || res.Position != pos || res.Applied != 21 {
			t.Errorf("result = %+v", res)
		}
		if len(progress) < 2 || progress[len(progress)-1].Position != pos {
			t.Errorf("progress = %+v", progress)
		}
		if got := e.snapshot(p); got != incremental {
			t.Errorf("rebuild differs from the incremental model:\n%s\nvs\n%s", got, incremental)
		}
		if tableExists(e, "counts_g1") || tableExists(e, "counts_streams_g1") || !tableExists(e, "counts_g2") {
			t.Error("generation 1 not dropped or generation 2 missing")
		}
		st, err := ReadStatus(e.ctx, e.db, e.store, "counts")
		if err != nil || st.Generation != 2 || st.Position != pos || st.EventsApplied != 21 {
			t.Errorf("status after rebuild = %+v, %v", st, err)
		}
		// The runner continues on the new generation.
		r2 := e.newRunner(p, nil, nil)
		e.start(r2)
		s := events.NewStreamID("suite", "thing")
		pos = e.appendThings(s, "z", 2)
		e.waitFor(r2, pos)
		if e.counts()[s] != 2 {
			t.Errorf("counts = %v", e.counts())
		}
	})
}

func TestRebuildFailureLeavesLiveUntouched(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		p := newCountProj()
		_, _, evs := poisonEvents(e)
		r := e.newRunner(p, nil, nil)
		stop := e.start(r)
		e.waitFor(r, evs[3].GlobalPosition)
		_ = stop()
		before := e.snapshot(p)
		p.Poison.Store(true)
		_, err := Rebuild(e.ctx, RebuildConfig{DB: e.db, Projection: p, Store: e.store, BatchSize: 2})
		var ee *projections.EventError
		if !errors.As(err, &ee) || ee.Event.EventID != evs[2].EventID {
			t.Fatalf("Rebuild = %v, want the poison event's EventError", err)
		}
		if got := e.snapshot(p); got != before {
			t.Error("a failed rebuild changed the live model")
		}
		if tableExists(e, "counts_g2") || tableExists(e, "counts_streams_g2") {
			t.Error("the half-built generation was not dropped")
		}
		st, _ := ReadStatus(e.ctx, e.db, nil, "counts")
		if st.Generation != 1 || st.Parked != nil {
			t.Errorf("status = %+v", st)
		}
		// Cancelled: same.
		ctx, cancel := context.WithCancel(e.ctx)
		p.Poison.Store(false)
		_, err = Rebuild(ctx, RebuildConfig{DB: e.db, Projection: p, Store: e.store, BatchSize: 1,
			Progress: func(Progress) { cancel() }})
		if err == nil {
			t.Fatal("a cancelled rebuild succeeded")
		}
		if tableExists(e, "counts_g2") || !tableExists(e, "counts_g1") {
			t.Error("a cancelled rebuild left its generation or removed the live one")
		}
	})
}

func TestRebuildHonoursSkips(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		p := newCountProj()
		p.Poison.Store(true)
		_, _, evs := poisonEvents(e)
		r := e.newRunner(p, nil, nil)
		stop := e.start(r)
		e.waitParked(r)
		if err := r.Skip(e.ctx, evs[2].EventID, "user:bob", "bad"); err != nil {
			t.Fatal(err)
		}
		e.waitFor(r, evs[3].GlobalPosition)
		_ = stop()
		before := e.snapshot(p)
		if _, err := Rebuild(e.ctx, RebuildConfig{DB: e.db, Projection: p, Store: e.store}); err != nil {
			t.Fatal(err)
		}
		if got := e.snapshot(p); got != before {
			t.Errorf("rebuild differs:\n%s\nvs\n%s", got, before)
		}
	})
}

// Queries read the views throughout a rebuild: they see the old generation until the swap and
// the new one after, never an empty or partial model.
func TestReadersDuringRebuildSeeOldGenerationUntilSwap(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		p := newCountProj()
		var pos int64
		for i := 0; i < 20; i++ {
			pos = e.appendThings(events.NewStreamID("suite", "thing"), "a", 5)
		}
		r := e.newRunner(p, nil, nil)
		stop := e.start(r)
		e.waitFor(r, pos)
		_ = stop()
		reader := e.reopen()
		done := make(chan struct{})
		readerErr := make(chan error, 1)
		reads := 0
		go func() {
			defer close(readerErr)
			for {
				select {
				case <-done:
					return
				default:
				}
				var sum, rows int64
				err := reader.SQL.QueryRowContext(e.ctx, "SELECT COALESCE(SUM(n), 0), COUNT(*) FROM counts").Scan(&sum, &rows)
				if err != nil && !errors.Is(err, sql.ErrNoRows) {
					readerErr <- err
					return
				}
				if sum != 100 || rows != 20 {
					readerErr <- errors.New("reader saw a partial model")
					return
				}
				reads++
			}
		}()
		if _, err := Rebuild(e.ctx, RebuildConfig{DB: e.db, Projection: p, Store: e.store, BatchSize: 3}); err != nil {
			t.Fatal(err)
		}
		// A few reads after the swap too.
		var sum int64
		if err := reader.SQL.QueryRowContext(e.ctx, "SELECT SUM(n) FROM counts").Scan(&sum); err != nil || sum != 100 {
			t.Errorf("after swap: %d, %v", sum, err)
		}
		close(done)
		if err := <-readerErr; err != nil {
			t.Fatal(err)
		}
		t.Logf("%d reads during the rebuild", reads)
	})
}

// A rebuild while a runner consumes live appends: the runner moves to the new generation and
// the final model equals a fresh rebuild.
func TestRebuildWhileRunning(t *testing.T) {
	for _, kind := range []string{"embedded", "per-stream"} {
		t.Run(kind, func(t *testing.T) {
			dialects(t, func(t *testing.T, e *env) {
				p := newCountProj()
				streams := make([]string, 5)
				for i := range streams {
					streams[i] = events.NewStreamID("suite", "thing")
					e.appendThings(streams[i], "seed", 10)
				}
				var r *Runner
				if kind == "embedded" {
					r = e.newRunner(p, nil, func(c *Config) { c.BatchSize = 7 })
				} else {
					// Stands for Kafka: delivers the store's events per stream in order,
					// across streams out of global order, and knows nothing of generations.
					r = e.newRunner(p, nil, func(c *Config) { c.Consumer = &perStreamConsumer{store: e.store} })
				}
				e.start(r)
				// Writers append while the rebuild runs.
				wctx, stopWriters := context.WithCancel(e.ctx)
				var wg sync.WaitGroup
				for i := range streams {
					wg.Add(1)
					go func(s string) {
						defer wg.Done()
						for i := 0; i < 150 && wctx.Err() == nil; i++ {
							if _, err := e.store.Append(e.ctx, s, events.Any, []events.Envelope{thing("ThingCreated", "live")}); err != nil {
								t.Error(err)
								return
							}
						}
					}(streams[i])
				}
				res, err := Rebuild(e.ctx, RebuildConfig{DB: e.db, Projection: p, Store: e.store, BatchSize: 5})
				stopWriters()
				wg.Wait()
				if err != nil {
					t.Fatal(err)
				}
				head := e.head()
				e.waitFor(r, head)
				st := e.status(r)
				if st.Generation != res.Generation || st.Parked != nil {
					t.Fatalf("runner status = %+v", st)
				}
				var total int64
				for _, n := range e.counts() {
					total += n
				}
				if total != head {
					t.Errorf("counts add up to %d, want %d (every event once)", total, head)
				}
				model := e.snapshot(p)
				if _, err := Rebuild(e.ctx, RebuildConfig{DB: e.db, Projection: p, Store: e.store}); err != nil {
					t.Fatal(err)
				}
				if fresh := e.snapshot(p); fresh != model {
					t.Errorf("model after the concurrent rebuild differs from a fresh rebuild")
				}
				// And it keeps going on the newest generation.
				pos := e.appendThings(streams[0], "after", 1)
				e.waitFor(r, pos)
				if st := e.status(r); st.Generation != res.Generation+1 {
					t.Errorf("runner generation = %d", st.Generation)
				}
			})
		})
	}
}

// perStreamConsumer reads the store and delivers each batch grouped by stream, streams in
// reverse order of first appearance: per-stream order only, like Kafka partitions.
type perStreamConsumer struct {
	store events.EventStore
	after int64 // its own "committed offset", as a consumer group keeps
}

func (c *perStreamConsumer) Run(ctx context.Context, h eventlog.Handler) error {
	return events.CatchUp(ctx, c.store, c.after, 13, func(ctx context.Context, batch []events.Envelope) error {
		var order []string
		by := map[string][]events.Envelope{}
		for _, e := range batch {
			if by[e.StreamID] == nil {
				order = append([]string{e.StreamID}, order...)
			}
			by[e.StreamID] = append(by[e.StreamID], e)
		}
		var out []events.Envelope
		for _, s := range order {
			out = append(out, by[s]...)
		}
		if err := h(ctx, out); err != nil {
			return err
		}
		c.after = batch[len(batch)-1].GlobalPosition
		return nil
	})
}
