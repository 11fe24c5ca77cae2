package tokens

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// MaxTokenBytes bounds a token Verify will parse.
const MaxTokenBytes = 8 << 10

// tokenType is the JWT header's typ (RFC 9068 access token).
const tokenType = "at+jwt"

// allowedAlgorithms is the one algorithm Verify lets the parser accept.
var allowedAlgorithms = []jose.SignatureAlgorithm{jose.EdDSA}

// Claims is what a verified access token says.
type Claims struct {
	Subject   string // the user id
	SessionID string // the session the token was issued in
	ID        string // jti
	IssuedAt  time.Time
	Expiry    time.Time
}

// wireClaims is the token's payload: the registered claims and the session.
type wireClaims struct {
	jwt.Claims
	SessionID string `json:"sid,omitempty"`
}

// Issue signs an access token for subject in session sessionID with the active key (rotating it
// first when it is due), valid from now for AccessTTL.
func (k *Keyring) Issue(subject, sessionID string) (token string, expires time.Time, err error) {
	if subject == "" || sessionID == "" {
		return "", time.Time{}, errors.New("tokens: an access token needs a subject and a session")
	}
	set, err := k.current()
	if err != nil {
		return "", time.Time{}, err
	}
	jti, err := randomID()
	if err != nil {
		return "", time.Time{}, err
	}
	// NumericDate has whole seconds: truncate so the expiry returned is the one in the token.
	now := k.now().Truncate(time.Second)
	expires = now.Add(k.cfg.AccessTTL)
	claims := wireClaims{
		Claims: jwt.Claims{
			Issuer:    k.cfg.Issuer,
			Audience:  jwt.Audience{k.cfg.Audience},
			Subject:   subject,
			ID:        jti,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			Expiry:    jwt.NewNumericDate(expires),
		},
		SessionID: sessionID,
	}
	token, err = jwt.Signed(set.signer).Claims(claims).Serialize()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("tokens: signing: %w", err)
	}
	return token, expires, nil
}

// Verify checks an access token: EdDSA only, signed by a key of the ring (current or retired,
// not yet removed), of type at+jwt, with this ring's issuer and audience, every claim present,
// and within its validity (Leeway either side). Errors wrap ErrInvalidToken.
func (k *Keyring) Verify(token string) (Claims, error) {
	if len(token) > MaxTokenBytes {
		return Claims{}, ErrTokenTooLarge
	}
	tok, err := jwt.ParseSigned(token, allowedAlgorithms)
	if err != nil {
		if _, ok := errors.AsType[*jose.ErrUnexpectedSignatureAlgorithm](err); ok {
			return Claims{}, ErrAlgorithm
		}
		return Claims{}, ErrTokenMalformed
	}
	h := tok.Headers[0] // compact serialisation: exactly one signature
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != tokenType {
		return Claims{}, ErrWrongType
	}
	key := k.lookup(h.KeyID)
	if key == nil {
		return Claims{}, ErrUnknownKey
	}
	// Verify the signature alone first, so a bad one is told apart from a bad payload.
	if err := tok.Claims(key.pub); err != nil {
		return Claims{}, ErrBadSignature
	}
	var c wireClaims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil { // verified just above
		return Claims{}, ErrTokenMalformed
	}
	if c.Subject == "" || c.SessionID == "" || c.ID == "" || c.IssuedAt == nil || c.NotBefore == nil || c.Expiry == nil {
		return Claims{}, ErrMissingClaim
	}
	err = c.ValidateWithLeeway(jwt.Expected{Issuer: k.cfg.Issuer, AnyAudience: jwt.Audience{k.cfg.Audience}, Time: k.now()}, Leeway)
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return Claims{}, ErrWrongIssuer
	case errors.Is(err, jwt.ErrInvalidAudience):
		return Claims{}, ErrWrongAudience
	case errors.Is(err, jwt.ErrExpired):
		return Claims{}, ErrExpired
	case errors.Is(err, jwt.ErrNotValidYet), errors.Is(err, jwt.ErrIssuedInTheFuture):
		return Claims{}, ErrNotYetValid
	default:
		return Claims{}, ErrTokenMalformed
	}
	return Claims{Subject: c.Subject, SessionID: c.SessionID, ID: c.ID, IssuedAt: c.IssuedAt.Time(), Expiry: c.Expiry.Time()}, nil
}

// randomID is a token id: 128 random bits, base64url.
func randomID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("tokens: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
