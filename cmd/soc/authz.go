package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"

	"github.com/socplatform/soc/cmd/soc/internal/principalsig"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/problem"
)

// authenticator turns a bearer credential (a JWT access token, or an API token "soc_pat_…")
// into the principal it stands for. The identity context implements it; its errors are
// problem Unauthorized errors with a short reason that never echoes the credential.
type authenticator interface {
	Authenticate(ctx context.Context, credential string) (access.Principal, error)
}

// wsRoutes are the only patterns that take a ?ticket= instead of a header: browsers cannot set
// headers on a WebSocket handshake.
var wsRoutes = map[string]bool{"GET /ws": true, "GET /v1/notifications/ws": true}

// authorize guards every route of mux by its declaration (access.go): a public route is served
// as is; any other needs a principal (from the bearer, or a ticket on the WebSocket routes, or
// the Soc-Principal header of a trusted gateway), 401 without one, 403 when it lacks the
// route's permission. The principal then rides the request's context (access.With) to the
// handlers, which stamp its actor on their events.
func authorize(mux *http.ServeMux, authn authenticator, tickets *ticketStore, gateway *principalsig.Verifier, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := mux.Handler(r)
		ru, ok := ruleFor(pattern)
		if !ok {
			// "" is the mux's own answer (405, a redirect to the canonical path): like an unknown
			// path, it is shown only to a signed-in principal.
			ru = signedIn
		}
		// A gateway's principal is checked even where none is needed: a header that does not
		// verify is a forgery or a misconfiguration, and either is refused, never ignored.
		fromGateway, signed, err := gatewayPrincipal(r, gateway)
		if err != nil {
			challenge(w, r, log, err)
			return
		}
		if ru.kind == rulePublic {
			mux.ServeHTTP(w, r)
			return
		}
		p := fromGateway
		if !signed {
			p, err = principalOf(r, pattern, authn, tickets)
		}
		if err != nil {
			challenge(w, r, log, err)
			return
		}
		if ru.kind == rulePermission && !p.Can(ru.perm) {
			problem.Error(w, r, log, problem.Forbidden("this needs the permission %s", ru.perm).With("permission", string(ru.perm)))
			return
		}
		if p.Definition != "" && pattern != pushRoute {
			problem.Error(w, r, log, problem.Forbidden("this token only pushes the reports of scan definition %s", p.Definition))
			return
		}
		mux.ServeHTTP(w, r.WithContext(access.With(r.Context(), p)))
	})
}

// pushRoute is the one route a scan definition's push token (Principal.Definition) may call.
const pushRoute = "POST /v1/scan-definitions/{id}/reports"

// credentialError is a request that gave no usable credential; given says whether it gave one
// at all (RFC 6750 then names the error invalid_token).
type credentialError struct {
	*problem.Err
	given bool
}

// gatewayPrincipal reads the principal a trusted gateway signed (signed is
// false without a Soc-Principal header). A header that does not verify, or one reaching a node
// that trusts no gateway key, is a credential error: the request is refused, not retried on its
// bearer, since only the gateway may set the header and the bearer was its to check.
func gatewayPrincipal(r *http.Request, gateway *principalsig.Verifier) (p access.Principal, signed bool, err error) {
	hs := r.Header.Values(principalsig.Header)
	if len(hs) == 0 {
		return p, false, nil
	}
	switch {
	case gateway == nil:
		err = problem.Unauthorized("this node trusts no gateway: the %s header is refused (--trust-gateway-key)", principalsig.Header)
	case len(hs) > 1:
		err = problem.Unauthorized("the %s header is given more than once", principalsig.Header)
	default:
		p, err = gateway.Verify(hs[0])
	}
	if err != nil {
		return access.Principal{}, true, credentialError{problem.Unauthorized("%s", err.Error()).OnField(principalsig.Header), true}
	}
	return p, true, nil
}

// gatewayTrust loads the gateway public keys a node trusts (--trust-gateway-key); nil when none.
func gatewayTrust(publicKeyPaths []string) (*principalsig.Verifier, error) {
	if len(publicKeyPaths) == 0 {
		return nil, nil
	}
	return principalsig.LoadVerifier(publicKeyPaths...)
}

// principalOf authenticates the request: a ticket on the WebSocket routes, else the bearer.
func principalOf(r *http.Request, pattern string, authn authenticator, tickets *ticketStore) (access.Principal, error) {
	if wsRoutes[pattern] {
		if t := r.URL.Query().Get("ticket"); t != "" {
			p, ok := tickets.Redeem(t)
			if !ok {
				return access.Principal{}, credentialError{problem.Unauthorized("the ticket is unknown, used or expired"), true}
			}
			return p, nil
		}
	}
	cred, given := bearer(r)
	if cred == "" {
		return access.Principal{}, credentialError{problem.Unauthorized("sign in: this needs Authorization: Bearer <token>").OnField("Authorization"), given}
	}
	p, err := authn.Authenticate(r.Context(), cred)
	if err != nil {
		if problem.From(err).Status == http.StatusUnauthorized {
			return p, credentialError{problem.Unauthorized("%s", err.Error()).OnField("Authorization"), true}
		}
		return p, err // the authenticator failed (its store down): not the client's fault
	}
	return p, nil
}

// bearer reads Authorization: Bearer <credential> (the scheme is case-insensitive, RFC 9110
// §11.1); given reports a header that was there but not a usable bearer.
func bearer(r *http.Request) (cred string, given bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, c, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", true
	}
	return strings.TrimSpace(c), true
}

// challenge answers a request without a usable credential: 401 with the RFC 6750 challenge.
func challenge(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if ce, ok := err.(credentialError); ok {
		v := `Bearer realm="soc"`
		if ce.given {
			v += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", v)
	}
	problem.Error(w, r, log, err)
}

// metricsGuard requires exactly token as the bearer of /metrics when token is set
// (--metrics-token): scrapers get a credential of their own, unrelated to users. Unset, the
// metrics stay open (they hold counts, not data) as the probes do.
func metricsGuard(token string, next http.Handler, log *slog.Logger) http.Handler {
	if token == "" {
		return next
	}
	// Comparing digests keeps the comparison constant-time in the length too.
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cred, given := bearer(r)
		got := sha256.Sum256([]byte(cred))
		if cred == "" || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			challenge(w, r, log, credentialError{problem.Unauthorized("the metrics need their bearer token (--metrics-token)").OnField("Authorization"), given})
			return
		}
		next.ServeHTTP(w, r)
	})
}
