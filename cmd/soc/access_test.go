package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/identity/tokens"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/sagas"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// expiredBearer names, among the callers of TestRoutesByRole, an expired access token.
const expiredBearer = "expired"

// roleNode is a full node in this process with the real identity context: a bootstrapped
// admin and, created through the API, one user per built-in role.
type roleNode struct {
	base     string
	patterns []string
	// tokens are access tokens by "role-<role>", and expiredBearer's: the admin's session
	// signed with the node's own key by a keyring whose clock runs an hour behind.
	tokens map[string]string
	ids    map[string]string // user ids by role
}

// authNode starts a roleNode.
func authNode(t *testing.T, cfg *Config) roleNode {
	t.Helper()
	base, admin, patterns := signedInNode(t, cfg)
	n := roleNode{base: base, patterns: patterns, tokens: map[string]string{"role-" + access.RoleAdmin: admin}, ids: map[string]string{}}
	var me struct {
		ID        string `json:"id"`
		SessionID string `json:"session_id"`
	}
	r := call(t, http.MethodGet, base+"/v1/me", admin, "")
	if err := json.Unmarshal([]byte(r.body), &me); err != nil || me.ID == "" {
		t.Fatalf("GET /v1/me: %d %s", r.status, r.body)
	}
	n.ids[access.RoleAdmin] = me.ID
	for _, role := range access.BuiltinRoles() {
		if role == access.RoleAdmin {
			continue
		}
		email := role + "@example.com"
		body, _ := json.Marshal(map[string]any{"email": email, "password": testAdminPassword, "roles": []string{role}})
		r := call(t, http.MethodPost, base+"/v1/users", admin, string(body))
		var u struct{ ID string }
		if r.status != http.StatusCreated || json.Unmarshal([]byte(r.body), &u) != nil {
			t.Fatalf("creating the %s: %d %s", role, r.status, r.body)
		}
		n.ids[role] = u.ID
		n.tokens["role-"+role] = login(t, base, email, testAdminPassword)
	}
	late, err := tokens.OpenKeyring(tokens.KeyConfig{Dir: cfg.keyDir(), Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, AccessTTL: time.Minute},
		func() time.Time { return time.Now().Add(-time.Hour) })
	if err != nil {
		t.Fatal(err)
	}
	session := sessionOf(t, base, admin)
	if n.tokens[expiredBearer], _, err = late.Issue(me.ID, session); err != nil {
		t.Fatal(err)
	}
	return n
}

// sessionOf is the id of the session the access token belongs to (the caller's only one).
func sessionOf(t *testing.T, base, token string) string {
	t.Helper()
	r := call(t, http.MethodGet, base+"/v1/me/sessions", token, "")
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(r.body), &page); err != nil || len(page.Items) != 1 {
		t.Fatalf("GET /v1/me/sessions: %d %s", r.status, r.body)
	}
	return page.Items[0].ID
}

// rolePrincipal is a principal holding the built-in role (what a user of it is granted).
func rolePrincipal(role string) access.Principal {
	perms, _ := access.RolePermissions(role)
	return access.Principal{Kind: access.KindUser, ID: role + "-id", Name: role + "@example.com", Roles: []string{role}, Perms: perms}
}

type reply struct {
	status int
	header http.Header
	body   string
}

func call(t *testing.T, method, url, bearer, body string) reply {
	t.Helper()
	return callWith(t, method, url, bearer, body, nil)
}

// callWith is call with more request headers.
func callWith(t *testing.T, method, url, bearer, body string, header http.Header) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(b)}
}

var wildcardRe = regexp.MustCompile(`\{[a-z_]+\.{0,3}\}`)

// requestOf turns a ServeMux pattern into a request that matches it: wildcards get a
// placeholder; "/" (no route) an unknown path.
func requestOf(pattern string) (method, path string) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = http.MethodGet, pattern
	}
	if path == "/" {
		return method, "/no-such-route"
	}
	return method, wildcardRe.ReplaceAllString(path, "placeholder")
}

