package app_test

import (
	"testing"

	"github.com/socplatform/soc/commands/identity/app"
	"github.com/socplatform/soc/commands/identity/identitytest"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/testsupport"
)

// A Service runs on the function adapters the binary wires the tokens package in with.
func TestFuncAdapters(t *testing.T) {
	pw := &identitytest.Passwords{M: 1}
	sec := identitytest.Secrets{}
	env := identitytest.Open(t, testsupport.SQLiteStore(t), nil)
	deps := env.Deps
	deps.Passwords = app.PasswordFuncs{HashFunc: pw.Hash, VerifyFunc: pw.Verify}
	deps.Secrets = app.SecretFuncs{NewFunc: sec.New, HashFunc: sec.Hash}
	svc := app.New(deps, env.Config)
	if err := svc.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.BootstrapAdmin(ctx, "a@example.org", adminPassword); err != nil {
		t.Fatal(err)
	}
	tok, err := svc.Login(ctx, "a@example.org", adminPassword, "192.0.2.1", es.Invocation{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Refresh(ctx, tok.RefreshToken, es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	if pw.Verifies.Load() != 1 {
		t.Fatalf("%d verifications through the adapter", pw.Verifies.Load())
	}
}
