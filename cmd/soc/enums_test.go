package main

import (
	"encoding/json"
	"io/fs"
	"slices"
	"testing"

	vulndomain "github.com/socplatform/soc/commands/vulns/domain"
	"github.com/socplatform/soc/projections/readmodel"
	"github.com/socplatform/soc/query-api/openapi"
	"github.com/socplatform/soc/schemas"
)

// TestEnumsAgree: the query API validates filter values against lists of its own (it may not
// import the domain), so they are checked here, where everything is importable, against the
// event schemas, the domain's lifecycle and the read model.
func TestEnumsAgree(t *testing.T) {
	enum := func(path, prop string) []string {
		t.Helper()
		b, err := fs.ReadFile(schemas.EventsFS(), path)
		if err != nil {
			t.Fatal(err)
		}
		var s struct {
			Properties map[string]struct {
				Enum []string `json:"enum"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		if len(s.Properties[prop].Enum) == 0 {
			t.Fatalf("%s has no enum for %s", path, prop)
		}
		return s.Properties[prop].Enum
	}
	same := func(what string, got, want []string) {
		t.Helper()
		g, w := slices.Clone(got), slices.Clone(want)
		slices.Sort(g)
		slices.Sort(w)
		if !slices.Equal(g, w) {
			t.Errorf("%s: the query API has %v, the source of truth %v", what, got, want)
		}
	}
	same("severities", openapi.Severities, enum("events/vulns/FindingOpened.v1.json", "severity"))
	same("read model severities", readmodel.Severities, enum("events/vulns/FindingOpened.v1.json", "severity"))
	same("asset kinds", openapi.AssetKinds, enum("events/assets/AssetRegistered.v1.json", "kind"))
	same("criticalities", openapi.Criticalities, enum("events/assets/AssetRegistered.v1.json", "criticality"))
	same("environments", openapi.Environments, enum("events/assets/AssetRegistered.v1.json", "environment"))
	var statuses []string
	for _, s := range vulndomain.Statuses() {
		statuses = append(statuses, string(s))
	}
	same("finding statuses", openapi.FindingStatuses, statuses)
	for _, s := range readmodel.OpenStatuses {
		if !slices.Contains(statuses, s) {
			t.Errorf("read model open status %q is not a lifecycle status", s)
		}
	}
}
