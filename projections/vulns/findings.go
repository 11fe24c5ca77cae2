package vulns

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/schemas/contracts"
)

// FindingsProjection is the findings read model: table findings (one row per finding stream),
// finding_cves and finding_cwes (one row per CVE / CWE of a finding, for indexed filters) and
// asset_findings (per asset: open findings by severity, KEV count, risk points).
type FindingsProjection struct{ cache readkit.SQLCache }

// NewFindingsProjection returns the findings projection.
func NewFindingsProjection() *FindingsProjection { return &FindingsProjection{} }

var _ projections.Projection = (*FindingsProjection)(nil)

func (*FindingsProjection) Name() string       { return "findings" }
func (*FindingsProjection) Contexts() []string { return []string{"vulns", "assets"} } // assets: AssetMerged
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

var findingTable = &readkit.Table[Finding]{
	Base: "findings",
	Cols: func(d projections.Dialect) []readkit.Column {
		return []readkit.Column{
			{"id", readkit.KeyText(d)}, {"asset_id", readkit.KeyText(d)}, {"title", readkit.TText}, {"description", readkit.TText},
			{"remediation", readkit.TText}, {"severity", readkit.TText}, {"severity_rank", readkit.TInt}, {"scanner_severity", readkit.TText},
			{"status", readkit.TText}, {"open", readkit.TInt}, {"cves", readkit.TText}, {"cwes", readkit.TText}, {"cvss_score", readkit.TReal},
			{"cvss_vector", readkit.TText}, {"kev", readkit.TInt}, {"epss", readkit.TReal}, {"epss_percentile", readkit.TReal}, {"owner", readkit.TText},
			{"due_at", readkit.TInt}, {"due_urgency", readkit.TInt}, {"scanner", readkit.TText}, {"format", readkit.TText}, {"rule_id", readkit.TText},
			{"component", readkit.TText}, {"fingerprint", readkit.TText}, {"first_scan_id", readkit.TText}, {"last_scan_id", readkit.TText},
			{"first_seen", readkit.TInt}, {"last_seen", readkit.TInt}, {"resolved_at", readkit.TIntNul}, {"status_reason", readkit.TText},
			{"updated_at", readkit.TInt}, {"version", readkit.TInt}, {"risk_milli", readkit.TInt}, locationsCol,
		}
	},
	Values: func(f *Finding) []any {
		due := int64(noDue)
		if f.DueAt != nil {
			due = readkit.Micros(*f.DueAt)
		}
		return []any{
			f.ID, f.AssetID, f.Title, f.Description, f.Remediation, f.Severity, severityRank(f.Severity), f.ScannerSeverity,
			f.Status, readkit.BoolInt(IsOpen(f.Status)), readkit.JSONText(f.CVEs), readkit.JSONText(f.CWEs), scoreOr(f.CVSSScore),
			f.CVSSVector, readkit.BoolInt(f.KEV), scoreOr(f.EPSS), scoreOr(f.EPSSPercentile), f.Owner,
			due, -due, f.Scanner, f.Format, f.RuleID, f.Component, f.Fingerprint, f.FirstScanID, f.LastScanID,
			readkit.Micros(f.FirstSeen), readkit.Micros(f.LastSeen), readkit.NullMicros(f.ResolvedAt), f.StatusReason,
			readkit.Micros(f.UpdatedAt), f.Version, RiskMilli(f), readkit.JSONText(f.Locations),
		}
	},
	Scan: func(s readkit.Scanner) (*Finding, error) { return scanFinding(s) },
	// Set by FindingOpened only (see ApplyFinding); asset_id also by AssetMerged (see merge).
	Fixed: []string{"asset_id", "title", "description", "remediation", "scanner_severity", "cves", "cwes",
		"cvss_score", "cvss_vector", "scanner", "format", "rule_id", "component", "fingerprint", "first_scan_id", "first_seen", "locations"},
}

// locationsCol holds a finding's locations (JSON); added after the first findings generations,
// so Upgrade adds it to a live generation that lacks it.
var locationsCol = readkit.Column{"locations", readkit.TText}

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

