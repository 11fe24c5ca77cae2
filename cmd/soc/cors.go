package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/cors"

	"github.com/socplatform/soc/cmd/soc/internal/envflag"
)

// CORSConfig is the browser origins allowed to call the API from another site (a web console
// served apart from the API). Empty: CORS is off and no response carries Access-Control-*.
type CORSConfig struct {
	Origins []string // --cors-origins, SOC_CORS_ORIGINS
}

func (c *CORSConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.Var(envflag.List(&c.Origins), "cors-origins", "comma-separated exact origins (https://soc.example.com) browsers may call the API from; empty: CORS off (hot: cors_origins in Consul KV)")
}

func (c *CORSConfig) Validate() error {
	if err := validateOrigins(c.Origins); err != nil {
		return fmt.Errorf("--cors-origins/SOC_CORS_ORIGINS: %w", err)
	}
	return nil
}

// validateOrigins accepts exact origins only: scheme and host, as a browser sends them in
// Origin. No wildcard, "*" least of all: every request carries its credential in Authorization,
// so an origin allowed here is a site whose scripts may use a token the browser holds and read
// the answers; any site at all would turn a token pasted into, or leaked to, a page anywhere
// into full API access from that page. Naming the console's origins keeps that to them.
func validateOrigins(origins []string) error {
	var errs []error
	for _, o := range origins {
		u, err := url.Parse(o)
		switch {
		case strings.Contains(o, "*"):
			errs = append(errs, fmt.Errorf("%q: no wildcard; list the exact origins (the API takes credentials in Authorization)", o))
		case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Scheme+"://"+u.Host != o:
			errs = append(errs, fmt.Errorf("%q: want an origin, scheme://host[:port] without path, e.g. https://soc.example.com", o))
		}
	}
	return errors.Join(errs...)
}

// corsOptions is what the API allows a cross-origin caller: its methods, the request headers
// its clients send and the response headers they read. AllowCredentials stays off: credentials
// travel in Authorization, an allowed header, never in cookies.
func corsOptions(origins []string) cors.Options {
	return cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
		AllowedHeaders: []string{"Authorization", "Content-Type", "Idempotency-Key", "If-Match", "If-None-Match",
			"X-Request-Id", "X-Min-Position", "traceparent"},
		ExposedHeaders: []string{"ETag", "Location", "Retry-After", "RateLimit", "RateLimit-Policy", "X-Request-Id",
			"Soc-Read-Position", "X-Cache"},
		MaxAge: int((10 * time.Minute).Seconds()),
	}
}

// hotKeyCORSOrigins is the KV setting (a JSON list of origins) that replaces --cors-origins live.
const hotKeyCORSOrigins = "cors_origins"

// corsHandler is the node's CORS layer in front of its router. Preflights (OPTIONS with
// Access-Control-Request-Method) are answered here, before authorize: a browser sends them
// without credentials. Its origins change while the node serves (Consul KV).
type corsHandler struct {
	next    http.Handler
	flag    []string                  // --cors-origins, in force while no target's KV sets the key
	current atomic.Pointer[corsState] // the handler in force, swapped whole

	mu   sync.Mutex
	byKV map[string][]string // cors_origins by target, as last applied
	log  *slog.Logger
}

// corsState is one generation of the layer: its origins and the handler serving with them.
type corsState struct {
	origins []string
	h       http.Handler
}

func newCORSHandler(next http.Handler, origins []string, log *slog.Logger) *corsHandler {
	c := &corsHandler{next: next, flag: origins, byKV: map[string][]string{}, log: log}
	c.set(origins)
	return c
}

func (c *corsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.current.Load().h.ServeHTTP(w, r)
}

// set puts origins in force; none: CORS off, the router answers alone (rs/cors would take an
// empty list for "every origin").
func (c *corsHandler) set(origins []string) {
	h := c.next
	if len(origins) > 0 {
		h = cors.New(corsOptions(origins)).Handler(c.next)
	}
	c.current.Store(&corsState{origins: origins, h: h})
}

// apply takes target's cors_origins. The node has one listener for all its targets, so the
// origins in force are those any of their configurations allows, or --cors-origins
// when none sets the key. A bad value is refused with a warning and the origins in force stay.
func (c *corsHandler) apply(target string, m map[string]json.RawMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if raw, ok := m[hotKeyCORSOrigins]; !ok {
		delete(c.byKV, target)
	} else {
		var origins []string
		err := json.Unmarshal(raw, &origins)
		if err != nil {
			err = errors.New("want a JSON list of origins")
		} else {
			err = validateOrigins(origins)
		}
		if err != nil {
			c.log.Warn("hot configuration refused; the CORS origins in force are kept", "target", target, "key", hotKeyCORSOrigins, "err", err)
			return
		}
		c.byKV[target] = origins
	}
	want := c.flag
	if len(c.byKV) > 0 {
		want = slices.Concat(slices.Collect(maps.Values(c.byKV))...)
		slices.Sort(want)
		want = slices.Compact(want)
	}
	if !slices.Equal(want, c.current.Load().origins) {
		c.set(want)
		c.log.Info("CORS origins changed", "origins", strings.Join(want, ","), "source", "consul")
	}
}

// withCORS wraps the node's router in its CORS layer and subscribes it to the cors_origins of
// every target the node runs (all share the router).
func (a *app) withCORS(router http.Handler) http.Handler {
	c := newCORSHandler(router, a.cfg.CORS.Origins, a.log)
	for _, t := range runningTargets(a.cfg) {
		a.onConfig(t, []string{hotKeyCORSOrigins}, func(m map[string]json.RawMessage) { c.apply(t, m) })
	}
	return c
}
