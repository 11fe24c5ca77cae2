// Package ssotest signs test users in at the real Keycloak of deploy/dev (realm soc-test,
// deploy/dev/keycloak/soc-test-realm.json) the way a browser does: it follows the redirects,
// fills in Keycloak's login form over HTTP and hands back where Keycloak sends the browser with
// the authorization code. The sso package's tests and the end-to-end tests of the binary share it.
package ssotest

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"testing"

	"github.com/socplatform/soc/events/eventstest"
)

// Passwords are the realm's test-only users and their passwords.
var Passwords = map[string]string{
	"alice": "alice-test-password", // groups /soc-analysts, /team-platform
	"bob":   "bob-test-password",   // groups /soc-remediators, /team-payments
	"carol": "carol-test-password", // no groups
}

// GroupMapping maps the realm's groups: alice → analyst of team platform, bob → remediator of
// team payments, carol → nothing.
const GroupMapping = `{
  "/soc-analysts":    {"roles": ["analyst"]},
  "/soc-remediators": {"roles": ["remediator"]},
  "/team-platform":   {"teams": ["platform"]},
  "/team-payments":   {"teams": ["payments"]}
}`

// Realm is the test realm as deploy/dev/keycloak.sh exports it.
type Realm struct {
	Issuer, ClientID, ClientSecret string
}

// Keycloak returns the running test realm (SOC_TEST_OIDC_*), skipping the test when it is not
// set, or failing it under SOC_REQUIRE_SERVERS=1 (CI).
func Keycloak(tb testing.TB) Realm {
	tb.Helper()
	issuer := eventstest.ServerEnv(tb, "SOC_TEST_OIDC_ISSUER",
		`run eval "$(deploy/dev/keycloak.sh up >&2 && deploy/dev/keycloak.sh env)"`)
	r := Realm{Issuer: issuer, ClientID: os.Getenv("SOC_TEST_OIDC_CLIENT_ID"), ClientSecret: os.Getenv("SOC_TEST_OIDC_CLIENT_SECRET")}
	if r.ClientID == "" {
		r.ClientID = "soc"
	}
	return r
}

// Browser is an HTTP client with a cookie jar that stops at the first redirect for which stop
// is true (the platform's callback, or the CLI's listener) instead of following it.
type Browser struct {
	*http.Client
}

// NewBrowser returns a Browser with its own cookies.
func NewBrowser(tb testing.TB, stop func(*url.URL) bool) *Browser {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &Browser{&http.Client{
		Jar: loopbackJar{jar},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if stop(req.URL) {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}}
}

// loopbackJar keeps Keycloak's Secure cookies over plain http to 127.0.0.1, as browsers do
// (loopback is a secure context); Go's jar would drop them and the login form would fail.
type loopbackJar struct{ http.CookieJar }

func (j loopbackJar) SetCookies(u *url.URL, cs []*http.Cookie) {
	j.CookieJar.SetCookies(asHTTPS(u), cs)
}
func (j loopbackJar) Cookies(u *url.URL) []*http.Cookie { return j.CookieJar.Cookies(asHTTPS(u)) }

func asHTTPS(u *url.URL) *url.URL {
	c := *u
	c.Scheme = "https"
	return &c
}

var loginFormAction = regexp.MustCompile(`<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"`)

// Authorize starts a sign-in at loginURL and fills in Keycloak's login form as user (one of
// Passwords); it returns where Keycloak sends the browser back to (code and state in the query),
// not yet visited.
func (b *Browser) Authorize(tb testing.TB, loginURL, user string) *url.URL {
	tb.Helper()
	res, err := b.Get(loginURL)
	if err != nil {
		tb.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := loginFormAction.FindSubmatch(page)
	if res.StatusCode != http.StatusOK || m == nil {
		tb.Fatalf("GET %s: %s, no Keycloak login form:\n%.2000s", loginURL, res.Status, page)
	}
	form := url.Values{"username": {user}, "password": {Passwords[user]}, "credentialId": {""}}
	res, err = b.PostForm(html.UnescapeString(string(m[1])), form)
	if err != nil {
		tb.Fatal(err)
	}
	page, _ = io.ReadAll(res.Body)
	res.Body.Close()
	loc, err := res.Location()
	if res.StatusCode != http.StatusFound || err != nil {
		tb.Fatalf("login form as %s: %s (want a redirect back):\n%.2000s", user, res.Status, page)
	}
	return loc
}

// GetJSON visits u and, when the answer is 200 and v is not nil, decodes it into v; it returns
// the status and the body.
func (b *Browser) GetJSON(tb testing.TB, u string, v any) (int, string) {
	tb.Helper()
	res, err := b.Get(u)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if v != nil && res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, v); err != nil {
			tb.Fatalf("GET %s: %v: %s", u, err, body)
		}
	}
	return res.StatusCode, string(body)
}
