package sagas

import (
	"container/heap"
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventlog"
	"github.com/socplatform/soc/events/snapshot"
)

// dueItem is a timer or a command waiting for its time.
type dueItem struct {
	id, stream string
	at         time.Time
	idx        int
}

// dueQueue is a min-heap on at with lookup by id.
type dueQueue struct {
	h    dueHeap
	byID map[string]*dueItem
}

type dueHeap []*dueItem

func (h dueHeap) Len() int { return len(h) }
func (h dueHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].id < h[j].id
}
func (h dueHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i]; h[i].idx = i; h[j].idx = j }
func (h *dueHeap) Push(x any)   { it := x.(*dueItem); it.idx = len(*h); *h = append(*h, it) }
func (h *dueHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	it.idx = -1
	return it
}

func (q *dueQueue) upsert(id, stream string, at time.Time) {
	if q.byID == nil {
		q.byID = map[string]*dueItem{}
	}
	if it, ok := q.byID[id]; ok {
		it.at = at
		heap.Fix(&q.h, it.idx)
		return
	}
	it := &dueItem{id: id, stream: stream, at: at}
	q.byID[id] = it
	heap.Push(&q.h, it)
}

func (q *dueQueue) remove(id string) {
	if it, ok := q.byID[id]; ok {
		heap.Remove(&q.h, it.idx)
		delete(q.byID, id)
	}
}

func (q *dueQueue) popDue(now time.Time) (dueItem, bool) {
	if len(q.h) == 0 || q.h[0].at.After(now) {
		return dueItem{}, false
	}
	it := heap.Pop(&q.h).(*dueItem)
	delete(q.byID, it.id)
	return *it, true
}

// scheduler keeps a dueQueue in step with the sagas context of the log and runs due work.
// Both the TimerService and the Dispatcher are one.
//
// It keeps two queues: q, the working queue (items are popped while their work runs and
// requeued in memory after a failure), and folded, exactly the fold of the log up to pos. Only
// folded is snapshotted: a snapshot of q taken while an item is being worked on, or waiting for
// an in-memory retry, would lose it for good after a restart.
type scheduler struct {
	store events.EventStore
	clock Clock
	log   *slog.Logger
	// index applies one event of the sagas context to q (called with mu held).
	index func(q *dueQueue, e *events.Envelope)
	retry time.Duration
	snaps snapshot.Dir
	name  string // the snapshot's name

	mu       sync.Mutex
	pos      int64
	posID    string // id of the event at pos, what a snapshot is checked against
	restored bool
	q        dueQueue
	folded   dueQueue
	track    snapshot.Tracker
	snapMu   sync.Mutex // one snapshot write at a time
	work     sync.Mutex // one due-work pass at a time
	wake     chan struct{}
}

func newScheduler(rt *Runtime, name string, retry time.Duration, index func(*dueQueue, *events.Envelope)) *scheduler {
	return &scheduler{store: rt.store, clock: rt.clock, log: rt.log.With("service", name), retry: retry, index: index,
		snaps: rt.cfg.Snapshots, name: rt.cfg.Name + "-" + name, track: snapshot.Tracker{Policy: rt.cfg.SnapshotPolicy},
		wake: make(chan struct{}, 1)}
}

// schedulerSnapshotVersion is the version of the snapshot's state ([]dueSnap). Bump it when that
// changes meaning: an old snapshot is then ignored and the queue rebuilt from the whole log.
const schedulerSnapshotVersion = 1

// dueSnap is one pending item of a snapshot.
type dueSnap struct {
	ID, Stream string
	At         time.Time
}

// restoreLocked loads the snapshot into the empty queues, once, before the first read of the
// log. A snapshot that cannot be trusted is ignored (logged): the queues are then rebuilt from
// position 0. Callers hold mu.
func (s *scheduler) restoreLocked(ctx context.Context) error {
	if s.restored {
		return nil
	}
	if s.snaps.Enabled() && s.pos == 0 {
		var st []dueSnap
		at, ok, err := s.snaps.Load(ctx, s.store, s.name, schedulerSnapshotVersion, &st)
		if err != nil {
			return err // the store could not be read: try again on the next read
		}
		if ok {
			for _, it := range st {
				s.q.upsert(it.ID, it.Stream, it.At)
				s.folded.upsert(it.ID, it.Stream, it.At)
			}
			s.pos, s.posID = at.Position, at.EventID
			s.track.Saved(at.Position, time.Now())
		}
	}
	s.restored = true
	return nil
}

// applyLocked indexes the events of evs after pos. Callers hold mu.
func (s *scheduler) applyLocked(evs []events.Envelope) {
	for i := range evs {
		e := &evs[i]
		if e.GlobalPosition <= s.pos {
			continue // already read by a concurrent Sync
		}
		if _, ok := SagaOfStream(e.StreamID); ok {
			s.index(&s.q, e)
			s.index(&s.folded, e)
		}
		s.pos, s.posID = e.GlobalPosition, e.EventID
	}
}

