package main

import (
	"context"
	"errors"
	"flag"
	"net/http"
	"path/filepath"
	"time"

	"github.com/socplatform/soc/cmd/soc/internal/apiclient"
	identityapp "github.com/socplatform/soc/commands/identity/app"
	identityports "github.com/socplatform/soc/commands/identity/ports"
	"github.com/socplatform/soc/commands/identity/sso"
	"github.com/socplatform/soc/commands/identity/tokens"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// IdentityConfig is who may sign in and how their tokens are made: the signing keys (shared by
// every node that verifies the others' tokens), the identity context's own settings (lockout,
// lifetimes, the bootstrap admin) and SSO.
type IdentityConfig struct {
	// JWTKeyDir holds the Ed25519 signing keys ("": <data>/keys). Nodes that verify each
	// other's access tokens share it.
	JWTKeyDir      string        // --jwt-key-dir
	JWTIssuer      string        // --jwt-issuer
	JWTAudience    string        // --jwt-audience
	JWTRotateEvery time.Duration // --jwt-rotate-every
	Identity       identityapp.Config
	SSO            sso.Config
}

func (c *IdentityConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.JWTKeyDir, "jwt-key-dir", "", "directory of the access tokens' Ed25519 signing keys, shared by the nodes that verify each other's tokens; empty: <data>/keys")
	fs.StringVar(&c.JWTIssuer, "jwt-issuer", "soc", "iss of the access tokens this platform issues and accepts")
	fs.StringVar(&c.JWTAudience, "jwt-audience", "soc-api", "aud of the access tokens this platform issues and accepts")
	fs.DurationVar(&c.JWTRotateEvery, "jwt-rotate-every", tokens.DefaultRotateEvery, "how long a signing key signs before a new one replaces it (old keys verify until their tokens expire)")
	c.Identity.RegisterFlags(fs)
	c.SSO.RegisterFlags(fs)
}

func (c *IdentityConfig) Validate() error {
	var errs []error
	if c.JWTIssuer == "" || c.JWTAudience == "" {
		errs = append(errs, errors.New("--jwt-issuer/SOC_JWT_ISSUER and --jwt-audience/SOC_JWT_AUDIENCE: must not be empty"))
	}
	if c.JWTRotateEvery < time.Hour {
		errs = append(errs, errors.New("--jwt-rotate-every/SOC_JWT_ROTATE_EVERY: must be at least 1h"))
	}
	return errors.Join(append(errs, c.Identity.Validate(), c.SSO.Validate())...)
}

// keyDir is where the signing keys live.
func (c *Config) keyDir() string {
	if c.JWTKeyDir != "" {
		return c.JWTKeyDir
	}
	return filepath.Join(c.DataDir, "keys")
}

// identityNode is what the identity module offers: the identity context's service (every
// request's authenticator) and the keyring its tokens are signed with.
type identityNode struct {
	svc     *identityapp.Service
	keyring *tokens.Keyring
}

// keyring adapts *tokens.Keyring to the identity app's Keyring (its claims type is the app's).
type keyring struct{ *tokens.Keyring }

func (k keyring) Verify(token string) (identityapp.AccessClaims, error) {
	c, err := k.Keyring.Verify(token)
	return identityapp.AccessClaims(c), err
}

// identityDeps wires the tokens package into the identity app: argon2id passwords with the
// current parameters, opaque secrets, and kr (nil for the CLI's offline commands, which issue
// no access token).
func identityDeps(store *events.Guarded, kr *tokens.Keyring) identityapp.Deps {
	d := identityapp.Deps{Store: store,
		Passwords: identityapp.PasswordFuncs{
			HashFunc:   func(pw string) (string, error) { return tokens.HashPassword(pw, tokens.DefaultPasswordParams) },
			VerifyFunc: tokens.VerifyPassword},
		Secrets: identityapp.SecretFuncs{NewFunc: tokens.NewSecret, HashFunc: tokens.HashSecret}}
	if kr != nil {
		d.Keyring = keyring{kr}
	}
	return d
}

