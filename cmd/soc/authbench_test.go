package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socplatform/soc/cmd/soc/internal/apiclient"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/runner"
	"github.com/socplatform/soc/query-api/ws"
	"github.com/socplatform/soc/schemas/access"
)

// BenchmarkQueryAuth: the query API's throughput with authentication on vs off (issue 13: aim
// ≥ 90%). The same read workload over the loaded node's read model (SOC_BENCH_FINDINGS
// findings) is served by two routers built by the node's own code (startIdentity, startQuery,
// newRouter) over the same routes: one through the whole chain with a real access token
// (Ed25519 JWT verified by the tokens package, session and user looked up by the identity app,
// the route's permission checked), an analyst's (every team) or a remediator's (reads
// team-scoped in SQL); "off" without the auth middleware (instrument straight onto the routes,
// the chain before identity). "-uncached" bypasses the response cache: every request runs its
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
					loadSides(b, []string{"", "off-"},
						func(i int) error { return getAs(client, on[i%len(on)], v.bearer, cached) },
						func(i int) error { return getAs(client, off[i%len(off)], "", cached) })
				}
			})
		}
	}
}

// authFixture is BenchmarkQueryAuth's setup, made once per process.
type authFixture struct {
	on, off             string // the routers' base URLs
	analyst, remediator string // access tokens
}

var (
	authOnce sync.Once
	authFx   *authFixture
	authErr  error
)

func authBench(b *testing.B) *authFixture {
	s := loadedServer(b)
	authOnce.Do(func() { authFx, authErr = newAuthFixture(s) })
	if authErr != nil {
		b.Fatal(authErr)
	}
	return authFx
}

func newAuthFixture(s *benchServer) (*authFixture, error) {
	ctx, cancel := context.WithCancel(context.Background())
	// A second handle on the node's store and read model, as another node of the read side
	// would have, with the node's identity module (its keys, following the store).
	store, backend, _, err := openStore(ctx, s.cfg)
	if err != nil {
		cancel()
		return nil, err
	}
	db, err := openReadDB(ctx, s.cfg)
	if err != nil {
		cancel()
		_ = backend.Close()
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	on, off := benchApp(s.cfg, store, log), benchApp(s.cfg, store, log)
	stop := []func(){func() { _ = backend.Close() }, func() { _ = db.SQL.Close() }, on.wg.Wait, cancel}
	prev := s.stop
	s.stop = func() {
		for i := len(stop) - 1; i >= 0; i-- {
			stop[i]()
		}
		prev()
	}
	out, _, err := startIdentity(ctx, on, nil)
	if err != nil {
		return nil, err
	}
	id := out.(*identityNode)
	fx := &authFixture{}
	for _, a := range []*app{on, off} {
		h, err := queryRouter(ctx, a, db, id)
		if err != nil {
			return nil, err
		}
		if a == off {
			// The node's chain without the auth middleware: instrument straight onto the routes.
			h = instrument(a.mux.ServeMux, a.mux.ServeMux, log)
		}
		srv := httptest.NewServer(h)
		stop = append(stop, func() {
			for i := len(a.closers) - 1; i >= 0; i-- {
				a.closers[i]()
			}
		}, srv.Close)
		if a == on {
			fx.on = srv.URL
		} else {
			fx.off = srv.URL
		}
	}
	team, err := fx.signIn(ctx)
	if err != nil {
		return nil, err
	}
	// The remediator's team owns the report's asset, so its scoped reads answer the same rows.
	return fx, classifyAll(s, team)
}

// benchApp is what the node's modules start on, over store.
func benchApp(cfg *Config, store *events.Guarded, log *slog.Logger) *app {
	return &app{cfg: cfg, log: log, store: store, metrics: newMetrics(store), mux: newRoutes(), tickets: newTicketStore(time.Now)}
}

// signIn creates a team, an analyst and a remediator of the team through the identity API of
// the authenticated router, as the tests' admin the node bootstrapped, signs the two in
// (argon2id, as every login) and returns the team's id.
func (fx *authFixture) signIn(ctx context.Context) (string, error) {
	login := func(email, password string) (string, error) {
		c, err := apiclient.New(fx.on, "")
		if err != nil {
			return "", err
		}
		var ans apiclient.LoginAnswer
		err = c.Do(ctx, http.MethodPost, "/v1/auth/login", map[string]string{"email": email, "password": password}, http.StatusOK, &ans)
		return ans.AccessToken, err
	}
	tok, err := login(testAdminEmail, testAdminPassword)
	if err != nil {
		return "", err
	}
	admin, err := apiclient.New(fx.on, tok)
	if err != nil {
		return "", err
	}
	var team struct {
		ID, Name string
	}
	if err := admin.Do(ctx, http.MethodPost, "/v1/teams", map[string]any{"name": "bench-team"}, http.StatusCreated, &team); err != nil {
		return "", err
	}
	const password = "correct horse battery staple"
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
		if *u.token, err = login(email, password); err != nil {
			return "", err
		}
	}
	return team.Name, nil // assets name their owner team by name
}

// classifyAll gives every asset of the loaded node to team, through the node's API, and waits
// until the read model shows it.
func classifyAll(s *benchServer, team string) error {
	assets, _, err := listPage(testClient, s.base+"/v1/assets?limit=100", "")
	if err != nil || len(assets) == 0 {
		return fmt.Errorf("listing the assets: %d, %v", len(assets), err)
	}
	for _, a := range assets {
		resp, err := testClient.Post(s.base+"/v1/assets/"+a+"/classify", "application/json", strings.NewReader(`{"owner_team":"`+team+`"}`))
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("classifying asset %s: %d", a, resp.StatusCode)
		}
	}
	if err := projectionsCaughtUp(strings.TrimPrefix(s.base, "http://"), time.Minute); err != nil {
		return fmt.Errorf("the classification: %w", err)
	}
	return nil
}

// queryRouter is the query target's and the identity API's routes on a's mux behind the node's
// router (newRouter: the auth middleware, with id's service as the authenticator). Its
// projection runners are initialised, not run: the read model does not change during the load,
// and their (constant) versions let the response cache work as on a node.
func queryRouter(ctx context.Context, a *app, db *projections.DB, id *identityNode) (http.Handler, error) {
	a.authenticator = id.svc
	if err := registerIdentityRoutes(a, id); err != nil {
		return nil, err
	}
	rs := &readSide{db: db, hub: ws.NewHub(ws.Config{Log: a.log})}
	for _, p := range readModels() {
		r, err := runner.New(runner.Config{DB: db, Projection: p, Store: a.store, Log: a.log})
		if err != nil {
			return nil, err
		}
		if err := r.Init(ctx); err != nil {
			return nil, err
		}
		rs.runners = append(rs.runners, r)
	}
	if _, _, err := startQuery(ctx, a, inputs{modReadDB: rs}); err != nil {
		return nil, err
	}
	return newRouter(a, map[string]readiness{}, new(atomic.Bool)), nil
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
		page, next, err := listPage(client, pages[len(pages)-1], bearer)
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, page...)
		if next == "" {
			break
		}
		pages = append(pages, base+list+"&cursor="+next)
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
