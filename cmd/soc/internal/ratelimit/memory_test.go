package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

func TestMemoryContract(t *testing.T) {
	testContract(t, func(t *testing.T) Limiter { return NewMemory() })
}

// clock is a hand-driven time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

// On an injected clock the answers are exact (no slack): a minute's window, as in production.
func TestMemoryPaced(t *testing.T) {
	testPaced(t, func(t *testing.T) pacedBackend {
		c := newClock()
		return pacedBackend{limiter: NewMemory(WithClock(c.now)), window: time.Minute, now: c.now, sleep: c.advance}
	})
}

// "100 requests/min" on the clock: 100 spread over a minute, then the 101st within it is
// refused, and each later request fits only once the one a minute before it has left.
func TestMemorySlidesOneRequestAtATime(t *testing.T) {
	c := newClock()
	m := NewMemory(WithClock(c.now))
	for i := range 100 {
		if d := allow(t, m, "k", PerMinute(100)); !d.Allowed {
			t.Fatalf("request %d: %+v", i+1, d)
		}
		c.advance(500 * time.Millisecond)
	}
	// 50s after the first: it leaves in 10s.
	if d := allow(t, m, "k", PerMinute(100)); d.Allowed || d.RetryAfter != 10*time.Second || d.ResetAfter != 59500*time.Millisecond {
		t.Fatalf("request 101: %+v, want rejected, retry after 10s, reset after 59.5s", d)
	}
	c.advance(10*time.Second - time.Nanosecond)
	if d := allow(t, m, "k", PerMinute(100)); d.Allowed || d.RetryAfter != time.Nanosecond {
		t.Fatalf("a nanosecond before the first leaves: %+v, want rejected, retry after 1ns", d)
	}
	c.advance(time.Nanosecond)
	if d := allow(t, m, "k", PerMinute(100)); !d.Allowed || d.Remaining != 0 || d.ResetAfter != time.Minute {
		t.Fatalf("as the first leaves: %+v, want allowed, 0 remaining, reset after 1m", d)
	}
	if d := allow(t, m, "k", PerMinute(100)); d.Allowed || d.RetryAfter != 500*time.Millisecond {
		t.Fatalf("right after: %+v, want rejected until the second leaves in 0.5s", d)
	}
}

// A key's log is a ring as long as its limit at most, however many requests pass through it.
func TestMemoryLogIsBoundedByTheLimit(t *testing.T) {
	c := newClock()
	m := NewMemory(WithClock(c.now))
	lim := Limit{Requests: 5, Per: time.Second}
	for range 1000 {
		allow(t, m, "k", lim)
		c.advance(100 * time.Millisecond)
	}
	if n := len(m.logs["k"].ring); n != 5 {
		t.Fatalf("ring of %d after 1000 requests, want the limit of 5", n)
	}
	allow(t, m, "light", Limit{Requests: MaxRequests, Per: time.Hour})
	if n := len(m.logs["light"].ring); n > 4 {
		t.Fatalf("ring of %d for one request, want it to grow as needed, not to the limit", n)
	}
}

// A log filled under a larger limit waits for its surplus to leave under a smaller one.
func TestMemoryLimitLoweredForAKey(t *testing.T) {
	c := newClock()
	m := NewMemory(WithClock(c.now))
	for range 4 {
		allow(t, m, "k", Limit{Requests: 4, Per: time.Minute})
		c.advance(time.Second)
	}
	// Logged at 0, 1, 2 and 3s; now 4s: under 2 a minute, three must leave, the third at 62s.
	if d := allow(t, m, "k", Limit{Requests: 2, Per: time.Minute}); d.Allowed || d.RetryAfter != 58*time.Second || d.ResetAfter != 59*time.Second {
		t.Fatalf("%+v, want rejected, retry after 57s, reset after 59s", d)
	}
}

func TestMemorySweepsExpiredKeys(t *testing.T) {
	c := newClock()
	m := NewMemory(WithClock(c.now), WithSweepEvery(time.Minute))
	lim := Limit{Requests: 1, Per: time.Second}
	for i := range 10 {
		allow(t, m, fmt.Sprint("old", i), lim)
	}
	c.advance(30 * time.Second)
	allow(t, m, "young", Limit{Requests: 1, Per: time.Hour})
	if m.Len() != 11 {
		t.Fatalf("%d keys before the sweep is due, want 11", m.Len())
	}
	c.advance(30 * time.Second)
	allow(t, m, "new", lim)
	if m.Len() != 2 {
		t.Fatalf("%d keys after the sweep, want 2 (young, new): the expired ones must go", m.Len())
	}
}

func TestMemoryKeyTableIsBounded(t *testing.T) {
	c := newClock()
	m := NewMemory(WithClock(c.now), WithMaxKeys(5))
	lim := Limit{Requests: 1, Per: time.Hour}
	for i := range 50 {
		if d := allow(t, m, fmt.Sprint("k", i), lim); !d.Allowed {
			t.Fatalf("new key %d rejected: %+v", i, d)
		}
		if m.Len() > 5 {
			t.Fatalf("%d keys after key %d, want at most 5", m.Len(), i)
		}
	}
	// A full table still limits the keys it holds.
	if d := allow(t, m, "k49", lim); d.Allowed {
		t.Fatalf("k49 again: %+v, want rejected", d)
	}
}
