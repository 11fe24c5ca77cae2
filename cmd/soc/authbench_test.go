package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socplatform/soc/cmd/soc/internal/apiclient"
	identity "github.com/socplatform/soc/commands/identity/app"
	identityports "github.com/socplatform/soc/commands/identity/ports"
	"github.com/socplatform/soc/commands/identity/tokens"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/runner"
	"github.com/socplatform/soc/query-api/ws"
	"github.com/socplatform/soc/schemas"
	"github.com/socplatform/soc/schemas/access"
)

// BenchmarkQueryAuth: the query API's throughput with authentication on vs off (issue 13: aim
// ≥ 90%). The same read workload over the loaded node's read model (SOC_BENCH_FINDINGS
// findings) is served by two routers built by the node's own code (startQuery, newRouter) and
// differing only in the authenticator: "off" has none, so newRouter leaves the auth middleware
// out, as a node without identity serves; the other goes through the whole chain with a real
// access token (Ed25519 JWT verified by the tokens package, session and user looked up by the
// identity app, the route's permission checked), an analyst's (every team) or a remediator's
// (reads team-scoped in SQL). "-uncached" bypasses the response cache: every request runs its
// query.
//
// Each client alternates a request with the token and the same request without (loadEach), so
// that the other loads of a shared machine weigh on both alike; each side's rate is what the
// clients would sustain on it alone (clients / its mean latency): requests/s with
// authentication, off-requests/s without.
func BenchmarkQueryAuth(b *testing.B) {
	fx := authBench(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	off := fx.workload(b, client, fx.off, "")
	for _, v := range []struct {
		name   string
		bearer string
	}{{"analyst", fx.analyst}, {"remediator", fx.remediator}} {
		on := fx.workload(b, client, fx.on, v.bearer)
		for _, cached := range []bool{true, false} {
			name := v.name
			if !cached {
				name += "-uncached"
			}
			b.Run(name, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					clients := benchClients()
					lat, _ := loadEach(b, clients, loadSeconds(),
						func(i int) error { return getAs(client, on[i%len(on)], v.bearer, cached) },
						func(i int) error { return getAs(client, off[i%len(off)], "", cached) })
					for k, prefix := range []string{"", "off-"} {
						var busy time.Duration
						for _, d := range lat[k] {
							busy += d
						}
						reportLatenciesAs(b, prefix, lat[k], busy/time.Duration(clients), "requests/s")
					}
				}
			})
		}
	}
}

// authFixture is BenchmarkQueryAuth's setup, made once per process.
type authFixture struct {
	on, off             string // the routers' base URLs
	analyst, remediator string // access tokens
	ids                 []string
}

var (
	authOnce sync.Once
	authFx   *authFixture
	authErr  error
)

func authBench(b *testing.B) *authFixture {
	s := loadedServer(b)
	authOnce.Do(func() { authFx, authErr = newAuthFixture(b, s) })
	if authErr != nil {
		b.Fatal(authErr)
	}
	return authFx
}

func newAuthFixture(b *testing.B, s *benchServer) (*authFixture, error) {
	ctx := context.Background()
	// A second handle on the node's store and read model, as another node of the read side
	// would have: the identity events go to the node's store, the routers read its read model.
	store, backend, _, err := openStore(ctx, s.cfg)
	if err != nil {
		return nil, err
	}
	db, err := openReadDB(ctx, s.cfg)
	if err != nil {
		return nil, err
	}
	keys, err := os.MkdirTemp("", "soc-authbench-keys")
	if err != nil {
		return nil, err
	}
	stop := []func(){func() { _ = db.SQL.Close() }, func() { _ = backend.Close() }, func() { os.RemoveAll(keys) }}
	prev := s.stop
	s.stop = func() {
		for i := len(stop) - 1; i >= 0; i-- {
			stop[i]()
		}
		prev()
	}
	kr, err := tokens.OpenKeyring(tokens.KeyConfig{Dir: keys, Issuer: "https://soc.bench", Audience: "soc"}, time.Now)
	if err != nil {
		return nil, err
	}
	svc := identity.New(identity.Deps{Store: store, Keyring: benchKeyring{kr},
		Passwords: identity.PasswordFuncs{HashFunc: func(pw string) (string, error) { return tokens.HashPassword(pw, tokens.DefaultPasswordParams) },
			VerifyFunc: tokens.VerifyPassword},
		Secrets: identity.SecretFuncs{NewFunc: tokens.NewSecret, HashFunc: tokens.HashSecret}}, identity.DefaultConfig())
	if err := svc.Load(ctx); err != nil {
		return nil, err
	}
	fx := &authFixture{}
	for _, authn := range []authenticator{nil, svc} {
		h, closeRouter, err := queryRouter(ctx, s.cfg, store, db, svc, authn)
		if err != nil {
			return nil, err
		}
		srv := httptest.NewServer(h)
		stop = append(stop, closeRouter, srv.Close)
		if authn == nil {
			fx.off = srv.URL
		} else {
			fx.on = srv.URL
		}
	}
	team, err := fx.signIn(ctx, svc)
	if err != nil {
		return nil, err
	}
	// The remediator's team owns the report's asset, so its scoped reads answer the same rows.
	return fx, classifyAll(s, team)
}

// benchKeyring adapts *tokens.Keyring to the identity app's Keyring, as the binary does.
type benchKeyring struct{ *tokens.Keyring }

func (k benchKeyring) Verify(token string) (identity.AccessClaims, error) {
	c, err := k.Keyring.Verify(token)
	return identity.AccessClaims(c), err
}

