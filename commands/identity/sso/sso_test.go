package sso

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/schemas/access"
)

func TestParseMappingRefusesWhatWouldGrantNothingOrTheWrongThing(t *testing.T) {
	for name, tc := range map[string]struct {
		doc, want string
		custom    []string
	}{
		"unknown role":        {doc: `{"/g": {"roles": ["analyts"]}}`, want: `unknown role "analyts"`},
		"unlisted custom":     {doc: `{"/g": {"roles": ["triager"]}}`, want: `unknown role "triager"`},
		"empty grant":         {doc: `{"/g": {}}`, want: "neither a role nor a team"},
		"empty team":          {doc: `{"/g": {"teams": [" "]}}`, want: "team name is empty"},
		"empty group":         {doc: `{"": {"roles": ["admin"]}}`, want: "group name is empty"},
		"unknown member":      {doc: `{"/g": {"role": ["admin"]}}`, want: `unknown field "role"`},
		"not an object":       {doc: `["admin"]`, want: "not a group mapping"},
		"trailing data":       {doc: `{} {}`, want: "data after"},
		"every problem shown": {doc: `{"/a": {"roles": ["x"]}, "/b": {"roles": ["y"]}}`, want: `"y"`},
	} {
		_, err := ParseMapping([]byte(tc.doc), tc.custom)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want it to say %q", name, err, tc.want)
		}
	}
	m, err := ParseMapping([]byte(`{"/g": {"roles": ["triager", "auditor"], "teams": ["ops"]}}`), []string{"triager"})
	if err != nil || !slices.Equal(m["/g"].Roles, []string{"triager", "auditor"}) {
		t.Fatalf("a listed custom role: %v %v", m, err)
	}
}

