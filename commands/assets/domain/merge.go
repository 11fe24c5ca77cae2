package domain

import (
	"slices"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/schemas/contracts"
)

// Merging. Two assets that are one thing (a host registered twice, an asset a scan registered
// weakly and the one a person registered) are merged: the source is retired for good
// (AssetMergedInto on its stream) and the target records it (AssetMerged on its own). Nothing
// moves between streams: the findings of the source keep their streams, and the import treats
// the source's id as an alias of the target's (Index.Aliases), so the next scan of the target
// sees, resolves and reopens them as the target's. A merge is final: a merged asset refuses
// reactivation, and merging into a retired (so also a merged) asset is refused, which rules
// out cycles. Repeating a merge changes nothing.

// MergeInto merges this asset (the source) into target. The application layer checks that the
// target is another live asset (TakeMerged) first.
func (a *Asset) MergeInto(target, reason string) ([]es.Change, error) {
	if !a.registered {
		return nil, &NotFoundError{AssetID: a.ID}
	}
	switch {
	case target == a.ID:
		return nil, rule("/target_asset_id", "an asset cannot be merged into itself")
	case a.MergedInto == target:
		return nil, nil
	case a.MergedInto != "":
		return nil, rule("/target_asset_id", "asset %s was merged into %s already", a.ID, a.MergedInto)
	}
	r, err := mergeReason(reason)
	if err != nil {
		return nil, err
	}
	return []es.Change{{Type: contracts.TypeAssetMergedInto, Data: contracts.AssetMergedInto{TargetAssetID: target, Reason: r}}}, nil
}

// TakeMerged records, on the target, that source was merged into it. The target must be live.
func (a *Asset) TakeMerged(source, reason string) ([]es.Change, error) {
	if !a.registered {
		return nil, rule("/target_asset_id", "no such asset: %s", a.ID)
	}
	switch {
	case source == a.ID:
		return nil, rule("/target_asset_id", "an asset cannot be merged into itself")
	case slices.Contains(a.Merged, source):
		return nil, nil
	case a.Status == StatusRetired:
		return nil, rule("/target_asset_id", "the target asset %s is retired (or merged into another)", a.ID)
	}
	r, err := mergeReason(reason)
	if err != nil {
		return nil, err
	}
	return []es.Change{{Type: contracts.TypeAssetMerged, Data: contracts.AssetMerged{SourceAssetID: source, Reason: r}}}, nil
}

func mergeReason(reason string) (string, error) {
	if reason == "" {
		reason = "merged"
	}
	return para(reason, "/reason", MaxReasonLen, true)
}