// signIn creates the first admin, a team, an analyst and a remediator of the team through the
// identity API of the authenticated router, signs the two in (argon2id, as every login) and
// returns the team's id.
func (fx *authFixture) signIn(ctx context.Context, svc *identity.Service) (string, error) {
	const password = "correct horse battery staple"
	if _, _, err := svc.BootstrapAdmin(ctx, "bench-admin@example.com", password); err != nil {
		return "", err
	}
	login := func(email string) (string, error) {
		c, err := apiclient.New(fx.on, "")
		if err != nil {
			return "", err
		}
		var ans apiclient.LoginAnswer
		err = c.Do(ctx, http.MethodPost, "/v1/auth/login", map[string]string{"email": email, "password": password}, http.StatusOK, &ans)
		return ans.AccessToken, err
	}
	tok, err := login("bench-admin@example.com")
	if err != nil {
		return "", err
	}
	admin, err := apiclient.New(fx.on, tok)
	if err != nil {
		return "", err
	}
	var team struct {
		ID string `json:"id"`
	}
	if err := admin.Do(ctx, http.MethodPost, "/v1/teams", map[string]any{"name": "bench-team"}, http.StatusCreated, &team); err != nil {
		return "", err
	}
	for _, u := range []struct {
		role  string
		teams []string
		token *string
	}{{access.RoleAnalyst, []string{}, &fx.analyst}, {access.RoleRemediator, []string{team.ID}, &fx.remediator}} {
		email := "bench-" + u.role + "@example.com"
		body := map[string]any{"email": email, "password": password, "roles": []string{u.role}, "teams": u.teams}
		if err := admin.Do(ctx, http.MethodPost, "/v1/users", body, http.StatusCreated, nil); err != nil {
			return "", err
		}
		if *u.token, err = login(email); err != nil {
			return "", err
		}
	}
	return team.ID, nil
}

// classifyAll gives every asset of the loaded node to team, through the node's API, and waits
// until the read model shows it.
func classifyAll(s *benchServer, team string) error {
	resp, err := testClient.Get(s.base + "/v1/assets?limit=100")
	if err != nil {
		return err
	}
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if err != nil || len(page.Items) == 0 {
		return fmt.Errorf("listing the assets: %d, %v", len(page.Items), err)
	}
	for _, a := range page.Items {
		resp, err := testClient.Post(s.base+"/v1/assets/"+a.ID+"/classify", "application/json", strings.NewReader(`{"owner_team":"`+team+`"}`))
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("classifying asset %s: %d", a.ID, resp.StatusCode)
		}
	}
	addr := strings.TrimPrefix(s.base, "http://")
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if _, lag, ok := projectionLag(addr); ok && lag == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the classification was not projected within a minute")
		}
	}
}

// queryRouter is the query target's and the identity API's routes behind the node's router
// (newRouter), over db: with authn, the auth middleware guards them; without, newRouter serves
// them open. Its
// projection runners are initialised, not run: the read model does not change during the
// load, and their (constant) versions let the response cache work as on a node.
func queryRouter(ctx context.Context, cfg *Config, store *events.Guarded, db *projections.DB, svc *identity.Service, authn authenticator) (http.Handler, func(), error) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := &app{cfg: cfg, log: log, store: store, metrics: newMetrics(store), mux: newRoutes(),
		authenticator: authn, tickets: newTicketStore(time.Now)}
	if err := identityports.Register(a.mux, svc, identityports.Config{Schemas: schemas.CommandsFS(), Log: log}); err != nil {
		return nil, nil, err
	}
	rs := &readSide{db: db, hub: ws.NewHub(ws.Config{Log: log})}
	for _, p := range readModels() {
		r, err := runner.New(runner.Config{DB: db, Projection: p, Store: store, Log: log})
		if err != nil {
			return nil, nil, err
		}
		if err := r.Init(ctx); err != nil {
			return nil, nil, err
		}
		rs.runners = append(rs.runners, r)
	}
	if _, _, err := startQuery(ctx, a, inputs{modReadDB: rs}); err != nil {
		return nil, nil, err
	}
	closeAll := func() {
		for i := len(a.closers) - 1; i >= 0; i-- {
			a.closers[i]()
		}
	}
	return newRouter(a, map[string]readiness{}, new(atomic.Bool)), closeAll, nil
}

// workload is the request mix of one principal: a page of 50 findings (the first, or a later
// one through a cursor its own reads handed out: cursors are bound to the scope) and single
// findings, alternately.
func (fx *authFixture) workload(b *testing.B, client *http.Client, base, bearer string) []string {
	b.Helper()
	const list = "/v1/findings?limit=50"
	pages := []string{base + list}
	var ids []string
	for len(pages) < 10 {
		req, _ := http.NewRequest(http.MethodGet, pages[len(pages)-1], nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var p struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		err = json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d %v", pages[len(pages)-1], resp.StatusCode, err)
		}
		for _, it := range p.Items {
			ids = append(ids, it.ID)
		}
		if p.NextCursor == "" {
			break
		}
		pages = append(pages, base+list+"&cursor="+p.NextCursor)
	}
	if len(ids) == 0 {
		b.Fatalf("%s sees no findings", base)
	}
	var urls []string
	for i := range 2 * len(ids) {
		if i%2 == 0 {
			urls = append(urls, pages[(i/2)%len(pages)])
		} else {
			urls = append(urls, base+"/v1/findings/"+ids[(i/2)%len(ids)])
		}
	}
	return urls
}

// getAs sends one GET with the bearer (none when empty), bypassing the response cache unless
// cached, and fails on anything but 200.
func getAs(client *http.Client, url, bearer string, cached bool) error {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if !cached {
		req.Header.Set("Cache-Control", "no-cache")
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d", url, resp.StatusCode)
	}
	return nil
}