func scanFinding(s readkit.Scanner, extra ...any) (*Finding, error) {
	var f Finding
	var sevRank, open, kev, due, urgency, first, last, updated, risk int64
	var cves, cwes, locations string
	var cvss, epss, pct float64
	var resolved sql.NullInt64
	dest := []any{&f.ID, &f.AssetID, &f.Title, &f.Description, &f.Remediation, &f.Severity, &sevRank, &f.ScannerSeverity,
		&f.Status, &open, &cves, &cwes, &cvss, &f.CVSSVector, &kev, &epss, &pct, &f.Owner, &due, &urgency,
		&f.Scanner, &f.Format, &f.RuleID, &f.Component, &f.Fingerprint, &f.FirstScanID, &f.LastScanID,
		&first, &last, &resolved, &f.StatusReason, &updated, &f.Version, &risk, &locations}
	if err := s.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	var err error
	if f.CVEs, err = readkit.FromJSON[[]string](cves); err != nil {
		return nil, err
	}
	if f.CWEs, err = readkit.FromJSON[[]string](cwes); err != nil {
		return nil, err
	}
	if f.Locations, err = readkit.FromJSON[[]Location](locations); err != nil {
		return nil, err
	}
	f.CVSSScore, f.EPSS, f.EPSSPercentile = scoreFrom(cvss), scoreFrom(epss), scoreFrom(pct)
	f.KEV = kev != 0
	if due != noDue {
		t := readkit.FromMicros(due)
		f.DueAt = &t
	}
	f.FirstSeen, f.LastSeen, f.UpdatedAt, f.ResolvedAt = readkit.FromMicros(first), readkit.FromMicros(last), readkit.FromMicros(updated), readkit.FromNullMicros(resolved)
	return &f, nil
}

// AssetFindingsCols are asset_findings' columns; the per-severity ones follow Severities' order.
var AssetFindingsCols = []string{
	"asset_id", "open_total",
	"open_critical", "open_high", "open_medium", "open_low", "open_info", "kev_open",
	"points_critical", "points_high", "points_medium", "points_low", "points_info", "risk_milli",
}

// AssetFindings is a row of asset_findings (points in thousandths): what the findings know of
// one asset, which the assets read model joins for its open findings and risk.
type AssetFindings struct {
	Total     int64
	Open      [5]int64 // by severity, in Severities' order
	KEV       int64
	Points    [5]int64 // by severity, in Severities' order
	RiskMilli int64
}

// Dest are the scan destinations of AssetFindingsCols[1:], in order.
func (a *AssetFindings) Dest() []any {
	return []any{&a.Total, &a.Open[0], &a.Open[1], &a.Open[2], &a.Open[3], &a.Open[4], &a.KEV,
		&a.Points[0], &a.Points[1], &a.Points[2], &a.Points[3], &a.Points[4], &a.RiskMilli}
}

// Counts are the open findings by severity.
func (a *AssetFindings) Counts() map[string]int64 {
	m := make(map[string]int64, len(Severities))
	for i, s := range Severities {
		m[s] = a.Open[i]
	}
	return m
}

// Create implements projections.Projection.
func (p *FindingsProjection) Create(ctx context.Context, tx *projections.Tx) error {
	d := tx.Dialect
	// Indexes serve the triage list (open or one status, sorted by severity then due date, keyset
	// on the same columns), an asset's findings and the per-asset aggregate, and the due-date
	// sort/overdue filter. Each one costs every write: keep the set small.
	if err := findingTable.Create(ctx, tx,
		// Covers the per-asset aggregate, which then never reads the table.
		[2]string{"asset", "asset_id, open, severity_rank, kev, risk_milli"},
		// The triage list; a status filter of open statuses uses it too (the Reader adds open = 1).
		[2]string{"open_sev", "open, severity_rank, due_urgency, id"},
		// Open findings by due date, and the overdue filter (open = 1 AND due_at < now).
		[2]string{"open_due", "open, due_at, id"},
	); err != nil {
		return err
	}
	for _, side := range []struct{ base, col string }{{"finding_cves", "cve"}, {"finding_cwes", "cwe"}} {
		cols := []readkit.Column{{"finding_id", readkit.KeyText(d)}, {side.col, readkit.KeyText(d)}}
		if err := readkit.CreateTable(ctx, tx, side.base, cols, "finding_id", side.col); err != nil {
			return err
		}
		if err := readkit.CreateIndex(ctx, tx, side.base, side.col, side.col+", finding_id"); err != nil {
			return err
		}
	}
	afCols := []readkit.Column{{"asset_id", readkit.KeyText(d)}}
	for _, c := range AssetFindingsCols[1:] {
		afCols = append(afCols, readkit.Column{c, readkit.TInt})
	}
	return readkit.CreateTable(ctx, tx, "asset_findings", afCols, "asset_id")
}

