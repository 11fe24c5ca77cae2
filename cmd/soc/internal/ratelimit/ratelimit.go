// Package ratelimit limits requests per client with the generic cell rate algorithm (GCRA):
// each key keeps one timestamp, its theoretical arrival time (TAT), so a check is a single
// compare-and-set, whether the state lives in this process (Memory) or in Redis (Redis), where
// several gateways then share one budget per client. Middleware puts a Limiter in front of an
// http.Handler with the IETF RateLimit headers and a 429 problem+json.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Limit is a budget: Requests per Per on average, of which at most Burst may come back to back
// (a fresh client may send Burst requests at once; then one more every Per/Requests).
type Limit struct {
	Requests int
	Per      time.Duration
	// Burst is the most requests allowed at once; 0 means Requests (the whole window).
	Burst int
}

// PerMinute is n requests per minute with a burst of n: the mission's "100 requests/min".
func PerMinute(n int) Limit { return Limit{Requests: n, Per: time.Minute} }

// ErrInvalidLimit is returned (wrapped) by Allow for a Limit that cannot be enforced.
var ErrInvalidLimit = errors.New("ratelimit: invalid limit")

func (l Limit) validate() error {
	if l.Requests <= 0 || l.Per <= 0 || l.Burst < 0 {
		return fmt.Errorf("%w: %d requests per %s, burst %d", ErrInvalidLimit, l.Requests, l.Per, l.Burst)
	}
	if l.Per/time.Duration(l.Requests) < time.Microsecond {
		// Redis keeps microseconds: a finer interval would round to zero there.
		return fmt.Errorf("%w: %d requests per %s is more than one per microsecond", ErrInvalidLimit, l.Requests, l.Per)
	}
	return nil
}

// interval is the emission interval: the time one request's budget takes to come back.
func (l Limit) interval() time.Duration { return l.Per / time.Duration(l.Requests) }

func (l Limit) burst() int {
	if l.Burst == 0 {
		return l.Requests
	}
	return l.Burst
}

// Decision is the outcome of one Allow.
type Decision struct {
	Allowed bool
	// Remaining is how many more requests would be allowed right now.
	Remaining int
	// ResetAfter is how long until the key's whole burst is available again.
	ResetAfter time.Duration
	// RetryAfter is, when not Allowed, how long until the next request would be allowed.
	RetryAfter time.Duration
}

// Limiter decides whether the request of a client (key) fits its limit, and counts it if so.
// An error means the decision could not be made (the backend is unreachable); the caller
// chooses whether to let the request through (Middleware's FailClosed).
type Limiter interface {
	Allow(ctx context.Context, key string, limit Limit) (Decision, error)
}

// gcra is the algorithm as Memory runs it; Redis runs the same steps in Lua. tat is the key's stored theoretical arrival time (zero or past: a fresh budget); it
// returns the decision and the TAT to store when allowed.
func gcra(now, tat time.Time, l Limit) (Decision, time.Time) {
	if tat.Before(now) {
		tat = now
	}
	iv := l.interval()
	window := iv * time.Duration(l.burst())
	newTAT := tat.Add(iv)
	if wait := newTAT.Sub(now) - window; wait > 0 {
		return Decision{ResetAfter: tat.Sub(now), RetryAfter: wait}, tat
	}
	ahead := newTAT.Sub(now)
	return Decision{Allowed: true, Remaining: int((window - ahead) / iv), ResetAfter: ahead}, newTAT
}
