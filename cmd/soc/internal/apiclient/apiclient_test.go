package apiclient

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestStoreIsOwnerOnlyAndPerServer(t *testing.T) {
	s := Store{Path: filepath.Join(t.TempDir(), "soc", "credentials.json")}
	a := Credentials{AccessToken: "a1", RefreshToken: "r1", Expires: time.Unix(100, 0).UTC()}
	if err := s.Save("http://one", &a); err != nil {
		t.Fatal(err)
	}
	if err := s.Save("http://two", &Credentials{AccessToken: "a2"}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(s.Path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file mode %v, want 0600", st.Mode().Perm())
	}
	if d, _ := os.Stat(filepath.Dir(s.Path)); d.Mode().Perm() != 0o700 {
		t.Fatalf("credentials dir mode %v, want 0700", d.Mode().Perm())
	}
	got, ok, err := s.Load("http://one")
	if err != nil || !ok || got != a {
		t.Fatalf("load: %+v %v %v", got, ok, err)
	}
	if err := s.Save("http://one", nil); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Load("http://one"); ok {
		t.Fatal("forgotten credentials still load")
	}
	if c, ok, _ := s.Load("http://two"); !ok || c.AccessToken != "a2" {
		t.Fatal("forgetting one server dropped another")
	}
}

// node answers /v1/auth/refresh: "r-good" rotates to a new pair once; anything else is 401.
func node(t *testing.T, refreshes *int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			RefreshToken string `json:"refresh_token"`
		}
		_ = json.NewDecoder(r.Body).Decode(&in)
		if r.URL.Path != "/v1/auth/refresh" || in.RefreshToken != "r-good" {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"status":401,"title":"Unauthorized","detail":"session revoked"}`))
			return
		}
		*refreshes++
		_ = json.NewEncoder(w).Encode(LoginAnswer{AccessToken: "a-new", RefreshToken: "r-new", ExpiresIn: 900, TokenType: "Bearer"})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestAuthenticatedResolvesTheCredential(t *testing.T) {
	var refreshes int
	srv := node(t, &refreshes)
	s := Store{Path: filepath.Join(t.TempDir(), "credentials.json")}
	now := time.Unix(1_000_000, 0)
	ctx := context.Background()

	t.Setenv("SOC_TOKEN", "soc_pat_env")
	c, err := Authenticated(ctx, srv.URL, s, now)
	if err != nil || c.Token != "soc_pat_env" {
		t.Fatalf("SOC_TOKEN not used: %v %v", c, err)
	}
	t.Setenv("SOC_TOKEN", "")

	if c, err := Authenticated(ctx, srv.URL, s, now); err != nil || c.Token != "" {
		t.Fatalf("no credential must give an anonymous client: %v %v", c, err)
	}

	_ = s.Save(srv.URL, &Credentials{AccessToken: "a-live", RefreshToken: "r-good", Expires: now.Add(time.Hour)})
	if c, _ := Authenticated(ctx, srv.URL, s, now); c.Token != "a-live" || refreshes != 0 {
		t.Fatalf("a live access token must be used as is: %q, %d refreshes", c.Token, refreshes)
	}

	_ = s.Save(srv.URL, &Credentials{AccessToken: "a-old", RefreshToken: "r-good", Expires: now.Add(-time.Minute)})
	c, err = Authenticated(ctx, srv.URL, s, now)
	if err != nil || c.Token != "a-new" || refreshes != 1 {
		t.Fatalf("expired access token not refreshed: %v %v %d", c, err, refreshes)
	}
	if got, _, _ := s.Load(srv.URL); got.RefreshToken != "r-new" {
		t.Fatalf("the rotated refresh token was not stored: %+v", got)
	}

	_ = s.Save(srv.URL, &Credentials{AccessToken: "a-old", RefreshToken: "r-revoked", Expires: now.Add(-time.Minute)})
	if _, err := Authenticated(ctx, srv.URL, s, now); err == nil {
		t.Fatal("a refused refresh must be an error")
	}
	if _, ok, _ := s.Load(srv.URL); ok {
		t.Fatal("a refused session must be forgotten")
	}
}

func TestProblemErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("bearer not sent: %q", r.Header.Get("Authorization"))
		}
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"status":403,"title":"Forbidden","detail":"needs users:admin","field":"role"}`))
	}))
	defer srv.Close()
	c, _ := New(srv.URL, "tok")
	err := c.Do(context.Background(), http.MethodPost, "/v1/users", map[string]string{"email": "x"}, http.StatusCreated, nil)
	p, ok := err.(*ProblemError)
	if !ok || p.Status != 403 || p.Detail != "needs users:admin" || p.Field != "role" || ExitCode(err) != 2 {
		t.Fatalf("%#v", err)
	}
	if _, err := New("ftp://x", ""); err == nil {
		t.Fatal("non-http server accepted")
	}
}
