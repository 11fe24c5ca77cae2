package app_test

import (
	"sync/atomic"
	"testing"

	"github.com/socplatform/soc/commands/identity/app"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// countingKeyring counts the signature checks of the keyring it wraps.
type countingKeyring struct {
	app.Keyring
	verifies atomic.Int64
}

func (k *countingKeyring) Verify(token string) (app.AccessClaims, error) {
	k.verifies.Add(1)
	return k.Keyring.Verify(token)
}

// An access token's signature is checked once for its lifetime, but everything else about it
// still is on every request: a changed role, a revoked session, a disabled user and its expiry
// count at once.
func TestAccessTokenIsVerifiedOnceAndStillChecked(t *testing.T) {
	f := newFixture(t)
	kr := &countingKeyring{Keyring: f.Keyring}
	deps := f.Deps
	deps.Keyring = kr
	svc := app.New(deps, f.Config)
	if err := svc.Load(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := svc.CreateUser(ctx, f.admin, contracts.CreateUser{Email: "dora@example.org", Password: adminPassword, Roles: []string{access.RoleAnalyst}}, es.Invocation{})
	if err != nil {
		t.Fatal(err)
	}
	login := func() app.Tokens {
		t.Helper()
		tok, err := svc.Login(ctx, "dora@example.org", adminPassword, "192.0.2.1", es.Invocation{})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tok := login()
	for range 3 {
		if p, err := svc.Authenticate(ctx, tok.AccessToken); err != nil || p.ID != u.ID || !p.Can(access.FindingsAcceptRisk) {
			t.Fatalf("principal %+v, %v", p, err)
		}
	}
	if n := kr.verifies.Load(); n != 1 {
		t.Fatalf("3 requests with one token checked its signature %d times, want 1", n)
	}
	// another token (here a forged one) is checked, and refused
	_, err = svc.Authenticate(ctx, tok.AccessToken+"x")
	wantKind(t, err, problem.KindUnauthorized)
	if n := kr.verifies.Load(); n != 2 {
		t.Fatalf("a second token: %d signature checks, want 2", n)
	}

	// a role taken away a moment ago no longer counts
	if _, err := svc.SetRoles(ctx, f.admin, u.ID, contracts.SetUserRoles{Roles: []string{access.RoleRemediator}}, es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	if p, err := svc.Authenticate(ctx, tok.AccessToken); err != nil || p.Can(access.FindingsAcceptRisk) {
		t.Fatalf("after the role change: %+v, %v", p, err)
	}
	// a revoked session's token is refused
	if _, err := svc.RevokeSession(ctx, f.admin, tok.SessionID, false, es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Authenticate(ctx, tok.AccessToken)
	wantKind(t, err, problem.KindUnauthorized)

	// an expired token is refused, though its signature was checked while it was valid
	tok = login()
	if _, err := svc.Authenticate(ctx, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	f.Clock.Advance(f.Config.AccessTTL)
	_, err = svc.Authenticate(ctx, tok.AccessToken)
	wantKind(t, err, problem.KindUnauthorized)

	// a disabled user's token is refused
	tok = login()
	if _, err := svc.Authenticate(ctx, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.DisableUser(ctx, f.admin, u.ID, contracts.DisableUser{Reason: "left"}, es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Authenticate(ctx, tok.AccessToken)
	wantKind(t, err, problem.KindUnauthorized)
}
