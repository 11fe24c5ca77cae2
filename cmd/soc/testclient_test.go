package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// The one seam through which the end-to-end tests authenticate: every request they make goes
// through testClient (or takes testHeader for a WebSocket handshake), every node they start
// gets nodeAuthEnv, and every CLI call they run gets testEnv. While nodes run without an
// authenticator testBearer is empty and nothing is added; turning authentication on for these
// tests is setting these three, here.

// testBearer is the credential the tests act with (a bootstrap admin's token once identity
// lands); empty sends none.
var testBearer = ""

// nodeAuthEnv is added to the environment of every node startNode runs (the bootstrap admin's
// settings once identity lands).
var nodeAuthEnv []string

// testClient is the HTTP client of the end-to-end tests.
var testClient = &http.Client{Transport: bearerTransport{base: http.DefaultTransport}}

// bearerTransport adds testBearer to a request that carries no Authorization of its own (a
// test that sends a specific credential keeps it).
type bearerTransport struct{ base http.RoundTripper }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if testBearer == "" || r.Header.Get("Authorization") != "" {
		return b.base.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+testBearer)
	return b.base.RoundTrip(r)
}

// testHeader is h (nil: a new header) with testBearer, for WebSocket handshakes, which do not
// go through an http.Client.
func testHeader(h http.Header) http.Header {
	if h == nil {
		h = http.Header{}
	}
	if testBearer != "" && h.Get("Authorization") == "" {
		h.Set("Authorization", "Bearer "+testBearer)
	}
	return h
}

// testEnv is env plus the token the CLI's client commands (soc import --server) send.
func testEnv(env []string) []string {
	if testBearer == "" {
		return env
	}
	return append(append([]string(nil), env...), "SOC_TOKEN="+testBearer)
}

// The seam adds the bearer only when one is set, and never over a request's own credential.
func TestTestClientCarriesTheBearer(t *testing.T) {
	seen := make(chan string, 3)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen <- r.Header.Get("Authorization") }))
	defer srv.Close()
	get := func(own string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		if own != "" {
			req.Header.Set("Authorization", own)
		}
		resp, err := testClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return <-seen
	}
	if got := get(""); got != "" {
		t.Fatalf("no bearer set, sent %q", got)
	}
	defer func(b string) { testBearer = b }(testBearer)
	testBearer = "admin-token"
	if got := get(""); got != "Bearer admin-token" {
		t.Fatalf("sent %q", got)
	}
	if got := get("Bearer alice"); got != "Bearer alice" {
		t.Fatalf("a request's own credential was replaced: %q", got)
	}
	if h := testHeader(nil); h.Get("Authorization") != "Bearer admin-token" || testEnv(nil)[0] != "SOC_TOKEN=admin-token" {
		t.Fatalf("handshake header %v, env %v", h, testEnv(nil))
	}
}
