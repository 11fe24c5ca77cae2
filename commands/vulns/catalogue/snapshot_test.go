package catalogue

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/events/snapshot"
)

// dump renders the whole lookup as sorted text.
func (c *Catalogue) dump() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	lines := []string{fmt.Sprintf("cursor %d", c.cursor.Position)}
	for id, s := range c.cves {
		lines = append(lines, fmt.Sprintf("cve %s %+v", id, *s))
	}
	for id, s := range c.findings {
		lines = append(lines, fmt.Sprintf("finding %s %+v", id, *s))
	}
	for cve, ids := range c.byCVE {
		for id := range ids {
			lines = append(lines, "by-cve "+cve+" "+id)
		}
	}
	for id := range c.pending {
		lines = append(lines, "pending "+id)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func epssFile(date, score, pct string) string {
	return "#model_version:v2025.03.14,score_date:" + date + "T00:00:00+0000\ncve,epss,percentile\n" +
		log4shell + "," + score + "," + pct + "\nCVE-1999-0001,0.1,0.5\n"
}

// A restart restores the catalogue from its snapshot and reads only the events after it; the
// lookup (pending enrichments included) equals a full replay's. A corrupt snapshot is ignored
// and the lookup rebuilt from the whole log.
func TestSnapshotRestart(t *testing.T) {
	ctx := context.Background()
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	dir := snapshot.Dir{Path: t.TempDir()}
	openFinding(t, store, "app1", log4shell)
	c := New(store, Options{Snapshots: dir})
	if err := c.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Import(ctx, "epss", strings.NewReader(epssFile("2026-10-01", "0.5", "0.9"))); err != nil {
		t.Fatal(err)
	}
	openFinding(t, store, "app2", log4shell, "CVE-1999-0001")
	if _, err := c.EnrichNew(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.SaveSnapshot(); err != nil { // at shutdown
		t.Fatal(err)
	}
	snapped := c.cursor.Position

	// Another writer appends while the node is down.
	openFinding(t, store, "app3", log4shell)
	if _, err := loaded(t, store).Import(ctx, "epss", strings.NewReader(epssFile("2026-10-02", "0.7", "0.95"))); err != nil {
		t.Fatal(err)
	}
	openFinding(t, store, "app4", "CVE-1999-0001")
	total := eventstest.Head(t, store)

	want := loaded(t, store).dump()
	cs := &eventstest.ReadCounter{EventStore: store.Unwrap()}
	restarted := New(events.Guard(cs, store.Registry(), events.Limits{}), Options{Snapshots: dir})
	if err := restarted.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if got := restarted.dump(); got != want {
		t.Fatalf("snapshot + catch-up differs from a full replay:\n got: %s\nwant: %s", got, want)
	}
	if n := cs.Read(); n != total-snapped+1 {
		t.Errorf("the restart read %d events; want %d (after the snapshot at %d of %d) + 1", n, total-snapped+1, snapped, total)
	}
	// It enriches what a full replay would: app4's finding.
	if n, err := restarted.EnrichNew(ctx); err != nil || n != 1 {
		t.Errorf("EnrichNew after the restore: %d, %v; want 1", n, err)
	}

	path := filepath.Join(dir.Path, "vulns-catalogue.snap")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	nl := bytes.IndexByte(b, '\n')
	var h struct {
		Position int64 `json:"position"`
	}
	if err := json.Unmarshal(b[:nl], &h); err != nil || h.Position != snapped {
		t.Fatalf("snapshot header: %s (%v)", b[:nl], err)
	}
	b[nl+5] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	want = loaded(t, store).dump()
	cs = &eventstest.ReadCounter{EventStore: store.Unwrap()}
	again := New(events.Guard(cs, store.Registry(), events.Limits{}), Options{Snapshots: dir})
	if err := again.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if got := again.dump(); got != want {
		t.Fatalf("after a corrupt snapshot the lookup differs from a full replay:\n got: %s\nwant: %s", got, want)
	}
	if n, h := cs.Read(), eventstest.Head(t, store); n != h {
		t.Errorf("after a corrupt snapshot the restart read %d events, want all %d", n, h)
	}
}
