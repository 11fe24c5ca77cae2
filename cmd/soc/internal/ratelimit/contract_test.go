package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"
)

// backend makes a fresh Limiter for one test; every backend must pass the same contract.
type backend func(t *testing.T) Limiter

// testContract is what every Limiter promises, independent of time passing: the contract tests
// use limits whose budget cannot come back within a test (one request per hour).
func testContract(t *testing.T, newLimiter backend) {
	ctx := context.Background()
	hourly := func(burst int) Limit { return Limit{Requests: 1, Per: time.Hour, Burst: burst} }

	t.Run("burst then reject", func(t *testing.T) {
		l := newLimiter(t)
		lim := hourly(3)
		for i := range 3 {
			d := allow(t, l, "k", lim)
			if !d.Allowed || d.Remaining != 2-i {
				t.Fatalf("request %d: %+v, want allowed with %d remaining", i+1, d, 2-i)
			}
			if want := time.Duration(i+1) * time.Hour; !near(d.ResetAfter, want) {
				t.Fatalf("request %d: reset after %s, want about %s", i+1, d.ResetAfter, want)
			}
		}
		d := allow(t, l, "k", lim)
		if d.Allowed || d.Remaining != 0 {
			t.Fatalf("request 4: %+v, want rejected with nothing remaining", d)
		}
		if !near(d.RetryAfter, time.Hour) || !near(d.ResetAfter, 3*time.Hour) {
			t.Fatalf("request 4: retry after %s, reset after %s; want about 1h and 3h", d.RetryAfter, d.ResetAfter)
		}
		// A rejected request costs nothing: the next one is told the same.
		if d2 := allow(t, l, "k", lim); d2.Allowed || !near(d2.RetryAfter, time.Hour) {
			t.Fatalf("request 5: %+v, want rejected, retry after about 1h", d2)
		}
	})

	t.Run("burst defaults to requests", func(t *testing.T) {
		l := newLimiter(t)
		lim := Limit{Requests: 5, Per: 5 * time.Hour}
		for i := range 5 {
			if d := allow(t, l, "k", lim); !d.Allowed {
				t.Fatalf("request %d rejected: %+v", i+1, d)
			}
		}
		if d := allow(t, l, "k", lim); d.Allowed {
			t.Fatalf("request 6 allowed: %+v", d)
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

	t.Run("concurrent requests never exceed the burst", func(t *testing.T) {
		l := newLimiter(t)
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			allowed int
		)
		for range 40 {
			wg.Go(func() {
				d, err := l.Allow(ctx, "k", hourly(10))
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
		if allowed != 10 {
			t.Fatalf("%d of 40 concurrent requests allowed, want exactly the burst of 10", allowed)
		}
	})

	t.Run("invalid limit", func(t *testing.T) {
		l := newLimiter(t)
		for _, lim := range []Limit{{}, {Requests: 1}, {Requests: -1, Per: time.Minute}, {Requests: 1, Per: time.Minute, Burst: -1}, {Requests: 1 << 30, Per: time.Millisecond}} {
			if _, err := l.Allow(ctx, "k", lim); !errors.Is(err, ErrInvalidLimit) {
				t.Errorf("%+v: err %v, want ErrInvalidLimit", lim, err)
			}
		}
	})
}

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
