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
		checkBounded(t, typ, "", doc)
	}
}

func checkBounded(t *testing.T, file, ptr string, node map[string]any) {
	switch node["type"] {
	case "object":
		if node["additionalProperties"] != false {
			t.Errorf("%s%s: object without additionalProperties: false", file, ptr)
		}
		props, _ := node["properties"].(map[string]any)
		for k, v := range props {
			checkBounded(t, file, ptr+"/"+k, v.(map[string]any))
		}
	case "array":
		if _, ok := node["maxItems"]; !ok {
			t.Errorf("%s%s: array without maxItems", file, ptr)
		}
		checkBounded(t, file, ptr+"/items", node["items"].(map[string]any))
	case "string":
		_, max := node["maxLength"]
		_, enum := node["enum"]
		if !max && !enum {
			t.Errorf("%s%s: unbounded string", file, ptr)
		}
	case "number", "integer":
		_, lo := node["minimum"]
		_, hi := node["maximum"]
		if !lo || !hi {
			t.Errorf("%s%s: unbounded number", file, ptr)
		}
	}
}
