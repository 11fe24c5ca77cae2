package app_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/identity/app"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

func TestLoginIssuesTokensOfALiveSession(t *testing.T) {
	f := newFixture(t)
	tok := f.login(t, "ADMIN@example.org", adminPassword) // emails compare case-insensitively
	if tok.TokenType != "Bearer" || tok.ExpiresIn != int64((15*time.Minute).Seconds()) || tok.SessionID == "" {
		t.Fatalf("tokens %+v", tok)
	}
	if !strings.HasPrefix(tok.RefreshToken, app.PrefixRefresh) {
		t.Fatalf("refresh token %q lacks its prefix", tok.RefreshToken)
	}
	p, err := f.Svc.Authenticate(ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != access.KindUser || p.ID != f.adminID || p.SessionID != tok.SessionID || p.Name != "admin@example.org" || !p.Can(access.UsersAdmin) {
		t.Fatalf("principal %+v", p)
	}
	if p.Actor() != "user:"+f.adminID {
		t.Fatalf("actor %s", p.Actor())
	}
}

func TestLoginRefusesWrongPasswordUnknownEmailAndDisabledUser(t *testing.T) {
	f := newFixture(t)
	u := f.user(t, "ann@example.org", access.RoleAnalyst)
	before := f.Passwords.Verifies.Load()
	for name, try := range map[string][2]string{
		"wrong password": {"ann@example.org", "not it at all"},
		"unknown email":  {"nobody@example.org", "whatever it is"},
	} {
		_, err := f.Svc.Login(ctx, try[0], try[1], "192.0.2.9", es.Invocation{})
		wantKind(t, err, problem.KindUnauthorized)
		if err.Error() != "invalid email or password" {
			t.Errorf("%s: %q tells more than that the credentials are wrong", name, err)
		}
	}
	// an unknown email costs a password verification too (against a dummy hash)
	if n := f.Passwords.Verifies.Load() - before; n != 2 {
		t.Fatalf("%d verifications for two attempts", n)
	}
	if _, err := f.Svc.DisableUser(ctx, f.admin, u.ID, contracts.DisableUser{}, es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	_, err := f.Svc.Login(ctx, "ann@example.org", "password of ann@example.org", "192.0.2.9", es.Invocation{})
	wantKind(t, err, problem.KindUnauthorized)
}

// 20 wrong passwords lock the account with a growing backoff; during a lock even the correct
// password is refused, and it works once the lock has passed.
func TestLockoutBacksOffAndACorrectPasswordStillWaits(t *testing.T) {
	f := newFixture(t)
	f.user(t, "bob@example.org", access.RoleAnalyst)
	var waits []time.Duration
	for i := 0; i < 20; {
		_, err := f.Svc.Login(ctx, "bob@example.org", "wrong guess", "198.51.100.7", es.Invocation{})
		var locked *app.LockedError
		if errors.As(err, &locked) {
			wantKind(t, err, problem.KindRateLimited)
			waits = append(waits, locked.RetryAfter())
			f.Clock.Advance(locked.RetryAfter())
			continue
		}
		wantKind(t, err, problem.KindUnauthorized)
		i++
	}
	// threshold 5: the 5th failure locks 1s, then 2s, 4s, … capped at 15 min
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second}
	if len(waits) < len(want) {
		t.Fatalf("locks %v, want at least %v", waits, want)
	}
	for i, w := range want {
		if waits[i] != w {
			t.Fatalf("locks %v, want them to start %v", waits, want)
		}
	}
	if last := waits[len(waits)-1]; last != 15*time.Minute {
		t.Fatalf("the last lock is %s, want the 15m cap", last)
	}
	_, err := f.Svc.Login(ctx, "bob@example.org", "password of bob@example.org", "203.0.113.1", es.Invocation{})
	var locked *app.LockedError
	if !errors.As(err, &locked) {
		t.Fatalf("the correct password during the lock: %v, want it locked", err)
	}
	f.Clock.Advance(locked.RetryAfter() - time.Second)
	if _, err := f.Svc.Login(ctx, "bob@example.org", "password of bob@example.org", "203.0.113.1", es.Invocation{}); !errors.As(err, &locked) {
		t.Fatalf("a second before the lock ends: %v, want it locked", err)
	}
	f.Clock.Advance(time.Second)
	f.login(t, "bob@example.org", "password of bob@example.org")
}

// Failures count per source address too: guessing across many accounts from one address locks
// the address, not only each account.
func TestLockoutPerSourceAddress(t *testing.T) {
	f := newFixture(t)
	for i := range 5 {
		_, err := f.Svc.Login(ctx, "user"+string(rune('a'+i))+"@example.org", "guess", "198.51.100.99", es.Invocation{})
		wantKind(t, err, problem.KindUnauthorized)
	}
	_, err := f.Svc.Login(ctx, "admin@example.org", adminPassword, "198.51.100.99", es.Invocation{})
	wantKind(t, err, problem.KindRateLimited)
	f.login(t, "admin@example.org", adminPassword) // from another address
}

func TestLoginRehashesAPasswordHashedWithOldParameters(t *testing.T) {
	f := newFixture(t)
	f.Passwords.M = 2 // the parameters changed since the admin's password was hashed
	f.login(t, "admin@example.org", adminPassword)
	evs, err := f.Store.ReadStream(ctx, f.adminID, events.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-1]
	if last.Type != contracts.TypeUserPasswordChanged || !bytes.Contains(last.Data, []byte(`"rehash"`)) || !bytes.Contains(last.Data, []byte("m=2,")) {
		t.Fatalf("last event %s %s, want a rehash with the new parameters", last.Type, last.Data)
	}
	if last.Actor != "user:"+f.adminID {
		t.Fatalf("actor %q", last.Actor)
	}
	f.login(t, "admin@example.org", adminPassword) // and the new hash verifies
}

func TestRefreshRotatesAndReuseRevokesTheSession(t *testing.T) {
	f := newFixture(t)
	first := f.login(t, "admin@example.org", adminPassword)
	second, err := f.Svc.Refresh(ctx, first.RefreshToken, es.Invocation{})
	if err != nil {
		t.Fatal(err)
	}
	if second.RefreshToken == first.RefreshToken || second.SessionID != first.SessionID {
		t.Fatalf("refresh did not rotate within the session: %+v", second)
	}
	third, err := f.Svc.Refresh(ctx, second.RefreshToken, es.Invocation{})
	if err != nil {
		t.Fatal(err)
	}
	// the first token again: someone replays a used token
	_, err = f.Svc.Refresh(ctx, first.RefreshToken, es.Invocation{})
	wantKind(t, err, problem.KindUnauthorized)
	// the whole family is dead: the current refresh token and the access tokens
	_, err = f.Svc.Refresh(ctx, third.RefreshToken, es.Invocation{})
	wantKind(t, err, problem.KindUnauthorized)
	_, err = f.Svc.Authenticate(ctx, third.AccessToken)
	wantKind(t, err, problem.KindUnauthorized)
	evs, _ := f.Store.ReadStream(ctx, first.SessionID, events.ReadStreamOptions{})
	if last := evs[len(evs)-1]; last.Type != contracts.TypeSessionRevoked || !bytes.Contains(last.Data, []byte(`"reuse"`)) {
		t.Fatalf("last session event %s %s, want SessionRevoked reuse", last.Type, last.Data)
	}
}

func TestRefreshAfterTheAbsoluteLifetimeIsRefused(t *testing.T) {
	f := newFixture(t)
	tok := f.login(t, "admin@example.org", adminPassword)
	f.Clock.Advance(30*24*time.Hour - time.Minute)
	tok, err := f.Svc.Refresh(ctx, tok.RefreshToken, es.Invocation{})
	if err != nil {
		t.Fatal(err)
	}
	f.Clock.Advance(time.Minute)
	_, err = f.Svc.Refresh(ctx, tok.RefreshToken, es.Invocation{})
	wantKind(t, err, problem.KindUnauthorized)
}

func TestLogoutEndsTheSession(t *testing.T) {
	f := newFixture(t)
	tok := f.login(t, "admin@example.org", adminPassword)
	if err := f.Svc.Logout(ctx, tok.RefreshToken, es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	_, err := f.Svc.Authenticate(ctx, tok.AccessToken)
	wantKind(t, err, problem.KindUnauthorized)
	_, err = f.Svc.Refresh(ctx, tok.RefreshToken, es.Invocation{})
	wantKind(t, err, problem.KindUnauthorized)
	err = f.Svc.Logout(ctx, "soc_rt_unknown", es.Invocation{})
	wantKind(t, err, problem.KindUnauthorized)
}

// No password, refresh token, API token or invitation secret reaches the store: only hashes.
func TestNoSecretInTheEvents(t *testing.T) {
	f := newFixture(t)
	secrets := []string{adminPassword, "password of eve@example.org", "the invitee's password"}
	f.user(t, "eve@example.org", access.RoleAnalyst)
	tok := f.login(t, "eve@example.org", "password of eve@example.org")
	next, err := f.Svc.Refresh(ctx, tok.RefreshToken, es.Invocation{})
	if err != nil {
		t.Fatal(err)
	}
	eve, err := f.Svc.Authenticate(ctx, next.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	pat := f.issueToken(t, eve, contracts.IssueApiToken{Name: "ci", Scopes: []contracts.PermissionV2{"imports:write"}, TTL: "30d"})
	if _, err := f.Svc.Authenticate(ctx, pat.Token); err != nil {
		t.Fatal(err)
	}
	invite, err := f.Svc.Invite(ctx, f.admin, contracts.IssueInvitation{Email: "new@example.org", Roles: []string{"auditor"}}, es.Invocation{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Svc.AcceptInvitation(ctx, contracts.AcceptInvitation{Token: invite.Token, DisplayName: "New", Password: "the invitee's password"}, es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Svc.Logout(ctx, next.RefreshToken, es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, tok.RefreshToken, next.RefreshToken, tok.AccessToken, next.AccessToken, pat.Token, invite.Token)
	evs, err := f.Store.ReadAll(ctx, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) < 10 {
		t.Fatalf("only %d events: the flow did not run", len(evs))
	}
	for _, e := range evs {
		for _, s := range secrets {
			if bytes.Contains(e.Data, []byte(s)) || bytes.Contains(e.Metadata, []byte(s)) {
				t.Fatalf("event %s %s holds the secret %q", e.Type, e.StreamID, s[:8])
			}
		}
	}
}
