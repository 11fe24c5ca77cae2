package readmodel

import (
	"context"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
)

// AssetsProjection is the assets read model: one row per asset stream (table assets).
type AssetsProjection struct{ cache sqlCache }

// NewAssetsProjection returns the assets projection.
func NewAssetsProjection() *AssetsProjection { return &AssetsProjection{} }

var _ projections.Projection = (*AssetsProjection)(nil)

func (*AssetsProjection) Name() string       { return "assets" }
func (*AssetsProjection) Contexts() []string { return []string{"assets"} }
func (*AssetsProjection) Tables() []string   { return []string{"assets"} }

var assetTable = &table[Asset]{
	base: "assets",
	cols: func(d projections.Dialect) []column {
		return []column{
			{"id", keyText(d)}, {"kind", tText}, {"name", keyText(d)}, {"description", tText},
			{"identifiers", tText}, {"criticality", tText}, {"criticality_rank", tInt}, {"risk_factor", tReal},
			{"environment", tText}, {"owner_team", tText}, {"data_classification", tText}, {"tags", tText},
			{"links", tText}, {"status", tText}, {"created_at", tInt}, {"updated_at", tInt}, {"version", tInt},
		}
	},
	values: func(a *Asset) []any {
		return []any{
			a.ID, a.Kind, a.Name, a.Description, jsonText(a.Identifiers), a.Criticality, criticalityRank(a.Criticality),
			criticalityFactor(a.Criticality), a.Environment, a.OwnerTeam, a.DataClassification, jsonText(a.Tags),
			jsonText(a.Links), a.Status, micros(a.CreatedAt), micros(a.UpdatedAt), a.Version,
		}
	},
	scan: func(s scanner) (*Asset, error) {
		var a Asset
		var ids, tags, links string
		var rank int64
		var factor float64
		var created, updated int64
		if err := s.Scan(&a.ID, &a.Kind, &a.Name, &a.Description, &ids, &a.Criticality, &rank, &factor,
			&a.Environment, &a.OwnerTeam, &a.DataClassification, &tags, &links, &a.Status, &created, &updated, &a.Version); err != nil {
			return nil, err
		}
		return decodeAsset(&a, ids, tags, links, created, updated)
	},
}

func decodeAsset(a *Asset, ids, tags, links string, created, updated int64) (*Asset, error) {
	var err error
	if a.Identifiers, err = fromJSON[map[string][]string](ids); err != nil {
		return nil, err
	}
	if a.Tags, err = fromJSON[[]string](tags); err != nil {
		return nil, err
	}
	if a.Links, err = fromJSON[[]AssetLink](links); err != nil {
		return nil, err
	}
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	return a, nil
}

// Create implements projections.Projection.
func (p *AssetsProjection) Create(ctx context.Context, tx *projections.Tx) error {
	if err := createTable(ctx, tx, "assets", assetTable.cols(tx.Dialect), "id"); err != nil {
		return err
	}
	// The list's default sort is risk, computed from two tables: it cannot be indexed. These serve
	// the other sorts and the common filters.
	for _, ix := range [][2]string{
		{"name", "name, id"},
		{"updated", "updated_at, id"},
		{"crit", "criticality_rank, id"},
	} {
		if err := createIndex(ctx, tx, "assets", ix[0], ix[1]); err != nil {
			return err
		}
	}
	return nil
}

// Apply implements projections.Projection.
func (p *AssetsProjection) Apply(ctx context.Context, tx *projections.Tx, batch []events.Envelope) ([]projections.Change, error) {
	_, changes, err := applyKeyed(ctx, tx, &p.cache, assetTable, batch,
		func(e *events.Envelope) (string, bool, error) { return e.StreamID, isAssetEvent(e.Type), nil },
		applyAsset,
		func(e *events.Envelope, a *Asset) projections.Change {
			return projections.Change{Projection: "assets", Event: *e, AssetID: a.ID}
		})
	return changes, err
}
