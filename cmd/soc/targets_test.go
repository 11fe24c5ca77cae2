package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// TestEveryTargetAloneAndEveryPairStartsOrRefusesAtStart starts a node for each target alone
// and for each pair of targets: it serves until ready, or it is refused by the configuration
// check (before anything opens) with an error naming the module it lacks.
func TestEveryTargetAloneAndEveryPairStartsOrRefusesAtStart(t *testing.T) {
	kafka := os.Getenv("SOC_TEST_KAFKA_BROKERS")
	names := targetNames()
	if len(names) < 6 {
		t.Fatalf("targets %v: fewer than the platform's six", names)
	}
	var sets [][]string
	for i, a := range names {
		sets = append(sets, []string{a})
		for _, b := range names[i+1:] {
			sets = append(sets, []string{a, b})
		}
	}
	for _, set := range sets {
		t.Run(strings.Join(set, "+"), func(t *testing.T) {
			has := func(n string) bool { return strings.Contains(","+strings.Join(set, ",")+",", ","+n+",") }
			// What each refusal must name, from the platform's rules as documented in --list-targets.
			var missing []string
			if has("sagas") && !has("commands") {
				missing = append(missing, `"commands"`)
			}
			if has("relay") && kafka == "" {
				missing = append(missing, "--kafka-brokers")
			}
			if has("gateway") { // no pair holds the three targets a gateway fronts
				missing = append(missing, "--upstreams")
			}
			fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var cfg Config
			bindFlags(fs, &cfg, true)
			args := []string{"--target", strings.Join(set, ","), "--http", "127.0.0.1:0", "--data", t.TempDir(),
				"--sqlite-synchronous", "NORMAL", "--log-level", "error", "--postgres-url", "", "--kafka-brokers", kafka}
			if err := fs.Parse(args); err != nil {
				t.Fatal(err)
			}
			err := cfg.Validate(true)
			if len(missing) > 0 {
				if err == nil {
					t.Fatalf("started without %s", strings.Join(missing, " and "))
				}
				for _, m := range missing {
					if !strings.Contains(err.Error(), m) {
						t.Errorf("the refusal does not name %s:\n%v", m, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			runUntilReady(t, &cfg)
		})
	}
}

// TestServeRefusesAMissingModuleWithoutValidate: the node itself resolves the graph, so a
// caller that skips Validate still fails at start, not at the first dispatched command.
func TestServeRefusesAMissingModuleWithoutValidate(t *testing.T) {
	cfg := &Config{HTTPConfig: HTTPConfig{HTTPAddr: "127.0.0.1:0"}, StoreConfig: StoreConfig{DataDir: t.TempDir(), SQLiteSync: "NORMAL"},
		Targets: []string{"sagas"}, LogLevel: "error", ShutdownTimeout: 10 * time.Second,
		ReadSideConfig: ReadSideConfig{ReadSchema: "soc_read", ProjectionBatch: 100}}
	err := serve(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err == nil || !strings.Contains(err.Error(), `"commands"`) {
		t.Fatalf("serve(sagas alone) = %v, want a refusal naming commands", err)
	}
}

func runUntilReady(t *testing.T, cfg *Config) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	ready := make(chan string, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), ready) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("serve stopped before it was ready: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}
