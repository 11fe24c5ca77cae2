package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/socplatform/soc/cmd/soc/internal/consul"
	"github.com/socplatform/soc/cmd/soc/internal/gateway"
	"github.com/socplatform/soc/cmd/soc/internal/modules"
	"github.com/socplatform/soc/cmd/soc/internal/principalsig"
	"github.com/socplatform/soc/cmd/soc/internal/ratelimit"
	"github.com/socplatform/soc/schemas/access"
)

// The gateway target. In a node that runs it, every request passes the in-process chain:
// request id → access log and metrics (Observe, around the whole router) → authorize
// (authz.go, once) → rate limit (around each route's handler, so it is keyed by the verified
// principal and knows the route's class). Routes whose target runs in the same node are served
// there; the node registers every other declared route of the commands, query and notifier
// targets as a proxy to their instances (--upstreams), behind the GET response cache for the
// query target's routes. /healthz, /readyz, /metrics and /v1/ws-tickets are the node's own.

const targetGateway = "gateway"

// gatewayFronts are the targets whose routes a gateway serves or proxies.
var gatewayFronts = []string{onCommands, onQuery, onNotifier}

// GatewayConfig is the gateway target's configuration.
type GatewayConfig struct {
	// Upstreams is "target=url;url,target=url": where the targets this node does not run are
	// served (gateway.ParseStatic).
	Upstreams string
	// GatewayKey is the Ed25519 key signing the principal forwarded upstream ("":
	// <data>/keys/gateway.key).
	GatewayKey      string
	BreakerFailures int
	BreakerOpenFor  time.Duration
	Retries         int
	MaxConcurrent   int
	ReadTimeout     time.Duration
	WriteTimeout    time.Duration
	ImportTimeout   time.Duration
	CacheBytes      int64
	RateLimit       ratelimit.Config
}

func (c *GatewayConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Upstreams, "upstreams", "", "static upstream instances of the gateway: target=url[;url…] separated by commas, e.g. commands=http://a:8080,query=http://b:8080;http://c:8080")
	fs.StringVar(&c.GatewayKey, "gateway-key", "", "Ed25519 private key (PEM) signing the principal the gateway forwards upstream (created when absent, its public key beside it as .pub); empty: <data>/keys/gateway.key")
	fs.IntVar(&c.BreakerFailures, "gateway-breaker-failures", 5, "consecutive failures (5xx, transport errors) that open an upstream instance's circuit breaker")
	fs.DurationVar(&c.BreakerOpenFor, "gateway-breaker-open", 10*time.Second, "how long an open breaker fails fast before it lets a probe through")
	fs.IntVar(&c.Retries, "gateway-retries", 2, "retries of an idempotent request (GET, HEAD, or with Idempotency-Key) after a transport error or 502/503/504; 0: none")
	fs.IntVar(&c.MaxConcurrent, "gateway-max-concurrent", 256, "requests in flight to one upstream target before the gateway answers 503 (bulkhead)")
	fs.DurationVar(&c.ReadTimeout, "gateway-read-timeout", 30*time.Second, "timeout of a proxied read")
	fs.DurationVar(&c.WriteTimeout, "gateway-write-timeout", 30*time.Second, "timeout of a proxied write (commands, admin, sign-in)")
	fs.DurationVar(&c.ImportTimeout, "gateway-import-timeout", 10*time.Minute, "timeout of a proxied scanner report import")
	fs.Int64Var(&c.CacheBytes, "gateway-cache-size", 64<<20, "bytes of GET answers the gateway caches; 0: no cache")
	c.RateLimit.RegisterFlags(fs)
}

