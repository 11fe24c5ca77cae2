package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// jsonOut decodes a command's -o json output.
func jsonOut[T any](t *testing.T, out string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	return v
}

// socOK runs soc and fails the test unless it exits 0.
func socOK(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := socRun(t, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d\n%s\n%s", args, code, out, errOut)
	}
	return out
}

// The identity commands work directly on a fresh data directory (first set-up, recovery), as
// system:cli; a node started on it then has their users, teams and tokens, and answers the
// same commands over --server with the same output.
func TestIdentityCommandsOnTheDataDirectory(t *testing.T) {
	t.Setenv("SOC_CONFIG_DIR", t.TempDir()) // no stored credential of the developer's
	t.Setenv("SOC_TOKEN", "")
	dir := t.TempDir()
	data := []string{"--data", dir, "--sqlite-synchronous", "NORMAL"}
	offline := func(args ...string) string { t.Helper(); return socOK(t, append(args, data...)...) }

	const rootPassword = "root-password-123"
	if _, errOut, code := socRunStdin(t, rootPassword+"\n", append([]string{"users", "create-admin", "--email", "root@example.com", "--password-stdin"}, data...)...); code != 0 {
		t.Fatalf("create-admin: exit %d: %s", code, errOut)
	}
	alice := jsonOut[map[string]any](t, offline("users", "create", "--email", "alice@example.com", "--role", "analyst", "-o", "json"))
	aliceID, _ := alice["id"].(string)
	if aliceID == "" || alice["one_time_password"] == nil {
		t.Fatalf("users create: %v", alice)
	}
	offline("users", "create", "--email", "bob@example.com", "--role", "remediator")
	carol := jsonOut[map[string]any](t, offline("users", "create", "--email", "carol@example.com", "--role", "auditor", "-o", "json"))
	team := jsonOut[map[string]any](t, offline("teams", "create", "platform", "--lead", "alice@example.com", "-o", "json"))
	if team["name"] != "platform" || team["lead"] != aliceID {
		t.Fatalf("teams create: %v", team)
	}
	offline("teams", "add-member", "platform", "bob@example.com")
	offline("users", "disable", "carol@example.com")
	offline("users", "disable", "bob@example.com")
	offline("users", "enable", "bob@example.com")

	pat := strings.TrimSpace(offline("token", "create", "--user", "alice@example.com", "--scope", "findings:read", "--ttl", "24h"))
	if !strings.HasPrefix(pat, "soc_pat_") {
		t.Fatalf("token create printed %q", pat)
	}
	revoked := jsonOut[map[string]any](t, offline("token", "create", "--user", "bob@example.com", "--name", "old", "-o", "json"))
	revokedID, _ := revoked["id"].(string)
	offline("token", "revoke", revokedID)

	users := offline("users", "list", "-o", "json")
	teams := offline("teams", "list", "-o", "json")
	listed := map[string]string{}
	for _, u := range jsonOut[[]map[string]any](t, users) {
		listed[u["email"].(string)], _ = u["status"].(string)
	}
	if len(listed) != 4 || listed["carol@example.com"] == listed["bob@example.com"] {
		t.Fatalf("users list: %v", listed)
	}
	if tl := jsonOut[[]map[string]any](t, teams); len(tl) != 1 || len(tl[0]["members"].([]any)) != 2 {
		t.Fatalf("teams list: %v", tl)
	}
	// The table is the --server one.
	if table := offline("users", "list"); !strings.HasPrefix(table, "ID ") || strings.Count(table, "\n") != 5 {
		t.Fatalf("users list table:\n%s", table)
	}
	// Their events say the data directory's CLI did it.
	if ev := offline("events", "stream", carol["id"].(string)); !strings.Contains(ev, `"actor":"system:cli"`) {
		t.Fatalf("carol's events:\n%s", ev)
	}

	// A node on that directory signs the users in and takes the token.
	cfg := allTargetsConfig(t)
	cfg.DataDir = dir
	addr, _ := serveInProcess(t, cfg)
	server := "http://" + addr
	if r := call(t, http.MethodGet, server+"/v1/me", pat, ""); r.status != http.StatusOK || !strings.Contains(r.body, "alice@example.com") {
		t.Fatalf("the offline token: %d %s", r.status, r.body)
	}
	rootToken := login(t, server, "root@example.com", rootPassword)
	if r := call(t, http.MethodGet, server+"/v1/me", rootToken, ""); r.status != http.StatusOK {
		t.Fatalf("root's access token: %d %s", r.status, r.body)
	}
	carolLogin := `{"email":"carol@example.com","password":"` + carol["one_time_password"].(string) + `"}`
	if r := call(t, http.MethodPost, server+"/v1/auth/login", "", carolLogin); r.status != http.StatusUnauthorized {
		t.Fatalf("disabled carol signs in: %d %s", r.status, r.body)
	}

	// The same commands over --server print the same.
	t.Setenv("SOC_TOKEN", rootToken)
	if got := socOK(t, "users", "list", "-o", "json", "--server", server); got != users {
		t.Fatalf("users list over --server:\n%s\noffline:\n%s", got, users)
	}
	if got := socOK(t, "teams", "list", "-o", "json", "--server", server); got != teams {
		t.Fatalf("teams list over --server:\n%s\noffline:\n%s", got, teams)
	}
}

// --data and --server name two different targets: the command refuses to guess; and offline
// there is nobody signed in to own a token by default.
func TestIdentityCommandsRefuseAmbiguousTargets(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"users", "list", "--data", dir, "--server", "http://127.0.0.1:1"},
		{"teams", "create", "x", "--postgres-url", "postgres://127.0.0.1:1/x", "--server", "http://127.0.0.1:1"},
	} {
		if _, errOut, code := socRun(t, args...); code != 2 || !strings.Contains(errOut, "--server and --data/--postgres-url exclude each other") {
			t.Errorf("%v: exit %d, %s", args, code, errOut)
		}
	}
	file := filepath.Join(t.TempDir(), "directory.json")
	if err := os.WriteFile(file, []byte(`{"users": []}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := socRun(t, "users", "import", file, "--data", dir, "--server", "http://127.0.0.1:1"); code != 2 || !strings.Contains(errOut, "exclude each other") {
		t.Errorf("users import --data --server: exit %d, %s", code, errOut)
	}
	if _, errOut, code := socRun(t, "token", "create", "--data", dir); code != 2 || !strings.Contains(errOut, "--user is required") {
		t.Errorf("token create --data without --user: exit %d, %s", code, errOut)
	}
	if _, errOut, code := socRun(t, "users", "list", "--data", dir, "-o", "yaml"); code != 2 || !strings.Contains(errOut, "want table or json") {
		t.Errorf("users list --data -o yaml: exit %d, %s", code, errOut)
	}
}

// A command line an identity command cannot run is refused (exit 2) before the store is
// opened: nothing is created in the data directory.
func TestIdentityCommandsRefuseBadArgumentsBeforeOpeningTheStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"users", "create", "--data", dir}, "--email is required"},
		{[]string{"token", "revoke", "a/b", "--data", dir}, `"a/b" is not a token id`},
		{[]string{"token", "create", "--data", dir}, "--user is required"},
	} {
		if _, errOut, code := socRun(t, c.args...); code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %s", c.args, code, errOut)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the data directory was touched: %v", err)
	}
}
