package app

import (
	"context"
	"time"

	assetapp "github.com/socplatform/soc/commands/assets/app"
	"github.com/socplatform/soc/commands/internal/es"
	vulnapp "github.com/socplatform/soc/commands/vulns/app"
	vulns "github.com/socplatform/soc/commands/vulns/domain"
	"github.com/socplatform/soc/events"
)

// The import records what a report means in two other contexts, through these ports: the assets
// context registers the assets a report names and records their new identifiers, the vulns
// context opens, sees, reopens, resolves and closes findings. Each owns its streams; the import
// appends only its own (scans-import-<scan id>). The assets context keeps the lookup discovery
// matches against; the importer keeps, for deciding quickly, the findings catalogue of the
// scopes it imports, which it reads from $all.

// AssetRegistry is what an import asks of the assets context: to see every asset appended so
// far (CatchUp, before deciding), to resolve a reference to a live asset, to match or register
// the assets a report names (serialised by the registry, so two imports never register the same
// new asset twice), and what it knows of an asset (the assets merged into it, its criticality).
// *assetapp.Lookup implements it; a refusal of the assets domain is reported in the discovery
// (the import warns and goes on).
type AssetRegistry interface {
	CatchUp(ctx context.Context) error
	ResolveLive(ref string) (string, error)
	Discover(ctx context.Context, meta es.Meta, scanID string, s assetapp.Sighting) (assetapp.Discovery, error)
	DiscoverWeak(ctx context.Context, meta es.Meta, scanID string, s assetapp.WeakSighting) (assetapp.WeakDiscovery, error)
	Aliases(assetID string) []string
	Criticality(assetID string) string
}

// FindingRecorder is what an import asks of the vulns context: batches of findings a scan saw,
// and of findings of its scopes it did not see; *vulnapp.ScanRecorder implements it.
type FindingRecorder interface {
	Seen(ctx context.Context, meta es.Meta, scanID string, at time.Time, found []vulnapp.ScanFinding, done func(vulnapp.ScanOutcome)) error
	Missed(ctx context.Context, meta es.Meta, scanID string, at time.Time, ids []string, done func(vulnapp.ScanOutcome)) error
}

var (
	_ AssetRegistry   = (*assetapp.Lookup)(nil)
	_ FindingRecorder = (*vulnapp.ScanRecorder)(nil)
)

// catalogue is the importer's findings lookup, as the vulns context's recorder reads it.
type catalogue struct{ im *Importer }

func (c catalogue) Finding(id string) (vulns.Finding, int64, bool) { return c.im.finding(id) }
func (c catalogue) CatchUp(ctx context.Context) error              { return c.im.sync(ctx) }
func (c catalogue) Recorded(id string, evs []events.Envelope, res events.AppendResult) error {
	return c.im.applyOwn(id, evs, res)
}