// Upgrade implements projections.Upgrader: findings tables created before locations existed get
// the column (empty: those findings show their locations after a rebuild).
func (p *FindingsProjection) Upgrade(ctx context.Context, tx *projections.Tx) error {
	return readkit.AddColumns(ctx, tx, "findings", locationsCol)
}

// Apply implements projections.Projection. An AssetMerged splits the batch: the finding events
// before it are written, then the merge moves the source's findings, then the rest follow, so
// the model is the same whatever the batch boundaries (a finding opened on the source after the
// merge, which the importer's alias prevents, would stay there in a rebuild too).
func (p *FindingsProjection) Apply(ctx context.Context, tx *projections.Tx, batch []events.Envelope) ([]projections.Change, error) {
	var changes []projections.Change
	for len(batch) > 0 {
		i := slices.IndexFunc(batch, func(e events.Envelope) bool { return e.Type == contracts.TypeAssetMerged })
		if i < 0 {
			i = len(batch)
		}
		ch, err := p.applyFindings(ctx, tx, batch[:i])
		if err != nil {
			return nil, err
		}
		changes = append(changes, ch...)
		if i == len(batch) {
			break
		}
		if err := p.merge(ctx, tx, &batch[i]); err != nil {
			return nil, err
		}
		changes = append(changes, projections.Change{Projection: "findings", Event: batch[i], AssetID: batch[i].StreamID})
		batch = batch[i+1:]
	}
	return changes, nil
}

