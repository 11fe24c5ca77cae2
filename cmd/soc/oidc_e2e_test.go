package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/cmd/soc/internal/apiclient"
	"github.com/socplatform/soc/commands/identity/sso"
	"github.com/socplatform/soc/commands/identity/sso/ssotest"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/access"
)

// TestOIDCEndToEnd is issue 13's proof against the real Keycloak (deploy/dev, realm soc-test):
// users sign in through the node's OIDC routes (ssotest fills in Keycloak's login form), land
// with the role and team their groups map to, and what they do is recorded as theirs.
func TestOIDCEndToEnd(t *testing.T) {
	realm := ssotest.Keycloak(t)
	report := filepath.Join(sharedTestdata(t), "trivy", "trivy_fs_vulns_misconfig_secrets.json")
	// The node's callback must be registered at the provider before it starts, so its port is
	// chosen first (the realm accepts any http://127.0.0.1 port).
	addr := freeAddr(t)
	data := t.TempDir()
	n := startNode(t, nil, "--http", addr, "--data", data,
		"--oidc-issuer", realm.Issuer, "--oidc-client-id", realm.ClientID, "--oidc-client-secret", realm.ClientSecret,
		"--oidc-redirect-url", "http://"+addr+sso.CallbackPath, "--oidc-group-mapping", ssotest.GroupMapping)
	base := "http://" + n.addr
	// The mapping names teams; an admin creates them (the provider's groups do not).
	admin := bearerFor(n.addr, false)
	teams := map[string]string{}
	for _, name := range []string{"platform", "payments"} {
		var team struct{ ID, Name string }
		if r := callJSON(t, http.MethodPost, base+"/v1/teams", admin, `{"name":"`+name+`"}`, &team); r.status != http.StatusCreated || team.ID == "" {
			t.Fatalf("creating team %s: %d %s", name, r.status, r.body)
		}
		teams[name] = team.Name // a principal names its teams by name, as assets' owner_team does
	}

	alice := signInThroughNode(t, base, "alice")
	me := whoAmI(t, base, alice.AccessToken)
	if !slices.Equal(me.Roles, []string{access.RoleAnalyst}) || !slices.Equal(me.Teams, []string{teams["platform"]}) || me.Kind != access.KindUser {
		t.Fatalf("alice: /v1/me %+v, want a user, analyst of team platform (%s)\n%s", me, teams["platform"], n.stderr)
	}

	// Alice imports a report with her session; every event the import wrote is hers.
	before, _ := tail(t, nil, "--data", data)
	t.Setenv("SOC_CONFIG_DIR", t.TempDir()) // no stored session: SOC_TOKEN is the credential
	t.Setenv("SOC_TOKEN", alice.AccessToken)
	var out, errOut strings.Builder
	if code := run([]string{"import", report, "--server", base}, &out, &errOut); code != 0 {
		t.Fatalf("soc import as alice: exit %d: %s\n%s", code, errOut.String(), n.stderr)
	}
	var sum importSummary
	if err := json.Unmarshal([]byte(out.String()), &sum); err != nil || sum.FindingsTotal == 0 {
		t.Fatalf("soc import as alice printed %q", out.String())
	}
	// What the import recorded (the import, its assets and findings) is alice's; what the
	// platform did in reaction is its workers' (system:<saga> in a saga's own stream).
	var types []string
	for _, e := range importEvents(t, data, sum.ScanID, len(before)) {
		st := events.StreamTypeOf(e.StreamID)
		switch ctx := events.StreamContext(e.StreamID); {
		case ctx == "scans" || ctx == "assets" || ctx == "vulns":
			if e.Actor != "user:"+me.ID {
				t.Fatalf("%s of %s: actor %q, want user:%s (alice)", e.Type, e.StreamID, e.Actor, me.ID)
			}
			types = append(types, e.Type)
		case ctx == "sagas":
			if want := access.System(strings.TrimPrefix(st, "sagas-")).Actor(); e.Actor != want {
				t.Fatalf("%s of %s: actor %q, want %s", e.Type, e.StreamID, e.Actor, want)
			}
		case !strings.HasPrefix(e.Actor, "system:"):
			t.Fatalf("%s of %s, a reaction to alice's import: actor %q, want a system:<worker>", e.Type, e.StreamID, e.Actor)
		}
	}
	for _, want := range []string{"ScanImportRequested", "AssetRegisteredWeakly", "FindingOpened", "ScanImportCompleted"} {
		if !slices.Contains(types, want) {
			t.Fatalf("the import's events %v lack %s", types, want)
		}
	}

	bob := signInThroughNode(t, base, "bob")
	if me := whoAmI(t, base, bob.AccessToken); !slices.Equal(me.Roles, []string{access.RoleRemediator}) || !slices.Equal(me.Teams, []string{teams["payments"]}) {
		t.Fatalf("bob: /v1/me %+v, want remediator of team payments (%s)", me, teams["payments"])
	}

	// Carol's groups grant no role: refused, and no account is made for her.
	b := ssotest.NewBrowser(t, atCallbackOf(n.addr))
	if code, body := b.GetJSON(t, b.Authorize(t, base+sso.LoginPath, "carol").String(), nil); code != http.StatusForbidden || !strings.Contains(body, "grants a role") {
		t.Fatalf("carol: callback %d %s, want 403", code, body)
	}
	var users struct{ Items []struct{ Email string } }
	if r := callJSON(t, http.MethodGet, base+"/v1/users?email=carol@soc.test", admin, "", &users); r.status != http.StatusOK || len(users.Items) != 0 {
		t.Fatalf("users named carol: %d %s, want none", r.status, r.body)
	}

	// The CLI's sign-in (soc login --sso) on the same node: the stored session is bob's.
	cli := startSSOLogin(t, base)
	if code, page := keycloakSignIn(t, cli, "bob"); code != http.StatusOK {
		t.Fatalf("soc login --sso: browser page %d %q\n%s", code, page, n.stderr)
	}
	if code := cli.exit(t); code != 0 {
		t.Fatalf("soc login --sso exited %d:\n%s", code, cli.stderr)
	}
	creds, ok := cli.stored(t, base)
	if cliMe := whoAmI(t, base, creds.AccessToken); !ok || cliMe.ID != whoAmI(t, base, bob.AccessToken).ID {
		t.Fatalf("soc login --sso stored the session of %+v, want bob's", cliMe)
	}

	// No token of these sign-ins, nor the client secret, is in the node's log or in the events.
	_, stored := tail(t, nil, "--data", data)
	for what, secret := range map[string]string{"alice's access token": alice.AccessToken, "alice's refresh token": alice.RefreshToken,
		"bob's refresh token": bob.RefreshToken, "the CLI's refresh token": creds.RefreshToken, "the client secret": realm.ClientSecret} {
		if strings.Contains(n.stderr.String(), secret) || strings.Contains(strings.Join(stored, "\n"), secret) {
			t.Errorf("%s appears in the node's log or in the event store", what)
		}
	}
}

