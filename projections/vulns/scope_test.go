package vulns_test

import (
	"context"
	"slices"
	"testing"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/assets"
	"github.com/socplatform/soc/projections/internal/testdb"
	"github.com/socplatform/soc/projections/ownership"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/projections/vulns"
)

// scopedDataset: asset 1 owned by alpha, 2 by beta, 3 by no team; 5 (beta) merged into 4
// (beta), then 4 into 1: both follow their survivor, so they are alpha's. Findings 1 and 2 on
// asset 1, 3 on asset 2, 4 on asset 3, 5 on asset 5 (moved to 1 by the merges); 1 and 3 carry
// the same CVE.
func scopedDataset(g *gen) []events.Envelope {
	var evs []events.Envelope
	for _, a := range []struct {
		n          int
		name, team string
	}{{1, "alpha-web", "alpha"}, {2, "beta-db", "beta"}, {3, "nobody", ""}, {4, "beta-old", "beta"}, {5, "beta-older", "beta"}} {
		evs = append(evs, g.registerAsset(a.n, a.name, ""))
		if a.team != "" {
			evs = append(evs, g.ev(assetID(a.n), "AssetClassified", obj{"owner_team": a.team}))
		}
	}
	evs = append(evs,
		g.ev(cveStream(1), "CVEPublished", obj{"id": "CVE-2024-3094", "last_modified": "2024-05-01T00:00:00Z"}),
		g.openFinding(findingSpec{n: 1, asset: 1, severity: "critical", cves: []string{"CVE-2024-3094"}}),
		g.openFinding(findingSpec{n: 2, asset: 1, severity: "high"}),
		g.openFinding(findingSpec{n: 3, asset: 2, severity: "critical", cves: []string{"CVE-2024-3094"}}),
		g.openFinding(findingSpec{n: 4, asset: 3, severity: "low"}),
		g.openFinding(findingSpec{n: 5, asset: 5, severity: "medium"}),
		g.ev(assetID(5), "AssetMergedInto", obj{"target_asset_id": assetID(4), "reason": "same host"}),
		g.ev(assetID(4), "AssetMerged", obj{"source_asset_id": assetID(5), "reason": "same host"}),
		g.ev(assetID(4), "AssetMergedInto", obj{"target_asset_id": assetID(1), "reason": "same host"}),
		g.ev(assetID(1), "AssetMerged", obj{"source_asset_id": assetID(4), "reason": "same host"}),
	)
	return evs
}

// TestTeamScoping: lists, counts, cursors and the owned-streams lookup see only what the
// scope's teams own; a reclassified asset takes its findings along.
func TestTeamScoping(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *projections.DB) {
		ps := setupAll(t, db)
		ctx := context.Background()
		r, ar := vulns.NewReader(db), assets.NewReader(db)
		g := newGen(t)
		feed(t, db, 1, 4, scopedDataset(g), ps...)

		findings := func(s ownership.Scope) []string {
			t.Helper()
			var ids []string
			var after *readkit.Key
			for range 20 { // one row a page: the cursor walks the visible rows only
				p, err := r.Findings(ctx, vulns.FindingQuery{Scope: s, List: readkit.List{Limit: 1, After: after}})
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range p.Items {
					ids = append(ids, f.ID)
				}
				if after = p.Next; after == nil {
					break
				}
			}
			slices.Sort(ids)
			return ids
		}
		assetList := func(s ownership.Scope) []string {
			t.Helper()
			p, err := ar.Assets(ctx, assets.Query{Scope: s, List: readkit.List{Limit: 100, Sort: "id"}})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, a := range p.Items {
				ids = append(ids, a.ID)
			}
			return ids
		}
		cveCount := func(s ownership.Scope) int64 {
			t.Helper()
			c, err := r.ScopedCVE(ctx, "CVE-2024-3094", s)
			if err != nil {
				t.Fatal(err)
			}
			return c.OpenFindings
		}
		owned := func(s ownership.Scope) []string {
			t.Helper()
			ids := []string{assetID(1), assetID(2), assetID(3), assetID(4), assetID(5), assetID(9),
				findingID(1), findingID(2), findingID(3), findingID(4), findingID(5), findingID(9), "scans-scan-" + uuidN(4, 1)}
			got, err := ar.OwnedStreams(ctx, s, ids)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		eq := func(what string, got, want []string) {
			t.Helper()
			if !slices.Equal(got, want) {
				t.Errorf("%s: got %v, want %v", what, got, want)
			}
		}
		alpha, beta, none := ownership.Scope{"alpha"}, ownership.Scope{"beta"}, ownership.Scope{}

		eq("alpha's findings", findings(alpha), []string{findingID(1), findingID(2), findingID(5)})
		eq("beta's findings", findings(beta), []string{findingID(3)})
		eq("a teamless principal's findings", findings(none), nil)
		eq("every finding", findings(nil), []string{findingID(1), findingID(2), findingID(3), findingID(4), findingID(5)})
		eq("alpha's assets (merged ones follow the survivor)", assetList(alpha), []string{assetID(1), assetID(4), assetID(5)})
		eq("beta's assets", assetList(beta), []string{assetID(2)})
		eq("a teamless principal's assets", assetList(none), nil)
		if got := len(assetList(nil)); got != 5 {
			t.Errorf("every asset: %d, want 5", got)
		}
		if a, b, all := cveCount(alpha), cveCount(beta), cveCount(nil); a != 1 || b != 1 || all != 2 {
			t.Errorf("CVE open findings: alpha %d, beta %d, all %d; want 1, 1, 2", a, b, all)
		}
		eq("alpha's streams", owned(alpha), []string{assetID(1), assetID(4), assetID(5), findingID(1), findingID(2), findingID(5)})
		eq("beta's streams", owned(beta), []string{assetID(2), findingID(3)})
		eq("a teamless principal's streams", owned(none), []string{})
		if got := owned(nil); len(got) != 13 {
			t.Errorf("an unscoped lookup owns %d of 13", len(got))
		}
		// Combined with a filter, the scope still holds.
		if p, err := r.Findings(ctx, vulns.FindingQuery{Scope: alpha, AssetID: assetID(2)}); err != nil || len(p.Items) != 0 {
			t.Errorf("alpha filtering on beta's asset: %d rows, %v", len(p.Items), err)
		}

		// Reclassifying beta's asset to alpha moves its findings along, at once.
		feed(t, db, 1, 10, []events.Envelope{g.ev(assetID(2), "AssetClassified", obj{"owner_team": "alpha"})}, ps...)
		eq("alpha's findings after the reclassification", findings(alpha), []string{findingID(1), findingID(2), findingID(3), findingID(5)})
		eq("beta's findings after the reclassification", findings(beta), nil)
		eq("beta's streams after the reclassification", owned(beta), []string{})
		if a, b := cveCount(alpha), cveCount(beta); a != 2 || b != 0 {
			t.Errorf("CVE open findings after the reclassification: alpha %d, beta %d; want 2, 0", a, b)
		}
		// Clearing the owner team leaves the asset to nobody.
		feed(t, db, 1, 10, []events.Envelope{g.ev(assetID(1), "AssetClassified", obj{"owner_team": ""})}, ps...)
		eq("alpha's assets once asset 1 has no team", assetList(alpha), []string{assetID(2)})
	})
}
