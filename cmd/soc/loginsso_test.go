package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socplatform/soc/cmd/soc/internal/apiclient"
	"github.com/socplatform/soc/cmd/soc/internal/syncbuf"
	"github.com/socplatform/soc/commands/identity/sso"
	"github.com/socplatform/soc/commands/identity/sso/ssotest"
	"github.com/socplatform/soc/schemas/access"
)

// ssoCLI is `soc login --sso` running in this process, its stderr read line by line.
type ssoCLI struct {
	code    chan int
	authURL chan string // the address the CLI asks the user to open
	stderr  *syncbuf.Buffer
	config  string // SOC_CONFIG_DIR: where the session is stored
}

func startSSOLogin(t *testing.T, server string, args ...string) *ssoCLI {
	t.Helper()
	c := &ssoCLI{code: make(chan int, 1), authURL: make(chan string, 1), stderr: &syncbuf.Buffer{}, config: t.TempDir()}
	t.Setenv("SOC_CONFIG_DIR", c.config)
	pr, pw := io.Pipe()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			c.stderr.Write([]byte(line + "\n"))
			if u := strings.TrimSpace(line); strings.HasPrefix(u, "http") {
				c.authURL <- u
			}
		}
	}()
	go func() {
		c.code <- run(append([]string{"login", "--sso", "--no-browser", "--server", server}, args...), io.Discard, pw)
		pw.Close()
	}()
	return c
}

// url is the address printed for the browser.
func (c *ssoCLI) url(t *testing.T) string {
	t.Helper()
	select {
	case u := <-c.authURL:
		return u
	case code := <-c.code:
		t.Fatalf("soc login --sso exited %d before printing an address:\n%s", code, c.stderr)
	case <-time.After(time.Minute):
		t.Fatalf("soc login --sso printed no address within a minute:\n%s", c.stderr)
	}
	return ""
}

func (c *ssoCLI) exit(t *testing.T) int {
	t.Helper()
	select {
	case code := <-c.code:
		return code
	case <-time.After(time.Minute):
		t.Fatalf("soc login --sso did not end within a minute:\n%s", c.stderr)
	}
	return 0
}

// stored is the session the CLI stored for server (false: none).
func (c *ssoCLI) stored(t *testing.T, server string) (apiclient.Credentials, bool) {
	t.Helper()
	store := apiclient.Store{Path: filepath.Join(c.config, "credentials.json")}
	creds, ok, err := store.Load(server)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		if fi, err := os.Stat(store.Path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("credentials file: %v, mode %v; want 0600", err, fi.Mode().Perm())
		}
	}
	return creds, ok
}

// visit is a browser arriving at the CLI's listener.
func visit(t *testing.T, u string) (int, string) {
	t.Helper()
	return ssotest.NewBrowser(t, func(*url.URL) bool { return false }).GetJSON(t, u, nil)
}

// fakeNode is a node's two OIDC routes without a provider: its login redirects to a made-up
// authorization endpoint, its callback records what it was given and answers a session.
type fakeNode struct {
	*httptest.Server
	mu       sync.Mutex
	redirect string     // the redirect_uri the CLI asked for
	callback url.Values // what the callback received
	cookie   string     // the state cookie the callback received
}

const fakeState = "state-of-this-sign-in"

func newFakeNode(t *testing.T) *fakeNode {
	n := &fakeNode{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+sso.LoginPath, func(w http.ResponseWriter, r *http.Request) {
		n.mu.Lock()
		n.redirect = r.URL.Query().Get("redirect_uri")
		n.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "soc_oidc_state", Value: fakeState, Path: "/v1/auth/oidc/"})
		http.Redirect(w, r, "https://idp.example/auth?client_id=soc&state="+fakeState, http.StatusFound)
	})
	mux.HandleFunc("GET "+sso.CallbackPath, func(w http.ResponseWriter, r *http.Request) {
		n.mu.Lock()
		n.callback = r.URL.Query()
		if c, err := r.Cookie("soc_oidc_state"); err == nil {
			n.cookie = c.Value
		}
		n.mu.Unlock()
		_ = json.NewEncoder(w).Encode(apiclient.LoginAnswer{AccessToken: "access-1", TokenType: "Bearer",
			ExpiresIn: 900, RefreshToken: "soc_rt_1", SessionID: "session-1"})
	})
	n.Server = httptest.NewServer(mux)
	t.Cleanup(n.Close)
	return n
}

