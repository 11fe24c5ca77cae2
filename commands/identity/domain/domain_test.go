package domain_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/identity/domain"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// apply folds changes into agg as if they had been appended to stream id.
func apply(t *testing.T, agg es.Aggregate, id string, changes []es.Change) {
	t.Helper()
	for i, c := range changes {
		b, err := json.Marshal(c.Data)
		if err != nil {
			t.Fatal(err)
		}
		if err := agg.Apply(&events.Envelope{StreamID: id, Version: int64(i + 1), Type: c.Type, Data: b}); err != nil {
			t.Fatal(err)
		}
	}
}

func kind(err error) problem.Kind {
	var ke problem.KindError
	if errors.As(err, &ke) {
		return ke.Kind()
	}
	return 0
}

func types(changes []es.Change) []string {
	var out []string
	for _, c := range changes {
		out = append(out, c.Type)
	}
	return out
}

const (
	userID = "identity-user-0190a5e4-0000-7000-8000-000000000001"
	teamID = "identity-team-0190a5e4-0000-7000-8000-000000000002"
)

// The command schemas' permission enum is schemas/access's vocabulary, no more, no less.
func TestPermissionVocabularyIsAccesss(t *testing.T) {
	var want []string
	for _, p := range access.Permissions() {
		want = append(want, string(p))
	}
	if got := contracts.PermissionV2Values(); !slices.Equal(got, want) {
		t.Fatalf("schemas' permissions %v, access's %v: version the identity events that list permissions (see schemas/access's TestSchemasListEveryPermission) and update the commands", got, want)
	}
}

func TestUserRegistrationNormalisesTheEmailAndGrantsRoles(t *testing.T) {
	var u domain.User
	changes, err := u.Register(domain.Registration{Email: " Ann@Example.ORG ", DisplayName: "Ann", Source: contracts.UserSourcePassword, Roles: []string{"analyst", "admin", "analyst"}})
	if err != nil {
		t.Fatal(err)
	}
	apply(t, &u, userID, changes)
	if u.Email != "ann@example.org" || !slices.Equal(u.Roles, []string{"admin", "analyst"}) || !u.Active() {
		t.Fatalf("user %+v", u)
	}
	if _, err := u.Register(domain.Registration{Email: "x@example.org", DisplayName: "x"}); kind(err) != problem.KindConflict {
		t.Fatalf("second registration: %v", err)
	}
	var sso domain.User
	_, err = sso.Register(domain.Registration{Email: "s@example.org", DisplayName: "S", Source: contracts.UserSourceSso})
	if kind(err) != problem.KindRejected {
		t.Fatalf("an SSO user without subject: %v", err)
	}
}

func TestLastAdminRules(t *testing.T) {
	var u domain.User
	c, _ := u.Register(domain.Registration{Email: "a@example.org", DisplayName: "A", Roles: []string{"admin"}})
	apply(t, &u, userID, c)
	if _, err := u.Disable("", true); kind(err) != problem.KindRejected {
		t.Fatalf("disabling the last admin: %v", err)
	}
	if _, err := u.SetRoles([]string{"analyst"}, true); kind(err) != problem.KindRejected {
		t.Fatalf("the last admin losing admin: %v", err)
	}
	changes, err := u.SetRoles([]string{"analyst"}, false)
	if err != nil || !slices.Equal(types(changes), []string{"RoleRevoked", "RoleGranted"}) {
		t.Fatalf("SetRoles: %v %v", types(changes), err)
	}
	if changes, _ := u.SetRoles([]string{"admin"}, false); len(changes) != 0 {
		t.Fatalf("no change, yet %v", types(changes))
	}
	changes, err = u.Disable("left", false)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, &u, userID, append(c, changes...))
	if _, err := u.Disable("", false); kind(err) != problem.KindConflict {
		t.Fatalf("disabling twice: %v", err)
	}
}

