package readmodel

import (
	"context"
	"database/sql"
	"math"
	"slices"
	"strings"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
)

// FindingsProjection is the findings read model: table findings (one row per finding stream),
// finding_cves and finding_cwes (one row per CVE / CWE of a finding, for indexed filters) and
// asset_findings (per asset: open findings by severity, KEV count, risk points).
type FindingsProjection struct{ cache sqlCache }

// NewFindingsProjection returns the findings projection.
func NewFindingsProjection() *FindingsProjection { return &FindingsProjection{} }

var _ projections.Projection = (*FindingsProjection)(nil)

func (*FindingsProjection) Name() string       { return "findings" }
func (*FindingsProjection) Contexts() []string { return []string{"vulns"} }
func (*FindingsProjection) Tables() []string {
	return []string{"findings", "finding_cves", "finding_cwes", "asset_findings"}
}

// Sort columns are NOT NULL so that keyset pagination compares plain values: a missing due date
// is stored as noDue (it sorts after every real date), a missing score as noScore (below every
// real one). Scans turn them back into nil.
const (
	noDue   = math.MaxInt64
	noScore = -1.0
)

var findingTable = &table[Finding]{
	base: "findings",
	cols: func(d projections.Dialect) []column {
		return []column{
			{"id", keyText(d)}, {"asset_id", keyText(d)}, {"title", tText}, {"description", tText},
			{"remediation", tText}, {"severity", tText}, {"severity_rank", tInt}, {"scanner_severity", tText},
			{"status", tText}, {"open", tInt}, {"cves", tText}, {"cwes", tText}, {"cvss_score", tReal},
			{"cvss_vector", tText}, {"kev", tInt}, {"epss", tReal}, {"epss_percentile", tReal}, {"owner", tText},
			{"due_at", tInt}, {"due_urgency", tInt}, {"scanner", tText}, {"format", tText}, {"rule_id", tText},
			{"component", tText}, {"fingerprint", tText}, {"first_scan_id", tText}, {"last_scan_id", tText},
			{"first_seen", tInt}, {"last_seen", tInt}, {"resolved_at", tIntNul}, {"status_reason", tText},
			{"updated_at", tInt}, {"version", tInt}, {"risk_milli", tInt},
		}
	},
	values: func(f *Finding) []any {
		due := int64(noDue)
		if f.DueAt != nil {
			due = micros(*f.DueAt)
		}
		return []any{
			f.ID, f.AssetID, f.Title, f.Description, f.Remediation, f.Severity, severityRank(f.Severity), f.ScannerSeverity,
			f.Status, boolInt(IsOpen(f.Status)), jsonText(f.CVEs), jsonText(f.CWEs), scoreOr(f.CVSSScore),
			f.CVSSVector, boolInt(f.KEV), scoreOr(f.EPSS), scoreOr(f.EPSSPercentile), f.Owner,
			due, -due, f.Scanner, f.Format, f.RuleID, f.Component, f.Fingerprint, f.FirstScanID, f.LastScanID,
			micros(f.FirstSeen), micros(f.LastSeen), nullMicros(f.ResolvedAt), f.StatusReason,
			micros(f.UpdatedAt), f.Version, findingRiskMilli(f),
		}
	},
	scan: func(s scanner) (*Finding, error) { return scanFinding(s) },
	// Set by FindingOpened only (see applyFinding).
	fixed: []string{"asset_id", "title", "description", "remediation", "scanner_severity", "cves", "cwes",
		"cvss_score", "cvss_vector", "scanner", "format", "rule_id", "component", "fingerprint", "first_scan_id", "first_seen"},
}

func scoreOr(f *float64) float64 {
	if f == nil {
		return noScore
	}
	return *f
}

func scoreFrom(v float64) *float64 {
	if v < 0 {
		return nil
	}
	return &v
}

