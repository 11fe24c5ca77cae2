package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// refusing answers the first refusals requests of each path with status and Retry-After
// (retryAfter "" sends none), then 200 echoing the body; it records every body it read.
type refusing struct {
	status     int
	retryAfter string
	refusals   int
	mu         sync.Mutex
	bodies     []string
}

// sent returns the bodies read so far.
func (s *refusing) sent() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.bodies)
}

func (s *refusing) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, string(b))
	n := len(s.bodies)
	s.mu.Unlock()
	if n <= s.refusals {
		if s.retryAfter != "" {
			w.Header().Set("Retry-After", s.retryAfter)
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(s.status)
		_, _ = w.Write([]byte(`{"status":` + strconv.Itoa(s.status) + `,"title":"later"}`))
		return
	}
	_, _ = w.Write(b)
}

func TestRequestRetriesWhatTheServerRefusedForNow(t *testing.T) {
	file := filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(file, []byte(`{"report": true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	section := func() io.Reader { return io.NewSectionReader(f, 0, 16) }
	stream := func() io.Reader { return io.MultiReader(strings.NewReader(`{"a":`), strings.NewReader(`1}`)) }
	cases := []struct {
		name       string
		srv        refusing
		method     string
		body       func() io.Reader
		wantStatus int
		wantSent   int
		wantBody   string
	}{
		{"GET after two 429s", refusing{status: 429, retryAfter: "0", refusals: 2}, http.MethodGet, nil, 200, 3, ""},
		{"a file upload after 503 (queue full)", refusing{status: 503, retryAfter: "0", refusals: 1}, http.MethodPost, section, 200, 2, `{"report": true}`},
		{"JSON bytes after 429", refusing{status: 429, retryAfter: "0", refusals: 3}, http.MethodPost, func() io.Reader { return bytes.NewReader([]byte(`{"x":1}`)) }, 200, 4, `{"x":1}`},
		{"a stream is sent once", refusing{status: 429, retryAfter: "0", refusals: 1}, http.MethodPost, stream, 429, 1, `{"a":1}`},
		{"no Retry-After, no retry", refusing{status: 503, refusals: 1}, http.MethodGet, nil, 503, 1, ""},
		{"a Retry-After beyond a minute is the caller's", refusing{status: 429, retryAfter: "900", refusals: 1}, http.MethodGet, nil, 429, 1, ""},
		{"an HTTP-date Retry-After is not waited for", refusing{status: 429, retryAfter: "Fri, 31 Dec 1999 23:59:59 GMT", refusals: 1}, http.MethodGet, nil, 429, 1, ""},
		{"other statuses are answers", refusing{status: 500, retryAfter: "0", refusals: 1}, http.MethodGet, nil, 500, 1, ""},
		{"at most four retries", refusing{status: 429, retryAfter: "0", refusals: 100}, http.MethodGet, nil, 429, 1 + maxRetries, ""},
	}
	for i := range cases {
		tc := &cases[i]
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(&tc.srv)
			defer srv.Close()
			c, err := New(srv.URL, "tok")
			if err != nil {
				t.Fatal(err)
			}
			var body io.Reader
			if tc.body != nil {
				body = tc.body()
			}
			resp, err := c.Request(context.Background(), tc.method, "/v1/x", body, "application/json")
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			sent := tc.srv.sent()
			if resp.StatusCode != tc.wantStatus || len(sent) != tc.wantSent {
				t.Fatalf("status %d after %d requests, want %d after %d (%s)", resp.StatusCode, len(sent), tc.wantStatus, tc.wantSent, got)
			}
			for i, b := range sent {
				if b != tc.wantBody {
					t.Fatalf("request %d carried %q, want the whole body %q each time", i+1, b, tc.wantBody)
				}
			}
			if tc.wantStatus == 200 && string(got) != tc.wantBody {
				t.Fatalf("answer %q, want %q", got, tc.wantBody)
			}
		})
	}
}

func TestRequestDoesNotWaitPastItsContext(t *testing.T) {
	srv := &refusing{status: 429, retryAfter: "30", refusals: 1}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c, err := New(ts.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.Request(ctx, http.MethodGet, "/v1/x", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n := len(srv.sent()); resp.StatusCode != 429 || n != 1 || ctx.Err() != nil {
		t.Fatalf("status %d after %d requests (ctx %v), want the 429 answered at once: a 30 s wait outlasts the 10 s context", resp.StatusCode, n, ctx.Err())
	}
}

func TestPollGrowsToItsBound(t *testing.T) {
	var p Poll
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var waits []time.Duration
	for range 10 {
		cancel() // Wait returns at once on an ended context, after setting its next wait
		_ = p.Wait(ctx)
		waits = append(waits, p.wait)
	}
	if waits[0] != pollMin || waits[len(waits)-1] != pollMax {
		t.Fatalf("waits %v, want from %v up to %v", waits, pollMin, pollMax)
	}
	for i := 1; i < len(waits); i++ {
		if waits[i] < waits[i-1] {
			t.Fatalf("waits %v shrink", waits)
		}
	}
	if err := p.Wait(ctx); err == nil {
		t.Fatal("Wait on an ended context returned nil")
	}
}