func TestTeamLeadIsAMember(t *testing.T) {
	var tm domain.Team
	changes, err := tm.Create("blue", userID)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, &tm, teamID, changes)
	if tm.Lead != userID || !tm.Has(userID) {
		t.Fatalf("team %+v", tm)
	}
	if _, err := tm.ChangeLead("identity-user-0190a5e4-0000-7000-8000-000000000009"); kind(err) != problem.KindRejected {
		t.Fatalf("a non-member as lead: %v", err)
	}
	if _, err := tm.RemoveMember(userID); kind(err) != problem.KindRejected {
		t.Fatalf("removing the lead: %v", err)
	}
	if _, err := tm.RemoveMember("identity-user-0190a5e4-0000-7000-8000-000000000009"); kind(err) != problem.KindConflict {
		t.Fatalf("removing a non-member: %v", err)
	}
}

func TestRoleDefinition(t *testing.T) {
	var r domain.Role
	if _, err := r.Define("admin", []access.Permission{access.FindingsRead}, ""); kind(err) != problem.KindRejected {
		t.Fatalf("redefining a built-in role: %v", err)
	}
	_, err := r.Define("x", []access.Permission{access.FindingsRead, "root:all"}, "")
	var fe problem.FieldError
	if !errors.As(err, &fe) || fe.Field() != "/permissions/1" {
		t.Fatalf("an unknown permission: %v", err)
	}
	if domain.RoleStreamID("triager") != domain.RoleStreamID("triager") || !events.ValidStreamID(domain.RoleStreamID("triager")) {
		t.Fatal("a role's stream is derived from its name")
	}
}

func TestTokenScopesAreTheOwners(t *testing.T) {
	var tk domain.APIToken
	in := domain.TokenIssue{Name: "ci", Owner: userID, OwnerPerms: []access.Permission{access.ImportsWrite}, Scopes: []access.Permission{access.ImportsWrite, access.UsersAdmin},
		SecretHash: "00", ExpiresAt: time.Now()}
	if _, err := tk.Issue(in); kind(err) != problem.KindRejected {
		t.Fatalf("a scope the owner lacks: %v", err)
	}
}

func TestSessionRefreshRotatesAndDetectsReuse(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	const id = "identity-session-0190a5e4-0000-7000-8000-000000000003"
	var s domain.Session
	all, _ := s.Start(userID, contracts.SessionSourcePassword, "h1", now.Add(time.Hour))
	apply(t, &s, id, all)
	c, err := s.Refresh("h1", "h2", now)
	if err != nil {
		t.Fatal(err)
	}
	all = append(all, c...)
	apply(t, &s, id, all)
	if s.RefreshHash != "h2" || !slices.Equal(s.Rotated, []string{"h1"}) {
		t.Fatalf("session %+v", s)
	}
	c, err = s.Refresh("h1", "h3", now)
	if err == nil || len(c) != 1 || c[0].Type != contracts.TypeSessionRevoked {
		t.Fatalf("reuse: %v %v", types(c), err)
	}
	if _, err := s.Refresh("zz", "h3", now); err == nil {
		t.Fatal("an unknown hash refreshed")
	}
	if _, err := s.Refresh("h2", "h3", now.Add(time.Hour)); err == nil {
		t.Fatal("an expired session refreshed")
	}
}

func TestInvitationSingleUseAndExpiry(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	const id = "identity-invitation-0190a5e4-0000-7000-8000-000000000004"
	var i domain.Invitation
	if _, err := i.Issue("x@example.org", "h", nil, nil, now); kind(err) != problem.KindRejected {
		t.Fatalf("no roles: %v", err)
	}
	all, _ := i.Issue("X@example.org", "h", []string{"auditor"}, nil, now.Add(time.Hour))
	apply(t, &i, id, all)
	if _, err := i.Accept(userID, now.Add(time.Hour)); kind(err) != problem.KindConflict {
		t.Fatalf("accepting when expired: %v", err)
	}
	c, err := i.Accept(userID, now)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, &i, id, append(all, c...))
	if _, err := i.Accept(userID, now); kind(err) != problem.KindConflict {
		t.Fatalf("accepting twice: %v", err)
	}
}
