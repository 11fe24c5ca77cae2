package app

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func tokenHash(tok string) string {
	s := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(s[:])
}

func TestDirectoryReportsEveryProblemAtOnce(t *testing.T) {
	_, err := NewDirectory(Directory{
		Users: []User{
			{ID: "ok", Email: "ok@example.com"},
			{ID: "bad id!", Email: "x@example.com"},
			{ID: "ok", Email: "dup@example.com"},
			{ID: "mail", Email: "Mail Person <mail@example.com>"},
			{ID: "phone", Phone: "0155 555"},
			{ID: "lead", Lead: "ghost-lead"},
			{ID: "smsless", Channels: []string{"sms"}},
			{ID: "pager", Channels: []string{"pager"}},
			{ID: "tok", WSTokenSHA256: strings.ToUpper(tokenHash("t"))},
		},
		Teams: []Team{
			{Name: "a", Members: []string{"ok", "ghost-member"}, Lead: "ghost-team-lead"},
			{Name: "a"},
			{Name: "  "},
		},
		Fallback: []string{"ghost-fallback"},
	})
	if err == nil {
		t.Fatal("invalid directory accepted")
	}
	msg := err.Error()
	for _, want := range []string{
		`users[1].id "bad id!"`,
		`users[2].id "ok": listed twice`,
		`users[3].email "Mail Person <mail@example.com>": not a bare address`,
		`users[4].phone "0155 555"`,
		`users[5].lead: unknown user "ghost-lead"`,
		`users[6].channels: sms needs a phone`,
		`users[7].channels: "pager" is not one of`,
		`users[8].ws_token_sha256: want 64 lower-case hex digits`,
		`teams[0].members: unknown user "ghost-member"`,
		`teams[0].lead: unknown user "ghost-team-lead"`,
		`teams[1].name "a": listed twice`,
		`teams[2].name: required`,
		`fallback: unknown user "ghost-fallback"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if n := len(strings.Split(msg, "\n")); n != 13 {
		t.Errorf("%d problems reported, want 13:\n%s", n, msg)
	}
}

func TestDirectoryValidAndLoad(t *testing.T) {
	d, err := NewDirectory(Directory{})
	if err != nil || d.User("anyone") != nil || len(ids(ownersOf(t.Context(), d.People(), "", ""))) != 0 {
		t.Fatalf("empty directory: %v", err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "dir.json")
	os.WriteFile(good, []byte(`{"users":[{"id":"alice","email":"alice@example.com","phone":"+14155550100","channels":["email","sms","websocket"]}],"fallback":["alice"]}`), 0o600)
	d, err = LoadDirectory(good)
	if err != nil || d.User("alice") == nil || len(ids(ownersOf(t.Context(), d.People(), "", ""))) != 1 {
		t.Fatalf("load: %v", err)
	}
	unknown := filepath.Join(dir, "unknown.json")
	os.WriteFile(unknown, []byte(`{"users":[],"groups":[]}`), 0o600)
	if _, err := LoadDirectory(unknown); err == nil || !strings.Contains(err.Error(), "groups") {
		t.Fatalf("unknown field: %v", err)
	}
	invalid := filepath.Join(dir, "invalid.json")
	os.WriteFile(invalid, []byte(`{"users":[{"id":"a","lead":"b"}]}`), 0o600)
	if _, err := LoadDirectory(invalid); err == nil || !strings.Contains(err.Error(), `unknown user "b"`) || !strings.Contains(err.Error(), "SOC_NOTIFY_DIRECTORY") {
		t.Fatalf("invalid: %v", err)
	}
	if _, err := LoadDirectory(filepath.Join(dir, "missing.json")); err == nil {
		t.Fatal("missing file accepted")
	}
	if d, err := LoadDirectory(""); err != nil || d == nil {
		t.Fatalf("no path: %v", err)
	}
}

// ids are the ids of ps, or the error alone (which no expected list matches).
func ids(ps []Person, err error) []string {
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	out := []string{}
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

func TestDirectoryOwnersAndLeads(t *testing.T) {
	d, err := NewDirectory(Directory{
		Users: []User{
			{ID: "alice", Email: "Alice@Example.com", Lead: "lee"},
			{ID: "bob", Email: "bob@example.com"},
			{ID: "carol"},
			{ID: "lee"},
			{ID: "tina"},
			{ID: "sec"},
			{ID: "sec2"},
		},
		Teams: []Team{
			{Name: "platform", Members: []string{"carol", "bob", "carol"}, Lead: "tina"},
			{Name: "empty", Lead: "lee"},
		},
		Fallback: []string{"sec", "sec2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		owner, team string
		owners      []string
		leads       []string
	}{
		{"alice", "platform", []string{"alice"}, []string{"lee"}},                        // owner by id; her lead
		{"alice@example.com", "", []string{"alice"}, []string{"lee"}},                    // owner by e-mail, case-insensitive
		{"bob", "platform", []string{"bob"}, []string{"tina"}},                           // no personal lead: team lead
		{"bob", "", []string{"bob"}, []string{"sec", "sec2"}},                            // no lead anywhere: fallback
		{"", "platform", []string{"carol", "bob"}, []string{"tina"}},                     // team members, deduplicated
		{"stranger@example.org", "platform", []string{"carol", "bob"}, []string{"tina"}}, // unknown owner: team
		{"", "empty", []string{"sec", "sec2"}, []string{"lee"}},                          // team without members: fallback
		{"", "unknown-team", []string{"sec", "sec2"}, []string{"sec", "sec2"}},
		{"", "", []string{"sec", "sec2"}, []string{"sec", "sec2"}},
	} {
		if got := ids(ownersOf(t.Context(), d.People(), c.owner, c.team)); !slices.Equal(got, c.owners) {
			t.Errorf("ownersOf(%q, %q) = %v, want %v", c.owner, c.team, got, c.owners)
		}
		if got := ids(leadsOf(t.Context(), d.People(), c.owner, c.team)); !slices.Equal(got, c.leads) {
			t.Errorf("leadsOf(%q, %q) = %v, want %v", c.owner, c.team, got, c.leads)
		}
	}
	if u := d.User("BOB@example.com"); u == nil || u.ID != "bob" {
		t.Fatalf("User by e-mail: %+v", u)
	}
}

func TestDirectoryUserByToken(t *testing.T) {
	d, err := NewDirectory(Directory{Users: []User{
		{ID: "alice", WSTokenSHA256: tokenHash("alice-secret")},
		{ID: "bob", WSTokenSHA256: tokenHash("bob-secret")},
		{ID: "carol"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for tok, want := range map[string]string{"alice-secret": "alice", "bob-secret": "bob", "": "", "nope": "", tokenHash("alice-secret"): ""} {
		u := d.UserByToken(tok)
		got := ""
		if u != nil {
			got = u.ID
		}
		if got != want {
			t.Errorf("UserByToken(%q) = %q, want %q", tok, got, want)
		}
	}
}

// personOf is the directory's user id as the planner sees it (People).
func personOf(t *testing.T, d *Directory, id string) Person {
	t.Helper()
	p, ok, err := d.People().Person(t.Context(), id)
	if err != nil || !ok {
		t.Fatalf("Person(%q): %v %v", id, ok, err)
	}
	return p
}

func TestDirectoryChannelsAndPreferences(t *testing.T) {
	d, err := NewDirectory(Directory{Users: []User{
		{ID: "mail", Email: "m@example.com"},
		{ID: "nomail"},
		{ID: "explicit", Email: "e@example.com", Phone: "+14155550100", Channels: []string{"sms"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string][]string{"mail": {email, ws}, "nomail": {ws}, "explicit": {sms}} {
		if got := personOf(t, d, id).channelsOf(); !slices.Equal(got, want) {
			t.Errorf("channels of %s = %v, want %v", id, got, want)
		}
	}
	if r := personOf(t, d, "explicit").Recipient(); r.UserID != "explicit" || r.Phone != "+14155550100" || r.Email != "e@example.com" {
		t.Fatalf("recipient %+v", r)
	}
	p, err := d.Preferences(t.Context(), "nomail")
	if err != nil || p.UserID != "nomail" {
		t.Fatalf("preferences %+v %v", p, err)
	}
}
