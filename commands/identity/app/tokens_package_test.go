package app_test

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/identity/app"
	"github.com/socplatform/soc/commands/identity/identitytest"
	"github.com/socplatform/soc/commands/identity/tokens"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// keyring adapts *tokens.Keyring to app.Keyring, as the binary does.
type keyring struct{ *tokens.Keyring }

func (k keyring) Verify(token string) (app.AccessClaims, error) {
	c, err := k.Keyring.Verify(token)
	return app.AccessClaims(c), err
}

// The identity app on the real tokens package: argon2id, Ed25519 JWTs, opaque secrets.
func TestWithTheTokensPackage(t *testing.T) {
	clock := testsupport.NewClock(identitytest.Start)
	kr, err := tokens.OpenKeyring(tokens.KeyConfig{Dir: t.TempDir(), Issuer: "https://soc.test", Audience: "soc"}, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	svc := app.New(app.Deps{Store: testsupport.SQLiteStore(t), Keyring: keyring{kr}, Now: clock.Now,
		Passwords: app.PasswordFuncs{HashFunc: func(pw string) (string, error) { return tokens.HashPassword(pw, tokens.DefaultPasswordParams) },
			VerifyFunc: tokens.VerifyPassword},
		Secrets: app.SecretFuncs{NewFunc: tokens.NewSecret, HashFunc: tokens.HashSecret}}, app.DefaultConfig())
	if err := svc.Load(ctx); err != nil {
		t.Fatal(err)
	}
	id, generated, err := svc.BootstrapAdmin(ctx, "root@example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := svc.Login(ctx, "root@example.org", generated, "192.0.2.1", es.Invocation{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(tok.AccessToken, ".") != 2 || !strings.HasPrefix(tok.RefreshToken, "soc_rt_") || tok.ExpiresIn != 900 {
		t.Fatalf("tokens %+v", tok)
	}
	p, err := svc.Authenticate(ctx, tok.AccessToken)
	if err != nil || p.ID != id || p.SessionID != tok.SessionID {
		t.Fatalf("principal %+v %v", p, err)
	}
	// a tampered signature is a 401
	// (a character in the middle of the signature: the last one may carry only padding bits)
	b := []byte(tok.AccessToken)
	i := strings.LastIndexByte(tok.AccessToken, '.') + 10
	b[i] = map[bool]byte{true: 'B', false: 'A'}[b[i] == 'A']
	_, err = svc.Authenticate(ctx, string(b))
	wantKind(t, err, problem.KindUnauthorized)
	pat, err := svc.IssueToken(ctx, p, contracts.IssueApiToken{Name: "ci", Scopes: []contracts.PermissionV2{"imports:write"}, TTL: "1d"}, es.Invocation{})
	if err != nil {
		t.Fatal(err)
	}
	if tp, err := svc.Authenticate(ctx, pat.Token); err != nil || !tp.Can(access.ImportsWrite) || tp.Can(access.UsersAdmin) {
		t.Fatalf("API token principal %+v %v", tp, err)
	}
	// an access token outlives its session only until it is revoked
	if err := svc.Logout(ctx, tok.RefreshToken, es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Authenticate(ctx, tok.AccessToken)
	wantKind(t, err, problem.KindUnauthorized)
}