// sync reads the log from where the index stopped to the head (the first call restores the
// snapshot and reads only what follows it).
func (s *scheduler) sync(ctx context.Context) error {
	s.mu.Lock()
	err := s.restoreLocked(ctx)
	if err == nil {
		err = eventlog.ReadToHead(ctx, s.store, s.pos, events.MaxReadLimit, func(evs []events.Envelope) error {
			s.applyLocked(evs)
			return nil
		})
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	s.snapshotIfDue()
	return nil
}

// saveSnapshot writes the folded queue when due says so for pos. It is copied under mu, so it
// is exactly the fold at pos, then encoded and written without holding it.
func (s *scheduler) saveSnapshot(due func(t *snapshot.Tracker, pos int64) bool) error {
	if !s.snaps.Enabled() {
		return nil
	}
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	s.mu.Lock()
	if !s.restored || !due(&s.track, s.pos) {
		s.mu.Unlock()
		return nil
	}
	at := snapshot.Mark{Position: s.pos, EventID: s.posID}
	st := make([]dueSnap, 0, len(s.folded.h))
	for _, it := range s.folded.h {
		st = append(st, dueSnap{ID: it.id, Stream: it.stream, At: it.at})
	}
	s.mu.Unlock()
	if err := s.snaps.Save(s.name, schedulerSnapshotVersion, at, &st); err != nil {
		return err
	}
	s.mu.Lock()
	s.track.Saved(at.Position, time.Now())
	s.mu.Unlock()
	return nil
}

func (s *scheduler) snapshotIfDue() {
	if err := s.saveSnapshot(func(t *snapshot.Tracker, pos int64) bool { return t.Due(pos, time.Now()) }); err != nil {
		s.log.Warn("sagas: the snapshot could not be written; the next start reads more of the log", "error", err)
	}
}

func (s *scheduler) position() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pos
}

func (s *scheduler) pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.q.h)
}

func (s *scheduler) next() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.q.h) == 0 {
		return time.Time{}, false
	}
	return s.q.h[0].at, true
}

func (s *scheduler) popDue() (dueItem, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.q.popDue(s.clock.Now())
}

func (s *scheduler) requeue(it dueItem, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.q.upsert(it.id, it.stream, at)
}

func (s *scheduler) drop(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.q.remove(id)
}

// runDue pops every due item and hands it to do; an item whose work fails is retried after
// s.retry. It returns how many items did something (do returned true) and the first error.
func (s *scheduler) runDue(ctx context.Context, do func(context.Context, dueItem) (bool, error)) (int, error) {
	s.work.Lock()
	defer s.work.Unlock()
	n := 0
	var first error
	var failed []dueItem
	for ctx.Err() == nil {
		it, ok := s.popDue()
		if !ok {
			break
		}
		did, err := do(ctx, it)
		if err != nil {
			if first == nil {
				first = err
			}
			failed = append(failed, it)
			continue
		}
		if did {
			n++
		}
	}
	for _, it := range failed {
		s.requeue(it, s.clock.Now().Add(s.retry))
	}
	return n, first
}

func (s *scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run follows the log through the eventlog consumer port in one goroutine and does due work in
// this one, until ctx ends; then it writes a snapshot. The consumer is not filtered to the sagas
// context on purpose: the position then moves with every batch, so a restart after a long
// stretch without saga events does not read that stretch again.
func (s *scheduler) run(ctx context.Context, work func(context.Context) (int, error)) error {
	follow := &eventlog.StoreConsumer{Store: s.store, BatchSize: events.MaxReadLimit,
		StartFrom: func(ctx context.Context) (int64, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if err := s.restoreLocked(ctx); err != nil {
				return 0, err
			}
			s.poke() // restored items may be due before any new event arrives
			return s.pos, nil
		}}
	handle := func(ctx context.Context, batch []events.Envelope) error {
		s.mu.Lock()
		s.applyLocked(batch)
		s.mu.Unlock()
		s.poke()
		s.snapshotIfDue()
		return nil
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			if err := follow.Run(ctx, handle); err != nil && ctx.Err() == nil {
				s.log.Warn("sagas: reading the log failed; retrying", "error", err)
			}
			select {
			case <-ctx.Done():
			case <-s.clock.At(s.clock.Now().Add(s.retry)):
			}
		}
	}()
	defer func() {
		wg.Wait()
		if err := s.saveSnapshot(func(t *snapshot.Tracker, pos int64) bool { return t.Changed(pos) }); err != nil {
			s.log.Warn("sagas: the snapshot could not be written; the next start reads more of the log", "error", err)
		}
	}()
	for {
		if _, err := work(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("sagas: due work failed; will retry", "error", err)
		}
		var due <-chan time.Time
		if at, ok := s.next(); ok {
			due = s.clock.At(at)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-due:
		case <-s.wake:
		}
	}
}