func TestMappingApplyMergesSortsAndDeduplicates(t *testing.T) {
	m, err := ParseMapping([]byte(`{
		"/sec":      {"roles": ["analyst", "auditor"]},
		"/audit":    {"roles": ["auditor"], "teams": ["payments"]},
		"/platform": {"teams": ["platform", "payments"]}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	roles, teams := m.Apply([]string{"/platform", "/unmapped", "/audit", "/sec"})
	if !slices.Equal(roles, []string{"analyst", "auditor"}) || !slices.Equal(teams, []string{"payments", "platform"}) {
		t.Fatalf("roles %v teams %v", roles, teams)
	}
	if r, tm := m.Apply(nil); len(r) != 0 || len(tm) != 0 {
		t.Fatalf("no groups granted %v %v", r, tm)
	}
}

func TestLoadMappingFromFileOrInline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mapping.json")
	if err := os.WriteFile(path, []byte(`{"/g": {"roles": ["scanner"]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, spec := range []string{path, ` {"/g": {"roles": ["scanner"]}}`} {
		m, err := LoadMapping(spec, nil)
		if err != nil || !slices.Equal(m["/g"].Roles, []string{access.RoleScanner}) {
			t.Errorf("%q: %v %v", spec, m, err)
		}
	}
	if _, err := LoadMapping(filepath.Join(t.TempDir(), "missing.json"), nil); err == nil {
		t.Error("a missing file was accepted")
	}
}

func validConfig() Config {
	return Config{Issuer: "https://sso.example.com/realms/soc", ClientID: "soc", ClientSecret: "s3cret-value",
		RedirectURL: "https://soc.example.com/v1/auth/oidc/callback", GroupsClaim: DefaultGroupsClaim,
		Mapping: `{"/soc-analysts": {"roles": ["analyst"]}}`}
}

func TestConfigFlagsAndValidate(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	c.RegisterFlags(fs)
	if c.GroupsClaim != DefaultGroupsClaim || c.Configured() {
		t.Fatalf("defaults %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("SSO off must be valid: %v", err)
	}
	if err := fs.Parse([]string{"--oidc-issuer=http://127.0.0.1:8080/realms/t", "--oidc-client-id=soc",
		"--oidc-client-secret=s3cret-value", "--oidc-redirect-url=http://127.0.0.1:9/cb",
		`--oidc-group-mapping={"/g": {"roles": ["triager"]}}`, "--oidc-custom-roles=triager, other"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("loopback http with a listed custom role: %v", err)
	}
	if !slices.Equal(c.CustomRoles, []string{"triager", "other"}) {
		t.Fatalf("custom roles %v", c.CustomRoles)
	}
	if f := fs.Lookup("oidc-client-secret"); f.Value.String() != "" || !f.Value.(interface{ IsSecret() bool }).IsSecret() {
		t.Fatal("the client secret flag must print nothing and be marked secret (SOC_OIDC_CLIENT_SECRET_FILE)")
	}
	for _, s := range []string{c.String(), fmt.Sprintf("%v %+v %#v", c, c, c)} {
		if strings.Contains(s, "s3cret-value") {
			t.Fatalf("the client secret was printed: %s", s)
		}
	}
}

func TestConfigValidateReportsEveryProblem(t *testing.T) {
	c := validConfig()
	c.Issuer = "http://sso.example.com/realms/soc" // clear text off the machine
	c.ClientID = ""
	c.RedirectURL = "/v1/auth/oidc/callback"
	c.GroupsClaim = " "
	c.Mapping = `{"/g": {"roles": ["root"]}}`
	err := c.Validate()
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"SOC_OIDC_ISSUER: ", "use https", "SOC_OIDC_CLIENT_ID: required", "SOC_OIDC_REDIRECT_URL: ",
		"SOC_OIDC_GROUPS_CLAIM", `unknown role "root"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\nmissing %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "s3cret-value") {
		t.Fatal("the secret appears in an error")
	}
	half := Config{ClientID: "soc", GroupsClaim: DefaultGroupsClaim}
	if err := half.Validate(); err == nil || !strings.Contains(err.Error(), "SOC_OIDC_ISSUER: required") {
		t.Fatalf("half a configuration: %v", err)
	}
	noMap := validConfig()
	noMap.Mapping = ""
	if err := noMap.Validate(); err == nil || !strings.Contains(err.Error(), "SOC_OIDC_GROUP_MAPPING: required") {
		t.Fatalf("no mapping: %v", err)
	}
	if err := validConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestPendingLoginsAreSingleUseExpiringAndBounded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := newPendingLogins(2, 10*time.Minute, func() time.Time { return now })
	if ok, _ := s.put("a", pendingLogin{nonce: "na"}); !ok {
		t.Fatal("put a")
	}
	if p, ok := s.take("a"); !ok || p.nonce != "na" {
		t.Fatalf("take a: %v %v", p, ok)
	}
	if _, ok := s.take("a"); ok {
		t.Fatal("a state was taken twice")
	}
	s.put("b", pendingLogin{})
	now = now.Add(4 * time.Minute)
	s.put("c", pendingLogin{})
	if ok, retry := s.put("d", pendingLogin{}); ok || retry != 6*time.Minute {
		t.Fatalf("full store: ok %v retry %v, want refused until b expires in 6m", ok, retry)
	}
	now = now.Add(6 * time.Minute) // b has expired, c has not
	if _, ok := s.take("b"); ok {
		t.Fatal("an expired sign-in was taken")
	}
	s.put("b2", pendingLogin{})
	if ok, _ := s.put("d", pendingLogin{}); ok || s.len() != 2 {
		t.Fatalf("cap: ok %v len %d", ok, s.len())
	}
	now = now.Add(5 * time.Minute) // c expired: put purges it and takes d
	if ok, _ := s.put("d", pendingLogin{}); !ok || s.len() != 2 {
		t.Fatalf("expired entries were not purged: ok %v len %d", ok, s.len())
	}
}

type nopProvisioner struct{}

func (nopProvisioner) ProvisionSSO(context.Context, Identity) (access.Principal, error) {
	return access.Principal{}, nil
}
func (nopProvisioner) StartSession(context.Context, access.Principal, string) (any, error) {
	return nil, nil
}

// These answers come before the provider is needed, so an unreachable issuer is fine here.
func TestHandlersRefuseBeforeReachingTheProvider(t *testing.T) {
	cfg := validConfig()
	cfg.Issuer = "http://127.0.0.1:1/realms/none"
	svc, err := New(cfg, nopProvisioner{}, nopProvisioner{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		h      http.Handler
		target string
		status int
		want   string
	}{
		{svc.LoginHandler(), LoginPath + "?redirect_uri=http://evil.example.com:8080/cb", 400, "loopback"},
		{svc.LoginHandler(), LoginPath + "?redirect_uri=https://127.0.0.1:8080/cb", 400, "redirect_uri"},
		{svc.LoginHandler(), LoginPath + "?redirect_uri=http://127.0.0.1/cb", 400, "redirect_uri"},
		{svc.LoginHandler(), LoginPath + "?redirect_uri=http://user@127.0.0.1:80/cb", 400, "redirect_uri"},
		{svc.LoginHandler(), LoginPath, 503, "cannot be reached"},
		{svc.CallbackHandler(), CallbackPath + "?code=c", 401, "state is missing"},
		{svc.CallbackHandler(), CallbackPath + "?code=c&state=forged", 401, "unknown, used or expired"},
	} {
		rec := httptest.NewRecorder()
		tc.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.target, nil))
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) ||
			!strings.HasPrefix(rec.Header().Get("Content-Type"), "application/problem+json") {
			t.Errorf("GET %s: %d %s %s, want %d mentioning %q", tc.target, rec.Code, rec.Header().Get("Content-Type"), rec.Body, tc.status, tc.want)
		}
	}
	for _, ok := range []string{"http://127.0.0.1:49152/callback", "http://[::1]:8080/", "http://127.0.0.2:1"} {
		if err := checkLoopbackRedirect(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
}

func TestNewRefusesAnIncompleteSetup(t *testing.T) {
	if _, err := New(Config{}, nopProvisioner{}, nopProvisioner{}, Options{}); err == nil {
		t.Error("SSO off accepted")
	}
	if _, err := New(validConfig(), nil, nopProvisioner{}, Options{}); err == nil {
		t.Error("no Provisioner accepted")
	}
	bad := validConfig()
	bad.Mapping = `{"/g": {"roles": ["nope"]}}`
	if _, err := New(bad, nopProvisioner{}, nopProvisioner{}, Options{}); err == nil {
		t.Error("a bad mapping accepted")
	}
}

func TestStringListAndErrorCode(t *testing.T) {
	if g := stringList([]any{"/a", 3, "/b"}); !slices.Equal(g, []string{"/a", "/b"}) {
		t.Error(g)
	}
	if g := stringList("/a"); !slices.Equal(g, []string{"/a"}) {
		t.Error(g)
	}
	if g := stringList(map[string]any{}); g != nil {
		t.Error(g)
	}
	if c := errorCode("access_denied<script>" + strings.Repeat("x", 100)); c != "access_deniedscript"+strings.Repeat("x", 43) {
		t.Error(c)
	}
}
