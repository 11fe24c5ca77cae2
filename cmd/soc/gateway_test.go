package main

import (
	"github.com/socplatform/soc/cmd/soc/internal/principalsig"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/cmd/soc/internal/gateway"
	"github.com/socplatform/soc/cmd/soc/internal/ratelimit"
	"github.com/socplatform/soc/schemas/access"
	"github.com/spf13/pflag"
)

// TestGatewayRateLimitsThroughARealNode: with the gateway target in the node (--target=all),
// requests are limited per verified principal, a class with its own limit has its own budget,
// probes are never limited, and every answer has a request id.
func TestGatewayRateLimitsThroughARealNode(t *testing.T) {
	cfg := allTargetsConfig(t)
	cfg.RateLimit = ratelimit.Config{RequestsPerMinute: 3, FailMode: ratelimit.FailOpen, ClassLimits: "admin=2"}
	base, admin, _ := signedInNode(t, cfg) // the sign-in counts against the address, not the admin
	for i := range 3 {
		r := call(t, http.MethodGet, base+"/v1/assets", admin, "")
		if r.status != http.StatusOK || !gateway.ValidRequestID(r.header.Get(gateway.RequestIDHeader)) {
			t.Fatalf("read %d: %d, request id %q", i+1, r.status, r.header.Get(gateway.RequestIDHeader))
		}
	}
	r := call(t, http.MethodGet, base+"/v1/findings", admin, "")
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || r.header.Get("RateLimit-Policy") != `"default";q=3;w=60` ||
		r.header.Get(gateway.RequestIDHeader) == "" {
		t.Fatalf("fourth read: %d %v %s, want 429 with Retry-After and the policy", r.status, r.header, r.body)
	}
	// The admin class has a budget of its own.
	for i := range 2 {
		if r := call(t, http.MethodGet, base+"/v1/users", admin, ""); r.status != http.StatusOK || r.header.Get("RateLimit-Policy") != `"class:admin";q=2;w=60` {
			t.Fatalf("admin call %d: %d %q", i+1, r.status, r.header.Get("RateLimit-Policy"))
		}
	}
	if r := call(t, http.MethodGet, base+"/v1/users", admin, ""); r.status != http.StatusTooManyRequests {
		t.Fatalf("third admin call: %d, want 429", r.status)
	}
	for range 5 {
		if r := call(t, http.MethodGet, base+"/healthz", "", ""); r.status != http.StatusOK || r.header.Get("RateLimit") != "" {
			t.Fatalf("probe: %d %v", r.status, r.header)
		}
	}
	// A client-chosen request id is kept when well formed.
	req, _ := http.NewRequest(http.MethodGet, base+"/healthz", nil)
	req.Header.Set(gateway.RequestIDHeader, "trace-me-42")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get(gateway.RequestIDHeader); got != "trace-me-42" {
		t.Fatalf("request id %q", got)
	}
}

// gatewayInFront starts upstream (commands, query, projections) from upCfg and a
// `--target=gateway` node in front of it (--upstreams) from gwCfg; both verify the same signing
// keys. It returns the upstream's and the gateway's base URLs and the admin's token.
func gatewayInFront(t *testing.T, upCfg, gwCfg *Config) (upBase, gw, admin string) {
	t.Helper()
	keys := filepath.Join(t.TempDir(), "keys")
	gwKey := filepath.Join(t.TempDir(), "gateway.key")
	if _, err := principalsig.LoadOrCreateSigner(gwKey); err != nil {
		t.Fatal(err)
	}
	upCfg.Targets = []string{"commands", "query", "projections"}
	upCfg.JWTKeyDir = keys
	upCfg.TrustGatewayKeys = []string{gwKey + ".pub"}
	upBase, admin, _ = signedInNode(t, upCfg)
	gwCfg.Targets = []string{"gateway"}
	gwCfg.JWTKeyDir = keys
	gwCfg.GatewayConfig = GatewayConfig{Upstreams: "commands=" + upBase + ",query=" + upBase, BreakerFailures: 5, BreakerOpenFor: time.Second,
		Retries: 2, MaxConcurrent: 16, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, ImportTimeout: time.Minute, CacheBytes: 1 << 20,
		GatewayKey: gwKey}
	addr, _ := serveInProcess(t, gwCfg)
	return upBase, "http://" + addr, admin
}

// TestGatewayTargetProxiesToUpstreams: `--target=gateway` alone answers its own probes,
// refuses an unauthenticated read itself, proxies public routes, and answers 503 naming a
// target without instances. Each node has its own SQLite store here, so the gateway does not
// know the upstream's sessions: signed-in requests are TestGatewayTargetOnPostgres's.
func TestGatewayTargetProxiesToUpstreams(t *testing.T) {
	upBase, gw, admin := gatewayInFront(t, allTargetsConfig(t), allTargetsConfig(t))
	if r := call(t, http.MethodGet, gw+"/healthz", "", ""); r.status != http.StatusOK {
		t.Fatalf("the gateway's own probe: %d", r.status)
	}
	direct := call(t, http.MethodGet, upBase+"/openapi.json", "", "")
	proxied := call(t, http.MethodGet, gw+"/openapi.json", "", "")
	if proxied.status != http.StatusOK || proxied.body != direct.body || proxied.header.Get("X-Cache") == "" {
		t.Fatalf("public read through the gateway: %d X-Cache=%q (%d bytes, direct %d)", proxied.status, proxied.header.Get("X-Cache"), len(proxied.body), len(direct.body))
	}
	if r := call(t, http.MethodGet, gw+"/v1/assets", "", ""); r.status != http.StatusUnauthorized {
		t.Fatalf("anonymous read through the gateway: %d, want 401 from the gateway", r.status)
	}
	// Signing in is public: the gateway forwards it to the commands target.
	if tok := login(t, gw, testAdminEmail, testAdminPassword); tok == "" || tok == admin {
		t.Fatal("sign-in through the gateway gave no new token")
	}
}