// startIdentity opens the keyring and the identity context (its directory restored from the
// snapshot, then following the log), creates the bootstrap admin on a first start, and makes
// the service the node's authenticator: every target depends on it, since every node verifies
// the tokens of the requests it serves. The identity routes themselves are the commands
// target's (registerIdentityRoutes).
func startIdentity(ctx context.Context, a *app, _ inputs) (any, readiness, error) {
	ic := a.cfg.IdentityConfig
	kr, err := tokens.OpenKeyring(tokens.KeyConfig{Dir: a.cfg.keyDir(), Issuer: ic.JWTIssuer, Audience: ic.JWTAudience,
		AccessTTL: ic.Identity.AccessTTL, RotateEvery: ic.JWTRotateEvery}, time.Now)
	if err != nil {
		return nil, nil, err
	}
	deps := identityDeps(a.store, kr)
	deps.Snapshots = snapshotDir(a)
	svc := identityapp.New(deps, ic.Identity)
	if err := svc.Start(ctx); err != nil {
		return nil, nil, err
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		<-ctx.Done()
		if err := svc.Wait(); err != nil { // it writes the snapshot as it stops
			a.log.Warn("the identity directory stopped following the store", "err", err)
		}
	}()
	if err := svc.BootstrapFromConfig(ctx); err != nil {
		return nil, nil, err
	}
	if !hasUsers(svc) {
		a.log.Warn("no user exists yet and nothing is open: create the first admin with `soc users create-admin --email EMAIL --data DIR` (it prints a one-time password), or start with SOC_BOOTSTRAP_ADMIN_EMAIL and SOC_BOOTSTRAP_ADMIN_PASSWORD_FILE")
	}
	a.authenticator = svc
	return &identityNode{svc: svc, keyring: kr}, nil, nil
}

// hasUsers reports whether any user exists, as the platform itself asks.
func hasUsers(svc *identityapp.Service) bool {
	p := access.System("bootstrap")
	p.Perms = []access.Permission{access.UsersRead}
	users, err := svc.Users(p, "")
	return err == nil && len(users) > 0
}

// registerIdentityRoutes serves the identity API (sign-in, users, teams, roles, tokens,
// invitations, sessions), the public keys, and the OIDC sign-in: with --oidc-issuer unset its
// two routes answer 404, so every node serves the same routes.
func registerIdentityRoutes(a *app, id *identityNode) error {
	if err := identityports.Register(a.mux, id.svc, identityports.Config{Schemas: schemas.CommandsFS(), Log: a.log,
		JWKS: id.keyring.JWKSHandler()}); err != nil {
		return err
	}
	login, callback := ssoOff(a), ssoOff(a)
	if a.cfg.SSO.Configured() {
		s, err := sso.New(a.cfg.SSO, ssoProvisioner{id.svc}, ssoSessions{id.svc}, sso.Options{Log: a.log})
		if err != nil {
			return err
		}
		login, callback = s.LoginHandler(), s.CallbackHandler()
	}
	a.mux.Handle("GET "+sso.LoginPath, login)
	a.mux.Handle("GET "+sso.CallbackPath, callback)
	return nil
}

func ssoOff(a *app) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		problem.Error(w, r, a.log, problem.NotFound("single sign-on is not configured on this platform (--oidc-issuer)"))
	})
}

// ssoProvisioner and ssoSessions adapt the identity app to the sso package's ports (the two
// packages do not import each other).
type ssoProvisioner struct{ svc *identityapp.Service }

func (p ssoProvisioner) ProvisionSSO(ctx context.Context, id sso.Identity) (access.Principal, error) {
	return p.svc.ProvisionSSO(ctx, identityapp.Identity(id))
}

type ssoSessions struct{ svc *identityapp.Service }

func (s ssoSessions) StartSession(ctx context.Context, p access.Principal, source string) (any, error) {
	return s.svc.StartSession(ctx, p, contracts.SessionSource(source))
}

// pushTokens issues scan definitions' push tokens through the identity API (POST /v1/tokens,
// served in this process), as the principal creating the definition: an API token of scope
// imports:write bound to the definition, living as long as API tokens may.
type pushTokens struct {
	mux http.Handler
	ttl time.Duration
}

func newPushTokens(id *identityNode, maxTTL time.Duration) (pushTokens, error) {
	mux, err := identityMux(id.svc)
	return pushTokens{mux: mux, ttl: maxTTL}, err
}

func (t pushTokens) IssuePushToken(ctx context.Context, definitionStream string) (string, error) {
	p, ok := access.From(ctx)
	if !ok {
		return "", problem.Unauthorized("a push token is issued to a signed-in user")
	}
	if p.Kind == access.KindToken {
		// An API token cannot issue tokens: the push token is its owner's, and holds no more
		// than the token creating the definition.
		p = access.Principal{Kind: access.KindUser, ID: p.UserID, UserID: p.UserID, Perms: p.Perms, Teams: p.Teams}
	}
	c, err := clientAs(t.mux, p)
	if err != nil {
		return "", err
	}
	var out struct {
		Token string `json:"token"`
	}
	body := map[string]any{"name": "push: " + definitionStream, "scopes": []access.Permission{access.ImportsWrite},
		"definition_id": definitionStream, "ttl": t.ttl.String()}
	err = c.Do(ctx, http.MethodPost, "/v1/tokens", body, http.StatusCreated, &out)
	if pe := (*apiclient.ProblemError)(nil); errors.As(err, &pe) && pe.Status < 500 {
		// The caller may define scans but not hold what the token carries (imports:write).
		return "", problem.Forbidden("the definition's push token cannot be issued to you: %s", pe.Detail)
	}
	return out.Token, err
}
