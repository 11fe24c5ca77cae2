package ratelimit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/socplatform/soc/schemas/problem"
)

// Middleware limits the requests of each client, as named by Key, to Limit.
//
// Every limited response carries the headers of the IETF draft "RateLimit header fields for
// HTTP" (draft-ietf-httpapi-ratelimit-headers): RateLimit-Policy names the quota (q requests
// per w seconds) and RateLimit tells what is left of it (r) and in how many seconds it is whole
// again (t). A rejected request gets 429 problem+json with Retry-After.
//
// When the Limiter fails (Redis unreachable), the request goes through (fail open, the
// default: the limiter protects the platform and must not become its single point of failure)
// or gets 503 (FailClosed). Either way OnError is called for each failed check (a metric), and
// one line is logged when an outage starts and one when it ends, not one per request.
//
// With a Policy set (SetPolicy, swappable while serving: hot-reloaded configuration), the limit
// and bucket of each request come from the policy, given the request's Class and Roles, and
// Limit and Policy are unused; the bucket is part of the key and names the quota in the headers.
type Middleware struct {
	Limiter Limiter
	Limit   Limit
	// Key names the client of a request (BearerOrAddress when nil). A request whose key is
	// empty is not limited.
	Key func(*http.Request) string
	// Policy names the quota in the RateLimit headers ("default" when empty).
	Policy     string
	FailClosed bool
	// OnError counts failed checks (a metric); it may be called from many requests at once.
	OnError func(error)
	// OnReject counts rejected requests (a metric), by the quota's name.
	OnReject func(policy string)
	Log      *slog.Logger
	// Class and Roles describe a request to the policy (its route class, its principal's
	// roles); nil means none.
	Class func(*http.Request) string
	Roles func(*http.Request) []string

	policy atomic.Pointer[Policy]
	down   atomic.Bool // an outage is in progress (logged once)
}

// SetPolicy replaces the policy for the requests that follow; nil goes back to Limit.
func (m *Middleware) SetPolicy(p *Policy) { m.policy.Store(p) }

// limitOf is the limit and quota name of r; ok is false when r is not limited.
func (m *Middleware) limitOf(r *http.Request) (lim Limit, name string, ok bool) {
	p := m.policy.Load()
	if p == nil {
		name = m.Policy
		if name == "" {
			name = DefaultBucket
		}
		return m.Limit, name, true
	}
	var class string
	var roles []string
	if m.Class != nil {
		class = m.Class(r)
	}
	if m.Roles != nil {
		roles = m.Roles(r)
	}
	return p.Resolve(class, roles)
}

// Wrap returns next behind the limiter.
func (m *Middleware) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := m.key(r)
		lim, name, limited := m.limitOf(r)
		if key == "" || !limited {
			next.ServeHTTP(w, r)
			return
		}
		if m.policy.Load() != nil {
			key += "|" + name // each bucket of a client is a budget of its own
		}
		d, err := m.Limiter.Allow(r.Context(), key, lim)
		if err != nil {
			m.failed(err)
			if m.FailClosed {
				problem.Error(w, r, nil, problem.Unavailable(time.Second, "the rate limiter is unavailable"))
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		m.recovered()
		setHeaders(w.Header(), name, lim, d)
		if !d.Allowed {
			if m.OnReject != nil {
				m.OnReject(name)
			}
			problem.Error(w, r, nil, problem.RateLimited(d.RetryAfter,
				"more than %d requests per %s; retry in %s", lim.Requests, lim.Per, ceilSeconds(d.RetryAfter)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (m *Middleware) key(r *http.Request) string {
	if m.Key != nil {
		return m.Key(r)
	}
	return BearerOrAddress(r)
}

func setHeaders(h http.Header, name string, lim Limit, d Decision) {
	h.Set("RateLimit-Policy", fmt.Sprintf("%q;q=%d;w=%d", name, lim.Requests, int64(ceilSeconds(lim.Per).Seconds())))
	h.Set("RateLimit", fmt.Sprintf("%q;r=%d;t=%d", name, d.Remaining, int64(ceilSeconds(d.ResetAfter).Seconds())))
}

func (m *Middleware) failed(err error) {
	if m.OnError != nil {
		m.OnError(err)
	}
	if !m.down.Swap(true) && m.Log != nil {
		mode := "letting requests through (fail open)"
		if m.FailClosed {
			mode = "rejecting requests with 503 (fail closed)"
		}
		m.Log.Error("rate limiter unavailable: "+mode, "err", err)
	}
}

func (m *Middleware) recovered() {
	if m.down.Swap(false) && m.Log != nil {
		m.Log.Info("rate limiter available again")
	}
}

// ceilSeconds rounds d up to whole seconds: the headers count seconds, and rounding down
// would tell a client to come back before its budget has returned.
func ceilSeconds(d time.Duration) time.Duration {
	return time.Duration(math.Ceil(d.Seconds())) * time.Second
}

// BearerOrAddress keys a request by its bearer token when it has one (hashed: the key may be
// stored in Redis, the token must not be) and else by its source address (without the port).
// The token is not verified here, so a client can pick a fresh budget with a made-up token:
// mounted in front of authentication, key by SourceAddress; after it, by the verified principal.
func BearerOrAddress(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if tok = strings.TrimSpace(tok); ok && strings.EqualFold(scheme, "Bearer") && tok != "" {
		sum := sha256.Sum256([]byte(tok))
		return "tok:" + hex.EncodeToString(sum[:16])
	}
	return SourceAddress(r)
}

// SourceAddress keys a request by the address it came from (RemoteAddr without the port).
func SourceAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "ip:" + host
}
