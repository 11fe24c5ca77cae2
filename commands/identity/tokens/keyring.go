package tokens

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// KeyConfig configures a Keyring. Dir, Issuer and Audience are required.
type KeyConfig struct {
	// Dir holds the key files; created (0700) when missing. Nodes that verify each other's
	// tokens share it. An existing directory is taken as it is: the key files themselves are
	// owner-only, and one open to other users is refused.
	Dir string
	// Issuer and Audience are the iss and aud of every token issued, and what Verify expects.
	Issuer, Audience string
	// AccessTTL is an access token's lifetime (default 15 min). Nodes sharing Dir must share it:
	// each one removes retired keys by its own AccessTTL.
	AccessTTL time.Duration
	// RotateEvery is how long a key signs before a new one replaces it (default 24 h).
	RotateEvery time.Duration
}

const (
	// DefaultAccessTTL is KeyConfig.AccessTTL's default.
	DefaultAccessTTL = 15 * time.Minute
	// DefaultRotateEvery is KeyConfig.RotateEvery's default.
	DefaultRotateEvery = 24 * time.Hour
	// Leeway is the clock skew tolerated on exp, nbf and iat.
	Leeway = 30 * time.Second
	// ReloadEvery bounds how stale a node's view of the key directory may be when it issues,
	// and how often a forged kid can make it reread the directory. It must stay well under
	// Leeway: a retired key is kept ReloadEvery longer for the nodes that have not seen the
	// rotation yet.
	ReloadEvery = 5 * time.Second
)

const (
	keyFilePrefix = "key-"
	keyFileSuffix = ".json"
	tempPrefix    = ".tmp-key-"
)

// Keyring signs access tokens with its active Ed25519 key and verifies them against every key
// not yet removed. It is safe for concurrent use, and for several processes sharing its Dir.
type Keyring struct {
	cfg KeyConfig
	now func() time.Time

	// loadMu serialises reloads and rotations within the process (across processes, files are
	// written once and renamed into place, so none is needed).
	loadMu sync.Mutex

	mu       sync.RWMutex
	set      *keySet
	loadedAt time.Time // by now(): when set was read from Dir
	dirMod   time.Time // Dir's modification time when set was read
	reloads  int       // directory reads, for tests of the reload bound
}

// keySet is one immutable view of the directory: replaced whole by a reload, read without
// copying under mu.
type keySet struct {
	keys   []*signingKey // by creation, oldest first; the last one is active
	byKID  map[string]*signingKey
	signer jose.Signer // the active key's
	jwks   []byte
}

type signingKey struct {
	kid     string
	created time.Time
	priv    ed25519.PrivateKey
	pub     ed25519.PublicKey
	// removeAt is when the key stops verifying (zero while it is the active key).
	removeAt time.Time
}

func (s *keySet) active() *signingKey { return s.keys[len(s.keys)-1] }

// keyFile is a key's file: written once, never changed.
type keyFile struct {
	KID     string    `json:"kid"`
	Alg     string    `json:"alg"`
	Created time.Time `json:"created"`
	// Seed is the Ed25519 private key's 32-byte seed, base64url.
	Seed string `json:"seed"`
}

// OpenKeyring opens the keyring in cfg.Dir, creating the directory and a first key when there
// are none, and rotating at once when the newest key is older than RotateEvery. now is the
// clock (nil: time.Now).
func OpenKeyring(cfg KeyConfig, now func() time.Time) (*Keyring, error) {
	if cfg.Dir == "" || cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("tokens: the key directory, issuer and audience are required")
	}
	if cfg.AccessTTL == 0 {
		cfg.AccessTTL = DefaultAccessTTL
	}
	if cfg.RotateEvery == 0 {
		cfg.RotateEvery = DefaultRotateEvery
	}
	if cfg.AccessTTL < 0 || cfg.RotateEvery < 0 {
		return nil, errors.New("tokens: AccessTTL and RotateEvery must be positive")
	}
	if now == nil {
		now = time.Now
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("tokens: key directory: %w", err)
	}
	k := &Keyring{cfg: cfg, now: now, set: &keySet{}}
	k.loadMu.Lock()
	defer k.loadMu.Unlock()
	if err := k.rotateIfDue(false); err != nil {
		return nil, err
	}
	return k, nil
}

// Rotate makes a new active key now. The previous one keeps verifying the tokens it signed
// until they have all expired.
func (k *Keyring) Rotate() error {
	k.loadMu.Lock()
	defer k.loadMu.Unlock()
	return k.rotateIfDue(true)
}

