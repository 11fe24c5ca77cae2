package tokens

import (
	"net/http"
	"strconv"

	"github.com/socplatform/soc/schemas/problem"
)

// jwksMaxAge is how long a client may cache the JWKS. Short: a rotated-in key signs at once,
// and a verifier that meets an unknown kid refetches anyway.
const jwksMaxAge = 60

// JWKS is the public keys that verify tokens (the active key and the retired ones not yet
// removed) as an RFC 7517 JWK Set: kty OKP, crv Ed25519, x, kid, use sig, alg EdDSA.
func (k *Keyring) JWKS() ([]byte, error) {
	set, err := k.current()
	if err != nil {
		return nil, err
	}
	return set.jwks, nil
}

// JWKSHandler serves JWKS (GET and HEAD; mounted at /.well-known/jwks.json).
func (k *Keyring) JWKSHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			problem.Error(w, r, nil, problem.MethodNotAllowed("the JWKS is read with GET"))
			return
		}
		b, err := k.JWKS()
		if err != nil {
			problem.Error(w, r, nil, err)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(jwksMaxAge))
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(b)
		}
	})
}
