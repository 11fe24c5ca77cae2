package catalogue

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

func loaded(tb testing.TB, store *events.Guarded) *Catalogue {
	tb.Helper()
	c := New(store, Options{})
	if err := c.Load(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return c
}

func importFile(tb testing.TB, c *Catalogue, feed, path string) (Summary, error) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	return c.Import(context.Background(), feed, f)
}

// openFinding appends a FindingOpened listing cves, as the scan importer would, and returns its
// stream id.
func openFinding(tb testing.TB, store *events.Guarded, name string, cves ...string) string {
	tb.Helper()
	asset := es.StreamIDFor("assets", "asset", "host-"+name)
	identity := asset + "|trivy|" + name
	id := es.StreamIDFor("vulns", "finding", identity)
	data := map[string]any{
		"asset_id": asset, "scope": asset + "|trivy", "identity_key": identity, "fingerprint": name,
		"scan_id": "scan-1", "format": "trivy", "title": "log4shell in " + name, "severity": "critical",
		"seen_at": time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Format(time.RFC3339), "cves": cves,
	}
	if _, err := es.Save(context.Background(), store, id, events.NoStream, es.Meta{Actor: "test"},
		[]es.Change{{Type: contracts.TypeFindingOpened, Data: data}}); err != nil {
		tb.Fatal(err)
	}
	return id
}

type exploitability struct {
	KEV            *bool    `json:"kev"`
	EPSS           *float64 `json:"epss"`
	EPSSPercentile *float64 `json:"epss_percentile"`
	Source         string   `json:"source"`
}

// exploitabilityEvents returns the FindingExploitabilityChanged events of a finding with their
// metadata.
func exploitabilityEvents(tb testing.TB, store *events.Guarded, id string) ([]exploitability, []map[string]any) {
	tb.Helper()
	evs, err := store.ReadStream(context.Background(), id, events.ReadStreamOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	var out []exploitability
	var md []map[string]any
	for _, e := range evs {
		if e.Type != contracts.TypeFindingExploitabilityChanged {
			continue
		}
		var d exploitability
		if err := json.Unmarshal(e.Data, &d); err != nil {
			tb.Fatal(err)
		}
		var m map[string]any
		if len(e.Metadata) > 0 {
			if err := json.Unmarshal(e.Metadata, &m); err != nil {
				tb.Fatal(err)
			}
		}
		out = append(out, d)
		md = append(md, m)
	}
	return out, md
}
