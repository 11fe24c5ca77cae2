// Package sso signs users in through an OpenID Connect provider (Keycloak, Entra ID, Okta, …):
// the authorization code flow with PKCE (S256), state and nonce; the ID token verified by
// go-oidc (signature, issuer, audience, expiry) and its nonce checked here; the user's provider
// groups mapped to platform roles and teams (Mapping). The identity context provisions the user
// (Provisioner) and opens the session (SessionStarter); this package holds neither users nor
// sessions.
//
// Two ways in:
//   - a browser: GET /v1/auth/oidc/login redirects to the provider, which sends the browser back
//     to Config.RedirectURL (GET /v1/auth/oidc/callback), answered with the session as JSON;
//   - the CLI (RFC 8252, native apps): GET /v1/auth/oidc/login?redirect_uri=http://127.0.0.1:PORT/…
//     (a loopback address only); the provider sends the browser to the CLI's listener, and the CLI
//     forwards the code and state to /v1/auth/oidc/callback. Tokens never travel in a URL.
//
// Either way the caller of the callback must present the state cookie the login response set
// (a browser does; the CLI keeps a cookie jar), so a code and state lured out of one user agent
// cannot finish a sign-in in another (login CSRF).
package sso

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/problem"
)

// Identity is a user as the provider vouched for them, with what the mapping grants.
type Identity struct {
	Issuer  string
	Subject string   // the provider's stable user id: with Issuer, the key to the platform user
	Email   string   // set only when the provider says it is verified (an unverified one must not link accounts)
	Name    string   // the name claim, else preferred_username
	Groups  []string // the groups claim, as sent
	Roles   []string // granted by the mapping; never empty (a sign-in granting no role is refused)
	Teams   []string // granted by the mapping
}

// Provisioner creates the platform user on the first sign-in and, on every sign-in, sets its
// roles and teams to those of Identity (the provider's groups are the truth for SSO users). The
// identity context implements it.
type Provisioner interface {
	ProvisionSSO(ctx context.Context, id Identity) (access.Principal, error)
}

// SessionStarter opens a platform session for a signed-in principal; its result (the login
// response: access and refresh tokens) is what the callback answers, as JSON.
type SessionStarter interface {
	StartSession(ctx context.Context, p access.Principal, source string) (any, error)
}

// SessionSource is the source StartSession is given for an SSO sign-in: a value of the
// SessionStarted event's source vocabulary (password, sso, refresh), which the identity
// context records as is.
const SessionSource = "sso"

// The routes; the state cookie is scoped to their common prefix.
const (
	LoginPath    = "/v1/auth/oidc/login"
	CallbackPath = "/v1/auth/oidc/callback"
	cookiePath   = "/v1/auth/oidc/"
	stateCookie  = "soc_oidc_state"
)

// Defaults of Options.
const (
	DefaultPendingTTL = 10 * time.Minute // how long a user has to finish a sign-in at the provider
	DefaultPendingMax = 10000            // sign-ins in progress at once
	providerTimeout   = 10 * time.Second // one request to the provider
)

// Options are the knobs tests and the binary may turn; zero values are the defaults.
type Options struct {
	HTTPClient *http.Client // to the provider; default: a client with a 10 s timeout
	Log        *slog.Logger // default: slog.Default()
	Now        func() time.Time
	PendingTTL time.Duration
	PendingMax int
}

