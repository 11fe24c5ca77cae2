package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers/trivy/trivytest"
)

// signedInNode runs a full node in this process whose first admin is bootstrapped as on a
// first start (--bootstrap-admin-*), and returns its base URL, the admin's access token and the
// routes it serves.
func signedInNode(t *testing.T, cfg *Config) (base, adminToken string, patterns []string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "admin-password")
	if err := os.WriteFile(file, []byte(testAdminPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Identity.BootstrapAdminEmail, cfg.Identity.BootstrapAdminPasswordFile = testAdminEmail, file
	addr, patterns := serveInProcess(t, cfg)
	base = "http://" + addr
	return base, login(t, base, testAdminEmail, testAdminPassword), patterns
}

// login signs email in and returns the access token.
func login(t *testing.T, base, email, password string) string {
	t.Helper()
	token, r := tryLogin(t, base, email, password)
	if token == "" {
		t.Fatalf("login %s: %d %s", email, r.status, r.body)
	}
	return token
}

// tryLogin signs email in: the access token, "" when the node does not answer 200 with one, and
// the answer.
func tryLogin(t *testing.T, base, email, password string) (string, reply) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	r := call(t, http.MethodPost, base+"/v1/auth/login", "", string(body))
	var ans struct {
		AccessToken string `json:"access_token"`
	}
	if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &ans) != nil {
		return "", r
	}
	return ans.AccessToken, r
}

// An external definition's push token is an API token of scope imports:write bound to it: it
// pushes that definition's reports (as itself: the events' actor is the token), and nothing
// else — not another definition's reports, not any other route.
func TestPushTokensAreDefinitionBoundAPITokens(t *testing.T) {
	base, admin, _ := signedInNode(t, allTargetsConfig(t))
	define := func(name string) (id, token string) {
		t.Helper()
		r := call(t, http.MethodPost, base+"/v1/scan-definitions", admin, `{"name":"`+name+`","scanner":"external","format":"trivy"}`)
		var m struct{ ID, Token string }
		if r.status != http.StatusCreated || json.Unmarshal([]byte(r.body), &m) != nil || !strings.HasPrefix(m.Token, "soc_pat_") {
			t.Fatalf("creating %s: %d %s", name, r.status, r.body)
		}
		return m.ID, m.Token
	}
	first, token := define("ci trivy")
	second, _ := define("nightly trivy")
	report, err := os.ReadFile(trivytest.WriteFile(t, 3, "registry.example/push:1", trivytest.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	push := func(def, bearer string) reply {
		return call(t, http.MethodPost, base+"/v1/scan-definitions/"+def+"/reports?format=trivy", bearer, string(report))
	}
	if r := push(first, token); r.status != http.StatusOK || !strings.Contains(r.body, `"completed"`) {
		t.Fatalf("push with the definition's token: %d %s", r.status, r.body)
	}
	if r := push(second, token); r.status != http.StatusForbidden || !strings.Contains(r.body, first) {
		t.Fatalf("push to another definition: %d %s", r.status, r.body)
	}
	if r := push(first, ""); r.status != http.StatusUnauthorized {
		t.Fatalf("push without a token: %d %s", r.status, r.body)
	}
	for _, route := range []struct{ method, path, body string }{
		{http.MethodGet, "/v1/findings", ""},
		{http.MethodGet, "/v1/scan-definitions/" + first, ""},
		{http.MethodPost, "/v1/scans/imports?format=trivy", string(report)},
	} {
		if r := call(t, route.method, base+route.path, token, route.body); r.status != http.StatusForbidden {
			t.Errorf("%s %s with a push token: %d %s", route.method, route.path, r.status, r.body)
		}
	}
	// The token is listed with its definition, and is the actor of the pushed scan's events.
	r := call(t, http.MethodGet, base+"/v1/tokens", admin, "")
	var tokens struct {
		Items []struct {
			ID           string   `json:"id"`
			Scopes       []string `json:"scopes"`
			DefinitionID string   `json:"definition_id"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(r.body), &tokens); err != nil || len(tokens.Items) != 2 {
		t.Fatalf("tokens: %d %s", r.status, r.body)
	}
	tok := tokens.Items[0]
	if tok.DefinitionID != "scans-definition-"+first || len(tok.Scopes) != 1 || tok.Scopes[0] != "imports:write" {
		t.Fatalf("the push token: %+v", tok)
	}
	r = call(t, http.MethodGet, base+"/v1/events?type=ScanCompleted&actor="+url.QueryEscape("token:"+tok.ID), admin, "")
	if r.status != http.StatusOK || !strings.Contains(r.body, `"actor":"token:`+tok.ID+`"`) {
		t.Fatalf("the pushed scan's events by token:%s: %d %s", tok.ID, r.status, r.body)
	}
}
