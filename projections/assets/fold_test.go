package assets

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

func envelope(t *testing.T, version int64, typ string, data any) events.Envelope {
	t.Helper()
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	return events.Envelope{StreamID: "assets-asset-0190a000-0000-7000-8000-000000000001", Version: version, Type: typ, Data: b,
		OccurredAt: time.Date(2026, 1, 1, 0, 0, int(version), 0, time.UTC)}
}

// TestWeakAndMergedAssetRows: an asset registered weakly shows its weak key as its only
// identifier; merged into another, it is merged and names the target.
func TestWeakAndMergedAssetRows(t *testing.T) {
	evs := []events.Envelope{envelope(t, 1, contracts.TypeAssetRegisteredWeakly,
		contracts.AssetRegisteredWeakly{Kind: contracts.AssetKindRepository, Name: ".", WeakKey: "weak:artifact:.", ScanID: "s"})}
	a, err := FoldAsset(evs)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != "repository" || a.Name != "." || a.Status != "active" || len(a.Identifiers[WeakIdentifier]) != 1 || a.Identifiers[WeakIdentifier][0] != "weak:artifact:." || a.Version != 1 {
		t.Fatalf("weak row %+v", a)
	}
	evs = append(evs, envelope(t, 2, contracts.TypeAssetMergedInto,
		contracts.AssetMergedInto{TargetAssetID: "assets-asset-0190a000-0000-7000-8000-000000000002", Reason: "same"}))
	if a, err = FoldAsset(evs); err != nil || a.Status != "merged" || a.MergedInto != "assets-asset-0190a000-0000-7000-8000-000000000002" || a.Version != 2 {
		t.Fatalf("merged row %+v %v", a, err)
	}
	evs = append(evs, envelope(t, 3, contracts.TypeAssetMerged,
		contracts.AssetMerged{SourceAssetID: "assets-asset-0190a000-0000-7000-8000-000000000003", Reason: "same"}))
	if a, err = FoldAsset(evs); err != nil || a.Version != 3 {
		t.Fatalf("row after AssetMerged %+v %v", a, err)
	}
}
