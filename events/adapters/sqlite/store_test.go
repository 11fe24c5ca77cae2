package sqlite_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/storetest"
)

func open(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "events.db")})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) events.EventStore { return open(t) })
}

func TestSnapshots(t *testing.T) {
	storetest.Snapshots(t, func(t *testing.T) events.EventStore { return open(t) })
}

func TestConfigValidateReportsEverything(t *testing.T) {
	err := sqlite.Config{Synchronous: "OFF", PollInterval: -1}.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"path is required", "synchronous", "poll interval"} {
		if !contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestCheckpoints(t *testing.T) {
	s := open(t)
	defer s.Close()
	ctx := context.Background()
	storetest.Checkpoints(t, ctx, s)
}

// TestReopenKeepsEverything: what was acknowledged survives closing and reopening the file.
func TestReopenKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	ctx := context.Background()
	s, err := sqlite.Open(ctx, sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	g := events.Guard(s, storetest.Registry(), events.Limits{})
	stream := storetest.StreamID()
	res, err := g.Append(ctx, stream, events.NoStream, []events.Envelope{storetest.Thing("a", 1), storetest.Thing("b", 2)})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := sqlite.Open(ctx, sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, err := s2.ReadStream(ctx, stream, events.ReadStreamOptions{})
	if err != nil || len(got) != 2 || got[1].GlobalPosition != res.LastPosition {
		t.Fatalf("after reopen: %v, %v", got, err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
