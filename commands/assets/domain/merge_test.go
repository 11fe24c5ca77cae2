package domain

import "testing"

func TestMergeRetiresTheSourceForGoodAndIndexesTheAlias(t *testing.T) {
	x := NewIndex()
	src := registered(t, assetID(1), aHost(), x)
	dst := registered(t, assetID(2), RegisterAsset{Kind: Host, Name: "web01b", Identifiers: Identifiers{IPs: []string{"10.0.0.2"}}}, x)

	replay(t, dst, assetID(2), must(t)(dst.TakeMerged(assetID(1), "")), x)
	replay(t, src, assetID(1), must(t)(src.MergeInto(assetID(2), "same machine")), x)
	if src.Status != StatusRetired || src.MergedInto != assetID(2) || len(dst.Merged) != 1 || dst.Merged[0] != assetID(1) {
		t.Fatalf("source %+v target %+v", src, dst)
	}
	if _, _, retired, _ := x.Lookup(assetID(1)); !retired {
		t.Fatal("the index still holds the merged asset live")
	}
	if got := x.Aliases(assetID(2)); len(got) != 1 || got[0] != assetID(1) {
		t.Fatalf("aliases %v", got)
	}
	// Repeating the merge changes nothing on either side.
	if ch, err := src.MergeInto(assetID(2), ""); err != nil || len(ch) != 0 {
		t.Fatalf("repeated MergeInto: %v %v", ch, err)
	}
	if ch, err := dst.TakeMerged(assetID(1), ""); err != nil || len(ch) != 0 {
		t.Fatalf("repeated TakeMerged: %v %v", ch, err)
	}
	// A merge is final; a merged (retired) asset takes no merge; nothing merges into itself.
	_, err := src.Reactivate("back")
	wantRule(t, "reactivate merged", err, "/reason")
	third := registered(t, assetID(3), RegisterAsset{Kind: Host, Name: "c", Identifiers: Identifiers{IPs: []string{"10.0.0.3"}}}, x)
	_, err = src.TakeMerged(assetID(3), "")
	wantRule(t, "merge into a merged asset", err, "/target_asset_id")
	_, err = src.MergeInto(assetID(3), "")
	wantRule(t, "merge a merged asset elsewhere", err, "/target_asset_id")
	_, err = third.MergeInto(assetID(3), "")
	wantRule(t, "self merge", err, "/target_asset_id")
	_, err = third.TakeMerged(assetID(3), "")
	wantRule(t, "self merge (target)", err, "/target_asset_id")

	// Chains: c merged into the target of a merge makes both aliases of the end.
	replay(t, dst, assetID(2), must(t)(dst.MergeInto(assetID(3), "")), x)
	replay(t, third, assetID(3), must(t)(third.TakeMerged(assetID(2), "")), x)
	if got := x.Aliases(assetID(3)); len(got) != 2 {
		t.Fatalf("aliases of the chain's end: %v", got)
	}
	for _, id := range []string{assetID(1), assetID(2), assetID(3)} {
		if got := x.Survivor(id); got != assetID(3) {
			t.Fatalf("survivor of %s: %s, want the chain's end %s", id, got, assetID(3))
		}
	}
	if got := x.Survivor(assetID(4)); got != assetID(4) {
		t.Fatalf("survivor of an asset never merged: %s", got)
	}
	// A snapshot keeps the merges.
	y := NewIndex()
	y.Restore(x.Entries())
	if got := y.Aliases(assetID(3)); len(got) != 2 {
		t.Fatalf("restored aliases: %v", got)
	}
}