// The CLI hands the node exactly the code and state, with the state cookie of its own login
// request, and ignores what is not this sign-in's return.
func TestLoginSSOForwardsCodeAndStateToTheNode(t *testing.T) {
	node := newFakeNode(t)
	cli := startSSOLogin(t, node.URL)
	if u := cli.url(t); !strings.HasPrefix(u, "https://idp.example/auth?") {
		t.Fatalf("printed %q, want the provider's authorization URL", u)
	}
	node.mu.Lock()
	redirect := node.redirect
	node.mu.Unlock()
	ru, err := url.Parse(redirect)
	if err != nil || ru.Scheme != "http" || ru.Hostname() != "127.0.0.1" || ru.Port() == "" {
		t.Fatalf("redirect_uri %q: want a loopback listener", redirect)
	}
	// Neither another state nor another path ends the wait.
	for _, stray := range []string{redirect + "?state=other&code=c", "http://" + ru.Host + "/favicon.ico"} {
		if code, _ := visit(t, stray); code != http.StatusBadRequest {
			t.Fatalf("%s: %d, want 400", stray, code)
		}
	}
	code, page := visit(t, redirect+"?state="+fakeState+"&code=the-code&session_state=s&iss=https%3A%2F%2Fidp.example")
	if code != http.StatusOK || !strings.Contains(page, "signed in") {
		t.Fatalf("browser page: %d %q", code, page)
	}
	if exit := cli.exit(t); exit != 0 {
		t.Fatalf("soc login --sso exited %d:\n%s", exit, cli.stderr)
	}
	node.mu.Lock()
	defer node.mu.Unlock()
	if want := (url.Values{"state": {fakeState}, "code": {"the-code"}}); !maps.EqualFunc(node.callback, want, slices.Equal[[]string]) || node.cookie != fakeState {
		t.Fatalf("callback got %v with cookie %q, want %v with the state cookie", node.callback, node.cookie, want)
	}
	creds, ok := cli.stored(t, node.URL)
	if !ok || creds.AccessToken != "access-1" || creds.RefreshToken != "soc_rt_1" || !creds.Expires.After(time.Now()) {
		t.Fatalf("stored %+v (%v), want the node's session", creds, ok)
	}
	if strings.Contains(cli.stderr.String(), "access-1") || strings.Contains(cli.stderr.String(), "soc_rt_1") {
		t.Fatalf("a token was printed:\n%s", cli.stderr)
	}
}

// A browser that never comes back ends the command (exit 1) instead of waiting for ever.
func TestLoginSSOWaitIsBounded(t *testing.T) {
	node := newFakeNode(t)
	cli := startSSOLogin(t, node.URL, "--sso-timeout", "300ms")
	cli.url(t)
	if code := cli.exit(t); code != 1 || !strings.Contains(cli.stderr.String(), "did not come back within 300ms") {
		t.Fatalf("exit %d:\n%s", code, cli.stderr)
	}
	if _, ok := cli.stored(t, node.URL); ok {
		t.Fatal("a session was stored")
	}
}

