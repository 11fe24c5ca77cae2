package app_test

import (
	"slices"
	"testing"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// The platform itself (soc token create --data) issues API tokens to a named user, with that
// user's permissions; it has no token of its own to ask for.
func TestSystemIssuesTokensToANamedUserOnly(t *testing.T) {
	f := newFixture(t)
	u := f.user(t, "frank@example.org", access.RoleAnalyst)
	cli := access.System("cli")

	_, err := f.Svc.IssueToken(ctx, cli, contracts.IssueApiToken{Name: "own", TTL: "1d"}, es.Invocation{})
	wantKind(t, err, problem.KindForbidden)

	pat := f.issueToken(t, cli, contracts.IssueApiToken{Name: "ci", UserID: u.ID, TTL: "1d"})
	p, err := f.Svc.Authenticate(ctx, pat.Token)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := access.RolePermissions(access.RoleAnalyst)
	got := slices.Clone(p.Perms)
	slices.Sort(got)
	slices.Sort(want)
	if p.UserID != u.ID || !slices.Equal(got, want) {
		t.Fatalf("the token acts for %s with %v, want frank with an analyst's permissions", p.UserID, p.Perms)
	}

	// a system principal without users:admin issues nothing to others
	_, err = f.Svc.IssueToken(ctx, access.Principal{Kind: access.KindSystem, ID: "feeds"}, contracts.IssueApiToken{Name: "x", UserID: u.ID, TTL: "1d"}, es.Invocation{})
	wantKind(t, err, problem.KindForbidden)
}
