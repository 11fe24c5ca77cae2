package assets

import (
	"context"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/readkit"
)

// Projection is the assets read model: one row per asset stream (table assets).
type Projection struct{ readkit.Keyed[Asset] }

// NewProjection returns the assets projection.
func NewProjection() *Projection {
	return &Projection{readkit.Keyed[Asset]{
		Context: "assets",
		Table:   assetTable,
		// The list's default sort is risk, computed from two tables: it cannot be indexed.
		// These serve the other sorts and the common filters, and team scoping (ownership).
		Indexes: append([][2]string{{"name", "name, id"}, {"updated", "updated_at, id"}, {"crit", "criticality_rank, id"}}, scopeIndexes...),
		Handles: IsAssetEvent,
		Key:     readkit.StreamKey,
		Fold:    ApplyAsset,
		Change: func(e *events.Envelope, a *Asset) projections.Change {
			return projections.Change{Projection: "assets", Event: *e, AssetID: a.ID}
		},
	}}
}

var assetTable = &readkit.Table[Asset]{
	Base: "assets",
	Cols: func(d projections.Dialect) []readkit.Column {
		return []readkit.Column{
			{"id", readkit.KeyText(d)}, {"kind", readkit.TText}, {"name", readkit.KeyText(d)}, {"description", readkit.TText},
			{"identifiers", readkit.TText}, {"criticality", readkit.TText}, {"criticality_rank", readkit.TInt}, {"risk_factor", readkit.TReal},
			{"environment", readkit.TText}, {"owner_team", readkit.TText}, {"data_classification", readkit.TText}, {"tags", readkit.TText},
			{"links", readkit.TText}, {"status", readkit.TText}, {"created_at", readkit.TInt}, {"updated_at", readkit.TInt}, {"version", readkit.TInt},
			mergedIntoCol,
		}
	},
	Values: func(a *Asset) []any {
		return []any{
			a.ID, a.Kind, a.Name, a.Description, readkit.JSONText(a.Identifiers), a.Criticality, CriticalityRank(a.Criticality),
			CriticalityFactor(a.Criticality), a.Environment, a.OwnerTeam, a.DataClassification, readkit.JSONText(a.Tags),
			readkit.JSONText(a.Links), a.Status, readkit.Micros(a.CreatedAt), readkit.Micros(a.UpdatedAt), a.Version, a.MergedInto,
		}
	},
	Scan: func(s readkit.Scanner) (*Asset, error) {
		var a Asset
		var ids, tags, links string
		var rank int64
		var factor float64
		var created, updated int64
		if err := s.Scan(&a.ID, &a.Kind, &a.Name, &a.Description, &ids, &a.Criticality, &rank, &factor,
			&a.Environment, &a.OwnerTeam, &a.DataClassification, &tags, &links, &a.Status, &created, &updated, &a.Version, &a.MergedInto); err != nil {
			return nil, err
		}
		return decodeAsset(&a, ids, tags, links, created, updated)
	},
}

// mergedIntoCol names the asset a merged one went into; added after the first assets
// generations, so Upgrade adds it to a live generation that lacks it.
var mergedIntoCol = readkit.Column{"merged_into", readkit.TText}

// scopeIndexes serve team scoping (projections/ownership): the assets a team owns, and the
// assets merged into one (the merge chains ownership follows).
var scopeIndexes = [][2]string{{"owner", "owner_team, id"}, {"merged", "merged_into"}}

// Upgrade implements projections.Upgrader: assets tables created before merges existed get
// merged_into (empty: an asset merged before shows it after a rebuild), and those created
// before team scoping its indexes.
func (p *Projection) Upgrade(ctx context.Context, tx *projections.Tx) error {
	if err := readkit.AddColumns(ctx, tx, "assets", mergedIntoCol); err != nil {
		return err
	}
	for _, ix := range scopeIndexes {
		if err := readkit.EnsureIndex(ctx, tx, "assets", ix[0], ix[1]); err != nil {
			return err
		}
	}
	return nil
}

func decodeAsset(a *Asset, ids, tags, links string, created, updated int64) (*Asset, error) {
	var err error
	if a.Identifiers, err = readkit.FromJSON[map[string][]string](ids); err != nil {
		return nil, err
	}
	if a.Tags, err = readkit.FromJSON[[]string](tags); err != nil {
		return nil, err
	}
	if a.Links, err = readkit.FromJSON[[]AssetLink](links); err != nil {
		return nil, err
	}
	a.CreatedAt, a.UpdatedAt = readkit.FromMicros(created), readkit.FromMicros(updated)
	return a, nil
}
