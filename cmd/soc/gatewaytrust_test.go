package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socplatform/soc/cmd/soc/internal/principalsig"
	"github.com/socplatform/soc/schemas/access"
)

// gatewayCall is call with a Soc-Principal header (none when principal is "").
func gatewayCall(t *testing.T, method, url, bearer, principal string) reply {
	t.Helper()
	h := http.Header{}
	if principal != "" {
		h.Set(principalsig.Header, principal)
	}
	return callWith(t, method, url, bearer, "", h)
}

// refusedAsCredential checks a 401 with the RFC 6750 invalid_token challenge.
func refusedAsCredential(t *testing.T, r reply, what string) {
	t.Helper()
	if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") != `Bearer realm="soc", error="invalid_token"` {
		t.Errorf("%s: %d %q %s, want 401 invalid_token", what, r.status, r.header.Get("WWW-Authenticate"), r.body)
	}
}

// TestTrustedGatewayPrincipal: a node started with --trust-gateway-key takes the principal from
// a verifying Soc-Principal header in place of a credential, and refuses one that does not
// verify without falling back to the bearer; a node that trusts no gateway refuses the header.
func TestTrustedGatewayPrincipal(t *testing.T) {
	keyPath := filepath.Join(t.TempDir(), "keys", "gateway.key")
	gw, err := principalsig.LoadOrCreateSigner(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	forger, err := principalsig.LoadOrCreateSigner(filepath.Join(t.TempDir(), "forger.key"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := allTargetsConfig(t)
	cfg.TrustGatewayKeys = []string{keyPath + ".pub"}
	base, admin, _ := signedInNode(t, cfg)
	sign := func(s *principalsig.Signer, p access.Principal) string {
		tok, err := s.Sign(p)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	analyst, scanner := rolePrincipal(access.RoleAnalyst), rolePrincipal(access.RoleScanner)

	if r := gatewayCall(t, "GET", base+"/v1/findings", "", sign(gw, analyst)); r.status != http.StatusOK {
		t.Fatalf("a signed analyst, no bearer: %d %s", r.status, r.body)
	}
	if r := gatewayCall(t, "GET", base+"/v1/findings", "", sign(gw, scanner)); r.status != http.StatusForbidden {
		t.Errorf("a signed scanner reading findings: %d, want 403", r.status)
	}
	// The principal the handlers see is the signed one: /v1/me of a principal the identity
	// context does not know is its business, but it must not be the bearer's.
	if r := gatewayCall(t, "GET", base+"/v1/me", admin, sign(gw, analyst)); strings.Contains(r.body, testAdminEmail) {
		t.Errorf("GET /v1/me with a signed analyst and the admin's bearer answered the admin: %s", r.body)
	}
	// The assertion is the principal's, not one request's: within its life the same header
	// serves any route, each checked against the principal's own permissions.
	tok := sign(gw, analyst)
	if r := gatewayCall(t, "GET", base+"/v1/assets", "", tok); r.status != http.StatusOK {
		t.Errorf("the analyst's header on another route: %d %s", r.status, r.body)
	}
	if r := gatewayCall(t, "GET", base+"/v1/findings", "", tok); r.status != http.StatusOK {
		t.Errorf("the analyst's header used again: %d %s", r.status, r.body)
	}
	// Refused, even with the admin's valid bearer beside it: never a fallback.
	refusedAsCredential(t, gatewayCall(t, "GET", base+"/v1/findings", admin, sign(forger, analyst)), "signed by another key")
	refusedAsCredential(t, gatewayCall(t, "GET", base+"/v1/findings", admin, "not-a-token"), "garbage")
	// A public route with a forged header: refused too (a forgery is never ignored).
	refusedAsCredential(t, gatewayCall(t, "GET", base+"/healthz", "", "not-a-token"), "a public route with a forged header")
	if r := gatewayCall(t, "GET", base+"/healthz", "", ""); r.status != http.StatusOK {
		t.Errorf("/healthz: %d", r.status)
	}
	// On the WebSocket routes the header replaces the ticket: the request passes the access
	// check (the hub then refuses a request that is no handshake).
	if r := gatewayCall(t, "GET", base+"/ws", "", sign(gw, analyst)); r.status == http.StatusUnauthorized || r.status == http.StatusForbidden {
		t.Errorf("GET /ws with a signed analyst: %d %s", r.status, r.body)
	}
	// A push token's principal stays confined to its route when a gateway forwards it.
	push := scanner
	push.Definition = "def-1"
	if r := gatewayCall(t, "GET", base+"/v1/scans/x/import", "", sign(gw, push)); r.status != http.StatusForbidden {
		t.Errorf("a signed push token off its route: %d, want 403", r.status)
	}

	// A node that trusts no gateway refuses the header, the valid bearer beside it notwithstanding.
	other, otherAdmin, _ := signedInNode(t, allTargetsConfig(t))
	r := gatewayCall(t, "GET", other+"/v1/findings", otherAdmin, sign(gw, analyst))
	refusedAsCredential(t, r, "a node trusting no gateway")
	if !strings.Contains(r.body, "trust-gateway-key") {
		t.Errorf("the refusal does not say why: %s", r.body)
	}
	if r := gatewayCall(t, "GET", other+"/v1/findings", otherAdmin, ""); r.status != http.StatusOK {
		t.Errorf("the bearer alone: %d", r.status)
	}
}

// TestTrustGatewayKeyIsValidated: the flag names readable Ed25519 public keys, or serve refuses.
func TestTrustGatewayKeyIsValidated(t *testing.T) {
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "gateway.key")
	if _, err := principalsig.LoadOrCreateSigner(keyPath); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "junk.pub")
	if err := os.WriteFile(junk, []byte("not a key\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		keys []string
		ok   bool
	}{
		{nil, true},
		{[]string{keyPath + ".pub"}, true},
		{[]string{keyPath + ".pub", keyPath + ".pub"}, true},
		{[]string{filepath.Join(dir, "missing.pub")}, false},
		{[]string{junk}, false},
		{[]string{keyPath}, false}, // the private key is no public key
		{[]string{keyPath + ".pub", junk}, false},
	} {
		c := HTTPConfig{HTTPAddr: "127.0.0.1:0", TrustGatewayKeys: tc.keys}
		err := c.Validate()
		if (err == nil) != tc.ok || (err != nil && !strings.Contains(err.Error(), "--trust-gateway-key")) {
			t.Errorf("%v: %v", tc.keys, err)
		}
	}
	t.Setenv("SOC_TRUST_GATEWAY_KEY", keyPath+".pub,"+keyPath+".pub")
	if cfg := parseServeConfig(t); len(cfg.TrustGatewayKeys) != 2 {
		t.Errorf("SOC_TRUST_GATEWAY_KEY: %v", cfg.TrustGatewayKeys)
	}
}
