package assets

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/ownership"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/projections/vulns"
)

// Reader runs the assets read model's queries over the views (assets, joined with the findings'
// asset_findings for open findings and risk).
type Reader struct {
	db *readkit.DB
}

// NewReader returns a Reader over db.
func NewReader(db *projections.DB) *Reader {
	return &Reader{db: readkit.NewDB(db)}
}

// riskExpr is an asset's score in SQL (see RiskFormula); the Reader returns the value SQL
// computed, so sorting, MinRisk and the returned Score agree exactly.
const riskExpr = "(CASE WHEN COALESCE(af.risk_milli, 0) * a.risk_factor / 1000 > 100 THEN CAST(100 AS DOUBLE PRECISION) ELSE COALESCE(af.risk_milli, 0) * a.risk_factor / 1000 END)"

var assetSorts = map[string]readkit.SortSpec[Asset]{
	"risk": {Exprs: []string{riskExpr}, Format: func(a *Asset) string { return readkit.FmtFloat(a.Risk.Score) },
		Parse: func(s string) ([]any, error) { return readkit.One(readkit.ParseFloat(s)) }},
	"name": {Exprs: []string{"a.name"}, Format: func(a *Asset) string { return a.Name },
		Parse: func(s string) ([]any, error) { return []any{s}, nil }},
	"criticality": {Exprs: []string{"a.criticality_rank"}, Format: func(a *Asset) string { return a.Criticality },
		Parse: func(s string) ([]any, error) {
			if s != "" && CriticalityRank(s) == 0 {
				return nil, errors.New("want critical, high, medium, low or empty")
			}
			return []any{CriticalityRank(s)}, nil
		}},
	"open_critical": {Exprs: []string{"COALESCE(af.open_critical, 0)"}, Format: func(a *Asset) string { return strconv.FormatInt(a.OpenFindings["critical"], 10) },
		Parse: func(s string) ([]any, error) { return readkit.One(strconv.ParseInt(s, 10, 64)) }},
	"updated_at": readkit.TimeSort("a.updated_at", func(a *Asset) time.Time { return a.UpdatedAt }),
	"id":         readkit.IDSort(func(a *Asset) string { return a.ID }),
}

func (r *Reader) assetSelect() string {
	af := make([]string, 0, len(vulns.AssetFindingsCols))
	for _, c := range vulns.AssetFindingsCols[1:] {
		af = append(af, "COALESCE(af."+c+", 0)")
	}
	return "SELECT " + assetTable.Qualified("a") + ", " + strings.Join(af, ", ") + ", " + riskExpr +
		" FROM assets a LEFT JOIN asset_findings af ON af.asset_id = a.id"
}

func scanAssetRow(s readkit.Scanner) (*Asset, error) {
	var a Asset
	var ids, tags, links string
	var rank int64
	var factor, score float64
	var created, updated int64
	var af vulns.AssetFindings
	dest := append([]any{&a.ID, &a.Kind, &a.Name, &a.Description, &ids, &a.Criticality, &rank, &factor,
		&a.Environment, &a.OwnerTeam, &a.DataClassification, &tags, &links, &a.Status, &created, &updated, &a.Version, &a.MergedInto},
		af.Dest()...)
	if err := s.Scan(append(dest, &score)...); err != nil {
		return nil, err
	}
	if _, err := decodeAsset(&a, ids, tags, links, created, updated); err != nil {
		return nil, err
	}
	a.OpenFindings = af.Counts()
	a.Risk = riskOf(score, a.Criticality, &af)
	return &a, nil
}

// Asset returns one asset by stream id, with its open findings and risk.
func (r *Reader) Asset(ctx context.Context, id string) (*Asset, error) {
	return readkit.Get(ctx, r.db, r.assetSelect(), "a.id", id, scanAssetRow)
}

// Assets lists assets.
func (r *Reader) Assets(ctx context.Context, aq Query) (readkit.Page[Asset], error) {
	q := readkit.NewQuery(r.db.Dialect)
	q.In("a.kind", aq.Kind)
	q.In("a.criticality", aq.Criticality)
	q.Eq("a.environment", aq.Environment)
	q.Eq("a.owner_team", aq.OwnerTeam)
	q.Eq("a.status", aq.Status)
	ownership.Restrict(q, "a.id", aq.Scope)
	if aq.Tag != "" {
		// tags is a JSON array of strings that hold no quote or backslash (the schema's pattern).
		q.Where = append(q.Where, "a.tags LIKE "+q.Arg(`%"`+readkit.EscapeLike(aq.Tag)+`"%`)+` ESCAPE '\'`)
	}
	if aq.Q != "" {
		q.Like("a.name", aq.Q)
	}
	if aq.MinRisk != nil {
		q.Cond(riskExpr+" >= %s", *aq.MinRisk)
	}
	if aq.HasOpen != nil {
		if *aq.HasOpen {
			q.Where = append(q.Where, "COALESCE(af.open_total, 0) > 0")
		} else {
			q.Where = append(q.Where, "COALESCE(af.open_total, 0) = 0")
		}
	}
	spec, tail, limit, err := readkit.Paginate(q, aq.List, assetSorts, Sorts[0], "a.id")
	if err != nil {
		return readkit.Page[Asset]{}, err
	}
	return readkit.ListPage(ctx, r.db, r.assetSelect()+q.WhereSQL()+tail, q.Args, limit, spec, scanAssetRow, func(a *Asset) string { return a.ID })
}

// OwnedStreams returns those of ids (stream ids) whose asset or finding the teams of s own,
// in the order given (see projections/ownership); a nil scope owns every one.
func (r *Reader) OwnedStreams(ctx context.Context, s ownership.Scope, ids []string) ([]string, error) {
	return ownership.Streams(ctx, r.db, s, ids)
}
