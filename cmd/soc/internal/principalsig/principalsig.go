// Package principalsig carries a verified principal from the gateway to the upstream nodes:
// the gateway authenticates a request once and forwards the principal in the Soc-Principal
// header, a compact JWS signed with its Ed25519 key; an upstream trusts that header only when
// it verifies against a gateway public key it was given (--trust-gateway-key), never a header
// a client set.
//
// The token is an assertion about a principal, not about one request: the gateway signs one per
// principal (jti random, 60 s of life) and forwards it on that principal's requests until 30 s
// before it expires, and an upstream caches what it verified until the token's exp. This is what
// makes a proxied request cost near a direct one: an Ed25519 signature and its verification per
// request were most of the proxy's CPU. It is safe because the assertion never grants more than
// the bearer the client presented to the gateway (itself reusable for its whole lifetime), it lives
// at most 60 s, and it only travels from the gateway to the upstreams on the internal network;
// binding it to one method and path added little beyond that. Only the gateway's private key can
// mint one: the upstreams hold public keys alone.
package principalsig

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/problem"
)

// Header is the request header the gateway forwards the signed principal in.
const Header = "Soc-Principal"

const (
	// Issuer and Audience are the token's iss and aud.
	Issuer   = "soc-gateway"
	Audience = "soc-upstream"
	// TTL is a token's lifetime.
	TTL = 60 * time.Second
	// Refresh is how long before its exp the gateway stops forwarding a token and signs a new
	// one: a forwarded token has at least this long left (plus Leeway) when it reaches an
	// upstream, retries and a slow hop included.
	Refresh = 30 * time.Second
	// CacheEntries bounds the signer's cache (principals) and the verifier's (tokens).
	CacheEntries = 10_000
	// Leeway is the clock skew tolerated between the gateway and an upstream.
	Leeway = 30 * time.Second
	// MaxTokenBytes bounds the header an upstream parses.
	MaxTokenBytes = 16 << 10
)

// claims is the token's payload.
type claims struct {
	jwt.Claims
	Principal principal `json:"principal"`
}

// principal is access.Principal on the wire: every field, named once here so a rename of a Go
// field never silently changes the contract. Perms travel as the gateway's authenticator computed
// them (the roles' union narrowed by a token's scope; custom roles are the identity context's, so
// an upstream could not re-derive them from Roles): the signature covers them, and Verify refuses
// any permission the platform does not know.
type principal struct {
	Kind       access.Kind         `json:"kind"`
	ID         string              `json:"id"`
	UserID     string              `json:"user_id,omitempty"`
	Name       string              `json:"name,omitempty"`
	SessionID  string              `json:"session_id,omitempty"`
	Roles      []string            `json:"roles,omitempty"`
	Perms      []access.Permission `json:"perms,omitempty"`
	Teams      []string            `json:"teams,omitempty"`
	Definition string              `json:"definition,omitempty"`
}

func toWire(p access.Principal) principal {
	return principal{Kind: p.Kind, ID: p.ID, UserID: p.UserID, Name: p.Name, SessionID: p.SessionID,
		Roles: p.Roles, Perms: p.Perms, Teams: p.Teams, Definition: p.Definition}
}

func (w principal) principal() access.Principal {
	return access.Principal{Kind: w.Kind, ID: w.ID, UserID: w.UserID, Name: w.Name, SessionID: w.SessionID,
		Roles: w.Roles, Perms: w.Perms, Teams: w.Teams, Definition: w.Definition}
}

// Signer signs principals with the gateway's private key. It is safe for concurrent use.
type Signer struct {
	signer jose.Signer
	now    func() time.Time
	tokens *lru.Cache[[sha256.Size]byte, cachedToken] // by fingerprint of the principal
}

// cachedToken is a token the signer forwards until refreshAt.
type cachedToken struct {
	token     string
	refreshAt time.Time
}

// LoadOrCreateSigner reads the PEM PKCS#8 Ed25519 private key at path, creating it (0600, its
// directory 0700) when absent, and writes its public key beside it as <path>.pub (PEM PKIX),
// the file upstreams are given with --trust-gateway-key. A private key file readable by its
// group or others is refused.
func LoadOrCreateSigner(privateKeyPath string) (*Signer, error) {
	key, err := loadPrivate(privateKeyPath)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createPrivate(privateKeyPath)
		if errors.Is(err, fs.ErrExist) { // another process created it first
			key, err = loadPrivate(privateKeyPath)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := writePublic(privateKeyPath+".pub", key.Public().(ed25519.PublicKey)); err != nil {
		return nil, err
	}
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), keyID(key.Public().(ed25519.PublicKey)))
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: key}, opts)
	if err != nil {
		return nil, fmt.Errorf("gateway key %s: %w", privateKeyPath, err)
	}
	return &Signer{signer: s, now: time.Now, tokens: newCache[cachedToken](CacheEntries)}, nil
}

