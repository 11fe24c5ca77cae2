package catalogue

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/events/snapshot"
)

// Start follows what other writers append through the eventlog consumer port, without an Import
// or EnrichNew to catch up, and writes a snapshot at the head when it stops: the next start
// reads only the one event that checks it.
func TestStartFollowsAndSnapshotsAtStop(t *testing.T) {
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	dir := snapshot.Dir{Path: t.TempDir()}
	openFinding(t, store, "app1", log4shell)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := New(store, Options{Snapshots: dir, SnapshotPolicy: snapshot.Policy{Events: 1 << 62}}) // no snapshot before the stop
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}

	// Another node imports a feed and a scan opens findings.
	if _, err := loaded(t, store).Import(context.Background(), "epss", strings.NewReader(epssFile("2026-10-01", "0.5", "0.9"))); err != nil {
		t.Fatal(err)
	}
	openFinding(t, store, "app2", log4shell, "CVE-1999-0001")
	total := eventstest.Head(t, store)
	for c.position() < total {
		if ctx.Err() != nil {
			t.Fatalf("the follower stopped at %d of %d", c.position(), total)
		}
		time.Sleep(time.Millisecond)
	}
	if got, want := c.dump(), loaded(t, store).dump(); got != want {
		t.Fatalf("the followed lookup differs from a full replay:\n got: %s\nwant: %s", got, want)
	}
	cancel()
	if err := c.Wait(); err != nil {
		t.Fatal(err)
	}

	cs := &eventstest.ReadCounter{EventStore: store.Unwrap()}
	restarted := New(events.Guard(cs, store.Registry(), events.Limits{}), Options{Snapshots: dir})
	if err := restarted.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := cs.Read(); n != 1 {
		t.Errorf("the restart read %d events, want 1 (the snapshot written at the stop covers the head %d)", n, total)
	}
}
