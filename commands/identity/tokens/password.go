package tokens

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are argon2id's cost parameters.
type PasswordParams struct {
	Time      uint32 // passes over memory
	MemoryKiB uint32
	Threads   uint8 // lanes
	KeyLen    uint32
}

// DefaultPasswordParams is RFC 9106's second recommended option (section 4), the one for
// servers short of memory: t=3, m=64 MiB, p=4, a 32-byte key (and a 16-byte salt). A hash with
// other parameters still verifies, and VerifyPassword asks for a rehash.
var DefaultPasswordParams = PasswordParams{Time: 3, MemoryKiB: 64 << 10, Threads: 4, KeyLen: 32}

// MaxPasswordBytes bounds a password: argon2 hashes its whole input, so an unbounded one lets a
// request make the server hash megabytes per attempt.
const MaxPasswordBytes = 1024

const saltBytes = 16

// Bounds on the parameters of an encoded hash, so a corrupt or planted one cannot make a login
// allocate gigabytes or loop for minutes.
const (
	maxTime      = 64
	maxMemoryKiB = 1 << 20 // 1 GiB
	minKeyLen    = 16
	maxKeyLen    = 64
	minSaltBytes = 8
	maxSaltBytes = 64
)

var (
	// ErrPasswordTooLong: HashPassword refuses passwords over MaxPasswordBytes.
	ErrPasswordTooLong = fmt.Errorf("tokens: a password is at most %d bytes", MaxPasswordBytes)
	// ErrMalformedHash: an encoded password hash that is not argon2id's PHC string, or whose
	// parameters are out of bounds.
	ErrMalformedHash = errors.New("tokens: malformed password hash")
)

// HashPassword hashes pw with argon2id and a random salt, encoded as the PHC string
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash> (unpadded standard base64).
func HashPassword(pw string, p PasswordParams) (string, error) {
	if pw == "" {
		return "", errors.New("tokens: empty password")
	}
	if len(pw) > MaxPasswordBytes {
		return "", ErrPasswordTooLong
	}
	if !p.valid() {
		return "", errors.New("tokens: password parameters out of bounds")
	}
	salt := make([]byte, saltBytes)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("tokens: random: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether pw matches encoded (compared in constant time), and, when it
// does, whether encoded should be replaced by a hash with DefaultPasswordParams (the parameters,
// salt or key length differ). A password over MaxPasswordBytes never matches. err is
// ErrMalformedHash for an encoding this package would not have written.
func VerifyPassword(pw, encoded string) (ok bool, needsRehash bool, err error) {
	p, salt, want, err := decodePasswordHash(encoded)
	if err != nil {
		return false, false, err
	}
	if len(pw) > MaxPasswordBytes {
		return false, false, nil
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	return true, p != DefaultPasswordParams || len(salt) != saltBytes, nil
}

func (p PasswordParams) valid() bool {
	return p.Time >= 1 && p.Time <= maxTime && p.Threads >= 1 && p.MemoryKiB >= 8*uint32(p.Threads) &&
		p.MemoryKiB <= maxMemoryKiB && p.KeyLen >= minKeyLen && p.KeyLen <= maxKeyLen
}

// decodePasswordHash parses a PHC argon2id string strictly: the fields in this order, decimal
// numbers without sign or leading zeros, every value within bounds.
func decodePasswordHash(encoded string) (PasswordParams, []byte, []byte, error) {
	var p PasswordParams
	f := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, ErrMalformedHash
	}
	params := strings.Split(f[3], ",")
	if len(params) != 3 {
		return p, nil, nil, ErrMalformedHash
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(params[i], name)
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil || strconv.FormatUint(n, 10) != v {
			return p, nil, nil, ErrMalformedHash
		}
		vals[i] = n
	}
	if vals[2] > 255 {
		return p, nil, nil, ErrMalformedHash
	}
	b64 := base64.RawStdEncoding.Strict()
	salt, err := b64.DecodeString(f[4])
	if err != nil || len(salt) < minSaltBytes || len(salt) > maxSaltBytes {
		return p, nil, nil, ErrMalformedHash
	}
	key, err := b64.DecodeString(f[5])
	if err != nil {
		return p, nil, nil, ErrMalformedHash
	}
	p = PasswordParams{Time: uint32(vals[1]), MemoryKiB: uint32(vals[0]), Threads: uint8(vals[2]), KeyLen: uint32(len(key))}
	if !p.valid() {
		return PasswordParams{}, nil, nil, ErrMalformedHash
	}
	return p, salt, key, nil
}
