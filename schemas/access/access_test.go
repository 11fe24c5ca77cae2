package access

import (
	"context"
	"testing"
)

func TestRolesGrantOnlyKnownPermissions(t *testing.T) {
	for _, r := range BuiltinRoles() {
		perms, ok := RolePermissions(r)
		if !ok || len(perms) == 0 {
			t.Fatalf("role %s has no permissions", r)
		}
		for _, p := range perms {
			if !Known(p) {
				t.Errorf("role %s grants unknown %q", r, p)
			}
		}
	}
	if _, ok := RolePermissions("root"); ok {
		t.Fatal("an unknown role resolved")
	}
}

func TestScoping(t *testing.T) {
	perms, _ := RolePermissions(RoleRemediator)
	rem := Principal{Kind: KindUser, ID: "u1", Perms: perms, Teams: []string{"platform"}}
	if !rem.SeesTeam("platform") || rem.SeesTeam("payments") || rem.SeesTeam("") {
		t.Fatalf("remediator scoping wrong: %v %v %v", rem.SeesTeam("platform"), rem.SeesTeam("payments"), rem.SeesTeam(""))
	}
	if s := rem.Scope(); len(s) != 1 || s[0] != "platform" {
		t.Fatalf("scope %v", s)
	}
	if s := (Principal{Perms: perms}).Scope(); s == nil || len(s) != 0 {
		t.Fatalf("a teamless remediator must see nothing, scope %v", s)
	}
	an, _ := RolePermissions(RoleAnalyst)
	if p := (Principal{Perms: an}); !p.SeesTeam("anything") || !p.SeesTeam("") || p.Scope() != nil {
		t.Fatal("analyst must see every team")
	}
	if rem.Can(AuditRead) || rem.Can(FindingsAcceptRisk) {
		t.Fatal("remediator holds what it must not")
	}
}

func TestActorAndContext(t *testing.T) {
	if a := System("sla-escalation").Actor(); a != "system:sla-escalation" {
		t.Fatal(a)
	}
	if a := (Principal{}).Actor(); a != "anonymous" {
		t.Fatal(a)
	}
	ctx := With(context.Background(), Principal{Kind: KindToken, ID: "t1"})
	p, ok := From(ctx)
	if !ok || p.Actor() != "token:t1" {
		t.Fatalf("%v %v", p, ok)
	}
	if _, ok := From(context.Background()); ok {
		t.Fatal("principal from empty context")
	}
}
