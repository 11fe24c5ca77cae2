package es

import (
	"context"
	"sync"
)

// streamLocks queues the commands of this process on one stream: they could not both append at
// the version they loaded, so running them side by side only turns all but one into conflicts
// and retries (50 concurrent commands on one finding spent most of their attempts losing races).
// Commands on different streams never wait for each other. Writers in other processes, and
// appends that do not go through Exec, are still caught by the expected version and retried.
type streamLocks struct {
	mu sync.Mutex
	m  map[string]*streamLock
}

type streamLock struct {
	ch      chan struct{} // holds a token while a command runs on the stream
	waiters int           // commands holding or waiting for ch; the entry goes at 0
}

var locks = streamLocks{m: map[string]*streamLock{}}

// lock waits until no other command of this process runs on streamID, or ctx ends. The returned
// function releases it.
func (l *streamLocks) lock(ctx context.Context, streamID string) (func(), error) {
	l.mu.Lock()
	sl := l.m[streamID]
	if sl == nil {
		sl = &streamLock{ch: make(chan struct{}, 1)}
		l.m[streamID] = sl
	}
	sl.waiters++
	l.mu.Unlock()
	select {
	case sl.ch <- struct{}{}:
		return func() { <-sl.ch; l.done(streamID, sl) }, nil
	case <-ctx.Done():
		l.done(streamID, sl)
		return nil, ctx.Err()
	}
}

func (l *streamLocks) done(streamID string, sl *streamLock) {
	l.mu.Lock()
	if sl.waiters--; sl.waiters == 0 {
		delete(l.m, streamID)
	}
	l.mu.Unlock()
}