// merge applies AssetMerged (on the target's stream): the source's findings are the target's,
// and so are its open findings and risk points in asset_findings (added to the target's row,
// subtracted from the source's, which stays at zero).
func (p *FindingsProjection) merge(ctx context.Context, tx *projections.Tx, e *events.Envelope) error {
	var d contracts.AssetMerged
	if err := json.Unmarshal(e.Data, &d); err != nil || d.SourceAssetID == "" {
		return &projections.EventError{Event: *e, Err: cmp.Or(err, errors.New("AssetMerged without source_asset_id"))}
	}
	source, target := d.SourceAssetID, e.StreamID
	if _, err := tx.ExecContext(ctx, "UPDATE "+tx.Table("findings")+" SET asset_id = "+tx.P(1)+" WHERE asset_id = "+tx.P(2), target, source); err != nil {
		return err
	}
	var moved AssetFindings
	err := tx.QueryRowContext(ctx, "SELECT "+strings.Join(AssetFindingsCols[1:], ", ")+" FROM "+tx.Table("asset_findings")+
		" WHERE asset_id = "+tx.P(1), source).Scan(moved.Dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	var gone AssetFindings
	gone.add(&moved, -1)
	return p.addAssetFindings(ctx, tx, []string{target, source}, map[string]*AssetFindings{target: &moved, source: &gone})
}

// add adds sign × o to a.
func (a *AssetFindings) add(o *AssetFindings, sign int64) {
	a.Total += sign * o.Total
	a.KEV += sign * o.KEV
	a.RiskMilli += sign * o.RiskMilli
	for i := range a.Open {
		a.Open[i] += sign * o.Open[i]
		a.Points[i] += sign * o.Points[i]
	}
}

// applyFindings applies the finding events of batch (other events are skipped).
func (p *FindingsProjection) applyFindings(ctx context.Context, tx *projections.Tx, batch []events.Envelope) ([]projections.Change, error) {
	st, changes, err := readkit.ApplyKeyed(ctx, tx, &p.cache, findingTable, batch,
		func(e *events.Envelope) (string, bool, error) { return e.StreamID, IsFindingEvent(e.Type), nil },
		ApplyFinding,
		func(e *events.Envelope, f *Finding) projections.Change {
			return projections.Change{Projection: "findings", Event: *e, Severity: f.Severity, AssetID: f.AssetID}
		})
	if err != nil || len(st.Order) == 0 {
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
func (p *FindingsProjection) writeSide(ctx context.Context, tx *projections.Tx, st *readkit.BatchState[Finding], base string, list func(*Finding) []string) error {
	var stale []string
	var rows [][]any
	for _, id := range st.Order {
		before, after := st.Before[id], st.After[id]
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
		if err := readkit.EachIn(ctx, tx, &p.cache, "DELETE FROM "+t+" WHERE finding_id IN ", "", stale, nil); err != nil {
			return err
		}
	}
	col := strings.TrimSuffix(strings.TrimPrefix(base, "finding_"), "s")
	return readkit.WriteRows(ctx, tx, &p.cache, t, []string{"finding_id", col}, " ON CONFLICT DO NOTHING", rows)
}

// aggregate adds the batch's effect to asset_findings: for every finding the batch touched, its
// contribution before the batch is subtracted and its contribution after the batch added, summed
// per asset in integers (counts, thousandths of points), and one upsert per chunk adds the sums
// to the stored rows. Integer addition is associative, so any split of the log into batches ends
// with the rows a rebuild computes; and every asset that a finding event touched gets a row
// (zeros included), so which rows exist does not depend on batch boundaries either.
//
// It replaced a recomputation from the findings table (DELETE + INSERT … SELECT … GROUP BY for
// the touched assets), which PostgreSQL planned as a bitmap scan over every open finding and
// which took about two thirds of a batch's time there.
func (p *FindingsProjection) aggregate(ctx context.Context, tx *projections.Tx, st *readkit.BatchState[Finding]) error {
	deltas := map[string]*AssetFindings{}
	var order []string
	add := func(f *Finding, sign int64) {
		if f == nil || f.AssetID == "" {
			return
		}
		d := deltas[f.AssetID]
		if d == nil {
			d = &AssetFindings{}
			deltas[f.AssetID] = d
			order = append(order, f.AssetID)
		}
		i := slices.Index(Severities, f.Severity)
		if !IsOpen(f.Status) || i < 0 {
			return
		}
		pts := RiskMilli(f)
		d.Total += sign
		d.Open[i] += sign
		d.Points[i] += sign * pts
		d.RiskMilli += sign * pts
		if f.KEV {
			d.KEV += sign
		}
	}
	for _, id := range st.Order {
		add(st.Before[id], -1)
		add(st.After[id], +1)
	}
	return p.addAssetFindings(ctx, tx, order, deltas)
}

// addAssetFindings adds deltas (in order of their assets) to the asset_findings rows, creating
// those missing.
func (p *FindingsProjection) addAssetFindings(ctx context.Context, tx *projections.Tx, order []string, deltas map[string]*AssetFindings) error {
	if len(order) == 0 {
		return nil
	}
	rows := make([][]any, len(order))
	for i, a := range order {
		d := deltas[a]
		rows[i] = []any{a, d.Total, d.Open[0], d.Open[1], d.Open[2], d.Open[3], d.Open[4], d.KEV,
			d.Points[0], d.Points[1], d.Points[2], d.Points[3], d.Points[4], d.RiskMilli}
	}
	af := tx.Table("asset_findings")
	var set strings.Builder
	set.WriteString(" ON CONFLICT (asset_id) DO UPDATE SET ")
	for i, c := range AssetFindingsCols[1:] {
		if i > 0 {
			set.WriteString(", ")
		}
		set.WriteString(c + " = " + af + "." + c + " + excluded." + c)
	}
	return readkit.WriteRows(ctx, tx, &p.cache, af, AssetFindingsCols, set.String(), rows)
}