// TestEveryRouteIsDeclared: every pattern a full node registers has a declaration (Handle
// would have panicked otherwise), and every declaration is of a served route; the routes
// declared ahead of their module are checked all or none, group by group.
func TestEveryRouteIsDeclared(t *testing.T) {
	_, patterns := serveInProcess(t, allTargetsConfig(t))
	served := map[string]bool{}
	for _, p := range patterns {
		if _, ok := ruleFor(p); !ok {
			t.Errorf("route %q has no access declaration", p)
		}
		served[p] = true
	}
	for p := range routeRules {
		if !served[p] {
			t.Errorf("the access declaration of %q matches no route a node serves", p)
		}
	}
	seen := map[string]string{}
	for p := range routeRules {
		seen[p] = "routeRules"
	}
	for name, group := range aheadRoutes {
		var on, off []string
		for p := range group {
			if other, dup := seen[p]; dup {
				t.Errorf("%q is declared in both %s and %s", p, other, name)
			}
			seen[p] = name
			if served[p] {
				on = append(on, p)
			} else {
				off = append(off, p)
			}
		}
		if len(on) > 0 && len(off) > 0 {
			slices.Sort(off)
			t.Errorf("%s: the node serves %d of its routes but not %v, which are declared", name, len(on), off)
		}
	}
	if len(served) < 30 {
		t.Fatalf("suspiciously few routes: %v", patterns)
	}
}

// TestEveryTargetServesItsDeclaredRoutes starts each target that runs alone and checks the
// declared targets (contract 3 of issue 14) against what it registers: every pattern it serves is
// declared with it or as a node route, and it serves every route declared with it. A gateway
// routes by this table, so a route moved to another target without its declaration fails here.
func TestEveryTargetServesItsDeclaredRoutes(t *testing.T) {
	classes := []string{classProbe, classRead, classWrite, classImport, classAuth, classAdmin, classWS}
	declaredTargets := map[string]bool{}
	for _, p := range declaredPatterns() {
		if !slices.Contains(classes, routeClass(p)) {
			t.Errorf("%q: class %q is not one of %v", p, routeClass(p), classes)
		}
		if tg := routeTarget(p); tg != onNode {
			if !slices.Contains(targetNames(), tg) {
				t.Errorf("%q: target %q is not a target of soc serve", p, tg)
			}
			declaredTargets[tg] = true
		}
	}
	if routeTarget("GET /no-such-pattern") != "" || routeClass("GET /no-such-pattern") != "" {
		t.Error("an undeclared pattern has a target or class")
	}
	kafka := os.Getenv("SOC_TEST_KAFKA_BROKERS") != ""
	started := map[string]bool{}
	for _, target := range targetNames() {
		m := platformByName[target]
		if (m.needsKafka && !kafka) || slices.ContainsFunc(m.Deps, func(d string) bool { return platformByName[d].Target }) {
			continue // it cannot run alone here; no route may be declared with it (checked below)
		}
		started[target] = true
		t.Run(target, func(t *testing.T) {
			cfg := allTargetsConfig(t)
			cfg.Targets = []string{target}
			if target == targetGateway {
				// Alone, it proxies the routes of the targets it fronts: to nothing here.
				cfg.Upstreams = "commands=http://127.0.0.1:9,query=http://127.0.0.1:9,notifier=http://127.0.0.1:9"
			}
			_, patterns := serveInProcess(t, cfg)
			// A gateway alone serves, by proxy, every route of the targets it fronts.
			ours := func(tg string) bool {
				return tg == target || tg == onNode || (target == targetGateway && slices.Contains(gatewayFronts, tg))
			}
			served := map[string]bool{}
			for _, p := range patterns {
				served[p] = true
				if tg := routeTarget(p); !ours(tg) {
					t.Errorf("--target=%s serves %q, declared with target %q", target, p, tg)
				}
			}
			for _, p := range declaredPatterns() {
				if tg := routeTarget(p); ours(tg) && !served[p] {
					t.Errorf("%q is declared with target %s but --target=%s does not serve it", p, tg, target)
				}
			}
		})
	}
	for tg := range declaredTargets {
		if !started[tg] {
			t.Errorf("routes are declared with target %s, which this test could not start alone", tg)
		}
	}
}

func TestUndeclaredRouteRefusedAtStart(t *testing.T) {
	defer func() {
		if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), `"GET /v1/undeclared"`) {
			t.Fatalf("an undeclared route was registered (panic %v)", p)
		}
	}()
	newRoutes().HandleFunc("GET /v1/undeclared", func(http.ResponseWriter, *http.Request) {})
}

