package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/socplatform/soc/query-api/openapi"
)

// TestOpenAPIDescribesEveryRoute starts a node with every target in this process and compares
// the routes it registered with the operations of /openapi.json, both ways: a route added
// without documenting it, or a documented operation nobody serves, fails here.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	got := make(chan []string, 1)
	onRoutes = func(p []string) { got <- p }
	t.Cleanup(func() { onRoutes = nil })
	cfg := &Config{HTTPConfig: HTTPConfig{HTTPAddr: "127.0.0.1:0"}, StoreConfig: StoreConfig{DataDir: t.TempDir(), SQLiteSync: "NORMAL"},
		Targets: []string{"all"}, LogLevel: "error", ImportConfig: ImportConfig{MaxImportBytes: 1 << 20}, ShutdownTimeout: 30 * time.Second,
		ReadSideConfig: ReadSideConfig{ReadSchema: "soc_read", ProjectionBatch: 100}, QueryConfig: QueryConfig{QueryMaxWait: time.Second}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan string, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), ready) }()
	var patterns []string
	select {
	case patterns = <-got:
	case err := <-done:
		t.Fatalf("serve stopped: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("the node did not register its routes within a minute")
	}
	select { // stop only once the node has started (it records NodeStarted after registering)
	case <-ready:
	case err := <-done:
		t.Fatalf("serve stopped: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	documented := map[string]bool{}
	for _, op := range openapi.Operations() {
		documented[op.MuxPattern()] = true
	}
	served := map[string]bool{}
	for _, p := range patterns {
		if p == "/" { // the problem+json 404 for everything else
			continue
		}
		served[p] = true
		if !documented[p] {
			t.Errorf("route %q is served but missing from the OpenAPI document", p)
		}
	}
	for p := range documented {
		if !served[p] {
			t.Errorf("the OpenAPI document describes %q, which no target serves", p)
		}
	}
	if len(served) < 30 || !served["GET /v1/findings"] || !served["GET /ws"] || !served["POST /v1/scans/imports"] {
		t.Fatalf("suspiciously few routes recorded: %v", patterns)
	}
}
