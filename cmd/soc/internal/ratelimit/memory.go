package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Memory is a Limiter whose state lives in this process: for a single gateway, and the
// default when no Redis is configured. Safe for concurrent use.
//
// A key costs 8 bytes per request in its window (at most Limit.Requests). A key whose newest
// request has left the window holds nothing a fresh key would not, so such entries are swept
// (every SweepEvery, during an Allow) and the table never holds more than MaxKeys: when it is
// full even after a sweep, an arbitrary entry is dropped, which only hands that one client a
// fresh budget early. A flood of new keys thus costs memory up to the bound, never more.
type Memory struct {
	mu      sync.Mutex
	logs    map[string]*requestLog
	now     func() time.Time
	maxKeys int
	sweepIv time.Duration
	// epoch is the time the logs count from: durations since it (monotonic with time.Now)
	// take a third of a time.Time's memory.
	epoch     time.Time
	lastSweep time.Duration
}

// MemoryOption configures NewMemory.
type MemoryOption func(*Memory)

// WithClock makes the limiter read time from now (tests advance it by hand).
func WithClock(now func() time.Time) MemoryOption { return func(m *Memory) { m.now = now } }

// WithMaxKeys bounds the key table (default 100,000 keys: a few MiB while clients are
// light, up to 80 MiB if each of them used up 100 requests a window).
func WithMaxKeys(n int) MemoryOption { return func(m *Memory) { m.maxKeys = n } }

// WithSweepEvery sets how often expired keys are removed (default one minute).
func WithSweepEvery(d time.Duration) MemoryOption { return func(m *Memory) { m.sweepIv = d } }

// NewMemory returns an empty in-memory limiter.
func NewMemory(opts ...MemoryOption) *Memory {
	m := &Memory{logs: map[string]*requestLog{}, now: time.Now, maxKeys: 100_000, sweepIv: time.Minute}
	for _, o := range opts {
		o(m)
	}
	m.epoch = m.now()
	return m
}

// Allow implements Limiter; it fails only for an invalid limit.
func (m *Memory) Allow(_ context.Context, key string, l Limit) (Decision, error) {
	if err := l.validate(); err != nil {
		return Decision{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now().Sub(m.epoch)
	if now-m.lastSweep >= m.sweepIv {
		m.sweep(now)
	}
	log, known := m.logs[key]
	if !known { // a fresh key is always allowed (Requests >= 1), so it is kept
		if len(m.logs) >= m.maxKeys {
			m.sweep(now)
			for k := range m.logs { // still full: drop one (map order is random)
				if len(m.logs) < m.maxKeys {
					break
				}
				delete(m.logs, k)
			}
		}
		log = &requestLog{}
		m.logs[key] = log
	}
	return log.allow(now, l), nil
}

// Len is the number of keys held (for tests and metrics).
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.logs)
}

func (m *Memory) sweep(now time.Duration) {
	for k, log := range m.logs {
		if log.expires <= now {
			delete(m.logs, k)
		}
	}
	m.lastSweep = now
}

// requestLog is one key's sliding-window log: the times (since Memory.epoch) of its allowed
// requests still inside the window, oldest first, in a ring that grows as needed up to the
// limit, so a key costs memory in proportion to its recent requests, never more than its limit.
type requestLog struct {
	ring    []time.Duration
	head, n int
	// expires is when the newest request leaves the window, and the key with it.
	expires time.Duration
}

func (g *requestLog) at(i int) time.Duration { return g.ring[(g.head+i)%len(g.ring)] }

// allow drops the requests that have left the window ending at now (those at now-l.Per or
// before) and logs now if fewer than l.Requests remain. A rejected request is not logged: it
// does not push the client's next chance further away.
func (g *requestLog) allow(now time.Duration, l Limit) Decision {
	for g.n > 0 && g.at(0) <= now-l.Per {
		g.head = (g.head + 1) % len(g.ring)
		g.n--
	}
	if g.n >= l.Requests {
		// Of a log filled under a larger limit, the surplus has to leave as well.
		return Decision{ResetAfter: g.at(g.n-1) + l.Per - now, RetryAfter: g.at(g.n-l.Requests) + l.Per - now}
	}
	if g.n == len(g.ring) { // full: grow (doubling, within the limit), unwrapped
		grown := make([]time.Duration, min(max(2*g.n, 4), l.Requests))
		for i := range g.n {
			grown[i] = g.at(i)
		}
		g.ring, g.head = grown, 0
	}
	g.ring[(g.head+g.n)%len(g.ring)] = now
	g.n++
	g.expires = now + l.Per
	return Decision{Allowed: true, Remaining: l.Requests - g.n, ResetAfter: l.Per}
}
