package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/identity/app"
	"github.com/socplatform/soc/commands/identity/identitytest"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

var ctx = context.Background()

const adminPassword = "correct horse battery staple"

// fixture is a Service with an admin (signed in) on a fresh SQLite store.
type fixture struct {
	*identitytest.Env
	adminID string
	admin   access.Principal
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	store := testsupport.SQLiteStore(t)
	env := identitytest.Open(t, store, nil)
	id, _, err := env.Svc.BootstrapAdmin(ctx, "Admin@Example.org", adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{Env: env, adminID: id}
	f.admin = f.principal(t, id)
	return f
}

// principal signs user id in through a session and authenticates its access token.
func (f *fixture) principal(t *testing.T, id string) access.Principal {
	t.Helper()
	tok, err := f.Svc.StartSession(ctx, access.Principal{Kind: access.KindUser, ID: id}, contracts.SessionSourcePassword)
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Svc.Authenticate(ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// user creates a user with a password and roles.
func (f *fixture) user(t *testing.T, email string, roles ...string) app.UserView {
	t.Helper()
	v, err := f.Svc.CreateUser(ctx, f.admin, contracts.CreateUser{Email: email, DisplayName: email, Password: "password of " + email, Roles: roles}, es.Invocation{})
	if err != nil {
		t.Fatal(err)
	}
	return v.UserView
}

// issueToken issues the API token req asks for, as caller.
func (f *fixture) issueToken(t *testing.T, caller access.Principal, req contracts.IssueApiToken) app.IssuedToken {
	t.Helper()
	tok, err := f.Svc.IssueToken(ctx, caller, req, es.Invocation{})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f *fixture) login(t *testing.T, email, password string) app.Tokens {
	t.Helper()
	tok, err := f.Svc.Login(ctx, email, password, "192.0.2.1", es.Invocation{})
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	return tok
}

// wantKind fails unless err is a problem of kind k.
func wantKind(t *testing.T, err error, k problem.Kind) {
	t.Helper()
	var ke problem.KindError
	if !errors.As(err, &ke) || ke.Kind() != k {
		t.Fatalf("error %v (%T), want a %d problem", err, err, k.Status())
	}
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var fe problem.FieldError
	if !errors.As(err, &fe) || fe.Field() != field {
		t.Fatalf("error %v, want one naming %s", err, field)
	}
}

func ago(d time.Duration) time.Time { return identitytest.Start.Add(-d) }
