package tokens

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/socplatform/soc/commands/internal/testsupport"
)

func newClock() *testsupport.Clock {
	return testsupport.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
}

const (
	testIssuer   = "https://soc.example"
	testAudience = "soc-api"
)

func testConfig(dir string) KeyConfig {
	return KeyConfig{Dir: dir, Issuer: testIssuer, Audience: testAudience}
}

func openRing(t *testing.T, cfg KeyConfig, c *testsupport.Clock) *Keyring {
	t.Helper()
	k, err := OpenKeyring(cfg, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newRing is a keyring over a new directory, with its clock.
func newRing(t *testing.T) (*Keyring, *testsupport.Clock, string) {
	t.Helper()
	c, dir := newClock(), t.TempDir()
	return openRing(t, testConfig(dir), c), c, dir
}

func issue(t *testing.T, k *Keyring) string {
	t.Helper()
	tok, _, err := k.Issue("u-1", "s-1")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func activeKID(k *Keyring) string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.set.active().kid
}

// validClaims are the claims Issue would write at now.
func validClaims(now time.Time) wireClaims {
	return wireClaims{
		Claims: jwt.Claims{
			Issuer: testIssuer, Audience: jwt.Audience{testAudience}, Subject: "u-1", ID: "jti-1",
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
			Expiry: jwt.NewNumericDate(now.Add(DefaultAccessTTL)),
		},
		SessionID: "s-1",
	}
}

// sign makes a token the way an attacker (or Issue) would: any algorithm, key, kid, typ and
// claims.
func sign(t *testing.T, alg jose.SignatureAlgorithm, key any, kid, typ string, claims any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// activeKey is the ring's active signing key.
func activeKey(k *Keyring) *signingKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.set.active()
}

func otherKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}