// newCache is a bounded LRU keyed by a SHA-256 (New fails only on a size below 1).
func newCache[V any](entries int) *lru.Cache[[sha256.Size]byte, V] {
	c, err := lru.New[[sha256.Size]byte, V](entries)
	if err != nil {
		panic(err)
	}
	return c
}

func loadPrivate(path string) (ed25519.PrivateKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("gateway key %s is readable by other users (mode %04o): chmod 600 it, it signs every request's principal", path, st.Mode().Perm())
	}
	return readKey[ed25519.PrivateKey](path, "gateway key", "PRIVATE KEY", x509.ParsePKCS8PrivateKey)
}

// readKey reads the PEM block of type typ at path and parses it into an Ed25519 key K.
func readKey[K ed25519.PrivateKey | ed25519.PublicKey](path, what, typ string, parse func([]byte) (any, error)) (K, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != typ {
		return nil, fmt.Errorf("%s %s: not a PEM %s", what, path, typ)
	}
	k, err := parse(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	key, ok := k.(K)
	if !ok {
		return nil, fmt.Errorf("%s %s: %T is not an Ed25519 key", what, path, k)
	}
	return key, nil
}

func createPrivate(path string) (ed25519.PrivateKey, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("gateway key directory: %w", err)
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	// O_EXCL: two processes starting together keep one key, the first one written.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("writing gateway key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("writing gateway key %s: %w", path, err)
	}
	return key, nil
}

// writePublic writes pub to path unless it already holds it (renamed into place, so a reader
// never sees half a file).
func writePublic(path string, pub ed25519.PublicKey) error {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return err
	}
	want := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	if have, err := os.ReadFile(path); err == nil && slices.Equal(have, want) {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-pub-")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(want); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// keyID names a public key in the token's kid (a SHA-256 of the key), so a verifier holding
// several keys (rotation) checks the one that signed.
func keyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// Sign returns the Soc-Principal token of p: the one signed for the same principal (every
// field equal) while it is more than Refresh from its exp, else a new one. No lock is held while
// signing; two requests missing together may both sign, and either token is valid.
func (s *Signer) Sign(p access.Principal) (string, error) {
	w := toWire(p)
	key, err := fingerprint(w)
	if err != nil {
		return "", err
	}
	now := s.now()
	if t, ok := s.tokens.Get(key); ok && now.Before(t.refreshAt) {
		return t.token, nil
	}
	c := claims{
		Claims: jwt.Claims{
			Issuer:   Issuer,
			Audience: jwt.Audience{Audience},
			IssuedAt: jwt.NewNumericDate(now),
			Expiry:   jwt.NewNumericDate(now.Add(TTL)),
			ID:       rand.Text(),
		},
		Principal: w,
	}
	tok, err := jwt.Signed(s.signer).Claims(c).Serialize()
	if err != nil {
		return "", fmt.Errorf("signing the principal: %w", err)
	}
	s.tokens.Add(key, cachedToken{token: tok, refreshAt: now.Add(TTL - Refresh)})
	return tok, nil
}

// fingerprint hashes the wire form of a principal, the very claims a token carries, so any
// change of a field (a role, a team) misses the cache and is signed at once.
func fingerprint(w principal) ([sha256.Size]byte, error) {
	b, err := json.Marshal(w)
	if err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("signing the principal: %w", err)
	}
	return sha256.Sum256(b), nil
}

// Verifier checks Soc-Principal tokens against the gateway public keys it trusts. It is safe
// for concurrent use.
type Verifier struct {
	keys     map[string]ed25519.PublicKey // by keyID
	now      func() time.Time
	verified *lru.Cache[[sha256.Size]byte, verified] // by SHA-256 of the token
}

// verified is what a token that verified carries: its principal and its life, checked again
// against the clock on every use.
type verified struct {
	p        access.Principal
	iat, exp time.Time
}