func (c *GatewayConfig) Validate() error {
	errs := []error{c.RateLimit.Validate()}
	if _, err := gateway.ParseStatic(c.Upstreams); err != nil {
		errs = append(errs, fmt.Errorf("--upstreams/SOC_UPSTREAMS: %w", err))
	}
	if c.BreakerFailures < 1 {
		errs = append(errs, errors.New("--gateway-breaker-failures/SOC_GATEWAY_BREAKER_FAILURES: must be at least 1"))
	}
	if c.Retries < 0 || c.Retries > 10 {
		errs = append(errs, errors.New("--gateway-retries/SOC_GATEWAY_RETRIES: must be between 0 and 10"))
	}
	if c.MaxConcurrent < 1 {
		errs = append(errs, errors.New("--gateway-max-concurrent/SOC_GATEWAY_MAX_CONCURRENT: must be at least 1"))
	}
	for name, d := range map[string]time.Duration{"gateway-breaker-open": c.BreakerOpenFor, "gateway-read-timeout": c.ReadTimeout,
		"gateway-write-timeout": c.WriteTimeout, "gateway-import-timeout": c.ImportTimeout} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("--%s/%s: must be a positive duration", name, "SOC_"+strings.ToUpper(strings.ReplaceAll(name, "-", "_"))))
		}
	}
	if c.CacheBytes < 0 {
		errs = append(errs, errors.New("--gateway-cache-size/SOC_GATEWAY_CACHE_SIZE: must not be negative"))
	}
	return errors.Join(errs...)
}

// gatewayKeyPath is where the principal-signing key lives.
func (c *Config) gatewayKeyPath() string {
	if c.GatewayKey != "" {
		return c.GatewayKey
	}
	return filepath.Join(c.DataDir, "keys", "gateway.key")
}

// gatewayNode is what the gateway chain of a node holds.
type gatewayNode struct {
	metrics *gateway.Metrics
	limiter *ratelimit.Middleware
}

// mountGateway sets up the in-process chain when the node runs the gateway target: it makes
// every route the node registers pass the rate limiter, and returns what wraps the router
// (request id, access log, metrics). Without the gateway target both are the identity.
func mountGateway(a *app, order []string) (front func(http.Handler) http.Handler, err error) {
	if !slices.Contains(order, targetGateway) {
		return func(h http.Handler) http.Handler { return h }, nil
	}
	g := &gatewayNode{metrics: gateway.NewMetrics(a.metrics)}
	// The limiter exists even when --rate-limit is 0 (its policy then limits nothing), so that
	// hot-reloaded configuration can turn limiting on (limiter.SetPolicy).
	rl := &a.cfg.RateLimit
	lim, closeFn, err := rl.Open()
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, func() { _ = closeFn() })
	g.limiter = &ratelimit.Middleware{Limiter: lim, FailClosed: rl.FailMode == ratelimit.FailClosed, Log: a.log,
		Key: limitKey, Class: func(r *http.Request) string { return routeClass(r.Pattern) }, Roles: principalRoles,
		OnError: g.metrics.LimiterFailed, OnReject: g.metrics.RateLimited}
	g.limiter.SetPolicy(rl.Policy())
	a.onConfig(targetGateway, hotRateLimitKeys, func(kv map[string]json.RawMessage) { g.applyHotLimits(a, kv) })
	a.gateway = g
	a.mux.around = g.route
	return func(h http.Handler) http.Handler { return gateway.Observe(a.log, g.metrics, h) }, nil
}

// route wraps one route's handler: it tells the access log the route and the principal, and
// rate-limits it.
func (g *gatewayNode) route(h http.Handler) http.Handler {
	h = g.limiter.Wrap(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if info := gateway.InfoFrom(r.Context()); info != nil {
			info.Route = r.Pattern
			if p, ok := access.From(r.Context()); ok {
				info.Actor = p.Actor()
			}
		}
		h.ServeHTTP(w, r)
	})
}

// limitKey names the client of a request for the rate limiter: the verified principal (set by
// authorize before the route's handler runs), else the source address. Probes are never
// limited: balancers and Consul call them every second.
func limitKey(r *http.Request) string {
	if routeClass(r.Pattern) == "probe" {
		return ""
	}
	if p, ok := access.From(r.Context()); ok && p.ID != "" {
		return "actor:" + p.Actor()
	}
	return ratelimit.SourceAddress(r)
}

func principalRoles(r *http.Request) []string {
	p, _ := access.From(r.Context())
	return p.Roles
}