// TestGatewayTargetOnPostgres: sharing the event store, the gateway authenticates the
// upstream's sessions and proxies signed-in requests; a target without instances gets 503
// naming it.
func TestGatewayTargetOnPostgres(t *testing.T) {
	pgURL := requireServer(t, "SOC_TEST_POSTGRES_URL")
	suffix := randomSuffix()
	schema, upRead, gwRead := "gw_"+suffix, "gw_read_up_"+suffix, "gw_read_gw_"+suffix
	t.Cleanup(func() { dropSchema(t, pgURL, schema); dropSchema(t, pgURL, upRead); dropSchema(t, pgURL, gwRead) })
	upCfg, gwCfg := allTargetsConfig(t), allTargetsConfig(t)
	for c, read := range map[*Config]string{upCfg: upRead, gwCfg: gwRead} {
		c.PostgresURL, c.PostgresSchema, c.ReadSchema = pgURL, schema, read
	}
	_, gw, admin := gatewayInFront(t, upCfg, gwCfg)
	deadline := time.Now().Add(30 * time.Second)
	for { // the gateway's identity module follows the store: it learns the session shortly
		r := call(t, http.MethodGet, gw+"/v1/assets", admin, "")
		if r.status == http.StatusOK {
			break
		}
		if r.status != http.StatusUnauthorized || time.Now().After(deadline) {
			t.Fatalf("signed-in read through the gateway: %d %s", r.status, r.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := call(t, http.MethodGet, gw+"/v1/notifications", admin, ""); r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "upstream notifier") {
		t.Fatalf("a target without instances: %d %s", r.status, r.body)
	}
}

// The cache key never lets one principal see another's answer: team-scoped principals are
// keyed by their actor as well, anonymous callers share public routes only.
func TestGatewayCacheScope(t *testing.T) {
	req := func(pattern string, p *access.Principal) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/x", nil)
		r.Pattern = pattern
		if p != nil {
			r = r.WithContext(access.With(r.Context(), *p))
		}
		return r
	}
	admin1 := access.Principal{Kind: access.KindUser, ID: "a1", Perms: access.Permissions()}
	admin2 := access.Principal{Kind: access.KindUser, ID: "a2", Perms: access.Permissions()}
	red1 := access.Principal{Kind: access.KindUser, ID: "r1", Perms: []access.Permission{access.FindingsRead}, Teams: []string{"red"}}
	red2 := access.Principal{Kind: access.KindUser, ID: "r2", Perms: []access.Permission{access.FindingsRead}, Teams: []string{"red"}}
	blue := access.Principal{Kind: access.KindUser, ID: "r1", Perms: []access.Permission{access.FindingsRead}, Teams: []string{"blue"}}
	const route = "GET /v1/findings"
	if cacheScope(req(route, &admin1)) != cacheScope(req(route, &admin2)) {
		t.Error("two principals seeing every team with the same permissions do not share answers")
	}
	keys := map[string]bool{}
	for _, p := range []*access.Principal{&admin1, &red1, &red2, &blue} {
		keys[cacheScope(req(route, p))] = true
	}
	if len(keys) != 4 {
		t.Errorf("team-scoped principals share a cache key: %v", keys)
	}
	if s := cacheScope(req(route, nil)); s != "" {
		t.Errorf("anonymous on a non-public route: %q, want no cache", s)
	}
	if s := cacheScope(req("GET /openapi.json", nil)); s != "public" {
		t.Errorf("anonymous on a public route: %q", s)
	}
}

func TestGatewayConfigValidate(t *testing.T) {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	var cfg Config
	bindFlags(fs, &cfg, true)
	if err := fs.Parse([]string{"--upstreams", "commands=http://a:1,query=http://b:2;http://c:3", "--rate-limit-classes", "import=600"}); err != nil {
		t.Fatal(err)
	}
	if err := cfg.GatewayConfig.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if cfg.gatewayKeyPath() != filepath.Join(cfg.DataDir, "keys", "gateway.key") {
		t.Errorf("gateway key %q", cfg.gatewayKeyPath())
	}
	bad := cfg.GatewayConfig
	bad.Upstreams, bad.BreakerFailures, bad.Retries, bad.MaxConcurrent, bad.ReadTimeout, bad.CacheBytes = "query=b:2", 0, -1, 0, 0, -1
	err := bad.Validate()
	for _, want := range []string{"--upstreams/SOC_UPSTREAMS", "--gateway-breaker-failures/", "--gateway-retries/", "--gateway-max-concurrent/",
		"--gateway-read-timeout/SOC_GATEWAY_READ_TIMEOUT", "--gateway-cache-size/"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v does not name %s", err, want)
		}
	}
}