// Service serves the login and callback endpoints.
type Service struct {
	cfg      Config
	mapping  Mapping
	prov     Provisioner
	sessions SessionStarter
	client   *http.Client
	log      *slog.Logger
	now      func() time.Time
	pending  *pendingLogins

	mu       sync.Mutex // guards the provider, discovered on first use
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// New checks cfg and loads its mapping. The provider is contacted on the first sign-in, not here,
// so the platform starts (and serves everything else) while the provider is down.
func New(cfg Config, prov Provisioner, sessions SessionStarter, opt Options) (*Service, error) {
	if !cfg.Configured() {
		return nil, errors.New("oidc config: SOC_OIDC_ISSUER is not set")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if prov == nil || sessions == nil {
		return nil, errors.New("sso: a Provisioner and a SessionStarter are required")
	}
	m, err := LoadMapping(cfg.Mapping, cfg.CustomRoles)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, mapping: m, prov: prov, sessions: sessions,
		client: opt.HTTPClient, log: opt.Log, now: opt.Now}
	if s.client == nil {
		s.client = &http.Client{Timeout: providerTimeout}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	ttl, max := opt.PendingTTL, opt.PendingMax
	if ttl <= 0 {
		ttl = DefaultPendingTTL
	}
	if max <= 0 {
		max = DefaultPendingMax
	}
	s.pending = newPendingLogins(max, ttl, s.now)
	return s, nil
}

// discover fetches the provider's configuration once it first succeeds. Its context is not a
// request's: go-oidc keeps it to fetch the signing keys again when they rotate.
func (s *Service) discover() (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.oauth != nil {
		return s.oauth, s.verifier, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(context.Background(), s.client), s.cfg.Issuer)
	if err != nil {
		s.log.Warn("oidc: provider discovery failed", "issuer", s.cfg.Issuer, "err", err)
		return nil, nil, problem.Unavailable(30*time.Second, "the identity provider cannot be reached; try again later")
	}
	s.oauth = &oauth2.Config{
		ClientID:     s.cfg.ClientID,
		ClientSecret: s.cfg.ClientSecret,
		RedirectURL:  s.cfg.RedirectURL,
		Endpoint:     p.Endpoint(),
		Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
	}
	s.verifier = p.Verifier(&oidc.Config{ClientID: s.cfg.ClientID, Now: s.now})
	return s.oauth, s.verifier, nil
}

// LoginHandler serves GET /v1/auth/oidc/login: it starts a sign-in and redirects to the provider.
func (s *Service) LoginHandler() http.Handler { return http.HandlerFunc(s.login) }

// CallbackHandler serves GET /v1/auth/oidc/callback: it finishes the sign-in and answers the
// session as JSON.
func (s *Service) CallbackHandler() http.Handler { return http.HandlerFunc(s.callback) }

func (s *Service) login(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		problem.Error(w, r, s.log, problem.MethodNotAllowed("%s %s: only GET", r.Method, r.URL.Path))
		return
	}
	redirect := r.URL.Query().Get("redirect_uri")
	if redirect != "" {
		if err := checkLoopbackRedirect(redirect); err != nil {
			problem.Error(w, r, s.log, err)
			return
		}
	}
	oc, _, err := s.discover()
	if err != nil {
		problem.Error(w, r, s.log, err)
		return
	}
	state, nonce, verifier := randomToken(), randomToken(), oauth2.GenerateVerifier()
	if ok, retry := s.pending.put(state, pendingLogin{verifier: verifier, nonce: nonce, redirectURI: redirect}); !ok {
		problem.Error(w, r, s.log, problem.Unavailable(retry, "too many sign-ins in progress; try again later"))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: state, Path: cookiePath,
		MaxAge: int(s.pending.ttl / time.Second), HttpOnly: true, Secure: s.secureCookie(r),
		SameSite: http.SameSiteLaxMode}) // Lax: the provider's redirect back is a top-level GET
	opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)}
	if redirect != "" {
		opts = append(opts, oauth2.SetAuthURLParam("redirect_uri", redirect))
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, oc.AuthCodeURL(state, opts...), http.StatusFound)
}

