package sagas

import "time"

// QueuedItem is one item of a scheduler's queue, for the tests.
type QueuedItem struct {
	ID, Stream string
	At         time.Time
}

// queues returns a scheduler's position, its working queue and its folded queue, by id.
func queues(s *scheduler) (pos int64, working, folded map[string]QueuedItem) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byID := func(q *dueQueue) map[string]QueuedItem {
		m := map[string]QueuedItem{}
		for _, it := range q.h {
			m[it.id] = QueuedItem{ID: it.id, Stream: it.stream, At: it.at}
		}
		return m
	}
	return s.pos, byID(&s.q), byID(&s.folded)
}

// TimerQueues exposes the timer service's queues to the tests.
func TimerQueues(t *TimerService) (int64, map[string]QueuedItem, map[string]QueuedItem) {
	return queues(t.s)
}

// DispatcherQueues exposes the dispatcher's queues to the tests.
func DispatcherQueues(d *Dispatcher) (int64, map[string]QueuedItem, map[string]QueuedItem) {
	return queues(d.s)
}
