package principalsig

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/problem"
)

func full() access.Principal {
	return access.Principal{Kind: access.KindToken, ID: "tok-1", UserID: "user-1", Name: "ci@example.com", SessionID: "sess-1",
		Roles: []string{"analyst", "custom"}, Perms: []access.Permission{access.FindingsRead, access.ImportsWrite},
		Teams: []string{"platform", "payments"}, Definition: "def-1"}
}

// pair is a signer and the verifier of its .pub, in a fresh directory.
func pair(t testing.TB) (*Signer, *Verifier, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys", "gateway.key")
	s, v := loadPair(t, path)
	return s, v, path
}

// loadPair loads the signer at path (creating its key when there is none) and the verifier of
// its .pub.
func loadPair(t testing.TB, path string) (*Signer, *Verifier) {
	t.Helper()
	s, err := LoadOrCreateSigner(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := LoadVerifier(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

// at is a copy of s whose clock reads now and whose cache is its own (a copy sharing s's cache
// would answer with the tokens s signed).
func at(s *Signer, now time.Time) *Signer {
	c := *s
	c.now = func() time.Time { return now }
	c.tokens = newCache[cachedToken](CacheEntries)
	return &c
}

func mustSign(t testing.TB, s *Signer, p access.Principal) string {
	t.Helper()
	tok, err := s.Sign(p)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// refused checks that Verify fails with a 401.
func refused(t testing.TB, v *Verifier, tok, why string) {
	t.Helper()
	p, err := v.Verify(tok)
	if err == nil {
		t.Fatalf("%s: verified as %+v", why, p)
	}
	if st := problem.From(err).Status; st != http.StatusUnauthorized {
		t.Fatalf("%s: status %d (%v), want 401", why, st, err)
	}
}

func TestRoundTripsEveryField(t *testing.T) {
	s, v, _ := pair(t)
	want := full()
	got, err := v.Verify(mustSign(t, s, want))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	// Every field of access.Principal is on the wire: a new field must be added to principal.
	if n, m := reflect.TypeOf(access.Principal{}).NumField(), reflect.TypeOf(principal{}).NumField(); n != m {
		t.Fatalf("access.Principal has %d fields, the wire form %d", n, m)
	}
}

func TestClaims(t *testing.T) {
	s, _, _ := pair(t)
	now := time.Unix(1_800_000_000, 0)
	s.now = func() time.Time { return now }
	tok, err := s.Sign(full())
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", tok)
	}
	var hdr, c map[string]any
	for i, dst := range []*map[string]any{&hdr, &c} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(b, dst) != nil {
			t.Fatalf("part %d: %v", i, err)
		}
	}
	if hdr["alg"] != "EdDSA" {
		t.Fatalf("alg %v", hdr["alg"])
	}
	want := map[string]any{"iss": "soc-gateway", "aud": "soc-upstream", "iat": float64(now.Unix()), "exp": float64(now.Unix() + 60)}
	for k, w := range want {
		got := c[k]
		if arr, ok := got.([]any); ok && len(arr) == 1 { // aud may be a one-element array
			got = arr[0]
		}
		if got != w {
			t.Errorf("claim %s = %v, want %v", k, c[k], w)
		}
	}
	if _, ok := c["principal"].(map[string]any); !ok {
		t.Errorf("no principal claim: %v", c)
	}
	// The token is the principal's, not a request's: a random jti, no method or path.
	if jti, _ := c["jti"].(string); len(jti) < 16 {
		t.Errorf("jti %v is not random", c["jti"])
	}
	for _, k := range []string{"htm", "htu"} {
		if _, ok := c[k]; ok {
			t.Errorf("claim %s is still there", k)
		}
	}
}

func TestKeyFiles(t *testing.T) {
	_, _, path := pair(t)
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode %v %v", st.Mode(), err)
	}
	b, err := os.ReadFile(path)
	if err != nil || !strings.HasPrefix(string(b), "-----BEGIN PRIVATE KEY-----") {
		t.Fatalf("private key file: %q %v", b, err)
	}
	if b, err := os.ReadFile(path + ".pub"); err != nil || !strings.HasPrefix(string(b), "-----BEGIN PUBLIC KEY-----") {
		t.Fatalf("public key file: %q %v", b, err)
	}
	// Loading again keeps the key: tokens signed before still verify.
	s2, v := loadPair(t, path)
	if _, err := v.Verify(mustSign(t, s2, full())); err != nil {
		t.Fatalf("reloaded key: %v", err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateSigner(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a group-readable key loaded: %v", err)
	}
	if _, err := LoadVerifier(path); err == nil {
		t.Fatal("a private key file loaded as a public key")
	}
	if _, err := LoadVerifier(); err == nil {
		t.Fatal("a verifier without keys")
	}
}

func TestRotationAcceptsEveryConfiguredKey(t *testing.T) {
	s1, _, p1 := pair(t)
	s2, _, p2 := pair(t)
	v, err := LoadVerifier(p1+".pub", p2+".pub")
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range []*Signer{s1, s2} {
		if _, err := v.Verify(mustSign(t, s, full())); err != nil {
			t.Fatalf("key %d: %v", i+1, err)
		}
	}
}

func TestHostileTokensAreRefused(t *testing.T) {
	s, v, _ := pair(t)
	good := mustSign(t, s, full())
	if _, err := v.Verify(good); err != nil {
		t.Fatal(err)
	}

	// A payload with more permissions, the signature kept.
	parts := strings.Split(good, ".")
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	_ = json.Unmarshal(b, &c)
	c["principal"].(map[string]any)["perms"] = []string{"users:admin", "teams:all"}
	b, _ = json.Marshal(c)
	refused(t, v, parts[0]+"."+base64.RawURLEncoding.EncodeToString(b)+"."+parts[2], "tampered payload")

	other, _, _ := pair(t)
	refused(t, v, mustSign(t, other, full()), "another gateway's key")

	refused(t, v, mustSign(t, at(s, time.Now().Add(-TTL-Leeway-time.Second)), full()), "expired")
	if _, err := v.Verify(mustSign(t, at(s, time.Now().Add(-TTL-Leeway/2)), full())); err != nil {
		t.Fatalf("within the leeway: %v", err)
	}

	refused(t, v, good+strings.Repeat("A", MaxTokenBytes), "oversize")
	for _, g := range []string{"", "garbage", "a.b.c", "..", strings.Repeat(".", 5)} {
		refused(t, v, g, "garbage "+g)
	}

	// Another algorithm: HS256 keyed with the public key's bytes (the classic confusion), none.
	var pub ed25519.PublicKey
	for _, k := range v.keys {
		pub = k
	}
	hs, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(pub)}, (&jose.SignerOptions{}).WithHeader("kid", keyID(pub)))
	if err != nil {
		t.Fatal(err)
	}
	refused(t, v, signClaims(t, hs), "HS256")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"`+keyID(pub)+`"}`)) + "." + parts[1] + "."
	refused(t, v, none, "alg none")

	// A token naming its own key in an embedded jwk.
	_, attacker, _ := ed25519.GenerateKey(rand.Reader)
	emb, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: attacker}, (&jose.SignerOptions{EmbedJWK: true}))
	if err != nil {
		t.Fatal(err)
	}
	refused(t, v, signClaims(t, emb), "embedded jwk")
	for _, h := range []string{"jku", "x5u"} {
		ext, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: attacker},
			(&jose.SignerOptions{}).WithHeader("kid", keyID(pub)).WithHeader(jose.HeaderKey(h), "https://attacker.example/keys"))
		if err != nil {
			t.Fatal(err)
		}
		refused(t, v, signClaims(t, ext), h)
	}

	// Signed by the right key but unfit: no principal, an unknown permission, a long life.
	refused(t, v, mustSign(t, s, access.Principal{}), "no principal")
	bad := full()
	bad.Perms = append(bad.Perms, "root:everything")
	refused(t, v, mustSign(t, s, bad), "unknown permission")
	long := claims{Claims: jwt.Claims{Issuer: Issuer, Audience: jwt.Audience{Audience}, IssuedAt: jwt.NewNumericDate(time.Now()),
		Expiry: jwt.NewNumericDate(time.Now().Add(time.Hour))}, Principal: toWire(full())}
	tok, err := jwt.Signed(s.signer).Claims(long).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	refused(t, v, tok, "an hour-long token")
	wrongAud := long
	wrongAud.Expiry, wrongAud.Audience = jwt.NewNumericDate(time.Now().Add(time.Minute)), jwt.Audience{"someone-else"}
	if tok, err = jwt.Signed(s.signer).Claims(wrongAud).Serialize(); err != nil {
		t.Fatal(err)
	}
	refused(t, v, tok, "another audience")
}

// signClaims signs a well-formed claim set with sig.
func signClaims(t *testing.T, sig jose.Signer) string {
	t.Helper()
	c := claims{Claims: jwt.Claims{Issuer: Issuer, Audience: jwt.Audience{Audience}, IssuedAt: jwt.NewNumericDate(time.Now()),
		Expiry: jwt.NewNumericDate(time.Now().Add(TTL))}, Principal: toWire(full())}
	tok, err := jwt.Signed(sig).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
