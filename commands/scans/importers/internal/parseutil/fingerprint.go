package parseutil

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
)

// FingerprintJSON is the hex SHA-256 of the JSON encoding of parts (a JSON array of strings), which
// is unambiguous whatever the parts contain.
func FingerprintJSON(parts ...string) string {
	b, _ := json.Marshal(parts)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Canonical joins identity fields with '|', escaping '\' and '|' inside fields so that distinct
// field lists never give the same string.
func Canonical(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('|')
		}
		for j := 0; j < len(p); j++ {
			if p[j] == '|' || p[j] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(p[j])
		}
	}
	return b.String()
}

// FingerprintCanonical is the lower-case hex SHA-256 of Canonical(parts...).
func FingerprintCanonical(parts ...string) string {
	sum := sha256.Sum256([]byte(Canonical(parts...)))
	return hex.EncodeToString(sum[:])
}