// current is the key set to sign with: reloaded first when it is older than ReloadEvery (a
// rotation by another node), rotated when the active key is older than RotateEvery.
func (k *Keyring) current() (*keySet, error) {
	k.mu.RLock()
	set, loadedAt := k.set, k.loadedAt
	k.mu.RUnlock()
	now := k.now()
	// A reload finds no key when the files were deleted behind the keyring's back: the slow
	// path writes a new one.
	if len(set.keys) > 0 && now.Sub(loadedAt) < ReloadEvery && now.Sub(set.active().created) < k.cfg.RotateEvery {
		return set, nil
	}
	k.loadMu.Lock()
	defer k.loadMu.Unlock()
	if err := k.rotateIfDue(false); err != nil {
		return nil, err
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.set, nil
}

// lookup finds the key a token names, rereading the directory for a kid it does not know: at
// once when the directory changed since the last read, otherwise at most once per ReloadEvery.
func (k *Keyring) lookup(kid string) *signingKey {
	if key := k.known(kid); key != nil {
		return key
	}
	k.loadMu.Lock()
	defer k.loadMu.Unlock()
	if key := k.known(kid); key != nil { // loaded while this call waited
		return key
	}
	k.mu.RLock()
	loadedAt, dirMod := k.loadedAt, k.dirMod
	k.mu.RUnlock()
	if k.now().Sub(loadedAt) < ReloadEvery {
		fi, err := os.Stat(k.cfg.Dir)
		if err != nil || fi.ModTime().Equal(dirMod) {
			return nil
		}
	}
	if err := k.load(); err != nil {
		return nil // the previous view stays; the token is refused as unknown
	}
	return k.known(kid)
}

// known is the key named kid in the current view, unless it has been removed by now.
func (k *Keyring) known(kid string) *signingKey {
	k.mu.RLock()
	key := k.set.byKID[kid]
	k.mu.RUnlock()
	if key == nil || (!key.removeAt.IsZero() && !k.now().Before(key.removeAt)) {
		return nil
	}
	return key
}

// rotateIfDue reloads the directory and writes a new key when forced, when there is none, or
// when the newest is older than RotateEvery (another node may have rotated already: the reload
// sees its key). The caller holds loadMu.
func (k *Keyring) rotateIfDue(force bool) error {
	if err := k.load(); err != nil {
		return err
	}
	k.mu.RLock()
	set := k.set
	k.mu.RUnlock()
	if !force && len(set.keys) > 0 && k.now().Sub(set.active().created) < k.cfg.RotateEvery {
		return nil
	}
	// The new key must sort after the active one even at the same clock reading (or behind a
	// node whose clock runs ahead): creation order is what makes a key the active one.
	created := k.now().UTC()
	if len(set.keys) > 0 && !created.After(set.active().created) {
		created = set.active().created.Add(time.Nanosecond)
	}
	if err := k.writeNewKey(created); err != nil {
		return err
	}
	return k.load()
}

// load reads the directory into a new view: keys ordered by creation, each retired by the next
// one's creation and removed AccessTTL+Leeway+ReloadEvery later (its file deleted then). The
// caller holds loadMu.
func (k *Keyring) load() error {
	now := k.now()
	fi, err := os.Stat(k.cfg.Dir)
	if err != nil {
		return fmt.Errorf("tokens: key directory: %w", err)
	}
	entries, err := os.ReadDir(k.cfg.Dir)
	if err != nil {
		return fmt.Errorf("tokens: key directory: %w", err)
	}
	k.mu.RLock()
	prev := k.set
	k.mu.RUnlock()
	var keys []*signingKey
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, keyFilePrefix) || !strings.HasSuffix(name, keyFileSuffix) || !e.Type().IsRegular() {
			continue // temporary files of a writer, anything else
		}
		kid := strings.TrimSuffix(strings.TrimPrefix(name, keyFilePrefix), keyFileSuffix)
		if known := prev.byKID[kid]; known != nil { // files never change: keep what was read
			c := *known // a copy: a view never changes once published
			c.removeAt = time.Time{}
			keys = append(keys, &c)
			continue
		}
		key, err := readKeyFile(filepath.Join(k.cfg.Dir, name), kid)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed by another node since the listing
		}
		if err != nil {
			return err
		}
		keys = append(keys, key)
	}
	slices.SortFunc(keys, func(a, b *signingKey) int {
		if c := a.created.Compare(b.created); c != 0 {
			return c
		}
		return strings.Compare(a.kid, b.kid)
	})
	retention := k.cfg.AccessTTL + Leeway + ReloadEvery
	live := keys[:0]
	for i, key := range keys {
		if i < len(keys)-1 {
			key.removeAt = keys[i+1].created.Add(retention)
			if !now.Before(key.removeAt) {
				// Every token it signed has expired: forget it. Another node may have deleted it.
				if err := os.Remove(filepath.Join(k.cfg.Dir, keyFilePrefix+key.kid+keyFileSuffix)); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("tokens: removing a retired key: %w", err)
				}
				continue
			}
		}
		live = append(live, key)
	}
	set, err := newKeySet(live)
	if err != nil {
		return err
	}
	k.mu.Lock()
	k.set, k.loadedAt, k.dirMod = set, now, fi.ModTime()
	k.reloads++
	k.mu.Unlock()
	return nil
}

