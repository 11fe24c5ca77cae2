package ports_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/identity/identitytest"
	"github.com/socplatform/soc/commands/identity/ports"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/problem"
)

const adminPassword = "correct horse battery staple"

type env struct {
	t     *testing.T
	id    *identitytest.Env
	srv   *httptest.Server
	admin string // the admin's access token
}

// newEnv serves the identity routes behind a minimal stand-in of the router's authentication
// (a bearer credential through Authenticate into the request's context).
func newEnv(t *testing.T) *env {
	t.Helper()
	id := identitytest.Open(t, testsupport.SQLiteStore(t), nil)
	mux := http.NewServeMux()
	jwks := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"keys":[]}`)) })
	if err := ports.Register(mux, id.Svc, ports.Config{Schemas: testsupport.CommandSchemas(t), JWKS: jwks}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := r.Header.Get("Authorization"); h != "" {
			p, err := id.Svc.Authenticate(r.Context(), strings.TrimPrefix(h, "Bearer "))
			if err != nil {
				problem.Error(w, r, nil, err)
				return
			}
			r = r.WithContext(access.With(r.Context(), p))
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	if _, _, err := id.Svc.BootstrapAdmin(t.Context(), "admin@example.org", adminPassword); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, id: id, srv: srv}
	e.admin = e.login("admin@example.org", adminPassword).Str("access_token")
	return e
}

func (e *env) do(method, path, token, body string, headers ...string) testsupport.Reply {
	e.t.Helper()
	if token != "" {
		headers = append(headers, "Authorization", "Bearer "+token)
	}
	if body != "" {
		headers = append(headers, "Content-Type", "application/json")
	}
	return testsupport.Do(e.t, method, e.srv.URL+path, body, headers...)
}

func (e *env) login(email, password string) testsupport.Reply {
	e.t.Helper()
	r := e.do("POST", "/v1/auth/login", "", `{"email":"`+email+`","password":"`+password+`"}`)
	if r.Status != 200 {
		e.t.Fatalf("login %s: %d %v", email, r.Status, r.Body)
	}
	return r
}

func want(t *testing.T, r testsupport.Reply, status int) testsupport.Reply {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %v", r.Status, status, r.Body)
	}
	return r
}

func items(r testsupport.Reply) []any { l, _ := r.Body["items"].([]any); return l }

func TestAuthEndpoints(t *testing.T) {
	e := newEnv(t)
	r := e.login("admin@example.org", adminPassword)
	if r.Str("token_type") != "Bearer" || r.Num("expires_in") != 900 || !strings.HasPrefix(r.Str("refresh_token"), "soc_rt_") || r.Str("session_id") == "" {
		t.Fatalf("login %v", r.Body)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q on an answer with secrets", cc)
	}
	testsupport.ExpectProblem(t, e.do("POST", "/v1/auth/login", "", `{"email":"admin@example.org","password":"nope"}`), 401, "")
	testsupport.ExpectProblem(t, e.do("POST", "/v1/auth/login", "", `{"email":"admin@example.org"}`), 400, "/password")
	testsupport.ExpectProblem(t, e.do("POST", "/v1/auth/login", "", `{"email":"admin@example.org","password":"x","extra":1}`), 400, "/extra")
	testsupport.ExpectProblem(t, e.do("POST", "/v1/auth/login", "", `{"email":"a@b","password":"x","password":"y"}`), 400, "/password")

	ref := want(t, e.do("POST", "/v1/auth/refresh", "", `{"refresh_token":"`+r.Str("refresh_token")+`"}`), 200)
	if ref.Str("session_id") != r.Str("session_id") || ref.Str("refresh_token") == r.Str("refresh_token") {
		t.Fatalf("refresh %v", ref.Body)
	}
	testsupport.ExpectProblem(t, e.do("POST", "/v1/auth/refresh", "", `{"refresh_token":"`+r.Str("refresh_token")+`"}`), 401, "")
	testsupport.ExpectProblem(t, e.do("POST", "/v1/auth/refresh", "", `{"refresh_token":"not-a-refresh-token"}`), 400, "/refresh_token")
	// the reuse revoked the family
	testsupport.ExpectProblem(t, e.do("GET", "/v1/me", ref.Str("access_token"), ""), 401, "")

	s := e.login("admin@example.org", adminPassword)
	want(t, e.do("POST", "/v1/auth/logout", "", `{"refresh_token":"`+s.Str("refresh_token")+`"}`), 204)
	testsupport.ExpectProblem(t, e.do("GET", "/v1/me", s.Str("access_token"), ""), 401, "")

	if jwks := want(t, e.do("GET", "/.well-known/jwks.json", "", ""), 200); jwks.Body["keys"] == nil {
		t.Fatalf("jwks %v", jwks.Body)
	}
}

func TestLockoutAnswers429WithRetryAfter(t *testing.T) {
	e := newEnv(t)
	var last testsupport.Reply
	for range 6 {
		last = e.do("POST", "/v1/auth/login", "", `{"email":"admin@example.org","password":"wrong"}`)
	}
	testsupport.ExpectProblem(t, last, 429, "")
	if ra, _ := strconv.Atoi(last.Header.Get("Retry-After")); ra < 1 {
		t.Fatalf("Retry-After %q", last.Header.Get("Retry-After"))
	}
	e.id.Clock.Advance(time.Minute)
	e.login("admin@example.org", adminPassword)
}

func TestProtectedRoutesNeedAPrincipal(t *testing.T) {
	e := newEnv(t)
	for _, route := range []string{"GET /v1/me", "GET /v1/me/sessions", "DELETE /v1/me/sessions/x", "PUT /v1/me/preferences",
		"GET /v1/users", "POST /v1/users", "GET /v1/users/x", "POST /v1/users/x/disable", "POST /v1/users/x/enable",
		"PUT /v1/users/x/roles", "GET /v1/users/x/sessions", "DELETE /v1/sessions/x", "GET /v1/teams", "POST /v1/teams",
		"POST /v1/teams/x/members", "DELETE /v1/teams/x/members/y", "GET /v1/roles", "POST /v1/roles", "POST /v1/invitations",
		"GET /v1/tokens", "POST /v1/tokens", "DELETE /v1/tokens/x"} {
		method, path, _ := strings.Cut(route, " ")
		testsupport.ExpectProblem(t, e.do(method, path, "", ""), 401, "")
	}
}

func TestUserTeamRoleEndpoints(t *testing.T) {
	e := newEnv(t)
	team := want(t, e.do("POST", "/v1/teams", e.admin, `{"name":"blue"}`), 201)
	teamID := team.Str("id")
	u := want(t, e.do("POST", "/v1/users", e.admin, `{"email":"Ann@Example.org","display_name":"Ann","password":"ann's long password","roles":["remediator"],"teams":["`+teamID+`"]}`), 201)
	annID := u.Str("id")
	if u.Str("email") != "ann@example.org" || u.Body["password_hash"] != nil {
		t.Fatalf("user %v", u.Body)
	}
	testsupport.ExpectProblem(t, e.do("POST", "/v1/users", e.admin, `{"email":"ANN@example.org","display_name":"Ann"}`), 409, "/email")
	testsupport.ExpectProblem(t, e.do("POST", "/v1/users", e.admin, `{"email":"b@example.org","display_name":"B","roles":["wizard"]}`), 422, "/roles/0")
	testsupport.ExpectProblem(t, e.do("POST", "/v1/users", e.admin, `{"email":"b@example.org","display_name":"B","password":"short"}`), 400, "/password")
	testsupport.ExpectProblem(t, e.do("POST", "/v1/users", e.admin, `{"email":"not an email","display_name":"B"}`), 400, "/email")

	ann := e.login("ann@example.org", "ann's long password").Str("access_token")
	testsupport.ExpectProblem(t, e.do("POST", "/v1/users", ann, `{"email":"c@example.org","display_name":"C"}`), 403, "")

	if l := items(want(t, e.do("GET", "/v1/users", e.admin, ""), 200)); len(l) != 2 {
		t.Fatalf("users %v", l)
	}
	if l := items(want(t, e.do("GET", "/v1/users", ann, ""), 200)); len(l) != 2 { // remediators hold users:read
		t.Fatalf("users %v", l)
	}
	if g := want(t, e.do("GET", "/v1/users/"+annID, e.admin, ""), 200); g.Str("email") != "ann@example.org" {
		t.Fatalf("user %v", g.Body)
	}
	testsupport.ExpectProblem(t, e.do("GET", "/v1/users/identity-user-0190a5e4-0000-7000-8000-000000000001", e.admin, ""), 404, "")

	want(t, e.do("PUT", "/v1/users/"+annID+"/roles", e.admin, `{"roles":["analyst","remediator"]}`), 200)
	testsupport.ExpectProblem(t, e.do("PUT", "/v1/users/"+annID+"/roles", e.admin, `{"roles":"analyst"}`), 400, "/roles")
	me := want(t, e.do("GET", "/v1/me", ann, ""), 200)
	if perms, _ := me.Body["permissions"].([]any); len(perms) < 10 {
		t.Fatalf("me after the grant %v", me.Body)
	}

	want(t, e.do("POST", "/v1/roles", e.admin, `{"name":"triager","permissions":["findings:read","findings:triage"]}`), 201)
	testsupport.ExpectProblem(t, e.do("POST", "/v1/roles", e.admin, `{"name":"admin","permissions":["findings:read"]}`), 422, "/name")
	testsupport.ExpectProblem(t, e.do("POST", "/v1/roles", e.admin, `{"name":"x1","permissions":["root"]}`), 400, "/permissions/0")
	if l := items(want(t, e.do("GET", "/v1/roles", ann, ""), 200)); len(l) != 6 {
		t.Fatalf("roles %v", l)
	}

	other := want(t, e.do("POST", "/v1/users", e.admin, `{"email":"bo@example.org","display_name":"Bo"}`), 201).Str("id")
	want(t, e.do("POST", "/v1/teams/"+teamID+"/members", e.admin, `{"user_id":"`+other+`","lead":true}`), 200)
	testsupport.ExpectProblem(t, e.do("POST", "/v1/teams/"+teamID+"/members", e.admin, `{"user_id":"identity-user-0190a5e4-0000-7000-8000-000000000001"}`), 422, "/user_id")
	testsupport.ExpectProblem(t, e.do("DELETE", "/v1/teams/"+teamID+"/members/"+other, e.admin, ""), 422, "/user_id") // the lead
	want(t, e.do("DELETE", "/v1/teams/"+teamID+"/members/"+annID, e.admin, ""), 204)
	teams := items(want(t, e.do("GET", "/v1/teams", e.admin, ""), 200))
	if len(teams) != 1 || teams[0].(map[string]any)["lead"] != other {
		t.Fatalf("teams %v", teams)
	}

	want(t, e.do("POST", "/v1/users/"+annID+"/disable", e.admin, `{"reason":"left"}`), 200)
	testsupport.ExpectProblem(t, e.do("GET", "/v1/me", ann, ""), 401, "")
	testsupport.ExpectProblem(t, e.do("POST", "/v1/users/"+annID+"/disable", e.admin, ``), 409, "")
	want(t, e.do("POST", "/v1/users/"+annID+"/enable", e.admin, ``), 200)
	meID := want(t, e.do("GET", "/v1/me", e.admin, ""), 200).Str("id")
	testsupport.ExpectProblem(t, e.do("POST", "/v1/users/"+meID+"/disable", e.admin, `{}`), 422, "/")
}

func TestSessionEndpoints(t *testing.T) {
	e := newEnv(t)
	want(t, e.do("POST", "/v1/users", e.admin, `{"email":"sam@example.org","display_name":"Sam","password":"sam's long password","roles":["analyst"]}`), 201)
	a := e.login("sam@example.org", "sam's long password")
	b := e.login("sam@example.org", "sam's long password")
	sam := a.Str("access_token")
	l := items(want(t, e.do("GET", "/v1/me/sessions", sam, ""), 200))
	if len(l) != 2 {
		t.Fatalf("sessions %v", l)
	}
	for _, s := range l {
		if strings.Contains(strings.ToLower(toJSON(s)), "sha256") || strings.Contains(toJSON(s), "soc_rt_") {
			t.Fatalf("a session listing shows its refresh token: %v", s)
		}
	}
	samID := want(t, e.do("GET", "/v1/me", sam, ""), 200).Str("id")
	if l := items(want(t, e.do("GET", "/v1/users/"+samID+"/sessions", e.admin, ""), 200)); len(l) != 2 {
		t.Fatalf("admin's view %v", l)
	}
	want(t, e.do("GET", "/v1/users/"+samID+"/sessions", sam, ""), 200) // one's own
	want(t, e.do("POST", "/v1/users", e.admin, `{"email":"kim@example.org","display_name":"Kim","password":"kim's long password","roles":["analyst"]}`), 201)
	kim := e.login("kim@example.org", "kim's long password").Str("access_token")
	testsupport.ExpectProblem(t, e.do("GET", "/v1/users/"+samID+"/sessions", kim, ""), 403, "")
	testsupport.ExpectProblem(t, e.do("DELETE", "/v1/sessions/"+a.Str("session_id"), kim, ""), 404, "")

	want(t, e.do("DELETE", "/v1/me/sessions/"+b.Str("session_id"), sam, ""), 204)
	testsupport.ExpectProblem(t, e.do("GET", "/v1/me", b.Str("access_token"), ""), 401, "")
	testsupport.ExpectProblem(t, e.do("DELETE", "/v1/me/sessions/identity-session-0190a5e4-0000-7000-8000-000000000001", sam, ""), 404, "")
	want(t, e.do("DELETE", "/v1/sessions/"+a.Str("session_id"), e.admin, ""), 204)
	testsupport.ExpectProblem(t, e.do("GET", "/v1/me", sam, ""), 401, "")
}

func toJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestTokenEndpoints(t *testing.T) {
	e := newEnv(t)
	r := want(t, e.do("POST", "/v1/tokens", e.admin, `{"name":"ci","scopes":["imports:write"],"ttl":"90d"}`), 201)
	tok, id := r.Str("token"), r.Str("id")
	if !strings.HasPrefix(tok, "soc_pat_") || r.Str("expires_at") != identitytest.Start.Add(90*24*time.Hour).Format(time.RFC3339) {
		t.Fatalf("token %v", r.Body)
	}
	testsupport.ExpectProblem(t, e.do("POST", "/v1/tokens", e.admin, `{"name":"ci","scopes":["imports:write"],"ttl":"9999d"}`), 422, "/ttl")
	testsupport.ExpectProblem(t, e.do("POST", "/v1/tokens", e.admin, `{"name":"ci","scopes":[],"ttl":"1d"}`), 400, "/scopes")
	testsupport.ExpectProblem(t, e.do("POST", "/v1/tokens", e.admin, `{"name":"ci","scopes":["imports:write"],"ttl":"1w"}`), 400, "/ttl")
	// the token works, holds its scope only, and cannot mint tokens itself
	me := want(t, e.do("GET", "/v1/me", tok, ""), 200)
	if me.Str("kind") != "token" || toJSON(me.Body["permissions"]) != `["imports:write"]` {
		t.Fatalf("me as the token %v", me.Body)
	}
	testsupport.ExpectProblem(t, e.do("POST", "/v1/tokens", tok, `{"name":"x","scopes":["imports:write"],"ttl":"1d"}`), 403, "")
	l := items(want(t, e.do("GET", "/v1/tokens", e.admin, ""), 200))
	if len(l) != 1 || strings.Contains(toJSON(l), tok) || l[0].(map[string]any)["last_used_at"] == nil {
		t.Fatalf("tokens %v", l)
	}
	want(t, e.do("DELETE", "/v1/tokens/"+id, e.admin, ""), 204)
	testsupport.ExpectProblem(t, e.do("GET", "/v1/me", tok, ""), 401, "")
	testsupport.ExpectProblem(t, e.do("DELETE", "/v1/tokens/"+id, e.admin, ""), 409, "")
	testsupport.ExpectProblem(t, e.do("DELETE", "/v1/tokens/identity-token-0190a5e4-0000-7000-8000-000000000001", e.admin, ""), 404, "")
}

func TestInvitationEndpoints(t *testing.T) {
	e := newEnv(t)
	r := want(t, e.do("POST", "/v1/invitations", e.admin, `{"email":"new@example.org","roles":["auditor"],"ttl":"2d"}`), 201)
	secret := r.Str("token")
	if !strings.HasPrefix(secret, "soc_inv_") {
		t.Fatalf("invitation %v", r.Body)
	}
	testsupport.ExpectProblem(t, e.do("POST", "/v1/invitations", e.admin, `{"email":"x@example.org","roles":["nope"]}`), 422, "/roles/0")
	acc := want(t, e.do("POST", "/v1/invitations/accept", "", `{"token":"`+secret+`","display_name":"New","password":"new person's password"}`), 201)
	if me := want(t, e.do("GET", "/v1/me", acc.Str("access_token"), ""), 200); toJSON(me.Body["roles"]) != `["auditor"]` {
		t.Fatalf("me %v", me.Body)
	}
	testsupport.ExpectProblem(t, e.do("POST", "/v1/invitations/accept", "", `{"token":"`+secret+`","display_name":"Again","password":"new person's password"}`), 401, "")
	testsupport.ExpectProblem(t, e.do("POST", "/v1/invitations/accept", "", `{"token":"`+secret+`","display_name":"Again","password":"short"}`), 400, "/password")
}

func TestPreferencesEndpoint(t *testing.T) {
	e := newEnv(t)
	want(t, e.do("PUT", "/v1/me/preferences", e.admin, `{"channels":["email","inapp"],"digest":true,"quiet_hours":{"start":"22:00","end":"07:00"}}`), 200)
	testsupport.ExpectProblem(t, e.do("PUT", "/v1/me/preferences", e.admin, `{"channels":["pigeon"]}`), 400, "/channels/0")
	testsupport.ExpectProblem(t, e.do("PUT", "/v1/me/preferences", e.admin, `{"channels":[],"quiet_hours":{"start":"25:00","end":"07:00"}}`), 400, "/quiet_hours/start")
	me := want(t, e.do("GET", "/v1/me", e.admin, ""), 200)
	if toJSON(me.Body["preferences"]) != `{"channels":["email","inapp"],"digest":true,"quiet_hours":{"end":"07:00","start":"22:00"}}` {
		t.Fatalf("preferences %v", toJSON(me.Body["preferences"]))
	}
}

// A retried creation with the same Idempotency-Key finds the user it created.
func TestCreateUserIsIdempotentWithAKey(t *testing.T) {
	e := newEnv(t)
	body := `{"email":"once@example.org","display_name":"Once"}`
	first := want(t, e.do("POST", "/v1/users", e.admin, body, "Idempotency-Key", "k-1"), 201)
	again := want(t, e.do("POST", "/v1/users", e.admin, body, "Idempotency-Key", "k-1"), 201)
	if again.Str("id") != first.Str("id") {
		t.Fatalf("the retry created %s, then %s", first.Str("id"), again.Str("id"))
	}
	testsupport.ExpectProblem(t, e.do("POST", "/v1/users", e.admin, body, "Idempotency-Key", "k-2"), 409, "/email")
}

// What `soc users create` and `soc token create` send: empty optional fields, a Go duration,
// no scopes; and what they read back.
func TestCLIRequests(t *testing.T) {
	e := newEnv(t)
	u := want(t, e.do("POST", "/v1/users", e.admin, `{"email":"cli@example.org","display_name":"","phone":"","time_zone":"","roles":["analyst"]}`), 201)
	if u.Str("one_time_password") == "" || u.Str("display_name") != "cli@example.org" {
		t.Fatalf("created %v", u.Body)
	}
	cli := e.login("cli@example.org", u.Str("one_time_password")).Str("access_token")
	if l := items(want(t, e.do("GET", "/v1/users?email=CLI@example.org", cli, ""), 200)); len(l) != 1 {
		t.Fatalf("by email %v", l)
	}
	tok := want(t, e.do("POST", "/v1/tokens", cli, `{"name":"soc-cli","ttl":"2160h0m0s"}`), 201)
	me := want(t, e.do("GET", "/v1/me", tok.Str("token"), ""), 200)
	if perms, _ := me.Body["permissions"].([]any); len(perms) < 10 {
		t.Fatalf("a token without scopes holds %v, want the owner's permissions", me.Body["permissions"])
	}
	r := want(t, e.do("POST", "/v1/tokens", e.admin, `{"name":"for cli","user_id":"`+u.Str("id")+`","scopes":["imports:write"],"ttl":"1d"}`), 201)
	want(t, e.do("DELETE", "/v1/tokens/"+r.Str("id"), e.admin, ""), 204)
}
