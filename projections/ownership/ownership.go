// Package ownership is the read side's rule of which team owns what, for team scoping (a
// remediator sees only what its teams own): as SQL over the assets and findings views, so
// that lists, counts and cursors are computed over the visible rows only, and as a lookup of
// the streams a set of teams owns (detail reads, as_of, the stream and audit endpoints, /ws).
//
// The rule, always as the read models hold it now:
//
//   - an asset is owned by its owner_team (AssetRegistered, changed by AssetClassified); an
//     asset merged into another follows its survivor (the end of its merged_into chain), whatever
//     its own owner_team says;
//   - a finding is owned by the owner of its asset now (reclassifying an asset to another team
//     moves its findings at once; the findings read model re-points a merged asset's findings to
//     the survivor, and a finding still on a merged asset follows the survivor too);
//   - nothing else (an asset without owner_team, a scan, a CVE stream, a saga, an identity
//     stream) is owned by any team.
//
// Ownership is not stored twice: findings do not carry a copy of their asset's team, the
// queries join the assets view (indexed by owner_team and merged_into). A copy would have to be
// rewritten on every finding of an asset when it is reclassified, and kept in step across two
// projections that run at their own pace.
//
// The tests live with the read models' (projections/vulns, TestTeamScoping), on both dialects.
package ownership

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/socplatform/soc/projections/readkit"
)

// Scope is the teams a read is restricted to: nil means every team (no restriction), an empty
// non-nil scope means none (a principal of no team sees nothing owned).
type Scope []string

// Normalize returns s sorted and without duplicates or empty names (nil stays nil), so that
// equal scopes hash and cache alike.
func Normalize(s []string) Scope {
	if s == nil {
		return nil
	}
	out := make([]string, 0, len(s))
	for _, t := range s {
		if t != "" {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// maxMergeDepth bounds how far a merge chain is followed (a chain is short; the bound only
// guards the recursion against a cycle that a damaged model could hold).
const maxMergeDepth = 32

// OwnedAssets returns a subquery (for "col IN (…)") of the ids of the assets that teams own,
// its arguments added to q. teams must not be empty (Restrict handles that).
//
// The assets a team owns directly come from the (owner_team) index. Merged assets are few: the
// recursion starts from them (a range of the (merged_into) index: above the empty string, as
// "not equal to it" is served by no index) and follows each one's chain by primary key to its survivor, whose
// team it takes. Starting from the team's assets instead would look up the assets merged into
// each of them, which the planner answers by scanning every asset per owned one.
func OwnedAssets(q *readkit.Query, teams []string) string {
	in := func() string {
		ps := make([]string, len(teams))
		for i, t := range teams {
			ps[i] = q.Arg(t)
		}
		return "(" + strings.Join(ps, ", ") + ")"
	}
	return "WITH RECURSIVE chain(id, top, depth) AS (" +
		"SELECT id, merged_into, 0 FROM assets WHERE merged_into > ''" +
		" UNION ALL SELECT c.id, t.merged_into, c.depth + 1 FROM chain c JOIN assets t ON t.id = c.top" +
		" WHERE t.merged_into > '' AND c.depth < " + strconv.Itoa(maxMergeDepth) +
		") SELECT id FROM assets WHERE owner_team IN " + in() + " AND merged_into = ''" +
		" UNION ALL SELECT c.id FROM chain c JOIN assets s ON s.id = c.top WHERE s.owner_team IN " + in() + " AND s.merged_into = ''"
}

// Restrict adds to q the condition that assetCol (an asset id column) names an asset that s
// owns; nothing for a nil scope, a condition no row meets for an empty one.
func Restrict(q *readkit.Query, assetCol string, s Scope) {
	switch {
	case s == nil:
	case len(s) == 0:
		q.Where = append(q.Where, "1 = 0")
	default:
		q.Where = append(q.Where, assetCol+" IN ("+OwnedAssets(q, s)+")")
	}
}

// Streams returns those of ids (asset and finding stream ids; others are owned by no team)
// that s owns, in the order given. A nil scope owns everything.
func Streams(ctx context.Context, db *readkit.DB, s Scope, ids []string) ([]string, error) {
	if s == nil {
		return slices.Clone(ids), nil
	}
	var assets, findings []string
	for _, id := range ids {
		switch {
		case strings.HasPrefix(id, "assets-asset-"):
			assets = append(assets, id)
		case strings.HasPrefix(id, "vulns-finding-"):
			findings = append(findings, id)
		}
	}
	if len(s) == 0 || len(assets)+len(findings) == 0 {
		return []string{}, nil
	}
	owned := map[string]bool{}
	collect := func(table, assetCol string, keys []string) error {
		for chunk := range slices.Chunk(keys, 500) {
			q := readkit.NewQuery(db.Dialect)
			q.In("x.id", chunk)
			Restrict(q, "x."+assetCol, s)
			rows, err := db.Query(ctx, "SELECT x.id FROM "+table+" x"+q.WhereSQL(), q.Args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				owned[id] = true
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	}
	if err := collect("assets", "id", assets); err != nil {
		return nil, err
	}
	if err := collect("findings", "asset_id", findings); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(owned))
	for _, id := range ids {
		if owned[id] {
			out = append(out, id)
		}
	}
	return out, nil
}
