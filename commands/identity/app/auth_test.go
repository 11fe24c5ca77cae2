package app_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events/snapshot"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

func TestAuthenticateRefuses(t *testing.T) {
	f := newFixture(t)
	u := f.user(t, "carol@example.org", access.RoleAnalyst)
	tok := f.login(t, "carol@example.org", "password of carol@example.org")
	carol, err := f.Svc.Authenticate(ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	pat := f.issueToken(t, carol, contracts.IssueApiToken{Name: "ci", Scopes: []contracts.PermissionV2{"imports:write"}, TTL: "1h"})
	for name, cred := range map[string]string{
		"empty":         "",
		"garbage JWT":   "eyJ.not.a.token",
		"unknown token": "soc_pat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"too long":      string(make([]byte, 5000)),
	} {
		_, err := f.Svc.Authenticate(ctx, cred)
		wantKind(t, err, problem.KindUnauthorized)
		if cred != "" && len(cred) < 100 && strings.Contains(err.Error(), cred) {
			t.Errorf("%s: the refusal echoes the credential: %v", name, err)
		}
	}

	// a disabled user's access token and API token stop working
	if _, err := f.Svc.DisableUser(ctx, f.admin, u.ID, contracts.DisableUser{Reason: "left"}, es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	_, err = f.Svc.Authenticate(ctx, tok.AccessToken)
	wantKind(t, err, problem.KindUnauthorized)
	_, err = f.Svc.Authenticate(ctx, pat.Token)
	wantKind(t, err, problem.KindUnauthorized)
	// and their sessions were revoked: enabling them again does not bring the session back
	if _, err := f.Svc.EnableUser(ctx, f.admin, u.ID, contracts.EnableUser{}, es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	_, err = f.Svc.Authenticate(ctx, tok.AccessToken)
	wantKind(t, err, problem.KindUnauthorized)
	if _, err := f.Svc.Authenticate(ctx, pat.Token); err != nil {
		t.Fatalf("the token of an enabled owner: %v", err)
	}

	// an expired API token
	f.Clock.Advance(time.Hour)
	_, err = f.Svc.Authenticate(ctx, pat.Token)
	wantKind(t, err, problem.KindUnauthorized)
}

func TestRevokedSessionAndTokenAreRefused(t *testing.T) {
	f := newFixture(t)
	tok := f.login(t, "admin@example.org", adminPassword)
	if _, err := f.Svc.RevokeSession(ctx, f.admin, tok.SessionID, true, es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	_, err := f.Svc.Authenticate(ctx, tok.AccessToken)
	wantKind(t, err, problem.KindUnauthorized)

	pat := f.issueToken(t, f.admin, contracts.IssueApiToken{Name: "x", Scopes: []contracts.PermissionV2{"scans:read"}, TTL: "1d"})
	if _, err := f.Svc.RevokeToken(ctx, f.admin, pat.ID, es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	_, err = f.Svc.Authenticate(ctx, pat.Token)
	wantKind(t, err, problem.KindUnauthorized)
}

// An API token holds its scopes only as far as its owner still holds them, and sees its teams
// (or its owner's).
func TestAPITokenScopesNarrowToTheOwner(t *testing.T) {
	f := newFixture(t)
	u := f.user(t, "dan@example.org", access.RoleAnalyst, access.RoleScanner)
	team, err := f.Svc.CreateTeam(ctx, f.admin, contracts.CreateTeam{Name: "blue", Lead: u.ID}, es.Invocation{})
	if err != nil {
		t.Fatal(err)
	}
	dan := f.principal(t, u.ID)

	// scopes beyond the owner's permissions are refused at issue time
	_, err = f.Svc.IssueToken(ctx, dan, contracts.IssueApiToken{Name: "too much", Scopes: []contracts.PermissionV2{"imports:write", "users:admin"}, TTL: "1d"}, es.Invocation{})
	wantKind(t, err, problem.KindRejected)
	wantField(t, err, "/scopes/1")

	pat, err := f.Svc.IssueToken(ctx, dan, contracts.IssueApiToken{Name: "ci", Scopes: []contracts.PermissionV2{"imports:write", "findings:triage"},
		DefinitionID: "scans-definition-0190a5e4-0000-7000-8000-000000000001", TTL: "30d"}, es.Invocation{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Svc.Authenticate(ctx, pat.Token)
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != access.KindToken || p.ID != pat.ID || p.UserID != u.ID || p.Actor() != "token:"+pat.ID ||
		p.Definition != "scans-definition-0190a5e4-0000-7000-8000-000000000001" ||
		!slices.Equal(p.Perms, []access.Permission{access.FindingsTriage, access.ImportsWrite}) || !slices.Equal(p.Teams, []string{team.Name}) {
		t.Fatalf("token principal %+v", p)
	}
	if p.Can(access.TeamsAll) || p.Scope() == nil {
		t.Fatalf("the token lifts team scoping it was not given: %+v", p)
	}

	// the owner loses analyst: the token keeps imports:write (scanner) only
	if _, err := f.Svc.SetRoles(ctx, f.admin, u.ID, contracts.SetUserRoles{Roles: []string{access.RoleScanner}}, es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	p, err = f.Svc.Authenticate(ctx, pat.Token)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Perms, []access.Permission{access.ImportsWrite}) {
		t.Fatalf("perms %v, want the scopes the owner still holds", p.Perms)
	}

	// last use is recorded, not as an event
	list := f.Svc.Tokens(dan)
	if len(list) != 1 || list[0].LastUsedAt == nil || !list[0].LastUsedAt.Equal(f.Clock.Now()) {
		t.Fatalf("tokens %+v", list)
	}
}

func TestAPITokenTeamsAreTheCallersOnly(t *testing.T) {
	f := newFixture(t)
	u := f.user(t, "erin@example.org", access.RoleRemediator)
	mine, _ := f.Svc.CreateTeam(ctx, f.admin, contracts.CreateTeam{Name: "mine", Lead: u.ID}, es.Invocation{})
	other, _ := f.Svc.CreateTeam(ctx, f.admin, contracts.CreateTeam{Name: "other"}, es.Invocation{})
	erin := f.principal(t, u.ID)
	_, err := f.Svc.IssueToken(ctx, erin, contracts.IssueApiToken{Name: "t", Scopes: []contracts.PermissionV2{"findings:read"}, Teams: []string{other.ID}, TTL: "1d"}, es.Invocation{})
	wantField(t, err, "/teams/0")
	pat := f.issueToken(t, erin, contracts.IssueApiToken{Name: "t", Scopes: []contracts.PermissionV2{"findings:read"}, Teams: []string{mine.ID}, TTL: "1d"})
	// she leaves the team (a lead is named first): the token sees nothing any more
	if _, err := f.Svc.AddMember(ctx, f.admin, mine.ID, contracts.AddTeamMember{UserID: f.adminID, Lead: ptr(true)}, es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Svc.RemoveMember(ctx, f.admin, mine.ID, u.ID, es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	p, err := f.Svc.Authenticate(ctx, pat.Token)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Teams) != 0 || p.SeesTeam(mine.ID) {
		t.Fatalf("teams %v after the owner left", p.Teams)
	}
}

func ptr[T any](v T) *T { return &v }

// A restart (a new Service over the same store) keeps sessions and tokens; so does another
// node, which learns of a session or token it has not seen when it is first presented.
func TestRestartAndAnotherNodeKeepSessionsAndTokens(t *testing.T) {
	for _, snap := range []bool{false, true} {
		t.Run(map[bool]string{false: "replay", true: "snapshot"}[snap], func(t *testing.T) {
			f := newFixture(t)
			if snap {
				f.Deps.Snapshots = snapshot.Dir{Path: t.TempDir()}
				f.Svc = f.Reopen(t)
			}
			other := f.Reopen(t) // another node, loaded before the session exists
			tok := f.login(t, "admin@example.org", adminPassword)
			pat := f.issueToken(t, f.admin, contracts.IssueApiToken{Name: "ci", Scopes: []contracts.PermissionV2{"imports:write"}, TTL: "1d"})
			if p, err := other.Authenticate(ctx, tok.AccessToken); err != nil || p.ID != f.adminID {
				t.Fatalf("another node: %v %+v", err, p)
			}
			if _, err := other.Authenticate(ctx, pat.Token); err != nil {
				t.Fatalf("another node, API token: %v", err)
			}
			if snap {
				if err := f.Svc.SaveSnapshot(); err != nil {
					t.Fatal(err)
				}
				if _, err := os.Stat(filepath.Join(f.Deps.Snapshots.Path, "identity-directory.snap")); err != nil {
					t.Fatalf("no snapshot written: %v", err)
				}
			}
			restarted := f.Reopen(t)
			if _, err := restarted.Authenticate(ctx, tok.AccessToken); err != nil {
				t.Fatal(err)
			}
			if _, err := restarted.Authenticate(ctx, pat.Token); err != nil {
				t.Fatal(err)
			}
			if _, err := restarted.Refresh(ctx, tok.RefreshToken, es.Invocation{}); err != nil {
				t.Fatal(err)
			}
			// a rotated token replayed on the first node is caught there too
			_, err := f.Svc.Refresh(ctx, tok.RefreshToken, es.Invocation{})
			wantKind(t, err, problem.KindUnauthorized)
		})
	}
}
