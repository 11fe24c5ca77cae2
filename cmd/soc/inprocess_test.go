package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	identityapp "github.com/socplatform/soc/commands/identity/app"
	"github.com/socplatform/soc/commands/identity/tokens"
)

// allTargetsConfig is a node with every target on a fresh data directory and a free port.
func allTargetsConfig(t *testing.T) *Config {
	t.Helper()
	return &Config{HTTPConfig: HTTPConfig{HTTPAddr: "127.0.0.1:0"}, StoreConfig: StoreConfig{DataDir: t.TempDir(), SQLiteSync: "NORMAL"},
		Targets: []string{"all"}, LogLevel: "error", ImportConfig: ImportConfig{MaxImportBytes: 1 << 20}, ShutdownTimeout: 30 * time.Second,
		ReadSideConfig: ReadSideConfig{ReadSchema: "soc_read", ProjectionBatch: 100}, QueryConfig: QueryConfig{QueryMaxWait: time.Second},
		IdentityConfig: testIdentityConfig()}
}

// testIdentityConfig is the identity settings' defaults, for Config literals.
func testIdentityConfig() IdentityConfig {
	return IdentityConfig{JWTIssuer: "soc", JWTAudience: "soc-api", JWTRotateEvery: tokens.DefaultRotateEvery, Identity: identityapp.DefaultConfig()}
}

// serveInProcess runs a node with cfg in this process until the test ends and returns its
// address and the route patterns it registered.
func serveInProcess(t testing.TB, cfg *Config) (addr string, patterns []string) {
	t.Helper()
	got := make(chan []string, 1)
	onRoutes = func(p []string) { got <- p }
	t.Cleanup(func() { onRoutes = nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan string, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), ready) }()
	select {
	case patterns = <-got:
	case err := <-done:
		cancel()
		t.Fatalf("serve stopped: %v", err)
	case <-time.After(time.Minute):
		cancel()
		t.Fatal("the node did not register its routes within a minute")
	}
	select { // it records NodeStarted after registering, then serves
	case addr = <-ready:
		forgetNode(addr)
	case err := <-done:
		cancel()
		t.Fatalf("serve stopped: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return addr, patterns
}