func scanFinding(s scanner, extra ...any) (*Finding, error) {
	var f Finding
	var sevRank, open, kev, due, urgency, first, last, updated, risk int64
	var cves, cwes string
	var cvss, epss, pct float64
	var resolved sql.NullInt64
	dest := []any{&f.ID, &f.AssetID, &f.Title, &f.Description, &f.Remediation, &f.Severity, &sevRank, &f.ScannerSeverity,
		&f.Status, &open, &cves, &cwes, &cvss, &f.CVSSVector, &kev, &epss, &pct, &f.Owner, &due, &urgency,
		&f.Scanner, &f.Format, &f.RuleID, &f.Component, &f.Fingerprint, &f.FirstScanID, &f.LastScanID,
		&first, &last, &resolved, &f.StatusReason, &updated, &f.Version, &risk}
	if err := s.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	var err error
	if f.CVEs, err = fromJSON[[]string](cves); err != nil {
		return nil, err
	}
	if f.CWEs, err = fromJSON[[]string](cwes); err != nil {
		return nil, err
	}
	f.CVSSScore, f.EPSS, f.EPSSPercentile = scoreFrom(cvss), scoreFrom(epss), scoreFrom(pct)
	f.KEV = kev != 0
	if due != noDue {
		t := fromMicros(due)
		f.DueAt = &t
	}
	f.FirstSeen, f.LastSeen, f.UpdatedAt, f.ResolvedAt = fromMicros(first), fromMicros(last), fromMicros(updated), fromNullMicros(resolved)
	return &f, nil
}

// assetFindingsCols are asset_findings' columns; the per-severity ones follow Severities' order.
var assetFindingsCols = []string{
	"asset_id", "open_total",
	"open_critical", "open_high", "open_medium", "open_low", "open_info", "kev_open",
	"points_critical", "points_high", "points_medium", "points_low", "points_info", "risk_milli",
}

// assetFindings is a row of asset_findings (points in thousandths).
type assetFindings struct {
	total     int64
	open      [5]int64
	kev       int64
	points    [5]int64
	riskMilli int64
}

func (a *assetFindings) dest() []any {
	return []any{&a.total, &a.open[0], &a.open[1], &a.open[2], &a.open[3], &a.open[4], &a.kev,
		&a.points[0], &a.points[1], &a.points[2], &a.points[3], &a.points[4], &a.riskMilli}
}

func (a *assetFindings) counts() map[string]int64 {
	m := make(map[string]int64, len(Severities))
	for i, s := range Severities {
		m[s] = a.open[i]
	}
	return m
}

// Create implements projections.Projection.
func (p *FindingsProjection) Create(ctx context.Context, tx *projections.Tx) error {
	d := tx.Dialect
	if err := createTable(ctx, tx, "findings", findingTable.cols(d), "id"); err != nil {
		return err
	}
	// Indexes serve the triage list (open or one status, sorted by severity then due date, keyset
	// on the same columns), an asset's findings and the per-asset aggregate, and the due-date
	// sort/overdue filter. Each one costs every write: keep the set small.
	for _, ix := range [][2]string{
		// Covers the per-asset aggregate, which then never reads the table.
		{"asset", "asset_id, open, severity_rank, kev, risk_milli"},
		// The triage list; a status filter of open statuses uses it too (the Reader adds open = 1).
		{"open_sev", "open, severity_rank, due_urgency, id"},
		// Open findings by due date, and the overdue filter (open = 1 AND due_at < now).
		{"open_due", "open, due_at, id"},
	} {
		if err := createIndex(ctx, tx, "findings", ix[0], ix[1]); err != nil {
			return err
		}
	}
	for _, side := range []struct{ base, col string }{{"finding_cves", "cve"}, {"finding_cwes", "cwe"}} {
		cols := []column{{"finding_id", keyText(d)}, {side.col, keyText(d)}}
		if err := createTable(ctx, tx, side.base, cols, "finding_id", side.col); err != nil {
			return err
		}
		if err := createIndex(ctx, tx, side.base, side.col, side.col+", finding_id"); err != nil {
			return err
		}
	}
	afCols := []column{{"asset_id", keyText(d)}}
	for _, c := range assetFindingsCols[1:] {
		afCols = append(afCols, column{c, tInt})
	}
	return createTable(ctx, tx, "asset_findings", afCols, "asset_id")
}

