// Package identitytest holds test doubles of what the identity app runs on besides the store:
// a keyring and password hashing that behave like the tokens package's (same shapes, same
// refusals) at a fraction of the cost, the tokens package's secrets as app.Secrets, and Open, a
// Service over a real SQLite store with a settable clock. Tests of the identity app and ports, and of what authenticates through them,
// use it; the binary wires the real commands/identity/tokens.
package identitytest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/socplatform/soc/commands/identity/app"
	"github.com/socplatform/soc/commands/identity/tokens"
)

// ErrInvalidToken is every refusal of Keyring.Verify.
var ErrInvalidToken = errors.New("invalid token")

// Keyring issues opaque access tokens it remembers (a JWT's claims without the signature
// work); it expires them by its clock after TTL.
type Keyring struct {
	Now func() time.Time
	TTL time.Duration

	mu     sync.Mutex
	issued map[string]app.AccessClaims
}

// Issue implements app.Keyring.
func (k *Keyring) Issue(subject, sessionID string) (string, time.Time, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.issued == nil {
		k.issued = map[string]app.AccessClaims{}
	}
	id := rand.Text()
	now := k.Now()
	c := app.AccessClaims{Subject: subject, SessionID: sessionID, ID: id, IssuedAt: now, Expiry: now.Add(k.TTL)}
	tok := "eyJ.fake." + id
	k.issued[tok] = c
	return tok, c.Expiry, nil
}

// Verify implements app.Keyring.
func (k *Keyring) Verify(token string) (app.AccessClaims, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	c, ok := k.issued[token]
	if !ok {
		return c, fmt.Errorf("%w: bad signature", ErrInvalidToken)
	}
	if !k.Now().Before(c.Expiry) {
		return c, fmt.Errorf("%w: expired", ErrInvalidToken)
	}
	return c, nil
}

// Passwords hashes with salted SHA-256 in an argon2id PHC string's shape; a hash whose m
// differs from M needs a rehash (as one made with other argon2id parameters does). Verifies
// counts the verifications (an unknown email must cost one as well).
type Passwords struct {
	M        int // the current "memory" parameter; 0 means 1
	Verifies atomic.Int64
}

func (p *Passwords) m() int { return max(p.M, 1) }

// Hash implements app.Passwords.
func (p *Passwords) Hash(pw string) (string, error) {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	return encode(p.m(), salt, pw), nil
}

func encode(m int, salt []byte, pw string) string {
	sum := sha256.Sum256(append(append([]byte{}, salt...), pw...))
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=1,p=1$%s$%s", m, b64.EncodeToString(salt), b64.EncodeToString(sum[:]))
}

// Verify implements app.Passwords.
func (p *Passwords) Verify(pw, encoded string) (ok, needsRehash bool, err error) {
	p.Verifies.Add(1)
	parts := strings.Split(encoded, "$")
	var m int
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, false, errors.New("not an argon2id hash")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=1,p=1", &m); err != nil {
		return false, false, err
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, false, err
	}
	ok = subtle.ConstantTimeCompare([]byte(encode(m, salt, pw)), []byte(encoded)) == 1
	return ok, ok && m != p.m(), nil
}

// Secrets are the tokens package's secrets (cheap already: random bytes and one SHA-256), as
// app.Secrets, so that what tests store is what the binary stores.
type Secrets struct{}

// New implements app.Secrets.
func (Secrets) New(prefix string) (plain, hash string, err error) { return tokens.NewSecret(prefix) }

// Hash implements app.Secrets.
func (Secrets) Hash(plain string) string { return tokens.HashSecret(plain) }
