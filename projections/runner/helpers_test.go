package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/eventlog"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/events/storetest"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/internal/testdb"
)

// registry is the platform's registry (for the monitoring audit events) plus test types:
// ThingCreated in context "suite" (what the test projection reads) and OtherHappened in
// context "other" (what it ignores).
func registry(t testing.TB) *events.Registry {
	t.Helper()
	reg := eventstest.Registry(t)
	for _, r := range []struct{ ctx, typ string }{{"suite", "ThingCreated"}, {"other", "OtherHappened"}} {
		if err := reg.Register(r.ctx, r.typ, 1, []byte(storetest.ThingSchema)); err != nil {
			t.Fatal(err)
		}
	}
	return reg
}

// env is one test's world: an event store and a read-model database that can be opened again
// (a second handle stands for another process on the same database).
type env struct {
	t      *testing.T
	ctx    context.Context
	store  *events.Guarded
	db     *projections.DB
	reopen func() *projections.DB
}

// dialects runs f against SQLite and PostgreSQL read models (PostgreSQL skips when no server is
// configured), each with a fresh SQLite event store.
func dialects(t *testing.T, f func(t *testing.T, e *env)) {
	testdb.Reopenable(t, func(t *testing.T, open func() *projections.DB) { f(t, newEnv(t, open)) })
}

func newEnv(t *testing.T, open func() *projections.DB) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	s, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "events.db"), Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return &env{t: t, ctx: ctx, store: events.Guard(s, registry(t), events.Limits{}), db: open(), reopen: open}
}

// appendThings appends n ThingCreated events to stream (names name-1 … name-n) and returns the
// last global position.
func (e *env) appendThings(stream, name string, n int) int64 {
	e.t.Helper()
	evs := make([]events.Envelope, n)
	for i := range evs {
		evs[i] = thing("ThingCreated", fmt.Sprintf("%s-%d", name, i+1))
	}
	return e.appendEvents(stream, evs...)
}

func (e *env) appendEvents(stream string, evs ...events.Envelope) int64 {
	e.t.Helper()
	res, err := e.store.Append(e.ctx, stream, events.Any, evs)
	if err != nil {
		e.t.Fatal(err)
	}
	return res.LastPosition
}

func thing(typ, name string) events.Envelope {
	d, _ := json.Marshal(map[string]any{"name": name})
	return events.Envelope{Type: typ, Data: d}
}

func (e *env) head() int64 {
	e.t.Helper()
	return eventstest.Head(e.t, e.store)
}

