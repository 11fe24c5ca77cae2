package main

import (
	"bytes"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestNoSecretInLogsOrEvents runs the whole sign-in life of a node — the bootstrap admin's
// login, a refresh, the reuse of a rotated refresh token (which ends the session), a user
// created with a one-time password, an invitation issued and accepted, an API token created and
// used, a WebSocket ticket, a logout — with debug logging, then looks for every secret the flow
// saw in every log line, every stored event, the metrics and every file of the data directory:
// none may be there (events hold hashes only).
func TestNoSecretInLogsOrEvents(t *testing.T) {
	data := t.TempDir()
	env := []string{"SOC_DATA_DIR=" + data}
	n := startNode(t, append(env, "SOC_LOG_LEVEL=debug"))
	c := apiClient{t: t, base: "http://" + n.addr}
	secrets := map[string]string{"the bootstrap admin's password": testAdminPassword}
	keep := func(what, v string) {
		t.Helper()
		if len(v) < 8 {
			t.Fatalf("%s %q is too short to look for", what, v)
		}
		secrets[what] = v
	}
	keep("the seam's admin access token", bearerFor(strings.TrimPrefix(c.base, "http://"), false))

	first := signIn(t, c, testAdminEmail, testAdminPassword)
	keep("the first access token", first.AccessToken)
	keep("the first refresh token", first.RefreshToken)
	second := tokensOf(t, "refresh", c.do(http.MethodPost, "/v1/auth/refresh", jsonOf(t, map[string]string{"refresh_token": first.RefreshToken})))
	keep("the refreshed access token", second.AccessToken)
	keep("the rotated refresh token", second.RefreshToken)
	if second.SessionID != first.SessionID || second.RefreshToken == first.RefreshToken {
		t.Fatalf("a refresh must rotate the refresh token within the session: %s → %s", first.SessionID, second.SessionID)
	}
	// Reusing the rotated token is refused and revokes the whole family: the current refresh
	// token and the session's access token stop working too.
	mustStatus(t, "reusing a rotated refresh token", c.do(http.MethodPost, "/v1/auth/refresh", jsonOf(t, map[string]string{"refresh_token": first.RefreshToken})), http.StatusUnauthorized)
	mustStatus(t, "refreshing after the reuse", c.do(http.MethodPost, "/v1/auth/refresh", jsonOf(t, map[string]string{"refresh_token": second.RefreshToken})), http.StatusUnauthorized)
	mustStatus(t, "the revoked session's access token", as(c, second.AccessToken).get("/v1/me"), http.StatusUnauthorized)

	third := signIn(t, c, testAdminEmail, testAdminPassword)
	keep("the third access token", third.AccessToken)
	keep("the third refresh token", third.RefreshToken)
	admin := as(c, third.AccessToken)
	wrong := "wrong-" + randomSuffix() + randomSuffix()
	keep("a wrong password", wrong)
	mustStatus(t, "a wrong password", c.do(http.MethodPost, "/v1/auth/login", jsonOf(t, map[string]string{"email": testAdminEmail, "password": wrong})), http.StatusUnauthorized)

	// A user created without a password gets a one-time password, shown once.
	m := mustStatus(t, "creating a user", admin.do(http.MethodPost, "/v1/users", `{"email":"otp@e2e.example.com","roles":["analyst"]}`), http.StatusCreated)
	otp, _ := m["one_time_password"].(string)
	keep("a one-time password", otp)
	u := signIn(t, c, "otp@e2e.example.com", otp)
	keep("the one-time password user's access token", u.AccessToken)
	keep("the one-time password user's refresh token", u.RefreshToken)

	// An invitation, accepted with a password of the invitee's choosing.
	m = mustStatus(t, "inviting", admin.do(http.MethodPost, "/v1/invitations", `{"email":"invitee@e2e.example.com","roles":["auditor"]}`), http.StatusCreated)
	invitation, _ := m["token"].(string)
	keep("an invitation secret", invitation)
	invitee := "invitee-pw-" + randomSuffix() + randomSuffix()
	keep("the invitee's password", invitee)
	inv := tokensOf(t, "accepting the invitation", c.do(http.MethodPost, "/v1/invitations/accept",
		jsonOf(t, map[string]string{"token": invitation, "display_name": "Invitee", "password": invitee})))
	keep("the invitee's access token", inv.AccessToken)
	keep("the invitee's refresh token", inv.RefreshToken)

	// An API token, shown once, then used.
	m = mustStatus(t, "creating an API token", admin.do(http.MethodPost, "/v1/tokens", `{"name":"ci","scopes":["findings:read"],"ttl":"24h"}`), http.StatusCreated)
	pat, _ := m["token"].(string)
	if !strings.HasPrefix(pat, "soc_pat_") {
		t.Fatalf("API token %v", m)
	}
	keep("an API token", pat)
	mustStatus(t, "reading with the API token", as(c, pat).get("/v1/findings"), http.StatusOK)

	// A WebSocket ticket, redeemed.
	ticket := issueWSTicket(t, admin)
	keep("a WebSocket ticket", ticket)
	dialTicket(t, n.addr, ticket, "FindingTriaged").Close()

	mustStatus(t, "logging out", c.do(http.MethodPost, "/v1/auth/logout", jsonOf(t, map[string]string{"refresh_token": third.RefreshToken})), http.StatusNoContent)
	mustStatus(t, "refreshing after the logout", c.do(http.MethodPost, "/v1/auth/refresh", jsonOf(t, map[string]string{"refresh_token": third.RefreshToken})), http.StatusUnauthorized)
	_, metrics := get(t, c.base+"/metrics")
	n.stop(t)

	logs := n.stderr.String()
	if !strings.Contains(logs, `"level":"DEBUG"`) {
		t.Fatalf("the node logged nothing at debug level: is SOC_LOG_LEVEL honoured?\n%s", logs)
	}
	out, errOut, code := socCmd(t, env, "events", "tail", "--data", data)
	if code != 0 || !strings.Contains(out, `"UserRegistered"`) || !strings.Contains(out, `"ApiTokenIssued"`) {
		t.Fatalf("soc events tail: exit %d, %s (want the flow's identity events)", code, errOut)
	}
	for what, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("%s is in the node's log", what)
		}
		if strings.Contains(out, s) {
			t.Errorf("%s is in a stored event", what)
		}
		if strings.Contains(metrics, s) {
			t.Errorf("%s is in the metrics", what)
		}
	}
	// Every file the node wrote: the store, the read models, snapshots, the spool.
	err := filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for what, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s is in %s", what, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestServeHelpShowsNoSecretFromTheEnvironment: `soc serve --help` lists each secret flag with
