package vulns_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/assets"
	"github.com/socplatform/soc/projections/internal/testdb"
	"github.com/socplatform/soc/projections/vulns"
)

// TestMergedAssetsFindingsFollow: after a merge the source's findings are listed under the
// target, the source shows as merged into it with no open findings, the target's totals include
// the source's, and a later event of a moved finding counts on the target; whatever the batch
// size (the merge splits a batch).
func TestMergedAssetsFindingsFollow(t *testing.T) {
	for _, size := range []int{1, 3, 100} {
		t.Run(fmt.Sprintf("batch%d", size), func(t *testing.T) { mergedAssetsFindingsFollow(t, size) })
	}
}

func mergedAssetsFindingsFollow(t *testing.T, size int) {
	testdb.Dialects(t, func(t *testing.T, db *projections.DB) {
		ps := setupAll(t, db)
		ctx := context.Background()
		r, ar := vulns.NewReader(db), assets.NewReader(db)
		g := newGen(t)
		source, target := assetID(1), assetID(2)
		evs := []events.Envelope{
			g.registerAsset(1, "web-1-old", ""), g.registerAsset(2, "web-1", "high"),
			g.openFinding(findingSpec{n: 1, asset: 1, severity: "critical"}),
			g.openFinding(findingSpec{n: 2, asset: 1, severity: "high"}),
			g.openFinding(findingSpec{n: 3, asset: 2, severity: "low"}),
			g.ev(source, "AssetMergedInto", obj{"target_asset_id": target, "reason": "same host"}),
			g.ev(target, "AssetMerged", obj{"source_asset_id": source, "reason": "same host"}),
			g.ev(findingID(2), "FindingResolved", obj{"reason": "patched", "resolved_at": g.at(20).Format("2006-01-02T15:04:05Z")}),
		}
		feed(t, db, 1, size, evs, ps...)

		page, err := r.Findings(ctx, vulns.FindingQuery{AssetID: target})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 3 {
			t.Fatalf("batch size %d: %d findings under the target, want 3", size, len(page.Items))
		}
		for _, f := range page.Items {
			if f.AssetID != target || f.AssetName != "web-1" {
				t.Errorf("finding %s on %s (%s)", f.ID, f.AssetID, f.AssetName)
			}
		}
		if page, err = r.Findings(ctx, vulns.FindingQuery{AssetID: source}); err != nil || len(page.Items) != 0 {
			t.Fatalf("findings still under the source: %d %v", len(page.Items), err)
		}
		src, err := ar.Asset(ctx, source)
		if err != nil {
			t.Fatal(err)
		}
		if src.Status != "merged" || src.MergedInto != target || src.OpenFindings["critical"] != 0 || src.OpenFindings["high"] != 0 || src.Risk.Score != 0 {
			t.Errorf("batch size %d: source %+v", size, src)
		}
		tgt, err := ar.Asset(ctx, target)
		if err != nil {
			t.Fatal(err)
		}
		// The resolved high one no longer counts; the critical one moved, the low one stayed.
		if tgt.Status != "active" || tgt.OpenFindings["critical"] != 1 || tgt.OpenFindings["high"] != 0 || tgt.OpenFindings["low"] != 1 || tgt.Risk.Score == 0 {
			t.Errorf("batch size %d: target %+v", size, tgt)
		}
	})
}
