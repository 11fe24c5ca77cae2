package sagas

import (
	"container/heap"
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/socplatform/soc/events"
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
type scheduler struct {
	store events.EventStore
	clock Clock
	log   *slog.Logger
	// index applies one event of the sagas context to q (called with mu held).
	index func(q *dueQueue, e *events.Envelope)
	retry time.Duration

	mu   sync.Mutex
	pos  int64
	q    dueQueue
	work sync.Mutex // one due-work pass at a time
	wake chan struct{}
}

func newScheduler(store events.EventStore, clock Clock, log *slog.Logger, retry time.Duration, index func(*dueQueue, *events.Envelope)) *scheduler {
	return &scheduler{store: store, clock: clock, log: log, retry: retry, index: index, wake: make(chan struct{}, 1)}
}

// sync reads the log from where the index stopped to the head.
func (s *scheduler) sync(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		evs, err := s.store.ReadAll(ctx, s.pos, events.MaxReadLimit)
		if err != nil {
			return err
		}
		for i := range evs {
			if _, ok := SagaOfStream(evs[i].StreamID); ok {
				s.index(&s.q, &evs[i])
			}
			s.pos = evs[i].GlobalPosition
		}
		if len(evs) < events.MaxReadLimit {
			return nil
		}
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

// run follows the log in one goroutine and does due work in this one, until ctx ends.
func (s *scheduler) run(ctx context.Context, work func(context.Context) (int, error)) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			if err := s.sync(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				s.log.Warn("sagas: reading the log failed; retrying", "error", err)
				select {
				case <-ctx.Done():
					return
				case <-s.clock.At(s.clock.Now().Add(s.retry)):
				}
				continue
			}
			s.poke()
			_ = s.store.WaitForAppend(ctx, s.position())
		}
	}()
	defer wg.Wait()
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