// Apply implements projections.Projection.
func (p *FindingsProjection) Apply(ctx context.Context, tx *projections.Tx, batch []events.Envelope) ([]projections.Change, error) {
	st, changes, err := applyKeyed(ctx, tx, &p.cache, findingTable, batch,
		func(e *events.Envelope) (string, bool, error) { return e.StreamID, isFindingEvent(e.Type), nil },
		applyFinding,
		func(e *events.Envelope, f *Finding) projections.Change {
			return projections.Change{Projection: "findings", Event: *e, Severity: f.Severity, AssetID: f.AssetID}
		})
	if err != nil || len(st.order) == 0 {
		return changes, err
	}
	if err := p.writeSide(ctx, tx, st, "finding_cves", func(f *Finding) []string { return f.CVEs }); err != nil {
		return nil, err
	}
	if err := p.writeSide(ctx, tx, st, "finding_cwes", func(f *Finding) []string { return f.CWEs }); err != nil {
		return nil, err
	}
	return changes, p.aggregate(ctx, tx, st)
}

// writeSide replaces the side-table rows of the findings whose list changed in the batch (in
// practice: the findings the batch opened).
func (p *FindingsProjection) writeSide(ctx context.Context, tx *projections.Tx, st *batchState[Finding], base string, list func(*Finding) []string) error {
	var stale []string
	var rows [][]any
	for _, id := range st.order {
		before, after := st.before[id], st.after[id]
		var old []string
		if before != nil {
			old = list(before)
		}
		if after == nil || slices.Equal(old, list(after)) {
			continue
		}
		if len(old) > 0 {
			stale = append(stale, id)
		}
		for _, v := range list(after) {
			rows = append(rows, []any{id, v})
		}
	}
	t := tx.Table(base)
	if len(stale) > 0 {
		if err := eachIn(ctx, tx, &p.cache, "DELETE FROM "+t+" WHERE finding_id IN ", "", stale, nil); err != nil {
			return err
		}
	}
	col := strings.TrimSuffix(strings.TrimPrefix(base, "finding_"), "s")
	return writeRows(ctx, tx, &p.cache, t, []string{"finding_id", col}, " ON CONFLICT DO NOTHING", rows)
}

// aggregate recomputes asset_findings for the assets whose open findings or points the batch
// changed: from the findings table, in one statement per chunk of assets, so that the
// incremental result is by construction what a rebuild computes.
func (p *FindingsProjection) aggregate(ctx context.Context, tx *projections.Tx, st *batchState[Finding]) error {
	seen := map[string]bool{}
	var assets []string
	for _, id := range st.order {
		before, after := st.before[id], st.after[id]
		if after == nil || !aggregateChanged(before, after) {
			continue
		}
		for _, a := range []string{after.AssetID, assetOf(before)} {
			if a != "" && !seen[a] {
				seen[a] = true
				assets = append(assets, a)
			}
		}
	}
	if len(assets) == 0 {
		return nil
	}
	af := tx.Table("asset_findings")
	if err := eachIn(ctx, tx, &p.cache, "DELETE FROM "+af+" WHERE asset_id IN ", "", assets, nil); err != nil {
		return err
	}
	var sel strings.Builder
	sel.WriteString("INSERT INTO " + af + " (" + strings.Join(assetFindingsCols, ", ") + ") SELECT asset_id, COUNT(*)")
	for r := int64(5); r >= 1; r-- {
		sel.WriteString(", SUM(CASE WHEN severity_rank = " + itoa(int(r)) + " THEN 1 ELSE 0 END)")
	}
	sel.WriteString(", SUM(kev)")
	for r := int64(5); r >= 1; r-- {
		sel.WriteString(", SUM(CASE WHEN severity_rank = " + itoa(int(r)) + " THEN risk_milli ELSE 0 END)")
	}
	sel.WriteString(", SUM(risk_milli) FROM " + tx.Table("findings") + " WHERE open = 1 AND asset_id IN ")
	return eachIn(ctx, tx, &p.cache, sel.String(), " GROUP BY asset_id", assets, nil)
}

func assetOf(f *Finding) string {
	if f == nil {
		return ""
	}
	return f.AssetID
}

// aggregateChanged reports whether a finding's contribution to its asset's counts changed.
func aggregateChanged(before, after *Finding) bool {
	if before == nil {
		return IsOpen(after.Status)
	}
	return IsOpen(before.Status) != IsOpen(after.Status) ||
		(IsOpen(after.Status) && (before.Severity != after.Severity || before.KEV != after.KEV ||
			findingRiskMilli(before) != findingRiskMilli(after) || before.AssetID != after.AssetID))
}
