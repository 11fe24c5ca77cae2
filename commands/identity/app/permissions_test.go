package app_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/identity/app"
	"github.com/socplatform/soc/commands/identity/domain"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
)

// The permissions added after the identity events' v1 (analytics:read, reports:*) are granted
// by custom roles and held by API tokens: the store takes the v2 events that carry them.
func TestCustomRolesAndTokensCarryTheNewPermissions(t *testing.T) {
	f := newFixture(t)
	if _, err := f.Svc.DefineRole(ctx, f.admin, contracts.DefineRole{Name: "insights",
		Permissions: []contracts.PermissionV2{contracts.PermissionV2AnalyticsRead, contracts.PermissionV2ReportsRead}}, es.Invocation{}); err != nil {
		t.Fatal(err)
	}
	u := f.user(t, "ina@example.org", "insights")
	if p := f.principal(t, u.ID); !slices.Equal(p.Perms, []access.Permission{access.AnalyticsRead, access.ReportsRead}) {
		t.Fatalf("perms %v", p.Perms)
	}

	analyst := f.principal(t, f.user(t, "al@example.org", access.RoleAnalyst).ID)
	pat := f.issueToken(t, analyst, contracts.IssueApiToken{Name: "reports", Scopes: []contracts.PermissionV2{contracts.PermissionV2ReportsWrite}, TTL: "1d"})
	p, err := f.Svc.Authenticate(ctx, pat.Token)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Perms, []access.Permission{access.ReportsWrite}) {
		t.Fatalf("token perms %v", p.Perms)
	}

	// without scopes a token holds all its owner's permissions: the admin's are all of them
	all := f.issueToken(t, f.admin, contracts.IssueApiToken{Name: "everything", TTL: "1d"})
	if p, err := f.Svc.Authenticate(ctx, all.Token); err != nil || !slices.Equal(p.Perms, access.Permissions()) {
		t.Fatalf("unscoped admin token: %v %v", p.Perms, err)
	}
}

// Roles and tokens recorded under the events' v1 still read after the upgrade (upcast to v2).
func TestV1RolesAndTokensStillRead(t *testing.T) {
	f := newFixture(t)
	appendV1 := func(stream, typ string, data any) {
		t.Helper()
		b, err := json.Marshal(data)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Store.Append(ctx, stream, events.Any, []events.Envelope{{Type: typ, SchemaVersion: 1, Data: b, Actor: "system:test"}}); err != nil {
			t.Fatalf("%s v1: %v", typ, err)
		}
	}
	appendV1(domain.RoleStreamID("legacy"), contracts.TypeRoleDefined,
		contracts.RoleDefined{Name: "legacy", Permissions: []contracts.Permission{contracts.PermissionFindingsRead, contracts.PermissionScansRead}})
	token := events.NewStreamID("identity", "token")
	appendV1(token, contracts.TypeApiTokenIssued, contracts.ApiTokenIssued{Name: "old", OwnerID: f.adminID,
		Scopes: []contracts.Permission{contracts.PermissionImportsWrite}, SecretSHA256: strings.Repeat("ab", 32), ExpiresAt: f.Clock.Now().AddDate(0, 0, 1)})

	svc := f.Reopen(t)
	roles, err := svc.Roles(f.admin)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(roles, func(r app.RoleView) bool { return r.Name == "legacy" })
	if i < 0 || !slices.Equal(roles[i].Permissions, []access.Permission{access.FindingsRead, access.ScansRead}) {
		t.Fatalf("the v1 role reads as %+v", roles)
	}
	tokens := svc.Tokens(f.admin)
	j := slices.IndexFunc(tokens, func(v app.TokenView) bool { return v.ID == token })
	if j < 0 || !slices.Equal(tokens[j].Scopes, []access.Permission{access.ImportsWrite}) {
		t.Fatalf("the v1 token reads as %+v", tokens)
	}
	// the role grants what it granted: a user holding it gets those permissions
	u := f.user(t, "leg@example.org", "legacy")
	if p := f.principal(t, u.ID); !slices.Equal(p.Perms, []access.Permission{access.FindingsRead, access.ScansRead}) {
		t.Fatalf("the v1 role grants %v", p.Perms)
	}
}