func (e *env) readAll() []events.Envelope {
	e.t.Helper()
	evs, err := e.store.ReadAll(e.ctx, 0, events.MaxReadLimit)
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

// auditEvents returns the audit events of projection name.
func (e *env) auditEvents(name string) []events.Envelope {
	e.t.Helper()
	evs, err := e.store.ReadStream(e.ctx, AuditStreamID(name), events.ReadStreamOptions{})
	if errors.Is(err, events.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

// newRunner returns a runner of p over db (e.db when nil).
// startOn starts a runner of p that consumes the given batches, in order, instead of the store.
func (e *env) startOn(p projections.Projection, batches ...[]events.Envelope) (*Runner, *sliceConsumer) {
	e.t.Helper()
	c := newSliceConsumer(batches...)
	r := e.newRunner(p, nil, func(cfg *Config) { cfg.Consumer = c })
	e.start(r)
	return r, c
}

func (e *env) newRunner(p projections.Projection, db *projections.DB, mod func(*Config)) *Runner {
	e.t.Helper()
	if db == nil {
		db = e.db
	}
	cfg := Config{DB: db, Projection: p, Store: e.store, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, ParkPoll: 20 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	r, err := New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := r.Init(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	return r
}

// start runs r until the returned stop is called (or the test ends); stop reports Run's error.
func (e *env) start(r *Runner) (stop func() error) {
	return eventstest.Start(e.t, e.ctx, r.Run)
}

// await polls cond until it holds or the test's context ends. For conditions no notification
// exists for (another process's state in the database).
func (e *env) await(what string, cond func() bool) {
	e.t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-e.ctx.Done():
			e.t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

func (e *env) status(r *Runner) Status {
	e.t.Helper()
	s, err := r.Status(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) waitParked(r *Runner) Status {
	e.t.Helper()
	var s Status
	e.await("the projection to park", func() bool { s = e.status(r); return s.Parked != nil })
	return s
}

// waitParkedAlert waits for the park and for its ProjectionParked alert, which the runner appends
// to the store just after recording the park.
func (e *env) waitParkedAlert(r *Runner, name string) Status {
	e.t.Helper()
	s := e.waitParked(r)
	e.await("the ProjectionParked alert", func() bool {
		for _, a := range e.auditEvents(name) {
			if a.Type == "ProjectionParked" && strings.Contains(string(a.Data), s.Parked.EventID) {
				return true
			}
		}
		return false
	})
	return s
}

func (e *env) waitFor(r *Runner, pos int64) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, time.Minute)
	defer cancel()
	if err := r.WaitFor(ctx, pos); err != nil {
		e.t.Fatalf("WaitFor(%d): %v", pos, err)
	}
}

func (e *env) snapshot(p projections.Projection) string {
	e.t.Helper()
	s, err := Snapshot(e.ctx, e.db, p)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// counts reads the counts view: stream → events applied.
func (e *env) counts() map[string]int64 { return readMap[int64](e, "SELECT stream_id, n FROM counts") }

// appliedIDs reads the ids of the applied events (the applied view) as a set.
func (e *env) appliedIDs() map[string]bool {
	return readMap[bool](e, "SELECT event_id, 1 FROM applied")
}

// readMap runs q, whose rows are (key, value), on the read model and returns them as a map,
// failing the test on any error.
func readMap[V any](e *env, q string) map[string]V {
	e.t.Helper()
	rows, err := e.db.SQL.QueryContext(e.ctx, q)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]V{}
	for rows.Next() {
		var k string
		var v V
		if err := rows.Scan(&k, &v); err != nil {
			e.t.Fatal(err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// countProj is the test projection: events per stream (counts) and the ids of applied events
// (applied). An event named poison fails as a poison event while Poison is set; one named
// transient fails with a plain error while Transient is above zero (decremented per failure;
// -1: always).
type countProj struct {
	name      string
	Poison    atomic.Bool
	Transient atomic.Int64
	applies   atomic.Int64 // Apply calls (including failed ones)
}

func newCountProj() *countProj { return &countProj{name: "counts"} }

func (p *countProj) Name() string       { return p.name }
func (p *countProj) Contexts() []string { return []string{"suite"} }
func (p *countProj) Tables() []string   { return []string{"counts", "applied"} }

func (p *countProj) Create(ctx context.Context, tx *projections.Tx) error {
	for _, ddl := range []string{
		"CREATE TABLE " + tx.Table("counts") + " (stream_id TEXT PRIMARY KEY, n BIGINT NOT NULL, last_name TEXT NOT NULL)",
		"CREATE TABLE " + tx.Table("applied") + " (event_id TEXT PRIMARY KEY, stream_id TEXT NOT NULL, version BIGINT NOT NULL, position BIGINT NOT NULL)",
		"CREATE INDEX " + tx.Index("applied", "stream") + " ON " + tx.Table("applied") + " (stream_id, version)",
	} {
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return err
		}
	}
	return nil
}

func (p *countProj) Apply(ctx context.Context, tx *projections.Tx, batch []events.Envelope) ([]projections.Change, error) {
	p.applies.Add(1)
	var changes []projections.Change
	for i := range batch {
		e := &batch[i]
		var d struct{ Name string }
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil, projections.Poison(e, err)
		}
		switch {
		case d.Name == "poison" && p.Poison.Load():
			return nil, projections.Poison(e, errors.New("cannot apply a poison thing"))
		case d.Name == "transient":
			if n := p.Transient.Load(); n != 0 {
				if n > 0 {
					p.Transient.Add(-1)
				}
				return nil, errors.New("transient failure (the database blinked)")
			}
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO "+tx.Table("counts")+" (stream_id, n, last_name) VALUES ("+tx.P(1)+", 1, "+tx.P(2)+
			") ON CONFLICT (stream_id) DO UPDATE SET n = "+tx.Table("counts")+".n + 1, last_name = excluded.last_name", e.StreamID, d.Name)
		if err != nil {
			return nil, err
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO "+tx.Table("applied")+" (event_id, stream_id, version, position) VALUES ("+
			tx.P(1)+", "+tx.P(2)+", "+tx.P(3)+", "+tx.P(4)+")", e.EventID, e.StreamID, e.Version, e.GlobalPosition)
		if err != nil {
			return nil, err
		}
		changes = append(changes, projections.Change{Projection: p.name, Event: *e})
	}
	return changes, nil
}

// sliceConsumer delivers fixed batches (copies), in order, then waits for ctx: a stand-in for a
// log that redelivers, or delivers what the store would not (a gap).
type sliceConsumer struct {
	batches   [][]events.Envelope
	delivered chan struct{} // closed once every batch was handled
	once      sync.Once
}

func newSliceConsumer(batches ...[]events.Envelope) *sliceConsumer {
	return &sliceConsumer{batches: batches, delivered: make(chan struct{})}
}

func (c *sliceConsumer) Run(ctx context.Context, h eventlog.Handler) error {
	for _, b := range c.batches {
		if err := h(ctx, append([]events.Envelope(nil), b...)); err != nil {
			return err
		}
	}
	c.once.Do(func() { close(c.delivered) })
	<-ctx.Done()
	return nil
}
