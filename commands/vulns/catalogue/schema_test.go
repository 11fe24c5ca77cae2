package catalogue

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/schemas/contracts"
)

// The catalogue's event schemas are 2020-12, closed at every object and bound every string and
// array.
func TestEventSchemasAreClosedAndBounded(t *testing.T) {
	for _, typ := range []string{contracts.TypeCVEPublished, contracts.TypeCVEUpdated, contracts.TypeCVEListedInKEV, contracts.TypeCVEEPSSScored} {
		path := filepath.Join(testsupport.RepoRoot(t), "schemas", "events", "vulns", typ+".v1.json")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		if doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" || doc["title"] != typ {
			t.Errorf("%s: $schema %v, title %v", typ, doc["$schema"], doc["title"])
		}
		testsupport.CheckClosedAndBounded(t, typ, doc, true)
	}
	// CVEPublished and CVEUpdated are the CVERecord of the shared definitions.
	b, err := os.ReadFile(filepath.Join(testsupport.RepoRoot(t), "schemas", "events", "vulns", "defs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var defs map[string]any
	if err := json.Unmarshal(b, &defs); err != nil {
		t.Fatal(err)
	}
	if defs["$defs"].(map[string]any)["CVERecord"] == nil {
		t.Fatal("events/vulns/defs.json declares no CVERecord")
	}
	testsupport.CheckClosedAndBounded(t, "events/vulns/defs.json", defs, true)
}
