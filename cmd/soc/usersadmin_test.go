package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	identityapp "github.com/socplatform/soc/commands/identity/app"
	"github.com/socplatform/soc/commands/notifications/channels"
	notifydomain "github.com/socplatform/soc/commands/notifications/domain"
)

// socRunStdin is socRun with stdin.
func socRunStdin(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&errOut)
	if err := root.ExecuteContext(context.Background()); err != nil {
		var ec exitCode
		if !errors.As(err, &ec) {
			t.Fatalf("%v: %v", args, err)
		}
		return out.String(), errOut.String(), int(ec)
	}
	return out.String(), errOut.String(), 0
}

// withIdentity runs f on the identity context of the data directory dir.
func withIdentity(t *testing.T, dir string, f func(svc *identityapp.Service)) {
	t.Helper()
	cfg := &Config{StoreConfig: StoreConfig{DataDir: dir, SQLiteSync: "NORMAL"}}
	store, b, _, err := openStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	svc, err := openIdentity(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	f(svc)
}

// `soc users create-admin` makes the first admin on the data directory, once: a node on that
// directory then signs them in with the one-time password it printed.
func TestCreateAdminOnTheDataDirectory(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := socRun(t, "users", "create-admin", "--email", "root@example.com", "--data", dir, "--sqlite-synchronous", "NORMAL")
	password := strings.TrimSpace(out)
	if code != 0 || len(password) < identityapp.MinPasswordLen || strings.Contains(errOut, password) {
		t.Fatalf("create-admin: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if _, errOut, code := socRun(t, "users", "create-admin", "--email", "other@example.com", "--data", dir); code != 1 || !strings.Contains(errOut, "users exist already") {
		t.Fatalf("a second create-admin: exit %d, %s", code, errOut)
	}
	cfg := allTargetsConfig(t)
	cfg.DataDir = dir
	addr, _ := serveInProcess(t, cfg)
	body := `{"email":"root@example.com","password":"` + password + `"}`
	if r := call(t, http.MethodPost, "http://"+addr+"/v1/auth/login", "", body); r.status != http.StatusOK || !strings.Contains(r.body, "access_token") {
		t.Fatalf("login with the one-time password: %d %s", r.status, r.body)
	}

	// --password-stdin sets the password instead of generating one; it is not printed.
	dir2 := t.TempDir()
	out, _, code = socRunStdin(t, "chosen-password-123\n", "users", "create-admin", "--email", "root@example.com", "--password-stdin", "--data", dir2)
	if code != 0 || out != "" {
		t.Fatalf("create-admin --password-stdin: exit %d, stdout %q", code, out)
	}
	withIdentity(t, dir2, func(svc *identityapp.Service) {
		if u, ok := svc.Person("root@example.com"); !ok || !slices.Contains(u.Roles, "admin") {
			t.Fatalf("the admin: %+v %v", u, ok)
		}
	})
}

// `soc users import FILE --data DIR` moves a notification directory file into identity, and
// the notifier's adapters then find the same people, teams, leads, phones and channels.
func TestUsersImportFeedsTheNotifier(t *testing.T) {
	file := filepath.Join(t.TempDir(), "directory.json")
	if err := os.WriteFile(file, []byte(`{
	  "users": [
	    {"id": "alice", "name": "Alice", "email": "alice@example.com", "phone": "+15551230001", "channels": ["email", "sms"]},
	    {"id": "bob", "email": "bob@example.com", "time_zone": "Europe/Berlin"},
	    {"id": "carol", "name": "Carol without email", "channels": ["websocket"]}
	  ],
	  "teams": [{"name": "platform", "members": ["alice", "bob"], "lead": "alice"}]
	}`), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out, errOut, code := socRun(t, "users", "import", file, "--data", dir, "--role", "remediator")
	if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(errOut, "skipped carol") {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}
	// Run again, it creates nothing.
	if out, errOut, code := socRun(t, "users", "import", file, "--data", dir); code != 0 || out != "" || strings.Count(errOut, "exists already") != 2 {
		t.Fatalf("import again: exit %d\n%s\n%s", code, out, errOut)
	}
	withIdentity(t, dir, func(svc *identityapp.Service) {
		ctx := context.Background()
		people := identityPeople{svc}
		alice, ok, err := people.Person(ctx, "alice@example.com")
		if err != nil || !ok || alice.Phone != "+15551230001" || !slices.Equal(alice.Channels, []string{channels.ChannelEmail, channels.ChannelSMS}) {
			t.Fatalf("alice: %+v %v %v", alice, ok, err)
		}
		bob, ok, _ := people.Person(ctx, "bob@example.com")
		if !ok || bob.Lead != alice.ID || bob.TimeZone != "Europe/Berlin" || bob.Channels != nil {
			t.Fatalf("bob (led by alice's team): %+v", bob)
		}
		if u, _ := svc.Person(bob.ID); !slices.Equal(u.Roles, []string{"remediator"}) {
			t.Fatalf("bob's roles: %v", u.Roles)
		}
		team, ok, _ := people.Team(ctx, "platform")
		slices.Sort(team.Members)
		want := []string{alice.ID, bob.ID}
		slices.Sort(want)
		if !ok || team.Lead != alice.ID || !slices.Equal(team.Members, want) {
			t.Fatalf("team: %+v", team)
		}
		if fb, err := people.Fallback(ctx); err != nil || len(fb) != 0 {
			t.Fatalf("fallback without admins: %v %v", fb, err)
		}
		prefs, err := identityPreferences{svc}.Preferences(ctx, alice.ID)
		if err != nil || !slices.Equal(prefs.Rules, []notifydomain.Rule{{Channel: channels.ChannelEmail}, {Channel: channels.ChannelSMS}}) {
			t.Fatalf("alice's preferences: %+v %v", prefs, err)
		}
		if prefs, _ := (identityPreferences{svc}).Preferences(ctx, bob.ID); prefs.Rules != nil {
			t.Fatalf("bob set none: %+v", prefs)
		}
	})
}
