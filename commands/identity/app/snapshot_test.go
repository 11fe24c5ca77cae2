package app_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/socplatform/soc/commands/identity/app"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/events/snapshot"
	"github.com/socplatform/soc/schemas/contracts"
)

// A restart from the directory's snapshot reads only the events after it and ends where a full
// replay does; a corrupt snapshot is ignored (the directory is rebuilt from $all).
func TestRestartFromTheSnapshotReadsOnlyTheTail(t *testing.T) {
	f := newFixture(t)
	dir := snapshot.Dir{Path: t.TempDir()}
	f.Deps.Snapshots = dir
	f.Svc = f.Reopen(t)
	f.user(t, "ann@example.org", "analyst")
	pat := f.issueToken(t, f.admin, contracts.IssueApiToken{Name: "ci", Scopes: []contracts.PermissionV2{"imports:write"}, TTL: "1d"})
	if err := f.Svc.SaveSnapshot(); err != nil {
		t.Fatal(err)
	}
	snapped := eventstest.Head(t, f.Store)
	bob := f.user(t, "bob@example.org", "remediator")
	f.login(t, "admin@example.org", adminPassword)

	load := func(store *events.Guarded, dir snapshot.Dir) string {
		deps := f.Deps
		deps.Store, deps.Snapshots = store, dir
		svc := app.New(deps, f.Config)
		if err := svc.Load(ctx); err != nil {
			t.Fatal(err)
		}
		users, err := svc.Users(f.admin, "")
		if err != nil {
			t.Fatal(err)
		}
		sessions, err := svc.Sessions(f.admin, f.adminID)
		if err != nil {
			t.Fatal(err)
		}
		bobs, err := svc.Sessions(f.admin, bob.ID)
		if err != nil {
			t.Fatal(err)
		}
		// the lookups by email and by secret go through the indexes rebuilt after a restore
		ann, _ := svc.Person("ann@example.org")
		byPAT, err := svc.Authenticate(ctx, pat.Token)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal([]any{users, svc.Tokens(f.admin), sessions, bobs, ann.ID, byPAT.ID})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	testsupport.RestartReadsOnlyTheTail(t, f.Store, dir, snapped, load)
	testsupport.CorruptSnapshotReplaysAll(t, f.Store, dir, filepath.Join(dir.Path, "identity-directory.snap"), load)
}
