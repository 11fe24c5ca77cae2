package ratelimit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
}

func get(t *testing.T, h http.Handler, remoteAddr, auth string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/api/v1/alerts", nil)
	r.RemoteAddr = remoteAddr
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestMiddlewareHeadersAnd429(t *testing.T) {
	c := newClock()
	m := &Middleware{Limiter: NewMemory(WithClock(c.now)), Limit: PerMinute(100)}
	h := m.Wrap(okHandler())
	for i := range 100 {
		w := get(t, h, "192.0.2.1:5000", "")
		if w.Code != http.StatusNoContent {
			t.Fatalf("request %d: status %d", i+1, w.Code)
		}
		if i == 0 {
			if got := w.Header().Get("RateLimit-Policy"); got != `"default";q=100;w=60` {
				t.Fatalf("RateLimit-Policy %q", got)
			}
			// 99 left; the one request used leaves the window in a minute.
			if got := w.Header().Get("RateLimit"); got != `"default";r=99;t=60` {
				t.Fatalf("RateLimit %q", got)
			}
		}
	}
	w := get(t, h, "192.0.2.1:5001", "") // another port, the same client
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("request 101: status %d, want 429", w.Code)
	}
	if got := w.Header().Get("Retry-After"); got != "60" {
		t.Fatalf("Retry-After %q, want 60 (when the first request leaves the window)", got)
	}
	if got := w.Header().Get("RateLimit"); got != `"default";r=0;t=60` {
		t.Fatalf("RateLimit on 429 %q", got)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q", ct)
	}
	var body struct {
		Status int    `json:"status"`
		Type   string `json:"type"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Status != 429 || !strings.Contains(body.Type, "rate-limited") {
		t.Fatalf("body %s (%v)", w.Body, err)
	}
	if w := get(t, h, "198.51.100.7:5000", ""); w.Code != http.StatusNoContent {
		t.Fatalf("another address: status %d, want its own budget", w.Code)
	}
	c.advance(time.Minute)
	if w := get(t, h, "192.0.2.1:5000", ""); w.Code != http.StatusNoContent {
		t.Fatalf("after the window: status %d, want allowed again", w.Code)
	}
}

func TestMiddlewareKeysByTokenThenAddress(t *testing.T) {
	m := &Middleware{Limiter: NewMemory(), Limit: Limit{Requests: 1, Per: time.Hour}, Policy: "api"}
	h := m.Wrap(okHandler())
	if w := get(t, h, "192.0.2.1:1", "Bearer soc_alice"); w.Code != http.StatusNoContent || w.Header().Get("RateLimit-Policy") != `"api";q=1;w=3600` {
		t.Fatalf("alice: %d %q", w.Code, w.Header().Get("RateLimit-Policy"))
	}
	if w := get(t, h, "192.0.2.1:1", "Bearer soc_alice"); w.Code != http.StatusTooManyRequests {
		t.Fatalf("alice again: %d, want 429", w.Code)
	}
	// Same address, another token: another client.
	if w := get(t, h, "192.0.2.1:1", "Bearer soc_bob"); w.Code != http.StatusNoContent {
		t.Fatalf("bob: %d", w.Code)
	}
	// The scheme is case-insensitive (RFC 9110): still alice.
	if w := get(t, h, "192.0.2.1:1", "bearer soc_alice"); w.Code != http.StatusTooManyRequests {
		t.Fatalf("alice, lower-case scheme: %d, want 429", w.Code)
	}
	// No token: the address is the client, apart from the tokens sent from it.
	if w := get(t, h, "192.0.2.1:1", ""); w.Code != http.StatusNoContent {
		t.Fatalf("anonymous: %d", w.Code)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer soc_secret")
	if k := BearerOrAddress(r); strings.Contains(k, "soc_secret") || !strings.HasPrefix(k, "tok:") {
		t.Fatalf("key %q must not hold the token", k)
	}
}

func TestMiddlewareEmptyKeyIsNotLimited(t *testing.T) {
	m := &Middleware{Limiter: NewMemory(), Limit: Limit{Requests: 1, Per: time.Hour}, Key: func(*http.Request) string { return "" }}
	h := m.Wrap(okHandler())
	for range 3 {
		if w := get(t, h, "192.0.2.1:1", ""); w.Code != http.StatusNoContent || w.Header().Get("RateLimit") != "" {
			t.Fatalf("status %d, RateLimit %q: want unlimited, no headers", w.Code, w.Header().Get("RateLimit"))
		}
	}
}

// failing is a backend that is down until up is set.
type failing struct{ up bool }

func (f *failing) Allow(context.Context, string, Limit) (Decision, error) {
	if !f.up {
		return Decision{}, errors.New("connection refused")
	}
	return Decision{Allowed: true, Remaining: 1}, nil
}

func TestMiddlewareBackendDown(t *testing.T) {
	for _, tc := range []struct {
		name       string
		failClosed bool
		limiter    Limiter
		wantStatus int
	}{
		{"open", false, &failing{}, http.StatusNoContent},
		{"closed", true, &failing{}, http.StatusServiceUnavailable},
		// A real client on a stopped Redis (a closed loopback port).
		{"open on stopped redis", false, nil, http.StatusNoContent},
		{"closed on stopped redis", true, nil, http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.limiter == nil {
				tc.limiter = downRedis(t)
			}
			var logs bytes.Buffer
			errs := 0
			m := &Middleware{Limiter: tc.limiter, Limit: PerMinute(100), FailClosed: tc.failClosed,
				OnError: func(error) { errs++ }, Log: slog.New(slog.NewTextHandler(&logs, nil))}
			h := m.Wrap(okHandler())
			for i := range 3 {
				w := get(t, h, "192.0.2.1:1", "")
				if w.Code != tc.wantStatus {
					t.Fatalf("request %d: status %d, want %d", i+1, w.Code, tc.wantStatus)
				}
				if tc.failClosed && (w.Header().Get("Retry-After") == "" || w.Header().Get("Content-Type") != "application/problem+json") {
					t.Fatalf("closed: headers %v, want problem+json with Retry-After", w.Header())
				}
			}
			if errs != 3 {
				t.Fatalf("OnError called %d times, want once per failed check (3)", errs)
			}
			if n := strings.Count(logs.String(), "rate limiter unavailable"); n != 1 {
				t.Fatalf("outage logged %d times, want once:\n%s", n, logs.String())
			}
		})
	}
}

func TestMiddlewareLogsRecoveryAndNextOutage(t *testing.T) {
	var logs bytes.Buffer
	f := &failing{}
	m := &Middleware{Limiter: f, Limit: PerMinute(100), Log: slog.New(slog.NewTextHandler(&logs, nil))}
	h := m.Wrap(okHandler())
	get(t, h, "192.0.2.1:1", "")
	f.up = true
	get(t, h, "192.0.2.1:1", "")
	get(t, h, "192.0.2.1:1", "")
	f.up = false
	get(t, h, "192.0.2.1:1", "")
	out := logs.String()
	if strings.Count(out, "rate limiter unavailable") != 2 || strings.Count(out, "rate limiter available again") != 1 {
		t.Fatalf("want two outages and one recovery logged:\n%s", out)
	}
}
