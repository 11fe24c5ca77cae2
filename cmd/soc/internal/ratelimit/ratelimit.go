// Package ratelimit limits requests per client with a sliding-window log: each key keeps the
// times of its allowed requests within the last window, and a request is allowed only while
// fewer than the limit remain, so "100 requests per minute" means that no 60-second window
// ever holds more than 100 allowed requests, however they are paced (a token bucket or GCRA
// lets up to twice the limit through within one minute). The log lives in this process
// (Memory) or in Redis (Redis), where several gateways then share one budget per client.
// Middleware puts a Limiter in front of an http.Handler with the IETF RateLimit headers and a
// 429 problem+json.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Limit is a budget: at most Requests allowed within any span of Per.
type Limit struct {
	Requests int
	Per      time.Duration
}

// PerMinute is n requests in any minute: the mission's "100 requests/min".
func PerMinute(n int) Limit { return Limit{Requests: n, Per: time.Minute} }

// MaxRequests is the largest Limit.Requests: a key's log holds up to that many times (in
// memory, or as a Redis sorted set of that many members, some tens of bytes each), so the
// limit bounds what one busy client may cost.
const MaxRequests = 100_000

// ErrInvalidLimit is returned (wrapped) by Allow for a Limit that cannot be enforced.
var ErrInvalidLimit = errors.New("ratelimit: invalid limit")

func (l Limit) validate() error {
	if l.Requests <= 0 || l.Per <= 0 {
		return fmt.Errorf("%w: %d requests per %s", ErrInvalidLimit, l.Requests, l.Per)
	}
	if l.Requests > MaxRequests {
		return fmt.Errorf("%w: %d requests per window, more than the %d a key's log may hold", ErrInvalidLimit, l.Requests, MaxRequests)
	}
	if l.Per < time.Microsecond {
		// Redis keeps microseconds: a shorter window would round to zero there.
		return fmt.Errorf("%w: a window of %s is shorter than a microsecond", ErrInvalidLimit, l.Per)
	}
	return nil
}

// Decision is the outcome of one Allow.
type Decision struct {
	Allowed bool
	// Remaining is how many more requests would be allowed right now.
	Remaining int
	// ResetAfter is how long until the key's whole budget is available again (the newest
	// logged request leaves the window).
	ResetAfter time.Duration
	// RetryAfter is, when not Allowed, how long until the next request would be allowed (the
	// oldest logged request leaves the window).
	RetryAfter time.Duration
}

// Limiter decides whether the request of a client (key) fits its limit, and logs it if so.
// An error means the decision could not be made (the backend is unreachable); the caller
// chooses whether to let the request through (Middleware's FailClosed).
type Limiter interface {
	Allow(ctx context.Context, key string, limit Limit) (Decision, error)
}
