package app

import (
	"crypto/sha256"
	"sync"
	"time"
)

// maxVerifiedTokens bounds verifiedTokens: past it, the expired entries go, and all of them
// when none has expired (a cold cache costs a signature check per token, nothing more).
const maxVerifiedTokens = 10000

// verifiedTokens remembers the claims of the access tokens whose signature checked out, until
// they expire, keyed by the token's SHA-256 (the map holds no credential). Verifying an Ed25519
// JWT is most of what authenticating a request costs (cmd/soc's BenchmarkQueryAuth), and a
// client sends the same token for its whole lifetime. Only the token's own checks are skipped:
// its session, its user and their roles are looked up on every request, so a revoked session,
// a disabled user or a changed role counts at once and nothing here needs invalidating. A
// token stays as valid as its signature was until its expiry (the keyring keeps a rotated key
// until the tokens it signed expire).
type verifiedTokens struct {
	mu sync.RWMutex
	m  map[[sha256.Size]byte]AccessClaims
}

func newVerifiedTokens() *verifiedTokens {
	return &verifiedTokens{m: map[[sha256.Size]byte]AccessClaims{}}
}

// verify returns the claims of token: remembered ones while they have not expired at now,
// else verify's, remembered when it accepts them.
func (v *verifiedTokens) verify(token string, now time.Time, verify func(string) (AccessClaims, error)) (AccessClaims, error) {
	key := sha256.Sum256([]byte(token))
	v.mu.RLock()
	c, ok := v.m[key]
	v.mu.RUnlock()
	if ok && now.Before(c.Expiry) {
		return c, nil
	}
	c, err := verify(token)
	if err != nil || !now.Before(c.Expiry) {
		return c, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.m) >= maxVerifiedTokens {
		for k, old := range v.m {
			if !now.Before(old.Expiry) {
				delete(v.m, k)
			}
		}
		if len(v.m) >= maxVerifiedTokens {
			clear(v.m)
		}
	}
	v.m[key] = c
	return c, nil
}
