package tokens

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/schemas/problem"
)

func TestIssueVerifyRoundTrip(t *testing.T) {
	k, c, _ := newRing(t)
	tok, exp, err := k.Issue("u-42", "s-7")
	if err != nil {
		t.Fatal(err)
	}
	if want := c.Now().Add(DefaultAccessTTL); !exp.Equal(want) {
		t.Fatalf("expires %v, want %v", exp, want)
	}
	got, err := k.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "u-42" || got.SessionID != "s-7" || got.ID == "" || !got.IssuedAt.Equal(c.Now()) || !got.Expiry.Equal(exp) {
		t.Fatalf("claims %+v", got)
	}
	tok2 := issue(t, k)
	c2, err := k.Verify(tok2)
	if err != nil || c2.ID == got.ID {
		t.Fatalf("second token: %v, jti %q reused", err, c2.ID)
	}
}

func TestTokenHeaderAndClaims(t *testing.T) {
	k, _, _ := newRing(t)
	tok := issue(t, k)
	parts := strings.Split(tok, ".")
	var header map[string]any
	decodeSegment(t, parts[0], &header)
	if header["alg"] != "EdDSA" || header["typ"] != "at+jwt" || header["kid"] != activeKID(k) {
		t.Fatalf("header %v", header)
	}
	var claims map[string]any
	decodeSegment(t, parts[1], &claims)
	for _, name := range []string{"iss", "aud", "sub", "sid", "jti", "iat", "nbf", "exp"} {
		if _, ok := claims[name]; !ok {
			t.Errorf("claim %s missing from %v", name, claims)
		}
	}
	if claims["iss"] != testIssuer || claims["aud"] != testAudience {
		t.Fatalf("iss/aud %v %v", claims["iss"], claims["aud"])
	}
}

func TestIssueNeedsSubjectAndSession(t *testing.T) {
	k, _, _ := newRing(t)
	if _, _, err := k.Issue("", "s"); err == nil {
		t.Fatal("no subject: issued")
	}
	if _, _, err := k.Issue("u", ""); err == nil {
		t.Fatal("no session: issued")
	}
}

func decodeSegment(t *testing.T, seg string, v any) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func encodeSegment(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// expectRefused checks that Verify refuses tok for reason want, as a 401 that does not echo it.
func expectRefused(t *testing.T, k *Keyring, tok string, want error) {
	t.Helper()
	_, err := k.Verify(tok)
	if !errors.Is(err, want) {
		t.Fatalf("Verify: %v, want %v", err, want)
	}
	if !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("%v does not wrap ErrInvalidToken", err)
	}
	d := problem.From(err)
	if d.Status != 401 || !strings.HasSuffix(d.Type, "/unauthorized") {
		t.Fatalf("status %d type %s, want 401 unauthorized", d.Status, d.Type)
	}
	if len(tok) > 8 && strings.Contains(d.Detail, tok[len(tok)-8:]) {
		t.Fatalf("the error echoes the token: %q", d.Detail)
	}
}

// The attacks, one a case: each is refused for its own reason, so each test fails without the
// check that stops it.

func TestAttackAlgNone(t *testing.T) {
	k, c, _ := newRing(t)
	header := map[string]any{"alg": "none", "typ": "at+jwt", "kid": activeKID(k)}
	tok := encodeSegment(t, header) + "." + encodeSegment(t, validClaims(c.Now())) + "."
	expectRefused(t, k, tok, ErrAlgorithm)
}

func TestAttackHS256WithThePublicKeyAsSecret(t *testing.T) {
	k, c, _ := newRing(t)
	key := activeKey(k)
	tok := sign(t, jose.HS256, []byte(key.pub), key.kid, tokenType, validClaims(c.Now()))
	expectRefused(t, k, tok, ErrAlgorithm)
}

func TestAttackOtherKeySameKID(t *testing.T) {
	k, c, _ := newRing(t)
	tok := sign(t, jose.EdDSA, otherKey(t), activeKID(k), tokenType, validClaims(c.Now()))
	expectRefused(t, k, tok, ErrBadSignature)
}

func TestAttackEmbeddedJWK(t *testing.T) {
	// The header carries the attacker's public key: it must never be the key that verifies.
	k, c, _ := newRing(t)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: otherKey(t)},
		(&jose.SignerOptions{EmbedJWK: true}).WithType(tokenType).WithHeader("kid", activeKID(k)))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(validClaims(c.Now())).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	expectRefused(t, k, tok, ErrBadSignature)
}

func TestAttackUnknownKID(t *testing.T) {
	k, c, _ := newRing(t)
	tok := sign(t, jose.EdDSA, otherKey(t), "not-a-kid-of-ours", tokenType, validClaims(c.Now()))
	expectRefused(t, k, tok, ErrUnknownKey)
	noKID := sign(t, jose.EdDSA, otherKey(t), "", tokenType, validClaims(c.Now()))
	expectRefused(t, k, noKID, ErrUnknownKey)
}

func TestAttackExpired(t *testing.T) {
	k, c, _ := newRing(t)
	tok := issue(t, k)
	c.Advance(DefaultAccessTTL + Leeway - time.Second)
	if _, err := k.Verify(tok); err != nil {
		t.Fatalf("within the leeway: %v", err)
	}
	c.Advance(2 * time.Second)
	expectRefused(t, k, tok, ErrExpired)
}

