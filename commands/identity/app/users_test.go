package app_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/identity/app"
	"github.com/socplatform/soc/commands/identity/identitytest"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

func TestEmailsAreUniqueCaseInsensitively(t *testing.T) {
	f := newFixture(t)
	f.user(t, "fay@example.org")
	_, err := f.Svc.CreateUser(ctx, f.admin, contracts.CreateUser{Email: "FAY@Example.org", DisplayName: "Fay again"}, es.Invocation{})
	wantKind(t, err, problem.KindConflict)
	wantField(t, err, "/email")
	_, err = f.Svc.Invite(ctx, f.admin, contracts.IssueInvitation{Email: "Fay@example.org", Roles: []string{"analyst"}}, es.Invocation{})
	wantKind(t, err, problem.KindConflict)
}

func TestCreateUserChecksRolesTeamsAndThePermission(t *testing.T) {
	f := newFixture(t)
	_, err := f.Svc.CreateUser(ctx, f.admin, contracts.CreateUser{Email: "g@example.org", DisplayName: "G", Roles: []string{"analyst", "wizard"}}, es.Invocation{})
	wantKind(t, err, problem.KindRejected)
	wantField(t, err, "/roles/1")
	_, err = f.Svc.CreateUser(ctx, f.admin, contracts.CreateUser{Email: "g@example.org", DisplayName: "G", Teams: []string{"identity-team-0190a5e4-0000-7000-8000-000000000001"}}, es.Invocation{})
	wantField(t, err, "/teams/0")
	analyst := f.principal(t, f.user(t, "h@example.org", access.RoleAnalyst).ID)
	_, err = f.Svc.CreateUser(ctx, analyst, contracts.CreateUser{Email: "g@example.org", DisplayName: "G"}, es.Invocation{})
	wantKind(t, err, problem.KindForbidden)

	team, err := f.Svc.CreateTeam(ctx, f.admin, contracts.CreateTeam{Name: "red"}, es.Invocation{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.Svc.CreateUser(ctx, f.admin, contracts.CreateUser{Email: "g@example.org", DisplayName: "G", Roles: []string{"remediator"}, Teams: []string{team.ID}}, es.Invocation{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(v.Teams, []string{team.ID}) || !slices.Equal(v.Roles, []string{"remediator"}) || v.Status != "active" {
		t.Fatalf("user %+v", v)
	}
	evs := testsupport.StreamTypes(t, f.Store, v.ID)
	if !slices.Equal(evs, []string{"UserRegistered", "RoleGranted"}) {
		t.Fatalf("events %v", evs)
	}
}

// The last active admin can neither be disabled nor lose admin: nobody could administer the
// platform any more.
func TestTheLastActiveAdminStays(t *testing.T) {
	f := newFixture(t)
	_, err := f.Svc.DisableUser(ctx, f.admin, f.adminID, contracts.DisableUser{}, es.Invocation{})
	wantKind(t, err, problem.KindRejected)
	_, err = f.Svc.SetRoles(ctx, f.admin, f.adminID, contracts.SetUserRoles{Roles: []string{"analyst"}}, es.Invocation{})
	wantKind(t, err, problem.KindRejected)
	wantField(t, err, "/roles")
	second := f.user(t, "second@example.org", access.RoleAdmin)
	if _, err := f.Svc.SetRoles(ctx, f.admin, f.adminID, contracts.SetUserRoles{Roles: []string{"analyst"}}, es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	_, err = f.Svc.DisableUser(ctx, f.principal(t, second.ID), second.ID, contracts.DisableUser{}, es.Invocation{})
	wantKind(t, err, problem.KindRejected)
}

func TestTeamsLeadIsAMember(t *testing.T) {
	f := newFixture(t)
	u := f.user(t, "lead@example.org", access.RoleAnalyst)
	team, err := f.Svc.CreateTeam(ctx, f.admin, contracts.CreateTeam{Name: "ops", Lead: u.ID}, es.Invocation{})
	if err != nil {
		t.Fatal(err)
	}
	if team.Lead != u.ID || !slices.Equal(team.Members, []string{u.ID}) {
		t.Fatalf("team %+v", team)
	}
	_, err = f.Svc.RemoveMember(ctx, f.admin, team.ID, u.ID, es.Invocation{})
	wantKind(t, err, problem.KindRejected)
	_, err = f.Svc.CreateTeam(ctx, f.admin, contracts.CreateTeam{Name: "x", Lead: "identity-user-0190a5e4-0000-7000-8000-000000000001"}, es.Invocation{})
	wantField(t, err, "/lead")
	_, err = f.Svc.AddMember(ctx, f.admin, "identity-team-0190a5e4-0000-7000-8000-000000000009", contracts.AddTeamMember{UserID: u.ID}, es.Invocation{})
	wantKind(t, err, problem.KindNotFound)
	teams, err := f.Svc.Teams(f.admin)
	if err != nil || len(teams) != 1 || teams[0].Name != "ops" {
		t.Fatalf("teams %+v %v", teams, err)
	}
}

func TestCustomRolesGrantTheirPermissions(t *testing.T) {
	f := newFixture(t)
	_, err := f.Svc.DefineRole(ctx, f.admin, contracts.DefineRole{Name: "analyst", Permissions: []contracts.PermissionV2{"findings:read"}}, es.Invocation{})
	wantKind(t, err, problem.KindRejected)
	if _, err := f.Svc.DefineRole(ctx, f.admin, contracts.DefineRole{Name: "triager", Permissions: []contracts.PermissionV2{"findings:triage", "findings:read"}}, es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	u := f.user(t, "tri@example.org", "triager")
	p := f.principal(t, u.ID)
	if !slices.Equal(p.Perms, []access.Permission{access.FindingsRead, access.FindingsTriage}) {
		t.Fatalf("perms %v", p.Perms)
	}
	// redefining applies at once
	if _, err := f.Svc.DefineRole(ctx, f.admin, contracts.DefineRole{Name: "triager", Permissions: []contracts.PermissionV2{"findings:read"}}, es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	if p := f.principal(t, u.ID); p.Can(access.FindingsTriage) {
		t.Fatalf("perms %v after the role was narrowed", p.Perms)
	}
	roles, _ := f.Svc.Roles(f.admin)
	if len(roles) != len(access.BuiltinRoles())+1 || roles[len(roles)-1].Name != "triager" {
		t.Fatalf("roles %+v", roles)
	}
}

func TestInvitationIsSingleUseAndExpires(t *testing.T) {
	f := newFixture(t)
	team, _ := f.Svc.CreateTeam(ctx, f.admin, contracts.CreateTeam{Name: "blue"}, es.Invocation{})
	inv, err := f.Svc.Invite(ctx, f.admin, contracts.IssueInvitation{Email: "Ivy@example.org", Roles: []string{"remediator"}, Teams: []string{team.ID}, TTL: "2d"}, es.Invocation{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := f.Svc.AcceptInvitation(ctx, contracts.AcceptInvitation{Token: inv.Token, DisplayName: "Ivy", Password: "ivy's long password"}, es.Invocation{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Svc.Authenticate(ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "ivy@example.org" || !slices.Equal(p.Roles, []string{"remediator"}) || !slices.Equal(p.Teams, []string{team.Name}) {
		t.Fatalf("principal %+v", p)
	}
	_, err = f.Svc.AcceptInvitation(ctx, contracts.AcceptInvitation{Token: inv.Token, DisplayName: "Ivy 2", Password: "another long password"}, es.Invocation{})
	wantKind(t, err, problem.KindUnauthorized)

	late, _ := f.Svc.Invite(ctx, f.admin, contracts.IssueInvitation{Email: "late@example.org", Roles: []string{"auditor"}, TTL: "1h"}, es.Invocation{})
	f.Clock.Advance(time.Hour)
	_, err = f.Svc.AcceptInvitation(ctx, contracts.AcceptInvitation{Token: late.Token, DisplayName: "Late", Password: "a long enough password"}, es.Invocation{})
	wantKind(t, err, problem.KindUnauthorized)
}

func TestBootstrapAdminOnlyOnAnEmptyStore(t *testing.T) {
	store := testsupport.SQLiteStore(t)
	env := identitytest.Open(t, store, nil)
	_, err := env.Svc.Login(ctx, "admin@example.org", "", "192.0.2.1", es.Invocation{})
	wantKind(t, err, problem.KindUnauthorized) // nothing is open before the bootstrap
	_, _, err = env.Svc.BootstrapAdmin(ctx, "root@example.org", "short")
	wantKind(t, err, problem.KindInvalid)
	id, generated, err := env.Svc.BootstrapAdmin(ctx, "root@example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(generated) < 26 {
		t.Fatalf("generated password %d characters", len(generated))
	}
	if _, err := env.Svc.Login(ctx, "root@example.org", generated, "192.0.2.1", es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	evs, _ := store.ReadStream(ctx, id, events.ReadStreamOptions{})
	if evs[0].Actor != "system:bootstrap" {
		t.Fatalf("actor %q", evs[0].Actor)
	}
	_, _, err = env.Svc.BootstrapAdmin(ctx, "other@example.org", "a long enough password")
	if !errors.Is(err, app.ErrUsersExist) {
		t.Fatalf("second bootstrap: %v", err)
	}
}

func TestBootstrapFromConfig(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("from the file, long enough\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := app.DefaultConfig()
	cfg.BootstrapAdminEmail, cfg.BootstrapAdminPasswordFile = "boot@example.org", pwFile
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	env := identitytest.Open(t, testsupport.SQLiteStore(t), &cfg)
	for range 2 { // a second start with the settings still there does nothing
		if err := env.Svc.BootstrapFromConfig(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.Svc.Login(ctx, "boot@example.org", "from the file, long enough", "192.0.2.1", es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	users, _ := env.Svc.Users(access.System("test"), "")
	if len(users) != 1 {
		t.Fatalf("%d users", len(users))
	}
}

func TestConfigValidate(t *testing.T) {
	c := app.DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.LockoutThreshold, c.LockoutMax, c.BootstrapAdminEmail = 0, time.Millisecond, "x@example.org"
	err := c.Validate()
	for _, flag := range []string{"--lockout-threshold", "--lockout-max", "--bootstrap-admin-password-file"} {
		if err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("Validate: %v, want it to name %s", err, flag)
		}
	}
}

func TestSessionsAreListedAndRevokedByTheUserAndByAdmins(t *testing.T) {
	f := newFixture(t)
	u := f.user(t, "sam@example.org", access.RoleAnalyst)
	a := f.login(t, "sam@example.org", "password of sam@example.org")
	b := f.login(t, "sam@example.org", "password of sam@example.org")
	sam, _ := f.Svc.Authenticate(ctx, a.AccessToken)
	list, err := f.Svc.Sessions(sam, u.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("sessions %+v %v", list, err)
	}
	// another user's sessions: 403 to list, 404 to revoke
	other := f.principal(t, f.user(t, "other@example.org", access.RoleAnalyst).ID)
	_, err = f.Svc.Sessions(other, u.ID)
	wantKind(t, err, problem.KindForbidden)
	_, err = f.Svc.RevokeSession(ctx, other, a.SessionID, false, es.Invocation{})
	wantKind(t, err, problem.KindNotFound)
	// an admin under /v1/me cannot reach another's session; under /v1/sessions it can
	_, err = f.Svc.RevokeSession(ctx, f.admin, a.SessionID, true, es.Invocation{})
	wantKind(t, err, problem.KindNotFound)
	if _, err := f.Svc.RevokeSession(ctx, f.admin, a.SessionID, false, es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Svc.RevokeSession(ctx, sam, b.SessionID, true, es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	list, _ = f.Svc.Sessions(f.admin, u.ID)
	for _, s := range list {
		if s.Live || (s.Revoked != "admin" && s.Revoked != "user") {
			t.Fatalf("session %+v", s)
		}
	}
}

func TestSSOProvisionsThenSyncs(t *testing.T) {
	f := newFixture(t)
	red, _ := f.Svc.CreateTeam(ctx, f.admin, contracts.CreateTeam{Name: "red"}, es.Invocation{})
	blue, _ := f.Svc.CreateTeam(ctx, f.admin, contracts.CreateTeam{Name: "blue"}, es.Invocation{})
	id := app.Identity{Issuer: "https://idp.example.org/realms/soc", Subject: "abc-123", Email: "Olga@Example.org", Name: "Olga",
		Groups: []string{"soc-remediators", "team-red"}, Roles: []string{"remediator", "no-such-role"}, Teams: []string{red.ID}}
	p, err := f.Svc.ProvisionSSO(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != access.KindUser || p.Name != "olga@example.org" || !slices.Equal(p.Roles, []string{"remediator"}) || !slices.Equal(p.Teams, []string{"red"}) {
		t.Fatalf("first login %+v (a principal names its teams by name)", p)
	}
	// the next login: the groups map elsewhere now
	id.Roles, id.Teams = []string{"analyst"}, []string{blue.ID}
	p2, err := f.Svc.ProvisionSSO(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if p2.ID != p.ID || !slices.Equal(p2.Roles, []string{"analyst"}) || !slices.Equal(p2.Teams, []string{"blue"}) {
		t.Fatalf("second login %+v", p2)
	}
	tok, err := f.Svc.StartSession(ctx, p2, contracts.SessionSourceSso)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Svc.Authenticate(ctx, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	// an SSO user has no password to log in with
	_, err = f.Svc.Login(ctx, "olga@example.org", "", "192.0.2.1", es.Invocation{})
	wantKind(t, err, problem.KindUnauthorized)
	// disabled: refused
	if _, err := f.Svc.DisableUser(ctx, f.admin, p.ID, contracts.DisableUser{}, es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	_, err = f.Svc.ProvisionSSO(ctx, id)
	wantKind(t, err, problem.KindUnauthorized)
}

func TestPreferencesAndWhoAmI(t *testing.T) {
	f := newFixture(t)
	if _, err := f.Svc.SetPreferences(ctx, f.admin, contracts.SetNotificationPreferences{Channels: []contracts.PreferenceChannel{"email", "sms"},
		QuietHours: &contracts.SetNotificationPreferencesQuietHours{Start: "22:00", End: "07:00"}, Phone: "+33 1 23 45 67 89"}, es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	me := f.Svc.WhoAmI(f.admin)
	if me.User == nil || me.Preferences == nil || len(me.Preferences.Channels) != 2 || me.Preferences.QuietHours.Start != "22:00" || me.SessionID == "" {
		t.Fatalf("me %+v", me)
	}
}

func TestCreateUserWithoutAPasswordAnswersAOneTimePassword(t *testing.T) {
	f := newFixture(t)
	v, err := f.Svc.CreateUser(ctx, f.admin, contracts.CreateUser{Email: "Otp@example.org"}, es.Invocation{})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.OneTimePassword) < 26 || v.DisplayName != "otp@example.org" {
		t.Fatalf("created %+v", v)
	}
	f.login(t, "otp@example.org", v.OneTimePassword)
	with, err := f.Svc.CreateUser(ctx, f.admin, contracts.CreateUser{Email: "chosen@example.org", Password: "a chosen long password"}, es.Invocation{})
	if err != nil || with.OneTimePassword != "" {
		t.Fatalf("a chosen password is not answered back: %+v %v", with, err)
	}
	users, _ := f.Svc.Users(f.admin, "OTP@example.org")
	if len(users) != 1 || users[0].ID != v.ID {
		t.Fatalf("by email: %+v", users)
	}
}

// Without scopes a token gets its owner's permissions as of now; an admin may issue one to
// another user, within that user's permissions; nobody else may.
func TestTokenDefaultsAndIssuingForAnotherUser(t *testing.T) {
	f := newFixture(t)
	u := f.user(t, "svc@example.org", access.RoleScanner)
	pat := f.issueToken(t, f.admin, contracts.IssueApiToken{Name: "for svc", UserID: u.ID, TTL: "2160h0m0s"})
	if want := identitytest.Start.Add(2160 * time.Hour); !pat.ExpiresAt.Equal(want) {
		t.Fatalf("expires %v, want %v", pat.ExpiresAt, want)
	}
	p, err := f.Svc.Authenticate(ctx, pat.Token)
	if err != nil {
		t.Fatal(err)
	}
	if p.UserID != u.ID || !slices.Equal(p.Perms, []access.Permission{access.ImportsWrite}) {
		t.Fatalf("principal %+v", p)
	}
	_, err = f.Svc.IssueToken(ctx, f.admin, contracts.IssueApiToken{Name: "x", UserID: u.ID, Scopes: []contracts.PermissionV2{"users:admin"}, TTL: "1d"}, es.Invocation{})
	wantField(t, err, "/scopes/0")
	svc := f.principal(t, u.ID)
	_, err = f.Svc.IssueToken(ctx, svc, contracts.IssueApiToken{Name: "x", UserID: f.adminID, TTL: "1d"}, es.Invocation{})
	wantKind(t, err, problem.KindForbidden)
	_, err = f.Svc.IssueToken(ctx, f.admin, contracts.IssueApiToken{Name: "x", TTL: "0s"}, es.Invocation{})
	wantField(t, err, "/ttl")
}

func TestLookupsForOtherContexts(t *testing.T) {
	f := newFixture(t)
	u := f.user(t, "Pat@example.org", access.RoleRemediator)
	first, _ := f.Svc.CreateTeam(ctx, f.admin, contracts.CreateTeam{Name: "ops", Lead: u.ID}, es.Invocation{})
	// a team's name is its own: assets and principals name teams by name
	_, err := f.Svc.CreateTeam(ctx, f.admin, contracts.CreateTeam{Name: "OPS"}, es.Invocation{})
	wantKind(t, err, problem.KindConflict)
	wantField(t, err, "/name")
	if p, ok := f.Svc.Person("PAT@example.org"); !ok || p.ID != u.ID || !slices.Equal(p.Teams, []string{first.ID}) {
		t.Fatalf("by email %+v %v", p, ok)
	}
	if p, ok := f.Svc.Person(u.ID); !ok || p.Email != "pat@example.org" {
		t.Fatalf("by id %+v %v", p, ok)
	}
	if _, ok := f.Svc.Person("nobody@example.org"); ok {
		t.Fatal("found nobody")
	}
	if team, ok := f.Svc.TeamNamed("ops"); !ok || team.ID != first.ID || team.Lead != u.ID {
		t.Fatalf("team %+v %v", team, ok)
	}
	if _, ok := f.Svc.PreferencesOf(u.ID); ok {
		t.Fatal("preferences before any were set")
	}
	pat := f.principal(t, u.ID)
	if _, err := f.Svc.SetPreferences(ctx, pat, contracts.SetNotificationPreferences{Channels: []contracts.PreferenceChannel{"sms"}, Phone: "+4930123456"}, es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	if p, ok := f.Svc.PreferencesOf(u.ID); !ok || p.Phone != "+4930123456" {
		t.Fatalf("preferences %+v %v", p, ok)
	}
}

// A group mapping names teams (what an operator writes): a name resolves to the team's id.
func TestSSOTeamsByName(t *testing.T) {
	f := newFixture(t)
	red, _ := f.Svc.CreateTeam(ctx, f.admin, contracts.CreateTeam{Name: "red"}, es.Invocation{})
	id := app.Identity{Issuer: "https://idp.example.org/realms/soc", Subject: "def-456", Email: "pia@example.org",
		Roles: []string{"remediator"}, Teams: []string{"red", "no-such-team"}}
	p, err := f.Svc.ProvisionSSO(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Teams, []string{"red"}) {
		t.Fatalf("teams %v, want [red] (%s)", p.Teams, red.ID)
	}
}

// Teams are named by id or by name wherever a request lists them; a principal carries names,
// which is what an asset's owner_team holds.
func TestTeamsByIDOrName(t *testing.T) {
	f := newFixture(t)
	red, _ := f.Svc.CreateTeam(ctx, f.admin, contracts.CreateTeam{Name: "red"}, es.Invocation{})
	blue, _ := f.Svc.CreateTeam(ctx, f.admin, contracts.CreateTeam{Name: "blue"}, es.Invocation{})
	created, err := f.Svc.CreateUser(ctx, f.admin, contracts.CreateUser{Email: "rex@example.org", Roles: []string{"remediator"},
		Teams: []string{"red", blue.ID}}, es.Invocation{})
	if err != nil {
		t.Fatal(err)
	}
	p := f.principal(t, created.ID)
	if !slices.Equal(p.Teams, []string{"blue", "red"}) || !p.SeesTeam("red") || p.SeesTeam(red.ID) {
		t.Fatalf("principal teams %v", p.Teams)
	}
	_, err = f.Svc.CreateUser(ctx, f.admin, contracts.CreateUser{Email: "rox@example.org", Teams: []string{"green"}}, es.Invocation{})
	wantField(t, err, "/teams/0")
	tok := f.issueToken(t, p, contracts.IssueApiToken{Name: "ci", Teams: []string{"red"}, TTL: "1d"})
	tp, err := f.Svc.Authenticate(ctx, tok.Token)
	if err != nil || !slices.Equal(tp.Teams, []string{"red"}) {
		t.Fatalf("token teams %v, %v", tp.Teams, err)
	}
	if _, err := f.Svc.AddMember(ctx, f.admin, "blue", contracts.AddTeamMember{UserID: created.ID}, es.Invocation{}); err != nil {
		t.Fatalf("adding to a team named by name: %v", err)
	}
}