// LoadVerifier reads the PEM PKIX Ed25519 public keys at publicKeyPaths (several while a gateway
// key is rotated).
func LoadVerifier(publicKeyPaths ...string) (*Verifier, error) {
	if len(publicKeyPaths) == 0 {
		return nil, errors.New("no gateway public key given")
	}
	v := &Verifier{keys: map[string]ed25519.PublicKey{}, now: time.Now, verified: newCache[verified](CacheEntries)}
	for _, path := range publicKeyPaths {
		pub, err := loadPublic(path)
		if err != nil {
			return nil, err
		}
		v.keys[keyID(pub)] = pub
	}
	return v, nil
}

func loadPublic(path string) (ed25519.PublicKey, error) {
	return readKey[ed25519.PublicKey](path, "gateway public key", "PUBLIC KEY", x509.ParsePKIXPublicKey)
}

// Verify returns the principal token carries when a trusted key signed it and it is current.
// A token that verified is remembered until its exp, so the gateway's reused token costs one
// hash per request; its life is checked against the clock on every use, and a token that fails
// is never remembered. Its errors are problem Unauthorized errors with a short reason.
func (v *Verifier) Verify(token string) (access.Principal, error) {
	if len(token) > MaxTokenBytes {
		return refuse(fmt.Sprintf("is larger than %d bytes", MaxTokenBytes))
	}
	key := sha256.Sum256([]byte(token))
	if e, ok := v.verified.Get(key); ok {
		if !current(e.iat, e.exp, v.now()) {
			v.verified.Remove(key)
			return refuse(expired)
		}
		return clone(e.p), nil
	}
	e, err := v.verify(token)
	if err != nil {
		return access.Principal{}, err
	}
	v.verified.Add(key, e)
	return clone(e.p), nil
}

// expired is the reason of a token out of its life (or, jwt cannot tell apart, of another audience).
const expired = "is expired or not for this node"

func refuse(reason string) (access.Principal, error) {
	return access.Principal{}, problem.Unauthorized("the %s header %s", Header, reason).OnField(Header)
}

// current is jwt's time check with Leeway (ValidateWithLeeway), for a remembered token.
func current(iat, exp, now time.Time) bool {
	return !now.Add(Leeway).Before(iat) && !now.Add(-Leeway).After(exp)
}

// clone copies the slices of a remembered principal, so a caller changing its copy cannot
// change what later requests get.
func clone(p access.Principal) access.Principal {
	p.Roles, p.Perms, p.Teams = slices.Clone(p.Roles), slices.Clone(p.Perms), slices.Clone(p.Teams)
	return p
}

// verify checks token fully: what Verify does on a token it does not remember.
func (v *Verifier) verify(token string) (verified, error) {
	fail := func(reason string) (verified, error) {
		_, err := refuse(reason)
		return verified{}, err
	}
	// Only EdDSA parses: "none", HMAC (a public key used as a secret) and the rest are refused.
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return fail("is not an EdDSA-signed JWS")
	}
	if len(tok.Headers) != 1 {
		return fail("must carry exactly one signature")
	}
	h := tok.Headers[0]
	// A key named by the token itself would let anyone sign: only the configured keys count.
	if _, err := h.Certificates(x509.VerifyOptions{}); h.JSONWebKey != nil || !errors.Is(err, jose.ErrMissingX5cHeader) ||
		h.ExtraHeaders["jku"] != nil || h.ExtraHeaders["x5u"] != nil {
		return fail("names its own key")
	}
	pub, ok := v.keys[h.KeyID]
	if !ok {
		return fail("is signed by a key this node does not trust")
	}
	var c claims
	if err := tok.Claims(pub, &c); err != nil {
		return fail("has a bad signature")
	}
	if c.IssuedAt == nil || c.Expiry == nil {
		return fail("lacks iat or exp")
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: Issuer, AnyAudience: jwt.Audience{Audience}, Time: v.now()}, Leeway); err != nil {
		return fail(expired)
	}
	if c.Expiry.Time().Sub(c.IssuedAt.Time()) > TTL {
		return fail("lives longer than " + TTL.String())
	}
	p := c.Principal.principal()
	if p.ID == "" || (p.Kind != access.KindUser && p.Kind != access.KindToken && p.Kind != access.KindSystem) {
		return fail("names no principal")
	}
	for _, perm := range p.Perms {
		if !access.Known(perm) {
			return fail("grants an unknown permission")
		}
	}
	return verified{p: p, iat: c.IssuedAt.Time(), exp: c.Expiry.Time()}, nil
}
