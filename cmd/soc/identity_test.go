package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	identityapp "github.com/socplatform/soc/commands/identity/app"
)

// startIdentityOn runs the identity module on cfg's store until the test ends and returns what
// it logged.
func startIdentityOn(t *testing.T, cfg *Config) (*app, string) {
	t.Helper()
	store, b, _, err := openStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	a := &app{cfg: cfg, log: slog.New(slog.NewTextHandler(&logs, nil)), store: store, backend: b}
	ctx, cancel := context.WithCancel(context.Background())
	if _, _, err := startIdentity(ctx, a, nil); err != nil {
		cancel()
		t.Fatal(err)
	}
	cancel()
	a.wg.Wait()
	b.Close()
	return a, logs.String()
}

// A fresh node without bootstrap settings opens nothing and says how to create the first admin;
// with them it creates the admin once, and says nothing then.
func TestFreshNodeSaysHowToCreateTheAdmin(t *testing.T) {
	cfg := allTargetsConfig(t)
	a, logs := startIdentityOn(t, cfg)
	if a.authenticator == nil || !strings.Contains(logs, "soc users create-admin") || !strings.Contains(logs, "SOC_BOOTSTRAP_ADMIN_EMAIL") {
		t.Fatalf("a fresh node's log:\n%s", logs)
	}
	file := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(file, []byte(testAdminPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Identity.BootstrapAdminEmail, cfg.Identity.BootstrapAdminPasswordFile = testAdminEmail, file
	for range 2 {
		if _, logs := startIdentityOn(t, cfg); strings.Contains(logs, "create-admin") {
			t.Fatalf("a node with its admin still asks for one:\n%s", logs)
		}
	}
	withIdentity(t, cfg.DataDir, func(svc *identityapp.Service) {
		if !hasUsers(svc) {
			t.Fatal("no admin was bootstrapped")
		}
	})
}
