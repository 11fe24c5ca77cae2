package catalogue

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

// OpenKEVFindings (the KEV alert for an asset moved to production) lists the asset's
// KEV-listed findings that still need attention, from the lookup, which follows the store.
func TestOpenKEVFindings(t *testing.T) {
	ctx := context.Background()
	store := testsupport.SQLiteStore(t)
	finding := openFinding(t, store, "app1", log4shell)
	notKEV := openFinding(t, store, "app2", log4shell)
	asset := es.StreamIDFor("assets", "asset", "host-app1")
	c := loaded(t, store)
	if got := c.OpenKEVFindings(asset); len(got) != 0 {
		t.Fatalf("before KEV: %v", got)
	}
	appendTo := func(id, typ string, data any) {
		b, _ := json.Marshal(data)
		if _, err := store.Append(ctx, id, events.Any, []events.Envelope{{Type: typ, Data: b}}); err != nil {
			t.Fatal(err)
		}
		if err := c.Load(ctx); err != nil {
			t.Fatal(err)
		}
	}
	appendTo(finding, contracts.TypeFindingExploitabilityChanged, map[string]any{"kev": true, "source": "cisa"})
	if got := c.OpenKEVFindings(asset); !slices.Equal(got, []string{finding}) {
		t.Fatalf("KEV finding: %v", got)
	}
	if got := c.OpenKEVFindings(es.StreamIDFor("assets", "asset", "host-app2")); len(got) != 0 {
		t.Fatalf("another asset's finding that is not KEV-listed: %v", got)
	}
	// A KEV-listed finding of another asset is not this asset's.
	appendTo(notKEV, contracts.TypeFindingExploitabilityChanged, map[string]any{"kev": true, "source": "cisa"})
	if got := c.OpenKEVFindings(asset); !slices.Equal(got, []string{finding}) {
		t.Fatalf("with another asset's KEV finding: %v", got)
	}
	appendTo(finding, contracts.TypeFindingResolved, map[string]any{"reason": "patched", "resolved_at": time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)})
	if got := c.OpenKEVFindings(asset); len(got) != 0 {
		t.Fatalf("resolved: %v", got)
	}
	appendTo(finding, contracts.TypeFindingReopened, map[string]any{"reason": "seen again"})
	if got := c.OpenKEVFindings(asset); !slices.Equal(got, []string{finding}) {
		t.Fatalf("reopened: %v", got)
	}
}