func atCallbackOf(host string) func(*url.URL) bool {
	return func(u *url.URL) bool { return u.Host == host && u.Path == sso.CallbackPath }
}

// signInThroughNode signs user in as a browser does: the node's login route, Keycloak's form,
// the node's callback, which answers the session.
func signInThroughNode(t *testing.T, base, user string) apiclient.LoginAnswer {
	t.Helper()
	u, _ := url.Parse(base)
	b := ssotest.NewBrowser(t, atCallbackOf(u.Host))
	var ans apiclient.LoginAnswer
	if code, body := b.GetJSON(t, b.Authorize(t, base+sso.LoginPath, user).String(), &ans); code != http.StatusOK || ans.AccessToken == "" || ans.RefreshToken == "" {
		t.Fatalf("%s: callback %d %s, want a session", user, code, body)
	}
	return ans
}

type meAnswer struct {
	Kind  access.Kind `json:"kind"`
	ID    string      `json:"id"`
	Roles []string    `json:"roles"`
	Teams []string    `json:"teams"`
}

func whoAmI(t *testing.T, base, token string) meAnswer {
	t.Helper()
	var me meAnswer
	if r := callJSON(t, http.MethodGet, base+"/v1/me", token, "", &me); r.status != http.StatusOK {
		t.Fatalf("/v1/me: %d %s", r.status, r.body)
	}
	return me
}

// callJSON is call decoding a 2xx answer into v.
func callJSON(t *testing.T, method, u, bearer, body string, v any) reply {
	t.Helper()
	r := call(t, method, u, bearer, body)
	if r.status/100 == 2 {
		if err := json.Unmarshal([]byte(r.body), v); err != nil {
			t.Fatalf("%s %s: %v: %s", method, u, err, r.body)
		}
	}
	return r
}

type actedEvent struct {
	Type          string `json:"type"`
	StreamID      string `json:"stream_id"`
	CorrelationID string `json:"correlation_id"`
	Actor         string `json:"actor"`
}

// importEvents are the events of the import of scan (those correlated with it) after the
// first skip events of the log.
func importEvents(t *testing.T, data, scan string, skip int) []actedEvent {
	t.Helper()
	_, lines := tail(t, nil, "--data", data)
	var out []actedEvent
	for _, l := range lines[skip:] {
		var e actedEvent
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatal(err)
		}
		if e.CorrelationID == scan {
			out = append(out, e)
		}
	}
	return out
}
