package clickhouse

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/socplatform/soc/projections/analytics"
)

// maxMergeDepth bounds how far a merge chain is followed (chains are short; the bound only
// guards against a cycle a damaged model could hold), as projections/ownership does.
const maxMergeDepth = 32

// selection is what a query may see of the assets: every asset row (when the answer needs
// them), and, when the filter or the caller's scope narrows the assets, the visible ids.
type selection struct {
	assets     map[string]*analytics.AssetDim
	restricted bool
	ids        []string
}

// assetFiltered reports whether f narrows the findings by their asset.
func assetFiltered(f *analytics.Filter) bool {
	return f.Scope != nil || len(f.Teams) > 0 || len(f.Environments) > 0 || len(f.AssetKinds) > 0 || len(f.Tags) > 0
}

// selectAssets loads the asset rows of generation gen when the filter narrows by asset or need
// says the answer names assets, and computes the visible ids. The rule is the read side's
// (projections/ownership): an asset is judged by what the model knows of it now, and a merged
// asset by its survivor (the end of its merged_into chain), whose team, environment, kind and
// tags it takes.
func (r *Reader) selectAssets(ctx context.Context, gen uint64, f *analytics.Filter, need bool) (selection, error) {
	var sel selection
	if !need && !assetFiltered(f) {
		return sel, nil
	}
	var err error
	if sel.assets, err = r.assets.load(ctx, r.db, gen); err != nil {
		return sel, err
	}
	if !assetFiltered(f) {
		return sel, nil
	}
	sel.restricted, sel.ids = true, []string{}
	for id := range sel.assets {
		if matches(f, survivor(sel.assets, id)) {
			sel.ids = append(sel.ids, id)
		}
	}
	slices.Sort(sel.ids)
	return sel, nil
}

// assetCache keeps every asset row of one generation as of one INSERT into its table: the
// queries of a dashboard read the same rows, and loading some 20,000 of them costs more than
// most answers. The key is the highest block number of the table's active parts, which every
// INSERT raises and a merge keeps (the position would not do: from Kafka a batch may apply
// asset events below the position already stored). The rows are shared read-only.
type assetCache struct {
	mu    sync.Mutex
	gen   uint64
	block uint64
	rows  map[string]*analytics.AssetDim
}

// load returns the asset rows of generation gen, from the cache when no INSERT has reached the
// table since they were read.
func (c *assetCache) load(ctx context.Context, db *DB, gen uint64) (map[string]*analytics.AssetDim, error) {
	var block uint64
	err := db.conn.QueryRow(ctx, "SELECT toUInt64(max(max_block_number)) FROM system.parts WHERE database = currentDatabase() AND table = ? AND active",
		table("analytics_assets", gen)).Scan(&block)
	if err != nil {
		return nil, db.wrap("reading the assets' parts", err)
	}
	c.mu.Lock()
	if c.rows != nil && c.gen == gen && c.block == block {
		defer c.mu.Unlock()
		return c.rows, nil
	}
	c.mu.Unlock()
	rows, err := db.loadAssets(ctx, gen, nil)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.gen, c.block, c.rows = gen, block, rows
	c.mu.Unlock()
	return rows, nil
}

// survivor is the asset that id's merge chain ends at (id's own row when not merged; nil when
// the model has no row for id).
func survivor(assets map[string]*analytics.AssetDim, id string) *analytics.AssetDim {
	a := assets[id]
	for i := 0; a != nil && a.MergedInto != "" && i < maxMergeDepth; i++ {
		next := assets[a.MergedInto]
		if next == nil {
			break
		}
		a = next
	}
	return a
}

// survivor returns the id and row of id's survivor (id itself and an empty row for an asset
// the model has no row of: its findings count under their own asset id, unnamed).
func (sel *selection) survivor(id string) (string, *analytics.AssetDim) {
	if a := survivor(sel.assets, id); a != nil {
		return a.AssetID, a
	}
	return id, &analytics.AssetDim{AssetID: id}
}

// matches reports whether asset a (a survivor) passes f's asset filters and scope.
func matches(f *analytics.Filter, a *analytics.AssetDim) bool {
	if a == nil {
		return false
	}
	if f.Scope != nil && !slices.Contains(f.Scope, a.Team) {
		return false
	}
	in := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	if !in(f.Teams, a.Team) || !in(f.Environments, a.Environment) || !in(f.AssetKinds, a.Kind) {
		return false
	}
	for _, t := range f.Tags {
		if !slices.Contains(a.Tags, t) {
			return false
		}
	}
	return true
}

// where is the SQL condition (" AND …", bind arguments) of the filter's scanners, severities
// and visible assets, over a table with asset_id, and scanner/severity columns when hasFinding.
func (sel *selection) where(f *analytics.Filter, hasSeverity bool) (string, []any) {
	var b strings.Builder
	var args []any
	if sel.restricted {
		if len(sel.ids) == 0 {
			b.WriteString(" AND 0") // nothing visible (IN () is not SQL)
		} else {
			b.WriteString(" AND asset_id IN ?")
			args = append(args, set(sel.ids))
		}
	}
	if len(f.Scanners) > 0 {
		b.WriteString(" AND scanner IN ?")
		args = append(args, set(f.Scanners))
	}
	if hasSeverity && len(f.Severities) > 0 {
		b.WriteString(" AND severity IN ?")
		args = append(args, set(f.Severities))
	}
	return b.String(), args
}
