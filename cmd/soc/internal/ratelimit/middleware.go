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
	Log     *slog.Logger

	down atomic.Bool // an outage is in progress (logged once)
}

// Wrap returns next behind the limiter.
func (m *Middleware) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := m.key(r)
		if key == "" {
			next.ServeHTTP(w, r)
			return
		}
		d, err := m.Limiter.Allow(r.Context(), key, m.Limit)
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
		m.setHeaders(w.Header(), d)
		if !d.Allowed {
			problem.Error(w, r, nil, problem.RateLimited(d.RetryAfter,
				"more than %d requests per %s; retry in %s", m.Limit.Requests, m.Limit.Per, ceilSeconds(d.RetryAfter)))
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

func (m *Middleware) setHeaders(h http.Header, d Decision) {
	name := m.Policy
	if name == "" {
		name = "default"
	}
	h.Set("RateLimit-Policy", fmt.Sprintf("%q;q=%d;w=%d", name, m.Limit.Requests, int64(ceilSeconds(m.Limit.Per).Seconds())))
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
