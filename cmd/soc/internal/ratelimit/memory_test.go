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

func TestMemoryRefillsOneRequestPerInterval(t *testing.T) {
	c := newClock()
	m := NewMemory(WithClock(c.now))
	lim := Limit{Requests: 60, Per: time.Minute, Burst: 2} // one request back per second
	for range 2 {
		allow(t, m, "k", lim)
	}
	d := allow(t, m, "k", lim)
	if d.Allowed || d.RetryAfter != time.Second || d.ResetAfter != 2*time.Second {
		t.Fatalf("third request: %+v, want rejected, retry after 1s, reset after 2s", d)
	}
	c.advance(999 * time.Millisecond)
	if d := allow(t, m, "k", lim); d.Allowed || d.RetryAfter != time.Millisecond {
		t.Fatalf("after 999ms: %+v, want rejected, retry after 1ms", d)
	}
	c.advance(time.Millisecond)
	if d := allow(t, m, "k", lim); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("after 1s: %+v, want allowed with 0 remaining", d)
	}
	c.advance(10 * time.Second) // idle far longer than the window: a whole burst, no more
	if d := allow(t, m, "k", lim); !d.Allowed || d.Remaining != 1 || d.ResetAfter != time.Second {
		t.Fatalf("after idling: %+v, want allowed, 1 remaining, reset after 1s", d)
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
