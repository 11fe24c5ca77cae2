package app_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/schemas/contracts"
)

// twoLocationSARIF is a SARIF log with one result reported at two places.
const twoLocationSARIF = `{"version":"2.1.0","$schema":"https://json.schemastore.org/sarif-2.1.0.json","runs":[{
 "tool":{"driver":{"name":"semgrep","rules":[{"id":"go.sqli","shortDescription":{"text":"SQL injection"}}]}},
 "results":[{"ruleId":"go.sqli","level":"error","message":{"text":"query built from input"},"locations":[
  {"physicalLocation":{"artifactLocation":{"uri":"db/users.go"},"region":{"startLine":12,"startColumn":3}}},
  {"physicalLocation":{"artifactLocation":{"uri":"db/orders.go"},"region":{"startLine":40}}}]}]}]}`

// TestImportRecordsEveryLocationAndTheCounts: FindingOpened (v2) carries every location of a
// SARIF result, the first also as location; ScanImportCompleted (v2) carries the summary's
// accounting.
func TestImportRecordsEveryLocationAndTheCounts(t *testing.T) {
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	repo := registerAsset(t, store, "locations")
	im := newImporter(t, store)
	sum := importBytes(t, im, []byte(twoLocationSARIF), app.ImportScanReport{Asset: repo, Actor: "test"})
	if sum.Stored != 1 {
		t.Fatalf("summary %+v", sum)
	}
	var opened, completed int
	for _, e := range allEvents(t, store) {
		switch e.Type {
		case contracts.TypeFindingOpened:
			opened++
			var d contracts.FindingOpenedV2
			if err := json.Unmarshal(e.Data, &d); err != nil {
				t.Fatal(err)
			}
			if e.SchemaVersion != 2 || len(d.Locations) != 2 || d.Location == nil ||
				!reflect.DeepEqual(d.Locations[0], *d.Location) || d.Locations[1].File != "db/orders.go" || *d.Locations[1].Line != 40 {
				t.Fatalf("FindingOpened v%d: %s", e.SchemaVersion, e.Data)
			}
		case contracts.TypeScanImportCompleted:
			completed++
			var d contracts.ScanImportCompletedV2
			if err := json.Unmarshal(e.Data, &d); err != nil {
				t.Fatal(err)
			}
			if e.SchemaVersion != 2 || d.Parsed == nil || *d.Parsed != 1 || d.Stored == nil || *d.Stored != 1 ||
				d.DuplicateCount == nil || *d.DuplicateCount != 0 || d.HeldBack == nil || d.AssetsWeak == nil {
				t.Fatalf("ScanImportCompleted v%d: %s", e.SchemaVersion, e.Data)
			}
		}
	}
	if opened != 1 || completed != 1 {
		t.Fatalf("%d FindingOpened, %d ScanImportCompleted", opened, completed)
	}
}
