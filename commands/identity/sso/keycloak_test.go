package sso

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/socplatform/soc/commands/identity/sso/ssotest"
	"github.com/socplatform/soc/schemas/access"
)

// These tests sign in against the real Keycloak of deploy/dev (realm soc-test), driving its
// login form over HTTP as a browser would (ssotest).

// fakeProvisioner stands in for the identity context: it records what it was asked and turns the
// Identity into a principal as the real one would (roles → permissions).
type fakeProvisioner struct {
	mu  sync.Mutex
	ids []Identity
}

func (f *fakeProvisioner) ProvisionSSO(_ context.Context, id Identity) (access.Principal, error) {
	f.mu.Lock()
	f.ids = append(f.ids, id)
	f.mu.Unlock()
	var perms []access.Permission
	for _, r := range id.Roles {
		p, _ := access.RolePermissions(r)
		perms = append(perms, p...)
	}
	return access.Principal{Kind: access.KindUser, ID: "sso-" + id.Subject, Name: id.Name,
		Roles: id.Roles, Perms: perms, Teams: id.Teams}, nil
}

func (f *fakeProvisioner) calls() []Identity {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ids)
}

// fakeSessions answers what it was given, so the test sees the callback's JSON end to end.
type fakeSessions struct{}

type session struct {
	Actor  string   `json:"actor"`
	Roles  []string `json:"roles"`
	Teams  []string `json:"teams"`
	Source string   `json:"source"`
}

func (fakeSessions) StartSession(_ context.Context, p access.Principal, source string) (any, error) {
	return session{Actor: p.Actor(), Roles: p.Roles, Teams: p.Teams, Source: source}, nil
}

type kcEnv struct {
	issuer string
	svc    *Service
	prov   *fakeProvisioner
	srv    *httptest.Server
}

