package eventstest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/eventstest"
)

func TestRegistryIsThePlatformsAndFreshPerCall(t *testing.T) {
	a := eventstest.Registry(t)
	if a.Lookup("AssetClassified") == nil {
		t.Fatal("the platform registry lacks AssetClassified")
	}
	if err := a.Register("suite", "ThingCreated", 1, []byte(`{"type":"object"}`)); err != nil {
		t.Fatal(err)
	}
	if eventstest.Registry(t).Lookup("ThingCreated") != nil {
		t.Fatal("a type registered on one registry shows up in the next one")
	}
}

func TestOpenSQLiteGuardsWithThePlatformRegistry(t *testing.T) {
	store, raw := eventstest.OpenSQLite(t, sqlite.Config{})
	ctx := context.Background()
	ev := events.Envelope{EventID: uuid.NewString(), Type: "NoSuchEvent", SchemaVersion: 1, Data: []byte(`{}`)}
	if _, err := store.Append(ctx, "assets-asset-"+uuid.NewString(), events.Any, []events.Envelope{ev}); err == nil {
		t.Fatal("the guarded store appended an unregistered event type")
	}
	if head, err := raw.HeadPosition(ctx); err != nil || head != 0 {
		t.Fatalf("HeadPosition = %d, %v; want an empty store", head, err)
	}
	d, _ := json.Marshal(map[string]any{"kind": "host", "name": "web-1", "identifiers": map[string]any{"hostnames": []string{"web-1"}}})
	if _, err := store.Append(ctx, "assets-asset-"+uuid.NewString(), events.NoStream, []events.Envelope{{Type: "AssetRegistered", Data: d}}); err != nil {
		t.Fatal(err)
	}
	if got := eventstest.Head(t, store); got != 1 {
		t.Fatalf("Head = %d after one event, want 1", got)
	}
}

func TestStartRunsUntilStopAndReportsRunsError(t *testing.T) {
	boom := errors.New("boom")
	started := make(chan struct{})
	runs := 0
	stop := eventstest.Start(t, context.Background(), func(ctx context.Context) error {
		runs++
		close(started)
		<-ctx.Done()
		return boom
	})
	<-started
	if err := stop(); !errors.Is(err, boom) {
		t.Fatalf("stop = %v, want Run's error", err)
	}
	if err := stop(); !errors.Is(err, boom) || runs != 1 {
		t.Fatalf("second stop = %v after %d runs, want the same error and one run", err, runs)
	}
}

// recordingTB records what a helper tells a test instead of stopping it. Only the first stop
// counts: a real test would not have gone on past it.
type recordingTB struct {
	testing.TB
	fatal, skip string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Fatalf(format string, a ...any) {
	if r.fatal == "" && r.skip == "" {
		r.fatal = fmt.Sprintf(format, a...)
	}
}
func (r *recordingTB) Skipf(format string, a ...any) {
	if r.fatal == "" && r.skip == "" {
		r.skip = fmt.Sprintf(format, a...)
	}
}

func TestServerEnvSkipsOrFailsWithoutAServer(t *testing.T) {
	t.Setenv("SOC_TEST_THING", " a:1,b:2 ")
	if got := eventstest.ServerEnv(t, "SOC_TEST_THING", "start one"); got != "a:1,b:2" {
		t.Fatalf("ServerEnv = %q, want the trimmed value", got)
	}
	t.Setenv("SOC_TEST_THING", "")
	t.Setenv("SOC_REQUIRE_SERVERS", "")
	r := &recordingTB{TB: t}
	eventstest.ServerEnv(r, "SOC_TEST_THING", "start one")
	if r.fatal != "" || r.skip != "SOC_TEST_THING is not set: start one" {
		t.Fatalf("unset: fatal %q, skip %q; want a skip naming the variable and the hint", r.fatal, r.skip)
	}
	t.Setenv("SOC_REQUIRE_SERVERS", "1")
	r = &recordingTB{TB: t}
	eventstest.ServerEnv(r, "SOC_TEST_THING", "start one")
	if !strings.Contains(r.fatal, "SOC_REQUIRE_SERVERS=1") {
		t.Fatalf("unset under SOC_REQUIRE_SERVERS=1: fatal %q, want a failure", r.fatal)
	}
}

func TestFlipLastByteCorruptsOnlyTheLastByte(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.snap")
	if err := os.WriteFile(path, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	eventstest.FlipLastByte(t, path)
	if b, err := os.ReadFile(path); err != nil || !bytes.Equal(b, []byte{'a', 'b', 'c' ^ 0xff}) {
		t.Fatalf("after FlipLastByte: %q, %v", b, err)
	}
}

func TestSharedTestdataSkipsOrFailsWithoutIt(t *testing.T) {
	// A workspace with no ../shared beside it.
	repo := filepath.Join(t.TempDir(), "repo")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "go.work"), []byte("go 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(repo)
	t.Setenv("SOC_REQUIRE_SERVERS", "")
	t.Setenv("CI", "")
	r := &recordingTB{TB: t}
	eventstest.SharedTestdata(r, "trivy")
	if r.fatal != "" || !strings.Contains(r.skip, "shared test data not found") {
		t.Fatalf("without it: fatal %q, skip %q; want a skip", r.fatal, r.skip)
	}
	t.Setenv("CI", "true")
	r = &recordingTB{TB: t}
	eventstest.SharedTestdata(r, "trivy")
	if !strings.Contains(r.fatal, "CI=true") {
		t.Fatalf("without it in CI: fatal %q, want a failure", r.fatal)
	}
}
