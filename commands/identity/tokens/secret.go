package tokens

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// The prefixes of the platform's opaque secrets: they say what a secret is to whoever finds it
// (a log, a secret scanner) and let the authenticator route a bearer value without parsing it.
const (
	PrefixAPIToken     = "soc_pat_"
	PrefixRefreshToken = "soc_rt_"
	PrefixInvitation   = "soc_inv_"
)

// secretBytes is a secret's entropy: 256 bits, beyond any guessing, so its hash needs no salt
// nor stretching.
const secretBytes = 32

// NewSecret makes an opaque secret: prefix then 32 random bytes, base64url. plain is shown to
// its owner once; hash (HashSecret) is what is stored and put in events.
func NewSecret(prefix string) (plain, hash string, err error) {
	if prefix == "" {
		return "", "", errors.New("tokens: a secret needs a prefix")
	}
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("tokens: random: %w", err)
	}
	plain = prefix + base64.RawURLEncoding.EncodeToString(b)
	return plain, HashSecret(plain), nil
}

// HashSecret is the stored form of a secret: hex SHA-256 of the whole value, prefix included.
func HashSecret(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// SecretMatches reports whether plain hashes to hash, in time independent of where they differ.
func SecretMatches(plain, hash string) bool {
	return subtle.ConstantTimeCompare([]byte(HashSecret(plain)), []byte(hash)) == 1
}