// newKeySet builds a view over keys (oldest first): the index, the active key's signer and the
// JWKS document. An empty set (before the first key is written) has neither.
func newKeySet(keys []*signingKey) (*keySet, error) {
	set := &keySet{keys: keys, byKID: make(map[string]*signingKey, len(keys))}
	jwks := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(keys))}
	for _, key := range keys {
		set.byKID[key.kid] = key
		jwks.Keys = append(jwks.Keys, jose.JSONWebKey{Key: key.pub, KeyID: key.kid, Algorithm: string(jose.EdDSA), Use: "sig"})
	}
	if len(keys) == 0 {
		return set, nil
	}
	b, err := json.Marshal(jwks)
	if err != nil {
		return nil, fmt.Errorf("tokens: JWKS: %w", err)
	}
	set.jwks = b
	active := set.active()
	opts := (&jose.SignerOptions{}).WithType(tokenType)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: jose.JSONWebKey{Key: active.priv, KeyID: active.kid}}, opts)
	if err != nil {
		return nil, fmt.Errorf("tokens: signer: %w", err)
	}
	set.signer = signer
	return set, nil
}

// kidOf is the key's RFC 7638 thumbprint (SHA-256, base64url).
func kidOf(pub ed25519.PublicKey) (string, error) {
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("tokens: key thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// readKeyFile reads and checks one key file: owner-only, whole, and the key its name says.
func readKeyFile(path, kid string) (*signingKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("tokens: key file %s is open to other users (mode %o); chmod 600 it", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f keyFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("tokens: key file %s is not a key: %w", path, err)
	}
	seed, err := base64.RawURLEncoding.DecodeString(f.Seed)
	if err != nil || len(seed) != ed25519.SeedSize || f.Alg != string(jose.EdDSA) || f.Created.IsZero() {
		return nil, fmt.Errorf("tokens: key file %s is not an Ed25519 key", path)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	want, err := kidOf(pub)
	if err != nil {
		return nil, err
	}
	if want != kid || f.KID != kid {
		return nil, fmt.Errorf("tokens: key file %s does not hold the key its name says", path)
	}
	return &signingKey{kid: kid, created: f.Created, priv: priv, pub: pub}, nil
}

// writeNewKey generates a key and writes its file whole: a temporary file (0600), synced, then
// renamed to its name, so a reader in another process sees the whole file or none.
func (k *Keyring) writeNewKey(created time.Time) error {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("tokens: generating a key: %w", err)
	}
	kid, err := kidOf(pub)
	if err != nil {
		return err
	}
	b, err := json.Marshal(keyFile{KID: kid, Alg: string(jose.EdDSA), Created: created, Seed: base64.RawURLEncoding.EncodeToString(priv.Seed())})
	if err != nil {
		return fmt.Errorf("tokens: encoding a key: %w", err)
	}
	tmp, err := os.CreateTemp(k.cfg.Dir, tempPrefix+"*") // mode 0600
	if err != nil {
		return fmt.Errorf("tokens: writing a key: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("tokens: writing a key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("tokens: writing a key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("tokens: writing a key: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(k.cfg.Dir, keyFilePrefix+kid+keyFileSuffix)); err != nil {
		return fmt.Errorf("tokens: writing a key: %w", err)
	}
	// The rename is durable once the directory is synced; a failure here loses nothing yet.
	if d, err := os.Open(k.cfg.Dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