// TestRoutesByRole walks every route a full node serves × every built-in role, anonymous and
// an expired token, and checks the outcome its declaration implies: 401 without a (valid)
// credential, 403 without the permission, neither otherwise (the handler may then refuse the
// placeholder request with 400/404/422: only the access outcome is asserted).
func TestRoutesByRole(t *testing.T) {
	n := authNode(t, allTargetsConfig(t))
	base := n.base
	callers := append(access.BuiltinRoles(), "anonymous", expiredBearer)
	for _, pattern := range n.patterns {
		ru, ok := ruleFor(pattern)
		if !ok {
			t.Fatalf("%q has no declaration", pattern)
		}
		method, path := requestOf(pattern)
		for _, who := range callers {
			bearer := n.tokens["role-"+who]
			switch who {
			case "anonymous":
				bearer = ""
			case expiredBearer:
				bearer = n.tokens[expiredBearer]
			}
			want := "served"
			switch {
			case ru.kind == rulePublic:
			case who == "anonymous" || who == expiredBearer:
				want = "401"
			case ru.kind == rulePermission && !rolePrincipal(who).Can(ru.perm):
				want = "403"
			}
			r := call(t, method, base+path, bearer, "")
			got := "served"
			if r.status == http.StatusUnauthorized || r.status == http.StatusForbidden {
				got = fmt.Sprint(r.status)
			}
			if got != want {
				t.Errorf("%s (%s) as %s: %d, want %s (declared %s)\n%s", pattern, path, who, r.status, want, ru, r.body)
				continue
			}
			switch want {
			case "401":
				challenge := `Bearer realm="soc"`
				if bearer != "" {
					challenge += `, error="invalid_token"`
				}
				if h := r.header.Get("WWW-Authenticate"); h != challenge || r.header.Get("Content-Type") != problem.ContentType {
					t.Errorf("%s as %s: 401 with WWW-Authenticate %q, %s", pattern, who, h, r.header.Get("Content-Type"))
				}
			case "403":
				if !strings.Contains(r.body, string(ru.perm)) || r.header.Get("Content-Type") != problem.ContentType {
					t.Errorf("%s as %s: the 403 does not name %s: %s", pattern, who, ru.perm, r.body)
				}
			}
		}
	}
	// An unknown route is a 401 before it is a 404: anonymous clients learn nothing of the routes.
	if r := call(t, http.MethodGet, base+"/v1/nothing-here", "", ""); r.status != http.StatusUnauthorized {
		t.Errorf("unknown route, anonymous: %d", r.status)
	}
	if r := call(t, http.MethodGet, base+"/v1/nothing-here", n.tokens["role-scanner"], ""); r.status != http.StatusNotFound {
		t.Errorf("unknown route, signed in: %d", r.status)
	}
	// A method the route does not serve (the mux's 405) is no different.
	if r := call(t, http.MethodDelete, base+"/v1/findings", "", ""); r.status != http.StatusUnauthorized {
		t.Errorf("DELETE /v1/findings, anonymous: %d", r.status)
	}
	// A malformed Authorization header is a credential that does not work.
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/findings", nil)
	req.Header.Set("Authorization", "Basic YWRtaW46YWRtaW4=")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("Basic credentials: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

// TestCommandActorIsThePrincipal: a command through the middleware records its principal as
// the events' actor, and the audit trail finds it by that actor.
func TestCommandActorIsThePrincipal(t *testing.T) {
	n := authNode(t, allTargetsConfig(t))
	base, analyst := n.base, "user:"+n.ids[access.RoleAnalyst]
	r := call(t, http.MethodPost, base+"/v1/assets", n.tokens["role-analyst"], `{"kind":"host","name":"actor-check","identifiers":{"hostnames":["actor.example.com"]}}`)
	if r.status != http.StatusCreated && r.status != http.StatusOK {
		t.Fatalf("registering an asset: %d %s", r.status, r.body)
	}
	r = call(t, http.MethodGet, base+"/v1/events?type="+contracts.TypeAssetRegistered+"&actor="+url.QueryEscape(analyst), n.tokens["role-auditor"], "")
	var page struct {
		Items []struct {
			Actor string `json:"actor"`
			Type  string `json:"type"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(r.body), &page); err != nil || r.status != http.StatusOK {
		t.Fatalf("audit trail: %d %s", r.status, r.body)
	}
	if len(page.Items) != 1 || page.Items[0].Actor != analyst {
		t.Fatalf("events of %s: %s", analyst, r.body)
	}
}

// TestSagaCommandActorIsTheSaga: a command a saga dispatches appends events whose actor is
// system:<saga>, through the node's real command bus.
func TestSagaCommandActorIsTheSaga(t *testing.T) {
	a, planner := busNode(t)
	b, err := commandBus(a, planner, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	opened := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	due := opened.Add(time.Hour)
	finding := events.NewStreamID("vulns", "finding")
	data := func(v map[string]any) json.RawMessage { b, _ := json.Marshal(v); return b }
	if _, err := a.store.Append(ctx, finding, events.NoStream, []events.Envelope{
		{Type: contracts.TypeFindingOpened, Actor: "test", Data: data(map[string]any{"asset_id": events.NewStreamID("assets", "asset"), "scope": "s",
			"identity_key": "k", "fingerprint": "fp", "scan_id": "scan-1", "format": "trivy", "title": "CVE-2024-0001 in openssl",
			"severity": "high", "seen_at": opened.Format(time.RFC3339)})},
		{Type: contracts.TypeFindingDueDateSet, Actor: "test", Data: data(map[string]any{"due_at": due, "reason": "sla policy"})},
	}); err != nil {
		t.Fatal(err)
	}
	payload := data(map[string]any{"finding_id": finding, "due_at": due})
	if err := sagaCommands(b).Dispatch(ctx, sagas.Command{ID: "cmd-1", Type: contracts.CmdRecordSLABreach, Saga: "finding_deadlines", Payload: payload}); err != nil {
		t.Fatal(err)
	}
	evs, err := a.store.ReadStream(ctx, finding, events.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(evs, func(e events.Envelope) bool { return e.Type == contracts.TypeSLABreached })
	if i < 0 || evs[i].Actor != "system:finding_deadlines" {
		t.Fatalf("SLABreached by the saga: %+v", evs)
	}
}

// TestMetricsToken: /metrics is open by default and, with --metrics-token, needs exactly that
// bearer (any other credential, a user's included, is refused).
func TestMetricsToken(t *testing.T) {
	open, _ := serveInProcess(t, allTargetsConfig(t))
	if r := call(t, http.MethodGet, "http://"+open+"/metrics", "", ""); r.status != http.StatusOK {
		t.Fatalf("/metrics without a token configured: %d", r.status)
	}
	cfg := allTargetsConfig(t)
	cfg.MetricsToken = "scrape-secret"
	n := authNode(t, cfg)
	base := n.base
	for _, tc := range []struct {
		bearer string
		want   int
	}{{"", 401}, {"scrape-secre", 401}, {"scrape-secret-", 401}, {n.tokens["role-admin"], 401}, {"scrape-secret", 200}} {
		r := call(t, http.MethodGet, base+"/metrics", tc.bearer, "")
		if r.status != tc.want {
			t.Errorf("/metrics with bearer %.20q: %d, want %d", tc.bearer, r.status, tc.want)
		}
		if tc.want == 401 && (!strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") || strings.Contains(r.body, "scrape-secret")) {
			t.Errorf("/metrics refusal: %q %s", r.header.Get("WWW-Authenticate"), r.body)
		}
		if tc.want == 200 && !strings.Contains(r.body, "soc_http_requests_total") {
			t.Errorf("/metrics body: %.200s", r.body)
		}
	}
}

// TestMetricsTokenIsASecret: SOC_METRICS_TOKEN_FILE sets it, and --help never shows it.
func TestMetricsTokenIsASecret(t *testing.T) {
	t.Run("from a file", func(t *testing.T) {
		write := tempFiles(t)
		t.Setenv("SOC_METRICS_TOKEN_FILE", write("metrics", "from-file\n"))
		if cfg := parseServeConfig(t); cfg.MetricsToken != "from-file" {
			t.Fatalf("metrics token from file: %q", cfg.MetricsToken)
		}
	})
	t.Run("never shown", func(t *testing.T) {
		t.Setenv("SOC_METRICS_TOKEN", "shown-nowhere")
		out, errOut, code := socRun(t, "serve", "--help")
		if code != 0 || !strings.Contains(out, "SOC_METRICS_TOKEN_FILE") || strings.Contains(out+errOut, "shown-nowhere") {
			t.Fatalf("serve --help: exit %d, mentions the variable %v, shows the secret %v", code,
				strings.Contains(out, "SOC_METRICS_TOKEN_FILE"), strings.Contains(out+errOut, "shown-nowhere"))
		}
	})
}
