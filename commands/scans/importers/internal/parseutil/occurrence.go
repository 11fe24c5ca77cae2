package parseutil

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// Occurrences gives the code scanners' findings (semgrep, bandit, gitleaks) fingerprints that
// are unique within a report although their identity is not: the same rule can match the same
// code twice in one file (two identical calls), and a line number, which would tell them apart,
// changes whenever code above them moves. The n-th repeat of an identity gets n as an extra part,
// so the first keeps the identity's own fingerprint and repeats stay stable as long as the
// scanner lists them in file order. The zero value is ready to use.
type Occurrences struct{ seen map[string]int }

// Fingerprint is FingerprintJSON of parts, with "#n" appended as a part for the n-th (n >= 2)
// time parts are given.
func (o *Occurrences) Fingerprint(parts ...string) string {
	if o.seen == nil {
		o.seen = map[string]int{}
	}
	id := Canonical(parts...)
	o.seen[id]++
	if n := o.seen[id]; n > 1 {
		parts = append(parts[:len(parts):len(parts)], "#"+strconv.Itoa(n))
	}
	return FingerprintJSON(parts...)
}

// CodeDigest is the hex SHA-256 of a matched code snippet with each line trimmed and blank lines
// dropped, so that re-indenting the code or moving it keeps the digest; "" for no code.
func CodeDigest(code string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(code, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	if b.Len() == 0 {
		return ""
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}