func TestLoginSSORefusesPasswordFlags(t *testing.T) {
	var errOut strings.Builder
	if code := run([]string{"login", "--sso", "--email", "a@example.org", "--server", "http://127.0.0.1:1"}, io.Discard, &errOut); code != 2 || !strings.Contains(errOut.String(), "do not apply") {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
}

// ssoNode is a node's SSO service on the real Keycloak with a stand-in identity context: the
// CLI's side of the flow, end to end with the provider. (The binary with the real identity
// context: TestOIDCEndToEnd.)
type ssoNode struct {
	*httptest.Server
	mu       sync.Mutex
	sessions map[string]access.Principal // access token → whom it was issued to
}

func (n *ssoNode) ProvisionSSO(_ context.Context, id sso.Identity) (access.Principal, error) {
	return access.Principal{Kind: access.KindUser, ID: "sso-" + id.Subject, Name: id.Name, Roles: id.Roles, Teams: id.Teams}, nil
}

func (n *ssoNode) StartSession(_ context.Context, p access.Principal, _ string) (any, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	tok := "access-" + p.ID
	n.sessions[tok] = p
	return apiclient.LoginAnswer{AccessToken: tok, TokenType: "Bearer", ExpiresIn: 900, RefreshToken: "soc_rt_" + p.ID, SessionID: "s-" + p.ID}, nil
}

func newSSONode(t *testing.T) *ssoNode {
	realm := ssotest.Keycloak(t)
	n := &ssoNode{sessions: map[string]access.Principal{}}
	mux := http.NewServeMux()
	n.Server = httptest.NewServer(mux)
	t.Cleanup(n.Close)
	svc, err := sso.New(sso.Config{Issuer: realm.Issuer, ClientID: realm.ClientID, ClientSecret: realm.ClientSecret,
		RedirectURL: n.URL + sso.CallbackPath, GroupsClaim: sso.DefaultGroupsClaim, Mapping: ssotest.GroupMapping}, n, n, sso.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("GET "+sso.LoginPath, svc.LoginHandler())
	mux.Handle("GET "+sso.CallbackPath, svc.CallbackHandler())
	return n
}

// keycloakSignIn plays the browser for `soc login --sso`: it opens the printed address, signs
// in at Keycloak as user and follows Keycloak's redirect to the CLI's listener.
func keycloakSignIn(t *testing.T, cli *ssoCLI, user string) (int, string) {
	t.Helper()
	b := ssotest.NewBrowser(t, func(u *url.URL) bool { return u.Path == loopbackPath })
	back := b.Authorize(t, cli.url(t), user)
	if back.Hostname() != "127.0.0.1" || back.Path != loopbackPath {
		t.Fatalf("Keycloak sent the browser to %s, want the CLI's loopback listener", back.Redacted())
	}
	return b.GetJSON(t, back.String(), nil)
}

func TestLoginSSOWithKeycloak(t *testing.T) {
	node := newSSONode(t)
	cli := startSSOLogin(t, node.URL)
	if code, page := keycloakSignIn(t, cli, "bob"); code != http.StatusOK || !strings.Contains(page, "signed in") {
		t.Fatalf("browser page: %d %q", code, page)
	}
	if code := cli.exit(t); code != 0 {
		t.Fatalf("soc login --sso exited %d:\n%s", code, cli.stderr)
	}
	creds, ok := cli.stored(t, node.URL)
	node.mu.Lock()
	p, issued := node.sessions[creds.AccessToken]
	node.mu.Unlock()
	if !ok || !issued || !slices.Equal(p.Roles, []string{access.RoleRemediator}) || !slices.Equal(p.Teams, []string{"payments"}) {
		t.Fatalf("stored %+v (%v): the session of %+v, want bob's (remediator of payments)", creds, ok, p)
	}
}

// Carol's groups grant nothing: the node refuses her, the browser and the terminal say so,
// and nothing is stored.
func TestLoginSSOWithKeycloakRefusedUser(t *testing.T) {
	node := newSSONode(t)
	cli := startSSOLogin(t, node.URL)
	if code, page := keycloakSignIn(t, cli, "carol"); code == http.StatusOK || !strings.Contains(page, "grants a role") {
		t.Fatalf("browser page: %d %q, want the refusal", code, page)
	}
	if code := cli.exit(t); code != 2 || !strings.Contains(cli.stderr.String(), "403") {
		t.Fatalf("exit %d, want 2 with the node's 403:\n%s", code, cli.stderr)
	}
	if _, ok := cli.stored(t, node.URL); ok {
		t.Fatal("a session was stored for a refused sign-in")
	}
}
