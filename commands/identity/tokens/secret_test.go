package tokens

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

func TestNewSecret(t *testing.T) {
	seen := map[string]bool{}
	for _, prefix := range []string{PrefixAPIToken, PrefixRefreshToken, PrefixInvitation} {
		for range 20 {
			plain, hash, err := NewSecret(prefix)
			if err != nil {
				t.Fatal(err)
			}
			body, ok := strings.CutPrefix(plain, prefix)
			if !ok {
				t.Fatalf("%q lacks its prefix %q", plain, prefix)
			}
			raw, err := base64.RawURLEncoding.DecodeString(body)
			if err != nil || len(raw) != 32 {
				t.Fatalf("%q: %d random bytes, %v", plain, len(raw), err)
			}
			sum := sha256.Sum256([]byte(plain))
			if hash != hex.EncodeToString(sum[:]) || hash != HashSecret(plain) {
				t.Fatalf("hash %q is not the hex SHA-256 of the secret", hash)
			}
			if seen[plain] {
				t.Fatalf("%q made twice", plain)
			}
			seen[plain] = true
		}
	}
	if _, _, err := NewSecret(""); err == nil {
		t.Fatal("a secret without a prefix")
	}
}

func TestSecretMatches(t *testing.T) {
	plain, hash, err := NewSecret(PrefixAPIToken)
	if err != nil {
		t.Fatal(err)
	}
	if !SecretMatches(plain, hash) {
		t.Fatal("the secret does not match its hash")
	}
	other, _, _ := NewSecret(PrefixAPIToken)
	for name, c := range map[string][2]string{
		"another secret":       {other, hash},
		"one character off":    {plain[:len(plain)-1] + "x", hash},
		"the hash as a secret": {hash, hash},
		"an empty hash":        {plain, ""},
		"upper-case hash":      {plain, strings.ToUpper(hash)},
		"the plain as hash":    {plain, plain},
	} {
		if SecretMatches(c[0], c[1]) {
			t.Errorf("%s matches", name)
		}
	}
}