// startGateway registers, for every declared route whose target this node does not run, a
// proxy to that target's instances. It starts after the local targets (After), and leaves alone
// any route one of them registered.
func startGateway(ctx context.Context, a *app, _ inputs) (any, readiness, error) {
	remote := map[string]bool{} // a target is never pulled in by another: the list is the node's
	for _, t := range gatewayFronts {
		remote[t] = !slices.Contains(a.cfg.Targets, modules.All) && !slices.Contains(a.cfg.Targets, t)
	}
	if !remote["commands"] && !remote["query"] && !remote["notifier"] {
		return nil, nil, nil // the in-process chain (mountGateway) is all there is to it
	}
	ups, err := gatewayDiscovery(ctx, a, remote)
	if err != nil {
		return nil, nil, err
	}
	signer, err := principalsig.LoadOrCreateSigner(a.cfg.gatewayKeyPath())
	if err != nil {
		return nil, nil, fmt.Errorf("--gateway-key: %w", err)
	}
	g := a.gateway
	proxy := gateway.NewProxy(gateway.Config{
		Discovery: ups,
		Route: func(r *http.Request) (string, string, string) {
			return r.Pattern, routeTarget(r.Pattern), routeClass(r.Pattern)
		},
		Sign:            signPrincipal(signer),
		BreakerFailures: uint32(a.cfg.BreakerFailures),
		BreakerOpenFor:  a.cfg.BreakerOpenFor,
		Retries:         retriesFlag(a.cfg.Retries),
		MaxConcurrent:   a.cfg.MaxConcurrent,
		Timeouts: map[string]time.Duration{"read": a.cfg.ReadTimeout, "probe": a.cfg.ReadTimeout, "write": a.cfg.WriteTimeout,
			"auth": a.cfg.WriteTimeout, "admin": a.cfg.WriteTimeout, "import": a.cfg.ImportTimeout},
		Metrics: g.metrics,
		Log:     a.log,
	})
	var cached http.Handler = proxy
	if a.cfg.CacheBytes > 0 {
		cache := gateway.NewCache(a.cfg.CacheBytes, g.metrics)
		cached = cache.Wrap(cacheScope, proxy)
		// An event applied while no request passes must still end the entries read before it:
		// one long poll on the query target keeps the cache's position current.
		watcher := &gateway.PositionWatcher{Cache: cache, Handler: proxy, Log: a.log, Prepare: func(r *http.Request) *http.Request {
			r.Pattern = readPositionRoute
			// No permission: the long poll needs a principal, nothing more.
			return r.WithContext(access.With(r.Context(), access.Principal{Kind: access.KindSystem, ID: "gateway", Name: "gateway"}))
		}}
		a.wg.Add(1)
		go func() { defer a.wg.Done(); watcher.Run(ctx) }()
	}
	n := 0
	served := a.mux.Patterns()
	for _, pattern := range declaredPatterns() {
		t := routeTarget(pattern)
		if !remote[t] || slices.Contains(served, pattern) {
			continue
		}
		h := http.Handler(proxy)
		if t == "query" {
			h = cached
		}
		a.mux.Handle(pattern, h)
		n++
	}
	a.log.Info("gateway proxying", "routes", n, "upstreams", a.cfg.Upstreams, "consul", a.cfg.Consul.Enabled())
	return nil, nil, nil
}

// gatewayDiscovery finds the instances of the targets the node proxies: --upstreams when given
// (fixed addresses), else Consul's passing instances of soc-<target>, followed with blocking
// queries so a killed instance leaves the rotation as soon as its health check fails.
func gatewayDiscovery(ctx context.Context, a *app, remote map[string]bool) (gateway.Discovery, error) {
	if a.cfg.Upstreams != "" {
		return gateway.ParseStatic(a.cfg.Upstreams)
	}
	if !a.cfg.Consul.Enabled() {
		return nil, errors.New("the gateway target proxies commands, query and notifier when they do not run in this node: give --upstreams or --consul-addr")
	}
	var targets []string
	for t, r := range remote {
		if r {
			targets = append(targets, t)
		}
	}
	slices.Sort(targets)
	w, err := a.consulDiscovery(ctx, targets)
	if err != nil {
		return nil, err
	}
	return &consulInstances{w: w}, nil
}