// its variable; set from the environment, none of their values is printed.
func TestServeHelpShowsNoSecretFromTheEnvironment(t *testing.T) {
	help, _, code := socCmd(t, nil, "serve", "--help")
	if code != 0 {
		t.Fatalf("soc serve --help: exit %d", code)
	}
	// A secret flag's line reads "--name secret  … (SOC_NAME or SOC_NAME_FILE)".
	vars := regexp.MustCompile(`--[a-z0-9-]+ secret .*\((SOC_[A-Z0-9_]+) or SOC_[A-Z0-9_]+_FILE\)`).FindAllStringSubmatch(help, -1)
	env, values := []string{}, []string{}
	for i, v := range vars {
		value := "e2e-secret-" + randomSuffix() + "-" + string(rune('a'+i%26))
		if v[1] == "SOC_POSTGRES_URL" {
			value = "postgres://soc:" + value + "@127.0.0.1:1/soc"
		}
		env, values = append(env, v[1]+"="+value), append(values, value)
	}
	for _, want := range []string{"SOC_POSTGRES_URL=", "SOC_METRICS_TOKEN="} {
		if !strings.Contains(strings.Join(env, "\n"), want) {
			t.Fatalf("soc serve --help lists no secret flag for %s (found %d secret flags)", want, len(vars))
		}
	}
	out, errOut, code := socCmd(t, env, "serve", "--help")
	if code != 0 {
		t.Fatalf("soc serve --help with secrets in the environment: exit %d", code)
	}
	for i, v := range values {
		if strings.Contains(out+errOut, v) {
			t.Errorf("soc serve --help printed the value of %s", env[i][:strings.Index(env[i], "=")])
		}
	}
}
