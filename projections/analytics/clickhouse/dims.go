package clickhouse

import (
	"context"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/socplatform/soc/projections/analytics"
)

const (
	findingCols = "finding_id, asset_id, severity, status, scanner, cve, kev, epss, has_epss, due_at, opened_at, first_seen, triaged_at, risk, version"
	assetCols   = "asset_id, name, kind, team, environment, tags, criticality, merged_into, version"
)

// loadFindings returns the current rows of the given findings in generation gen (one query;
// FINAL: the highest version of each).
func (db *DB) loadFindings(ctx context.Context, gen uint64, ids []string) (map[string]*analytics.FindingDim, error) {
	out := make(map[string]*analytics.FindingDim, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := db.conn.Query(ctx, "SELECT "+findingCols+" FROM "+table("analytics_findings", gen)+" FINAL WHERE finding_id IN ?", set(ids))
	if err != nil {
		return nil, db.wrap("loading findings", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f analytics.FindingDim
		var kev, hasEPSS uint8
		var version uint64
		if err := rows.Scan(&f.FindingID, &f.AssetID, &f.Severity, &f.Status, &f.Scanner, &f.CVE, &kev, &f.EPSS, &hasEPSS,
			&f.DueAt, &f.OpenedAt, &f.FirstSeen, &f.TriagedAt, &f.Risk, &version); err != nil {
			return nil, db.wrap("loading findings", err)
		}
		f.KEV, f.HasEPSS, f.Version = kev == 1, hasEPSS == 1, int64(version)
		out[f.FindingID] = &f
	}
	return out, db.wrap("loading findings", rows.Err())
}

// loadAssets returns the current rows of the given assets in generation gen (nil ids: every
// asset).
func (db *DB) loadAssets(ctx context.Context, gen uint64, ids []string) (map[string]*analytics.AssetDim, error) {
	out := make(map[string]*analytics.AssetDim, len(ids))
	q, args := "SELECT "+assetCols+" FROM "+table("analytics_assets", gen)+" FINAL", []any(nil)
	if ids != nil {
		if len(ids) == 0 {
			return out, nil
		}
		q, args = q+" WHERE asset_id IN ?", []any{set(ids)}
	}
	rows, err := db.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, db.wrap("loading assets", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a analytics.AssetDim
		var version uint64
		if err := rows.Scan(&a.AssetID, &a.Name, &a.Kind, &a.Team, &a.Environment, &a.Tags, &a.Criticality, &a.MergedInto, &version); err != nil {
			return nil, db.wrap("loading assets", err)
		}
		a.Version = int64(version)
		out[a.AssetID] = &a
	}
	return out, db.wrap("loading assets", rows.Err())
}

// set binds a list for "col IN ?" as a tuple ('a', 'b'): 18.16 refuses the array form
// (IN (['a', 'b'])) that clickhouse-go makes of a slice; both servers take the tuple. An empty
// list must not be bound (IN () is a syntax error): callers answer it without a query.
func set[T any](vs []T) ch.GroupSet {
	g := ch.GroupSet{Value: make([]any, len(vs))}
	for i, v := range vs {
		g.Value[i] = v
	}
	return g
}
