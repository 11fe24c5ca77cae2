package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// The one seam through which the end-to-end tests authenticate: every node startNode runs gets
// nodeAuthEnv, which bootstraps its first admin through the real path (SOC_BOOTSTRAP_ADMIN_*
// on start); every request the tests make goes through testClient (or takes testHeader for a
// WebSocket handshake), and every CLI call they run gets testEnv. Each signs in as that admin
// (POST /v1/auth/login) once per node address and carries the access token.

// The bootstrap admin every test node is started with.
const (
	testAdminEmail    = "admin@e2e.example.com"
	testAdminPassword = "e2e-admin-password-0123"
)

// testBearer, when set, is the credential sent to every node instead of the admin's (the
// seam's own test sets it).
var testBearer = ""

// nodeAuthEnv is added to the environment of every node startNode runs: TestMain sets it
// (setUpTestAuth) to the bootstrap admin's settings.
var nodeAuthEnv []string

// setUpTestAuth writes the bootstrap admin's password file into dir and sets nodeAuthEnv.
func setUpTestAuth(dir string) error {
	file := filepath.Join(dir, "admin-password")
	if err := os.WriteFile(file, []byte(testAdminPassword+"\n"), 0o600); err != nil {
		return err
	}
	// The tests hammer one node with one token, far past the gateway's default 100 requests
	// per minute: limiting is off but in TestGatewayRateLimitsThroughARealNode.
	nodeAuthEnv = []string{"SOC_BOOTSTRAP_ADMIN_EMAIL=" + testAdminEmail, "SOC_BOOTSTRAP_ADMIN_PASSWORD_FILE=" + file, "SOC_RATE_LIMIT=0"}
	return nil
}

// adminTokens are the admin's access tokens by node address (host:port): each node signs its
// own (its key directory is its data directory's).
var adminTokens sync.Map

// forgetNode drops the admin's token of a node that just started at addr: an earlier node at the
// same address (a port the kernel handed out again, a fixed port a test chose) signed it with
// other keys, and the new node would refuse it.
func forgetNode(addr string) { adminTokens.Delete(addr) }

// bearerFor is the credential the tests send to host: testBearer, else the admin's access token
// there (signing in when there is none yet, or fresh is set); "" when signing in fails (a node
// that is not up: the request then fails on its own).
func bearerFor(host string, fresh bool) string {
	if testBearer != "" {
		return testBearer
	}
	if tok, ok := adminTokens.Load(host); ok && !fresh {
		return tok.(string)
	}
	body, _ := json.Marshal(map[string]string{"email": testAdminEmail, "password": testAdminPassword})
	resp, err := http.DefaultClient.Post("http://"+host+"/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var ans struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&ans) != nil || ans.AccessToken == "" {
		return ""
	}
	adminTokens.Store(host, ans.AccessToken)
	return ans.AccessToken
}

// testClient is the HTTP client of the end-to-end tests.
var testClient = &http.Client{Transport: bearerTransport{base: http.DefaultTransport}}

// bearerTransport adds the tests' bearer to a request that carries no Authorization of its own
// (a test that sends a specific credential keeps it). A 401 to the admin's cached token (it
// expired: a long test) signs in again and retries once, when the body can be sent again.
type bearerTransport struct{ base http.RoundTripper }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Authorization") != "" {
		return b.base.RoundTrip(r)
	}
	send := func(tok string) (*http.Response, error) {
		req := r.Clone(r.Context())
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		return b.base.RoundTrip(req)
	}
	resp, err := send(bearerFor(r.URL.Host, false))
	if err != nil || resp.StatusCode != http.StatusUnauthorized || testBearer != "" || (r.Body != nil && r.GetBody == nil) {
		return resp, err
	}
	if r.GetBody != nil {
		body, err := r.GetBody()
		if err != nil {
			return resp, nil
		}
		r = r.Clone(r.Context())
		r.Body = body
	}
	resp.Body.Close()
	return send(bearerFor(r.URL.Host, true))
}

// testHeader is h (nil: a new header) with the bearer for the node at host, for WebSocket
// handshakes, which do not go through an http.Client.
func testHeader(host string, h http.Header) http.Header {
	if h == nil {
		h = http.Header{}
	}
	if h.Get("Authorization") == "" {
		if tok := bearerFor(host, false); tok != "" {
			h.Set("Authorization", "Bearer "+tok)
		}
	}
	return h
}

// testEnv is env plus the token the CLI's client commands send (SOC_TOKEN): the admin's at the
// node args name with --server.
func testEnv(env []string, args ...string) []string {
	server := ""
	for i, a := range args {
		if a == "--server" && i+1 < len(args) {
			server = args[i+1]
		}
	}
	if server == "" && testBearer == "" {
		return env
	}
	u, err := url.Parse(server)
	if err != nil {
		return env
	}
	tok := bearerFor(u.Host, false)
	if tok == "" {
		return env
	}
	return append(append([]string(nil), env...), "SOC_TOKEN="+tok)
}

// The seam adds the bearer, and never over a request's own credential.
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
	defer func(b string) { testBearer = b }(testBearer)
	testBearer = "admin-token"
	if got := get(""); got != "Bearer admin-token" {
		t.Fatalf("sent %q", got)
	}
	if got := get("Bearer alice"); got != "Bearer alice" {
		t.Fatalf("a request's own credential was replaced: %q", got)
	}
	if h := testHeader("x", nil); h.Get("Authorization") != "Bearer admin-token" || testEnv(nil)[0] != "SOC_TOKEN=admin-token" {
		t.Fatalf("handshake header %v, env %v", h, testEnv(nil))
	}
}
