package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Memory is a Limiter whose state lives in this process: for a single gateway, and the
// default when no Redis is configured. Safe for concurrent use.
//
// A key whose TAT has passed holds nothing a fresh key would not, so such entries are swept
// (every SweepEvery, during an Allow) and the table never holds more than MaxKeys: when it is
// full even after a sweep, an arbitrary entry is dropped, which only hands that one client a
// fresh budget early. A flood of new keys thus costs memory up to the bound, never more.
type Memory struct {
	mu        sync.Mutex
	tat       map[string]time.Time
	now       func() time.Time
	maxKeys   int
	sweepIv   time.Duration
	lastSweep time.Time
}

// MemoryOption configures NewMemory.
type MemoryOption func(*Memory)

// WithClock makes the limiter read time from now (tests advance it by hand).
func WithClock(now func() time.Time) MemoryOption { return func(m *Memory) { m.now = now } }

// WithMaxKeys bounds the key table (default 100,000 keys, a few MiB).
func WithMaxKeys(n int) MemoryOption { return func(m *Memory) { m.maxKeys = n } }

// WithSweepEvery sets how often expired keys are removed (default one minute).
func WithSweepEvery(d time.Duration) MemoryOption { return func(m *Memory) { m.sweepIv = d } }

// NewMemory returns an empty in-memory limiter.
func NewMemory(opts ...MemoryOption) *Memory {
	m := &Memory{tat: map[string]time.Time{}, now: time.Now, maxKeys: 100_000, sweepIv: time.Minute}
	for _, o := range opts {
		o(m)
	}
	m.lastSweep = m.now()
	return m
}

// Allow implements Limiter; it fails only for an invalid limit.
func (m *Memory) Allow(_ context.Context, key string, l Limit) (Decision, error) {
	if err := l.validate(); err != nil {
		return Decision{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if now.Sub(m.lastSweep) >= m.sweepIv {
		m.sweep(now)
	}
	d, tat := gcra(now, m.tat[key], l)
	if !d.Allowed {
		return d, nil
	}
	if _, known := m.tat[key]; !known && len(m.tat) >= m.maxKeys {
		m.sweep(now)
		for k := range m.tat { // still full: drop one (map order is random)
			if len(m.tat) < m.maxKeys {
				break
			}
			delete(m.tat, k)
		}
	}
	m.tat[key] = tat
	return d, nil
}

// Len is the number of keys held (for tests and metrics).
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.tat)
}

func (m *Memory) sweep(now time.Time) {
	for k, tat := range m.tat {
		if !tat.After(now) {
			delete(m.tat, k)
		}
	}
	m.lastSweep = now
}
