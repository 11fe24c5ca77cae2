package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// backend makes a fresh Limiter for one test; every backend must pass the same contract.
type backend func(t *testing.T) Limiter

// testContract is what every Limiter promises, independent of time passing: the contract tests
// use windows no test outlives (an hour).
func testContract(t *testing.T, newLimiter backend) {
	ctx := context.Background()
	hourly := func(n int) Limit { return Limit{Requests: n, Per: time.Hour} }

	t.Run("limit then exactly one refusal", func(t *testing.T) {
		l := newLimiter(t)
		for i := range 5 {
			d := allow(t, l, "k", hourly(5))
			if !d.Allowed || d.Remaining != 4-i {
				t.Fatalf("request %d: %+v, want allowed with %d remaining", i+1, d, 4-i)
			}
			// The whole budget is back once this request, the newest, leaves the window.
			if !near(d.ResetAfter, time.Hour) {
				t.Fatalf("request %d: reset after %s, want about 1h", i+1, d.ResetAfter)
			}
		}
		d := allow(t, l, "k", hourly(5))
		if d.Allowed || d.Remaining != 0 {
			t.Fatalf("request 6: %+v, want rejected with nothing remaining", d)
		}
		if !near(d.RetryAfter, time.Hour) || !near(d.ResetAfter, time.Hour) || d.RetryAfter > d.ResetAfter {
			t.Fatalf("request 6: retry after %s, reset after %s; want about 1h, retry no later than reset", d.RetryAfter, d.ResetAfter)
		}
		// A rejected request costs nothing: the next one is told the same.
		if d2 := allow(t, l, "k", hourly(5)); d2.Allowed || !near(d2.RetryAfter, time.Hour) || d2.RetryAfter > d.RetryAfter {
			t.Fatalf("request 7: %+v, want rejected, retry after about 1h, no later than request 6's %s", d2, d.RetryAfter)
		}
	})

	t.Run("keys are independent", func(t *testing.T) {
		l := newLimiter(t)
		if d := allow(t, l, "a", hourly(1)); !d.Allowed {
			t.Fatalf("a: %+v", d)
		}
		if d := allow(t, l, "a", hourly(1)); d.Allowed {
			t.Fatalf("a again: %+v, want rejected", d)
		}
		if d := allow(t, l, "b", hourly(1)); !d.Allowed {
			t.Fatalf("b: %+v, want allowed", d)
		}
	})

	t.Run("concurrent requests never exceed the limit", func(t *testing.T) {
		l := newLimiter(t)
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			allowed int
		)
		for range 200 {
			wg.Go(func() {
				d, err := l.Allow(ctx, "k", hourly(100))
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if allowed != 100 {
			t.Fatalf("%d of 200 concurrent requests allowed, want exactly the limit of 100", allowed)
		}
	})

	t.Run("invalid limit", func(t *testing.T) {
		l := newLimiter(t)
		for _, lim := range []Limit{
			{}, {Requests: 1}, {Requests: -1, Per: time.Minute}, {Requests: 1 << 30, Per: time.Millisecond},
			{Requests: MaxRequests + 1, Per: time.Hour}, {Requests: 1, Per: time.Nanosecond},
		} {
			if _, err := l.Allow(ctx, "k", lim); !errors.Is(err, ErrInvalidLimit) {
				t.Errorf("%+v: err %v, want ErrInvalidLimit", lim, err)
			}
		}
		if d := allow(t, l, "k", Limit{Requests: MaxRequests, Per: time.Microsecond}); !d.Allowed {
			t.Errorf("the largest, shortest limit: %+v, want allowed", d)
		}
	})
}

// pacedBackend is a Limiter on whose clock time passes: an injected one for Memory, the
// server's for Redis. Timing is never asserted on: sleep may take longer than asked (a real
// one does), so a backend states how much later than planned its answers may be (slack), and
// a scenario that took longer than its window proves nothing and is run again.
type pacedBackend struct {
	limiter Limiter
	window  time.Duration // the window of the tests' limits: short for a real clock
	now     func() time.Time
	sleep   func(time.Duration)
	slack   time.Duration
}

// testPaced is the exactness a sliding window promises on top of testContract: whatever the
// pacing within a window, one request more than the limit is refused, and a refused client
// gets exactly one request more once its oldest has left the window.
func testPaced(t *testing.T, newBackend func(t *testing.T) pacedBackend) {
	t.Run("pacing within the window does not matter", func(t *testing.T) {
		inWindow(t, newBackend, func(b pacedBackend, key string) bool {
			lim := Limit{Requests: 4, Per: b.window}
			start := b.now()
			for i := range 4 { // one every window/8: a token bucket or GCRA of 4 a window refills meanwhile
				if d := allow(t, b.limiter, key, lim); !d.Allowed || d.Remaining != 3-i || !b.near(d.ResetAfter, b.window) {
					t.Fatalf("request %d: %+v, want allowed, %d remaining, reset after %s", i+1, d, 3-i, b.window)
				}
				b.sleep(b.window / 8)
			}
			d := allow(t, b.limiter, key, lim)
			if b.now().Sub(start) >= b.window {
				return false // the first request may have left: no proof either way
			}
			if want := b.window - b.window/2; d.Allowed || !b.near(d.RetryAfter, want) || !b.near(d.ResetAfter, b.window-b.window/8) {
				t.Fatalf("request 5, half a window after the first: %+v, want rejected, retry after %s, reset after %s",
					d, want, b.window-b.window/8)
			}
			return true
		})
	})

	t.Run("once the oldest leaves, exactly one more", func(t *testing.T) {
		inWindow(t, newBackend, func(b pacedBackend, key string) bool {
			lim := Limit{Requests: 3, Per: b.window}
			first := b.now()
			allow(t, b.limiter, key, lim) // the oldest
			b.sleep(b.window / 4)
			rest := b.now()
			allow(t, b.limiter, key, lim) // the second
			second := b.now().Sub(first)  // at most this long after the oldest (window/4 on a still clock)
			allow(t, b.limiter, key, lim)
			d := allow(t, b.limiter, key, lim)
			if d.Allowed {
				t.Fatalf("request 4 within the window: %+v, want rejected", d)
			}
			if want := b.window - b.window/4; !b.near(d.RetryAfter, want) {
				t.Fatalf("request 4: retry after %s, want %s (when the oldest leaves)", d.RetryAfter, want)
			}
			// Waiting for the state the limiter names, bounded; never on a guessed sleep.
			for deadline := b.now().Add(10 * b.window); !d.Allowed; d = allow(t, b.limiter, key, lim) {
				if b.now().After(deadline) || d.RetryAfter <= 0 { // a refusal names a wait, or a still clock never moves
					t.Fatalf("not allowed again within 10 windows: %+v", d)
				}
				b.sleep(d.RetryAfter)
			}
			if d.Remaining != 0 {
				t.Fatalf("the request after the oldest left: %+v, want 0 remaining", d)
			}
			d = allow(t, b.limiter, key, lim)
			if b.now().Sub(rest) >= b.window {
				return false // the other two may have left as well
			}
			// The oldest left at the latest now, so the second leaves at the latest in the time
			// that separated them.
			if d.Allowed || d.RetryAfter <= 0 || !b.near(d.RetryAfter, second) {
				t.Fatalf("the one after: %+v, want rejected, retry after %s (when the second leaves)", d, second)
			}
			return true
		})
	})
}

// inWindow runs a scenario on a fresh key until it says it ran within its window (a loaded
// machine may stall a real clock's scenario past it), at most a few times.
func inWindow(t *testing.T, newBackend func(t *testing.T) pacedBackend, scenario func(b pacedBackend, key string) bool) {
	t.Helper()
	b := newBackend(t)
	for attempt := range 5 {
		if scenario(b, fmt.Sprint("k", attempt)) {
			return
		}
		t.Logf("attempt %d outlasted its window of %s; again on a fresh key", attempt+1, b.window)
	}
	t.Fatalf("no attempt ran within a window of %s", b.window)
}

// near is want, or up to slack earlier: time the backend's clock moved beyond the planned sleeps.
func (b pacedBackend) near(got, want time.Duration) bool { return got <= want && got >= want-b.slack }

func allow(t *testing.T, l Limiter, key string, lim Limit) Decision {
	t.Helper()
	d, err := l.Allow(context.Background(), key, lim)
	if err != nil {
		t.Fatalf("Allow(%q): %v", key, err)
	}
	return d
}

// near allows for the time a real backend's clock moves during a test (Redis reads its own).
func near(got, want time.Duration) bool {
	diff := got - want
	return diff > -time.Minute && diff <= 0
}

func randomHex(t testing.TB) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}
