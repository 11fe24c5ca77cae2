// Package vulns is the vulns context's read side: the findings and the CVE catalogue as
// projections (projections.Projection) writing SQLite or PostgreSQL tables, the queries the query
// API runs over them (Reader), and a pure fold function that rebuilds one finding from its stream
// (FoldFinding: point-in-time reads, as_of). The other contexts' read models are
// projections/assets and projections/scans; what they all share is projections/readkit.
//
// The findings projection also keeps asset_findings, what the findings know of each asset (open
// findings by severity, risk points): the assets read model joins it (AssetFindings) for an
// asset's open findings and risk, and a finding shows its asset's name from the assets table.
//
// The read models' tests live here (vulns_test): they span the assets and vulns read models,
// and assets imports vulns.
//
// # Projections and tables
//
//	findings  (contexts vulns,  findings        one row per finding stream (Finding* events)
//	          assets)
//	                            finding_cves    (finding_id, cve), finding_cwes (finding_id, cwe)
//	                            asset_findings  per asset: open findings by severity, KEV count,
//	                                            risk points (thousandths) by severity
//	cves      (context vulns)   cves            one row per CVE, keyed by CVE id (CVE* events)
//
// A finding's locations are those of its FindingOpened (v2 lists them all; a finding of one
// location, or one opened under v1, shows that one); FindingSeen carries none, so a reimport
// that reports other locations keeps the first import's. The findings projection also reads
// the assets context for AssetMerged: the source's findings are re-pointed to the target and
// the source's asset_findings row is added to the target's and zeroed, at the merge's place in
// the log (the batch is split there), so an incremental model equals a rebuild. FoldFinding
// (as_of) folds the finding's stream alone: it shows the asset the finding was opened on.
// Columns added after a model's first generations (findings.locations, assets.merged_into) are
// added to a live generation at start (projections.Upgrader); rows projected before hold the
// defaults until a rebuild (soc replay).
//
// Both dialects share one DDL and one code path: times are BIGINT unix microseconds, booleans
// INTEGER 0/1, lists and objects JSON TEXT ("" when empty); key and sort text columns compare
// bytewise on both (COLLATE "C" on PostgreSQL). Columns the lists sort on are NOT NULL so that
// keyset pagination compares plain values: a finding without a due date stores due_at =
// MaxInt64 (it sorts after every date and never matches "due before"), a missing CVSS or EPSS
// score is -1. The tables are this package's; read them through Reader.
//
// # Apply: one load, an in-memory fold, multi-row writes
//
// Per batch a projection collects the keys its events touch, loads those rows in one
// SELECT … WHERE id IN (…), folds the events into them in memory with the same pure functions
// FoldFinding uses (so an as_of read and the table never disagree), and writes the
// changed rows back with multi-row INSERT … ON CONFLICT (id) DO UPDATE statements cut into
// chunks of fixed sizes (so the statement texts repeat: pgx's per-connection cache and
// SQLite's per-batch prepared statements are reused; every statement stays under SQLite's
// 32766 bind parameters). The findings projection then rewrites finding_cves/finding_cwes only
// for findings whose lists changed and adds the batch's per-asset deltas (before/after each
// finding it touched, in integer counts and thousandths of points) to asset_findings in one
// upsert: integer sums do not depend on batch boundaries, so an incremental model equals a
// rebuild.
//
// A handled event whose data cannot be decoded, or that comes before its stream's first event
// (a finding event before FindingOpened), is a poison
// event: Apply returns it as a *projections.EventError. Unknown event types are ignored.
//
// # Risk score
//
// A finding scores points while it is open (open, reopened, triaged, in_remediation):
//
//	points = base(severity) × (2 if KEV-listed) × (1 + EPSS)      EPSS 0 when unknown
//	base   = critical 10, high 5, medium 2, low 0.5, info 0
//
// rounded to 0.001 (stored as integer thousandths, so sums are exact). An asset's score
// (projections/assets) is
//
//	score = min(100, Σ points of its open findings × criticality factor)
//	factor = critical 1.5, high 1.2, medium 1.0, low 0.8, not classified 1.0
//
// Risk.Components lists the points per severity (critical … info), their sum ("points") and
// "criticality_factor", so min(100, points × criticality_factor) recomputes Score. The score
// is computed in SQL from asset_findings and the asset's stored factor, so sorting by risk and
// the MinRisk filter run in the database and agree with the returned Score.
//
// # Queries
//
// Reader reads the views (never a generation). Filters are those of FindingQuery; every value is
// a bind parameter and sort columns come from fixed maps. Lists are keyset-paginated (readkit): Key.Value is the sort field's value of the last row (RFC 3339 times,
// numbers as Go formats them, "" for a missing value; the severity sort, which orders by
// severity then by the earliest due date, uses "<severity>|<due>"), Key.ID breaks ties, Desc
// reverses both. FindingQuery.Scope restricts a list to the findings of the assets some teams
// own, and ScopedCVE a CVE's count of open findings (projections/ownership, joined on the
// assets view; nil: every team). List.Limit 0 means readkit.DefaultLimit. A bad sort field, limit or cursor is a
// *readkit.QueryError naming the parameter ("sort", "limit", "cursor"); a missing row is
// readkit.ErrNotFound.
package vulns