func (s *Service) callback(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		problem.Error(w, r, s.log, problem.MethodNotAllowed("%s %s: only GET", r.Method, r.URL.Path))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	res, err := s.finish(w, r)
	if err != nil {
		problem.Error(w, r, s.log, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(res); err != nil {
		s.log.Warn("oidc: writing the session response failed", "err", err)
	}
}

// finish checks the callback against the sign-in it belongs to, exchanges the code, verifies the
// ID token, maps the groups and hands over to the identity context.
func (s *Service) finish(w http.ResponseWriter, r *http.Request) (any, error) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		return nil, problem.Unauthorized("the sign-in state is missing")
	}
	// Taken before anything else is checked: a state serves one callback, failed or not.
	p, ok := s.pending.take(state)
	if !ok {
		return nil, problem.Unauthorized("unknown, used or expired sign-in state; start again at %s", LoginPath)
	}
	// This sign-in's state is spent whatever happens next, so its cookie goes too. (A callback
	// with a state that is not ours leaves the cookie of the sign-in in progress alone.)
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Path: cookiePath, MaxAge: -1, HttpOnly: true,
		Secure: s.secureCookie(r), SameSite: http.SameSiteLaxMode})
	if c, err := r.Cookie(stateCookie); err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(state)) != 1 {
		return nil, problem.Unauthorized("this sign-in was started by another browser or client")
	}
	if e := q.Get("error"); e != "" {
		return nil, problem.Unauthorized("the identity provider refused the sign-in (%s)", errorCode(e))
	}
	code := q.Get("code")
	if code == "" {
		return nil, problem.Unauthorized("the authorization code is missing")
	}
	oc, verifier, err := s.discover()
	if err != nil {
		return nil, err
	}
	ctx := context.WithValue(r.Context(), oauth2.HTTPClient, s.client)
	opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(p.verifier)}
	if p.redirectURI != "" {
		opts = append(opts, oauth2.SetAuthURLParam("redirect_uri", p.redirectURI))
	}
	tok, err := oc.Exchange(ctx, code, opts...)
	if err != nil {
		// Only the provider's error code is logged: the response body is the provider's to word.
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			s.log.Warn("oidc: code exchange refused", "status", re.Response.StatusCode, "error", re.ErrorCode)
		} else {
			s.log.Warn("oidc: code exchange failed", "err", err)
		}
		return nil, problem.Unauthorized("the identity provider did not accept the authorization code")
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, problem.Unauthorized("the identity provider returned no ID token")
	}
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		s.log.Warn("oidc: ID token refused", "err", err) // go-oidc's reasons never quote the token
		return nil, problem.Unauthorized("the ID token failed verification")
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(p.nonce)) != 1 {
		return nil, problem.Unauthorized("the ID token was not issued for this sign-in (nonce mismatch)")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, problem.Unauthorized("the ID token's claims cannot be read")
	}
	id := s.identity(idt, claims)
	if len(id.Roles) == 0 {
		// Decided: no role, no account. A user nobody can see anything as is only a dormant
		// account; the provider's groups are where an administrator grants access.
		return nil, problem.Forbidden("none of your identity provider groups grants a role on this platform; ask an administrator")
	}
	principal, err := s.prov.ProvisionSSO(r.Context(), id)
	if err != nil {
		return nil, err
	}
	return s.sessions.StartSession(r.Context(), principal, SessionSource)
}

func (s *Service) identity(idt *oidc.IDToken, claims map[string]any) Identity {
	id := Identity{Issuer: idt.Issuer, Subject: idt.Subject, Groups: stringList(claims[s.cfg.GroupsClaim])}
	if v, _ := claims["email_verified"].(bool); v {
		id.Email, _ = claims["email"].(string)
	}
	id.Name, _ = claims["name"].(string)
	if id.Name == "" {
		id.Name, _ = claims["preferred_username"].(string)
	}
	id.Roles, id.Teams = s.mapping.Apply(id.Groups)
	return id
}

// secureCookie: the state cookie is Secure whenever this server is reached over https.
func (s *Service) secureCookie(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(s.cfg.RedirectURL, "https:")
}

// stringList reads a claim that is a list of strings, or one string (some providers send a lone
// group that way); anything else counts as no groups.
func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// checkLoopbackRedirect accepts the CLI's redirect_uri only as http to a loopback IP literal with
// a port (RFC 8252 §7.3): any other target would send an authorization code off this machine.
func checkLoopbackRedirect(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Fragment != "" || u.Port() == "" {
		return problem.Invalid("redirect_uri", "must be http://127.0.0.1:PORT/… or http://[::1]:PORT/… (a loopback listener of the CLI)")
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return problem.Invalid("redirect_uri", "must name a loopback IP address (127.0.0.1 or [::1]), not %q", u.Hostname())
	}
	return nil
}

// errorCode keeps a provider's error code (RFC 6749 §4.1.2.1: a short ASCII token) printable
// and short, since it is echoed in the response.
func errorCode(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == '.' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, s)
}

// randomToken is 32 random bytes, base64url: the state and the nonce.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}