func keycloak(t *testing.T, tweak ...func(*Config)) *kcEnv {
	t.Helper()
	realm := ssotest.Keycloak(t)
	e := &kcEnv{issuer: realm.Issuer, prov: &fakeProvisioner{}}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	cfg := Config{
		Issuer:       realm.Issuer,
		ClientID:     realm.ClientID,
		ClientSecret: realm.ClientSecret,
		RedirectURL:  e.srv.URL + CallbackPath,
		GroupsClaim:  DefaultGroupsClaim,
		Mapping:      ssotest.GroupMapping,
	}
	for _, f := range tweak {
		f(&cfg)
	}
	svc, err := New(cfg, e.prov, fakeSessions{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	mux.Handle("GET "+LoginPath, svc.LoginHandler())
	mux.Handle("GET "+CallbackPath, svc.CallbackHandler())
	return e
}

func (e *kcEnv) atCallback(u *url.URL) bool { return u.Path == CallbackPath }

// signIn runs a whole browser sign-in as user and returns the callback's status and session.
func (e *kcEnv) signIn(t *testing.T, user string) (int, session, string) {
	t.Helper()
	b := ssotest.NewBrowser(t, e.atCallback)
	back := b.Authorize(t, e.srv.URL+LoginPath, user)
	var s session
	status, body := b.GetJSON(t, back.String(), &s)
	return status, s, body
}

// refused visits the callback u and expects a 401 that says why, with nobody provisioned by it.
func (e *kcEnv) refused(t *testing.T, b *ssotest.Browser, u, why string) {
	t.Helper()
	before := len(e.prov.calls())
	if status, body := b.GetJSON(t, u, nil); status != http.StatusUnauthorized || !strings.Contains(body, why) {
		t.Fatalf("callback: %d %s, want 401 saying %q", status, body, why)
	}
	if len(e.prov.calls()) != before {
		t.Fatal("a refused callback reached the provisioner")
	}
}

func TestKeycloakGroupsMapToRolesAndTeams(t *testing.T) {
	e := keycloak(t)
	for _, tc := range []struct {
		user, role, team, group string
	}{
		{"alice", access.RoleAnalyst, "platform", "/soc-analysts"},
		{"bob", access.RoleRemediator, "payments", "/soc-remediators"},
	} {
		status, s, body := e.signIn(t, tc.user)
		if status != http.StatusOK {
			t.Fatalf("%s: callback %d: %s", tc.user, status, body)
		}
		if !slices.Equal(s.Roles, []string{tc.role}) || !slices.Equal(s.Teams, []string{tc.team}) || s.Source != SessionSource {
			t.Errorf("%s: session %+v, want role %s, team %s, source %s", tc.user, s, tc.role, tc.team, SessionSource)
		}
		calls := e.prov.calls()
		id := calls[len(calls)-1]
		if id.Issuer != e.issuer || id.Subject == "" || s.Actor != "user:sso-"+id.Subject {
			t.Errorf("%s: identity %+v, actor %s", tc.user, id, s.Actor)
		}
		if id.Email != tc.user+"@soc.test" || id.Name == "" || !slices.Contains(id.Groups, tc.group) {
			t.Errorf("%s: identity %+v: want the verified email, a name and group %s", tc.user, id, tc.group)
		}
	}
}

// Carol belongs to no mapped group: decided, she is refused (403) and not provisioned.
func TestKeycloakUserWithoutRoleIsRefused(t *testing.T) {
	e := keycloak(t)
	status, _, body := e.signIn(t, "carol")
	if status != http.StatusForbidden || !strings.Contains(body, "grants a role") {
		t.Fatalf("carol: %d %s, want 403", status, body)
	}
	if n := len(e.prov.calls()); n != 0 {
		t.Fatalf("carol was provisioned (%d calls)", n)
	}
}

func TestKeycloakTamperedStateIsRefused(t *testing.T) {
	e := keycloak(t)
	b := ssotest.NewBrowser(t, e.atCallback)
	back := b.Authorize(t, e.srv.URL+LoginPath, "alice")
	q := back.Query()
	state := q.Get("state")
	q.Set("state", state[:len(state)-1]+flip(state[len(state)-1]))
	tampered := *back
	tampered.RawQuery = q.Encode()
	e.refused(t, b, tampered.String(), "unknown, used or expired sign-in state")
	// The untouched callback still completes: the refusal was the state's, not a broken flow.
	if status, body := b.GetJSON(t, back.String(), nil); status != http.StatusOK {
		t.Fatalf("genuine callback after a tampered one: %d %s", status, body)
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestKeycloakReplayedCallbackIsRefused(t *testing.T) {
	e := keycloak(t)
	b := ssotest.NewBrowser(t, e.atCallback)
	back := b.Authorize(t, e.srv.URL+LoginPath, "bob")
	if status, body := b.GetJSON(t, back.String(), nil); status != http.StatusOK {
		t.Fatalf("first callback: %d %s", status, body)
	}
	// The replay even brings back the state cookie the first callback cleared.
	u, _ := url.Parse(e.srv.URL)
	b.Jar.SetCookies(u, []*http.Cookie{{Name: stateCookie, Value: back.Query().Get("state"), Path: cookiePath}})
	e.refused(t, b, back.String(), "unknown, used or expired sign-in state")
}

// A code and state lured out of one browser cannot finish the sign-in in another.
func TestKeycloakCallbackFromAnotherClientIsRefused(t *testing.T) {
	e := keycloak(t)
	back := ssotest.NewBrowser(t, e.atCallback).Authorize(t, e.srv.URL+LoginPath, "alice")
	other := ssotest.NewBrowser(t, e.atCallback)
	e.refused(t, other, back.String(), "started by another browser")
}

func TestKeycloakNonceMismatchIsRefused(t *testing.T) {
	e := keycloak(t)
	b := ssotest.NewBrowser(t, e.atCallback)
	back := b.Authorize(t, e.srv.URL+LoginPath, "alice")
	state := back.Query().Get("state")
	e.svc.pending.mu.Lock()
	p := e.svc.pending.m[state]
	p.nonce = randomToken() // as if the ID token had been minted for another sign-in
	e.svc.pending.m[state] = p
	e.svc.pending.mu.Unlock()
	e.refused(t, b, back.String(), "nonce mismatch")
}

// The CLI's flow: the provider sends the browser to the CLI's loopback listener, and the CLI
// forwards code and state to the callback; the exchange must name the same redirect_uri.
func TestKeycloakCLILoopbackRedirect(t *testing.T) {
	e := keycloak(t)
	cli := httptest.NewServer(http.NotFoundHandler()) // stands for the CLI's listener; never reached
	defer cli.Close()
	cliURL, _ := url.Parse(cli.URL)
	b := ssotest.NewBrowser(t, func(u *url.URL) bool { return u.Host == cliURL.Host })
	redirect := cli.URL + "/callback"
	back := b.Authorize(t, e.srv.URL+LoginPath+"?redirect_uri="+url.QueryEscape(redirect), "bob")
	if got := back.Scheme + "://" + back.Host + back.Path; got != redirect {
		t.Fatalf("Keycloak sent the code to %s, want %s", got, redirect)
	}
	var s session
	fwd := e.srv.URL + CallbackPath + "?" + back.RawQuery
	if status, body := b.GetJSON(t, fwd, &s); status != http.StatusOK || !slices.Equal(s.Roles, []string{access.RoleRemediator}) {
		t.Fatalf("CLI callback: %d %s", status, body)
	}
}

// The realm's public client (no secret): PKCE alone binds the code to this sign-in.
func TestKeycloakPublicClient(t *testing.T) {
	e := keycloak(t, func(c *Config) { c.ClientID, c.ClientSecret = "soc-cli", "" })
	status, s, body := e.signIn(t, "alice")
	if status != http.StatusOK || !slices.Equal(s.Roles, []string{access.RoleAnalyst}) {
		t.Fatalf("public client: %d %s", status, body)
	}
}
