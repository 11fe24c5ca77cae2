package main

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/identity/tokens"
)

// TestTokenAttacksAreRefusedByTheNode sends forged, foreign, stale and withdrawn credentials to
// a real node: each is a 401 with the RFC 6750 challenge. The tokens package tests each attack
// on the keyring alone; this proves the node's router verifies through it. Controls (a token the
// node issued, and one minted with its own key directory) are accepted, so each refusal is for
// the one thing its token gets wrong.
func TestTokenAttacksAreRefusedByTheNode(t *testing.T) {
	data := t.TempDir()
	n := startNode(t, []string{"SOC_DATA_DIR=" + data})
	c := apiClient{t: t, base: "http://" + n.addr}
	good := signIn(t, c, testAdminEmail, testAdminPassword)
	header, claims := jwtParts(t, good.AccessToken)
	kid, _ := header["kid"].(string)
	iss, _ := claims["iss"].(string)
	aud := audienceOf(t, claims["aud"])
	sub, _ := claims["sub"].(string)
	if kid == "" || iss == "" || sub == "" {
		t.Fatalf("the node's access token lacks kid, iss or sub: %v %v", header, claims)
	}
	me := func(token string) apiResponse { return as(c, token).get("/v1/me") }
	mustStatus(t, "the node's own token", me(good.AccessToken), http.StatusOK)

	// Keyrings over the node's key directory (--jwt-key-dir defaults to <data>/keys) with a
	// clock or a claim of their own: they sign with the node's real key.
	nodeKeys := filepath.Join(data, "keys")
	mint := func(at time.Time, issuer, audience string) string {
		t.Helper()
		kr, err := tokens.OpenKeyring(tokens.KeyConfig{Dir: nodeKeys, Issuer: issuer, Audience: audience}, func() time.Time { return at })
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := kr.Issue(sub, good.SessionID)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	mustStatus(t, "a token minted with the node's key directory", me(mint(time.Now(), iss, aud)), http.StatusOK)

	// A key of another keyring, presented under the node's kid or under a kid nobody has.
	_, other, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edSign := func(key ed25519.PrivateKey) func([]byte) []byte {
		return func(in []byte) []byte { return ed25519.Sign(key, in) }
	}
	// The JWKS's public key as an HMAC secret (the classic RS/HS confusion, here EdDSA/HS).
	jwks := mustStatus(t, "GET /.well-known/jwks.json", c.get("/.well-known/jwks.json"), http.StatusOK)
	pub := jwksKey(t, jwks, kid)
	hs := func(key []byte) func([]byte) []byte {
		return func(in []byte) []byte { m := hmac.New(sha256.New, key); m.Write(in); return m.Sum(nil) }
	}
	pubRaw, err := base64.RawURLEncoding.DecodeString(pub)
	if err != nil {
		t.Fatal(err)
	}
	withSub := func(s string) map[string]any {
		m := map[string]any{}
		for k, v := range claims {
			m[k] = v
		}
		m["sub"] = s
		return m
	}
	issued := strings.Split(good.AccessToken, ".")

	attacks := []struct{ name, token string }{
		{"alg none", forge(t, map[string]any{"alg": "none", "typ": "JWT", "kid": kid}, claims, nil)},
		{"alg none, no signature part", strings.TrimSuffix(forge(t, map[string]any{"alg": "none", "typ": "JWT"}, claims, nil), ".")},
		{"HS256 keyed with the JWKS public key", forge(t, map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}, claims, hs(pubRaw))},
		{"HS256 keyed with the JWKS x text", forge(t, map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}, claims, hs([]byte(pub)))},
		{"another key under the node's kid", forge(t, map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": kid}, claims, edSign(other))},
		{"a kid that does not exist", forge(t, map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": "e2e-no-such-kid"}, claims, edSign(other))},
		{"the node's signature over another subject", strings.Join([]string{issued[0], b64JSON(t, withSub("identity-user-00000000-0000-7000-8000-000000000000")), issued[2]}, ".")},
		{"expired", mint(time.Now().Add(-time.Hour), iss, aud)},
		{"not yet valid", mint(time.Now().Add(time.Hour), iss, aud)},
		{"wrong audience", mint(time.Now(), iss, aud+"-elsewhere")},
		{"wrong issuer", mint(time.Now(), iss+"-elsewhere", aud)},
		{"not a JWT at all", "e2e-garbage"},
		{"an unknown API token", "soc_pat_" + base64.RawURLEncoding.EncodeToString([]byte("e2e-unknown-api-token-0123456789"))},
	}

	// A disabled user's token, and a revoked session's.
	disabled := newMember(t, c, "disabled@e2e.example.com", "analyst")
	revoked := newMember(t, c, "revoked@e2e.example.com", "analyst")
	mustStatus(t, "the disabled-to-be user before", me(disabled.tokens.AccessToken), http.StatusOK)
	mustStatus(t, "the revoked-to-be session before", me(revoked.tokens.AccessToken), http.StatusOK)
	mustStatus(t, "disabling a user", c.do(http.MethodPost, "/v1/users/"+disabled.id+"/disable", `{"reason":"left"}`), http.StatusOK)
	mustStatus(t, "revoking a session", c.do(http.MethodDelete, "/v1/sessions/"+revoked.tokens.SessionID, ""), http.StatusNoContent)
	// A revoked API token too.
	m := mustStatus(t, "creating an API token", c.do(http.MethodPost, "/v1/tokens", `{"name":"soon-revoked","scopes":["findings:read"],"ttl":"1h"}`), http.StatusCreated)
	pat, _ := m["token"].(string)
	patID, _ := m["id"].(string)
	mustStatus(t, "the API token before", as(c, pat).get("/v1/findings"), http.StatusOK)
	mustStatus(t, "revoking the API token", c.do(http.MethodDelete, "/v1/tokens/"+patID, ""), http.StatusNoContent)
	attacks = append(attacks, []struct{ name, token string }{
		{"a disabled user's token", disabled.tokens.AccessToken},
		{"a revoked session's token", revoked.tokens.AccessToken},
		{"a revoked API token", pat},
	}...)

	for _, a := range attacks {
		for _, path := range []string{"/v1/me", "/v1/findings"} {
			r := as(c, a.token).get(path)
			challenge := r.header.Get("WWW-Authenticate")
			if r.status != http.StatusUnauthorized || !strings.HasPrefix(challenge, "Bearer ") || !strings.Contains(challenge, `error="invalid_token"`) {
				t.Errorf("%s on %s: %d, WWW-Authenticate %q, want 401 with an invalid_token challenge\n%s", a.name, path, r.status, challenge, r.body)
			}
			if strings.Contains(string(r.body), a.token) || strings.Contains(n.stderr.String(), a.token) {
				t.Errorf("%s: the credential is echoed in the answer or the log", a.name)
			}
		}
	}
	// The refused user stays refused at sign-in; the admin's own session is untouched.
	mustStatus(t, "the disabled user signing in", c.do(http.MethodPost, "/v1/auth/login",
		jsonOf(t, map[string]string{"email": disabled.email, "password": disabled.password})), http.StatusUnauthorized)
	mustStatus(t, "the node's own token after the attacks", me(good.AccessToken), http.StatusOK)
}

// TestRepeatedWrongPasswordsLockTheAccount: 20 wrong passwords lock the account (429 with
// Retry-After), the correct password is refused while the lock runs, and accepted once the
// backoff has passed. The lockout runs on short settings so that the wait stays short; the
// threshold is the default.
func TestRepeatedWrongPasswordsLockTheAccount(t *testing.T) {
	n := startNode(t, []string{"SOC_LOCKOUT_BASE=3s", "SOC_LOCKOUT_MAX=6s"})
	c := apiClient{t: t, base: "http://" + n.addr}
	victim := newMember(t, c, "victim@e2e.example.com", "analyst")
	// The admin acts with a token of its own from here: its own sign-in would be refused from
	// this address while the lock runs (addresses are locked as well as accounts).
	admin := as(c, signIn(t, c, testAdminEmail, testAdminPassword).AccessToken)

	attempt := func(pw string) apiResponse {
		return c.do(http.MethodPost, "/v1/auth/login", jsonOf(t, map[string]string{"email": victim.email, "password": pw}), "Authorization", "Bearer "+admin.token)
	}
	locked := 0
	for i := range 20 {
		r := attempt("wrong-" + strconv.Itoa(i))
		switch {
		case r.status == http.StatusUnauthorized:
		case r.status == http.StatusTooManyRequests && retryAfter(t, r) > 0:
			locked++
		default:
			t.Fatalf("wrong password %d: %d %s (Retry-After %q), want 401 or 429 with Retry-After", i+1, r.status, r.body, r.header.Get("Retry-After"))
		}
		if i == 0 && r.status != http.StatusUnauthorized {
			t.Fatalf("the first wrong password: %d, want 401", r.status)
		}
	}
	if locked == 0 {
		t.Fatal("20 wrong passwords never locked the account")
	}
	// The correct password waits: the lock is decided before the password is looked at.
	r := attempt(victim.password)
	if r.status != http.StatusTooManyRequests || retryAfter(t, r) <= 0 {
		t.Fatalf("the correct password during the lock: %d %s (Retry-After %q), want 429 with Retry-After", r.status, r.body, r.header.Get("Retry-After"))
	}
	// Honouring Retry-After, the correct password gets in once the backoff has passed.
	deadline := time.Now().Add(3 * time.Minute)
	for r.status == http.StatusTooManyRequests {
		if time.Now().After(deadline) {
			t.Fatal("the lock did not end within three minutes")
		}
		time.Sleep(time.Duration(retryAfter(t, r)) * time.Second)
		r = attempt(victim.password)
	}
	s := tokensOf(t, "the correct password after the backoff", r)
	mustStatus(t, "the victim's token", as(c, s.AccessToken).get("/v1/me"), http.StatusOK)
	mustStatus(t, "the admin meanwhile", admin.get("/v1/me"), http.StatusOK)
}

// retryAfter is r's Retry-After in seconds (0: none or not a number).
func retryAfter(t *testing.T, r apiResponse) int {
	t.Helper()
	v, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil {
		return 0
	}
	return v
}

// jwtParts decodes a JWT's header and claims (no verification: the test reads what the node
// issued).
func jwtParts(t *testing.T, token string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %d parts", len(parts))
	}
	for i, into := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(b, into) != nil {
			t.Fatalf("JWT part %d is not base64url JSON: %v", i, err)
		}
	}
	return header, claims
}

// audienceOf is a token's aud claim, a string or a one-element array.
func audienceOf(t *testing.T, aud any) string {
	t.Helper()
	switch v := aud.(type) {
	case string:
		return v
	case []any:
		if len(v) == 1 {
			if s, ok := v[0].(string); ok {
				return s
			}
		}
	}
	t.Fatalf("aud %v: want one audience", aud)
	return ""
}

// forge builds a compact JWS of header and claims signed by sign (nil: an empty signature).
func forge(t *testing.T, header, claims map[string]any, sign func(signingInput []byte) []byte) string {
	t.Helper()
	in := b64JSON(t, header) + "." + b64JSON(t, claims)
	sig := ""
	if sign != nil {
		sig = base64.RawURLEncoding.EncodeToString(sign([]byte(in)))
	}
	return in + "." + sig
}

func b64JSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// jwksKey is the x (the Ed25519 public key, base64url) of the JWKS key kid.
func jwksKey(t *testing.T, jwks map[string]any, kid string) string {
	t.Helper()
	keys, _ := jwks["keys"].([]any)
	for _, k := range keys {
		if m, ok := k.(map[string]any); ok && m["kid"] == kid {
			if x, _ := m["x"].(string); x != "" {
				return x
			}
		}
	}
	t.Fatalf("the JWKS has no key %s: %v", kid, jwks)
	return ""
}
