package app

import (
	"context"
	"time"

	assetapp "github.com/socplatform/soc/commands/assets/app"
	assets "github.com/socplatform/soc/commands/assets/domain"
	"github.com/socplatform/soc/commands/internal/es"
	vulnapp "github.com/socplatform/soc/commands/vulns/app"
	vulns "github.com/socplatform/soc/commands/vulns/domain"
	"github.com/socplatform/soc/events"
)

// The import records what a report means in two other contexts, through these ports: the assets
// context registers the assets a report names and records their new identifiers, the vulns
// context opens, sees, reopens, resolves and closes findings. Each owns its streams; the import
// appends only its own (scans-import-<scan id>). The importer keeps, for deciding quickly, the
// lookups of both (the assets index, the findings catalogue) that it reads from $all.

// AssetRegistry is what an import asks of the assets context; *assetapp.Discoveries implements it.
// A refusal of the assets domain is an *assetapp.RefusedError (the import warns and goes on).
type AssetRegistry interface {
	RegisterDiscovered(ctx context.Context, meta es.Meta, reg assets.RegisterAsset) (id string, appended []events.Envelope, err error)
	RegisterWeakly(ctx context.Context, meta es.Meta, reg assets.RegisterWeak) (id string, appended []events.Envelope, err error)
	ObserveIdentifiers(ctx context.Context, meta es.Meta, assetID, scanID string, ids assets.Identifiers) (appended []events.Envelope, err error)
}

// FindingRecorder is what an import asks of the vulns context: batches of findings a scan saw,
// and of findings of its scopes it did not see; *vulnapp.ScanRecorder implements it.
type FindingRecorder interface {
	Seen(ctx context.Context, meta es.Meta, scanID string, at time.Time, found []vulnapp.ScanFinding, done func(vulnapp.ScanOutcome)) error
	Missed(ctx context.Context, meta es.Meta, scanID string, at time.Time, ids []string, done func(vulnapp.ScanOutcome)) error
}

var (
	_ AssetRegistry   = (*assetapp.Discoveries)(nil)
	_ FindingRecorder = (*vulnapp.ScanRecorder)(nil)
)

// catalogue is the importer's findings lookup, as the vulns context's recorder reads it.
type catalogue struct{ im *Importer }

func (c catalogue) Finding(id string) (vulns.Finding, int64, bool) { return c.im.finding(id) }
func (c catalogue) CatchUp(ctx context.Context) error              { return c.im.sync(ctx) }
func (c catalogue) Recorded(id string, evs []events.Envelope, res events.AppendResult) error {
	return c.im.applyOwn(id, evs, res)
}
