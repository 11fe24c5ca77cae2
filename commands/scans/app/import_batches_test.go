package app_test

import (
	"encoding/json"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/schemas/contracts"
)

// importRecord is what an import did, without what differs between two stores (asset ids, the
// identity keys and scopes built from them, warnings naming them).
type importRecord struct {
	Summaries []app.Summary
	Opened    []string // FindingOpened data without asset_id, scope and identity_key, sorted
	Types     map[string]int
}

// importTwice imports first and then second (with a fallback asset) into a store of its own,
// with the importer's finding bounds set by batches (nil: the defaults).
func importTwice(t *testing.T, first, second []byte, batches func(*app.Importer)) importRecord {
	t.Helper()
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	fallback := registerAsset(t, store, "fallback")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	im := newImporterWith(t, store, app.Options{Now: func() time.Time { return now }})
	if batches != nil {
		batches(im)
	}
	var rec importRecord
	for i, b := range [][]byte{first, second} {
		var progressed int
		sum := importBytes(t, im, b, app.ImportScanReport{Asset: fallback, Actor: "test",
			ScanID:   []string{"0190a4d5-0000-7000-8000-000000000001", "0190a4d5-0000-7000-8000-000000000002"}[i],
			Progress: func(done, total int) { progressed = done }})
		if progressed != sum.Stored {
			t.Errorf("import %d: progress reached %d, stored %d", i+1, progressed, sum.Stored)
		}
		sum.Warnings = nil
		rec.Summaries = append(rec.Summaries, sum)
	}
	evs := allEvents(t, store)
	rec.Types = countTypes(evs)
	for _, e := range evs {
		if e.Type != contracts.TypeFindingOpened {
			continue
		}
		var d map[string]any
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatal(err)
		}
		delete(d, "asset_id")
		delete(d, "scope")
		delete(d, "identity_key")
		b, _ := json.Marshal(d)
		rec.Opened = append(rec.Opened, string(b))
	}
	sort.Strings(rec.Opened)
	return rec
}

// A report whose findings are spilled to a file and recorded a few at a time (what a large
// report does) is imported exactly as one held in memory and recorded at once: same counts,
// duplicates, suppressed hints, held back or resolved findings, and the same FindingOpened data.
func TestSpilledBatchedImportMatchesInMemory(t *testing.T) {
	eachReport(t, func(t *testing.T, format string, b []byte) {
		second := b
		if format == "trivy" {
			// Findings not seen again: resolved or held back, in both ways alike.
			second = dropEvery(t, b, 3)
		}
		want := importTwice(t, b, second, nil)
		got := importTwice(t, b, second, func(im *app.Importer) { im.SetFindingBatches(0, 3) })
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("spilled and batched:\n%+v\nin memory:\n%+v", got.Summaries, want.Summaries)
		}
	})
}
