package tokens

import (
	"errors"

	"github.com/socplatform/soc/schemas/problem"
)

// ErrInvalidToken is what every refused access token wraps: errors.Is(err, ErrInvalidToken)
// tells a refused token from a failure of the keyring itself.
var ErrInvalidToken = errors.New("invalid token")

// TokenError is why a token was refused. It is a 401 (problem.KindUnauthorized, the same
// problem type as every other refused credential), and its message names the reason only:
// never the token, its claims or a key.
type TokenError struct {
	Reason string
}

func (e *TokenError) Error() string      { return "invalid token: " + e.Reason }
func (e *TokenError) Unwrap() error      { return ErrInvalidToken }
func (e *TokenError) Kind() problem.Kind { return problem.KindUnauthorized }

// The reasons Verify gives; compare with errors.Is. They are values, never built per call, so a
// caller can also switch on them.
var (
	ErrTokenTooLarge  = &TokenError{"too large"}
	ErrTokenMalformed = &TokenError{"malformed"}
	ErrAlgorithm      = &TokenError{"algorithm not allowed"}
	ErrWrongType      = &TokenError{"not an access token"}
	ErrUnknownKey     = &TokenError{"unknown kid"}
	ErrBadSignature   = &TokenError{"bad signature"}
	ErrMissingClaim   = &TokenError{"missing claim"}
	ErrWrongIssuer    = &TokenError{"wrong issuer"}
	ErrWrongAudience  = &TokenError{"wrong audience"}
	ErrExpired        = &TokenError{"expired"}
	ErrNotYetValid    = &TokenError{"not yet valid"}
)
