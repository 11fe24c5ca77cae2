package tokens

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// The benchmarks report rates (higher is better) so `make bench` can print each beside its raw
// baseline: Verify beside a bare ed25519.Verify of a message the size of a token's signing
// input, Issue beside a bare ed25519.Sign of it, a password check beside the bare argon2id
// derivation with the same parameters.

func benchRing(b *testing.B) *Keyring {
	b.Helper()
	k, err := OpenKeyring(KeyConfig{Dir: b.TempDir(), Issuer: testIssuer, Audience: testAudience}, time.Now)
	if err != nil {
		b.Fatal(err)
	}
	return k
}

func rate(b *testing.B, unit string) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
}

func BenchmarkVerify(b *testing.B) {
	k := benchRing(b)
	tok, _, err := k.Issue("0190d6a4-7c1e-7b3a-9f2e-1d2c3b4a5f60", "0190d6a4-7c1e-7b3a-9f2e-1d2c3b4a5f61")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
	rate(b, "verifies/s")
}

// signingInput is what a token's signature covers: header.payload, the size of BenchmarkVerify's.
func signingInput(b *testing.B) []byte {
	k := benchRing(b)
	tok, _, err := k.Issue("0190d6a4-7c1e-7b3a-9f2e-1d2c3b4a5f60", "0190d6a4-7c1e-7b3a-9f2e-1d2c3b4a5f61")
	if err != nil {
		b.Fatal(err)
	}
	return []byte(tok[:strings.LastIndexByte(tok, '.')])
}

func BenchmarkBareEd25519Verify(b *testing.B) {
	msg := signingInput(b)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	sig := ed25519.Sign(priv, msg)
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("bad signature")
		}
	}
	rate(b, "verifies/s")
}

func BenchmarkIssue(b *testing.B) {
	k := benchRing(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := k.Issue("0190d6a4-7c1e-7b3a-9f2e-1d2c3b4a5f60", "0190d6a4-7c1e-7b3a-9f2e-1d2c3b4a5f61"); err != nil {
			b.Fatal(err)
		}
	}
	rate(b, "tokens/s")
}

func BenchmarkBareEd25519Sign(b *testing.B) {
	msg := signingInput(b)
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		ed25519.Sign(priv, msg)
	}
	rate(b, "tokens/s")
}

// BenchmarkPasswordHash is the cost of a login's password check with DefaultPasswordParams
// (one argon2id derivation and the PHC parsing around it): logins per second per node.
func BenchmarkPasswordHash(b *testing.B) {
	enc, err := HashPassword("correct horse battery staple", DefaultPasswordParams)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _, err := VerifyPassword("correct horse battery staple", enc); !ok || err != nil {
			b.Fatal("the password does not verify", err)
		}
	}
	rate(b, "logins/s")
}

func BenchmarkBareArgon2id(b *testing.B) {
	p := DefaultPasswordParams
	salt := make([]byte, saltBytes)
	for b.Loop() {
		argon2.IDKey([]byte("correct horse battery staple"), salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
	}
	rate(b, "logins/s")
}