func TestAttackNotYetValid(t *testing.T) {
	// A node whose clock runs ahead issues; this one verifies.
	k, c, dir := newRing(t)
	ahead := testsupport.NewClock(c.Now().Add(Leeway - time.Second))
	k2 := openRing(t, testConfig(dir), ahead)
	if _, err := k.Verify(issue(t, k2)); err != nil {
		t.Fatalf("within the leeway: %v", err)
	}
	ahead.Advance(10 * time.Minute)
	expectRefused(t, k, issue(t, k2), ErrNotYetValid)
}

func TestAttackWrongAudienceOrIssuer(t *testing.T) {
	// Tokens of a keyring sharing the keys but configured for another API or issuer.
	for name, c := range map[string]struct {
		set  func(*KeyConfig)
		want error
	}{
		"audience": {func(cfg *KeyConfig) { cfg.Audience = "another-api" }, ErrWrongAudience},
		"issuer":   {func(cfg *KeyConfig) { cfg.Issuer = "https://evil.example" }, ErrWrongIssuer},
	} {
		t.Run(name, func(t *testing.T) {
			k, clk, dir := newRing(t)
			cfg := testConfig(dir)
			c.set(&cfg)
			expectRefused(t, k, issue(t, openRing(t, cfg, clk)), c.want)
		})
	}
}

func TestAttackTamperedPayload(t *testing.T) {
	k, _, _ := newRing(t)
	parts := strings.Split(issue(t, k), ".")
	var claims map[string]any
	decodeSegment(t, parts[1], &claims)
	claims["sub"] = "admin"
	parts[1] = encodeSegment(t, claims)
	expectRefused(t, k, strings.Join(parts, "."), ErrBadSignature)
}

func TestAttackWrongType(t *testing.T) {
	// Signed by our own key, but not as an access token (another JWT kind, or none said).
	k, c, _ := newRing(t)
	key := activeKey(k)
	expectRefused(t, k, sign(t, jose.EdDSA, key.priv, key.kid, "JWT", validClaims(c.Now())), ErrWrongType)
	expectRefused(t, k, sign(t, jose.EdDSA, key.priv, key.kid, "", validClaims(c.Now())), ErrWrongType)
}

func TestAttackMissingClaims(t *testing.T) {
	// Signed by our own key: a token without exp would never expire, one without sid could not
	// be revoked with its session.
	k, c, _ := newRing(t)
	key := activeKey(k)
	if _, err := k.Verify(sign(t, jose.EdDSA, key.priv, key.kid, tokenType, validClaims(c.Now()))); err != nil {
		t.Fatalf("complete claims: %v", err)
	}
	for name, drop := range map[string]func(*wireClaims){
		"exp": func(w *wireClaims) { w.Expiry = nil },
		"nbf": func(w *wireClaims) { w.NotBefore = nil },
		"iat": func(w *wireClaims) { w.IssuedAt = nil },
		"sub": func(w *wireClaims) { w.Subject = "" },
		"sid": func(w *wireClaims) { w.SessionID = "" },
		"jti": func(w *wireClaims) { w.ID = "" },
	} {
		t.Run(name, func(t *testing.T) {
			claims := validClaims(c.Now())
			drop(&claims)
			expectRefused(t, k, sign(t, jose.EdDSA, key.priv, key.kid, tokenType, claims), ErrMissingClaim)
		})
	}
}

func TestAttackOversized(t *testing.T) {
	// A validly signed token over MaxTokenBytes: refused before any parsing.
	k, c, _ := newRing(t)
	key := activeKey(k)
	padded := struct {
		wireClaims
		Pad string `json:"pad"`
	}{validClaims(c.Now()), strings.Repeat("x", MaxTokenBytes)}
	expectRefused(t, k, sign(t, jose.EdDSA, key.priv, key.kid, tokenType, padded), ErrTokenTooLarge)
	expectRefused(t, k, strings.Repeat("a", 1<<20), ErrTokenTooLarge)
}

func TestAttackGarbage(t *testing.T) {
	k, _, _ := newRing(t)
	valid := issue(t, k)
	parts := strings.Split(valid, ".")
	// The same token in JWS JSON serialisation: only the compact form is an access token.
	jsonForm := `{"protected":"` + parts[0] + `","payload":"` + parts[1] + `","signature":"` + parts[2] + `"}`
	for _, tok := range []string{
		"", ".", "..", "...", "a", "a.b", "a.b.c", "a.b.c.d", "a.b.c.d.e", "%%%.%%%.%%%",
		parts[0] + ".." + parts[2], parts[0] + "." + parts[1], parts[0] + "." + parts[1] + ".!!",
		"e30.e30.", "bnVsbA.bnVsbA.AA", "W10.W10.AA", jsonForm, " " + valid, valid + "\x00",
		strings.Repeat(".", MaxTokenBytes),
	} {
		_, err := k.Verify(tok)
		if !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Verify(%.40q): %v, want an invalid token", tok, err)
		}
	}
}

func FuzzVerify(f *testing.F) {
	c := newClock()
	k, err := OpenKeyring(testConfig(f.TempDir()), c.Now)
	if err != nil {
		f.Fatal(err)
	}
	valid, _, err := k.Issue("u-1", "s-1")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add("e30.e30.")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		claims, err := k.Verify(tok)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("error %v does not wrap ErrInvalidToken", err)
			}
			return
		}
		// Only our signature makes a token valid: whatever was accepted says what we signed.
		if claims.Subject != "u-1" || claims.SessionID != "s-1" {
			t.Fatalf("accepted claims %+v", claims)
		}
	})
}