// consulInstances adapts the Consul watcher to gateway.Discovery, parsing each instance's URL
// once (the proxy asks on every request).
type consulInstances struct {
	w      *consul.Watcher
	parsed sync.Map // URL string → *url.URL
}

func (c *consulInstances) Instances(target string) []gateway.Instance {
	found := c.w.TargetInstances(target)
	out := make([]gateway.Instance, 0, len(found))
	for _, in := range found {
		u, ok := c.parsed.Load(in.URL)
		if !ok {
			pu, err := url.Parse(in.URL)
			if err != nil || pu.Host == "" {
				continue // a registration nobody can reach; the registrar never writes one
			}
			u, _ = c.parsed.LoadOrStore(in.URL, pu)
		}
		out = append(out, gateway.Instance{ID: in.ID, URL: u.(*url.URL)})
	}
	return out
}

// Hot rate limits: Consul KV config/soc/gateway may set rate_limit (per minute, 0 = off),
// rate_limit_classes and rate_limit_roles (objects name → per minute); a key left out keeps
// its flag's value. An invalid value is logged and the policy in force is kept.
var hotRateLimitKeys = []string{"rate_limit", "rate_limit_classes", "rate_limit_roles"}

func (g *gatewayNode) applyHotLimits(a *app, kv map[string]json.RawMessage) {
	p := a.cfg.RateLimit.Policy()
	bad := func(key string, err error) {
		a.log.Warn("hot configuration refused; the rate limits in force are kept", "key", key, "err", err)
	}
	if raw, ok := kv["rate_limit"]; ok {
		if err := json.Unmarshal(raw, &p.Default); err != nil || p.Default < 0 || p.Default > ratelimit.MaxRequests {
			bad("rate_limit", fmt.Errorf("want an integer between 0 and %d", ratelimit.MaxRequests))
			return
		}
	}
	for key, into := range map[string]*map[string]int{"rate_limit_classes": &p.Classes, "rate_limit_roles": &p.Roles} {
		raw, ok := kv[key]
		if !ok {
			continue
		}
		var m map[string]int
		if err := json.Unmarshal(raw, &m); err != nil {
			bad(key, errors.New("want an object of name → requests per minute"))
			return
		}
		for name, n := range m {
			if n < 0 || n > ratelimit.MaxRequests {
				bad(key, fmt.Errorf("%s: want between 0 and %d", name, ratelimit.MaxRequests))
				return
			}
		}
		*into = m
	}
	g.limiter.SetPolicy(p)
	a.log.Info("rate limits changed", "default_per_minute", p.Default, "classes", p.Classes, "roles", p.Roles)
}

// readPositionRoute is the query target's long poll the gateway's cache follows.
const readPositionRoute = "GET /v1/read-position"

// signPrincipal forwards the verified principal of a request to its upstream, signed
// (principalsig): upstreams started with --trust-gateway-key take it instead of
// authenticating again. An anonymous request (a public route) forwards none. The token is the
// principal's, reused across its requests (the request id travels in X-Request-Id).
func signPrincipal(s *principalsig.Signer) func(*http.Request) (string, error) {
	return func(r *http.Request) (string, error) {
		p, ok := access.From(r.Context())
		if !ok {
			return "", nil
		}
		return s.Sign(p)
	}
}

// retriesFlag maps --gateway-retries (0: none) to gateway.Config.Retries (0: the default).
func retriesFlag(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// cacheScope keys the gateway cache by what decides an answer's content: the permission set
// and team scope, and the actor when team-scoped (an answer may then hold what is assigned to
// them). An anonymous caller shares public answers only.
func cacheScope(r *http.Request) string {
	p, ok := access.From(r.Context())
	if !ok {
		if rule, _ := ruleFor(r.Pattern); rule.kind == rulePublic {
			return "public"
		}
		return ""
	}
	perms := make([]string, len(p.Perms))
	for i, perm := range p.Perms {
		perms[i] = string(perm)
	}
	slices.Sort(perms)
	scope := "*"
	if s := p.Scope(); s != nil {
		slices.Sort(s)
		scope = strings.Join(s, ",") + "|" + p.Actor()
	}
	return strings.Join(perms, ",") + "|" + scope + "|" + p.Definition
}
