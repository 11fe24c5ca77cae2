// Package assets is the assets context's read side: the assets read model, one row per asset
// stream (table assets), folded from the Asset* events (Projection); its queries (Reader: one
// asset, or a keyset-paginated list filtered by kind, criticality, environment, owner, status,
// tag, name, risk and open findings); and FoldAsset, which rebuilds one asset from its stream for
// point-in-time reads.
//
// An asset's open findings and risk come from the vulns read model: Reader joins its
// asset_findings (vulns.AssetFindings) and computes the score in SQL,
//
//	score = min(100, Σ points of its open findings × criticality factor)
//	factor = critical 1.5, high 1.2, medium 1.0, low 0.8, not classified 1.0
//
// so sorting by risk and the MinRisk filter run in the database and agree with the returned
// Score; Risk.Components lists the terms, so a reader can recompute it (RiskFormula). FoldAsset
// cannot know them as of a past time (they depend on the findings' streams) and says so.
//
// An asset event before the stream's AssetRegistered is a poison event. The table is this
// package's; read it through Reader. The tests live with the vulns read model's (vulns_test).
package assets
