// Package sqlstore is the analytics read model's embedded default: the rows of
// analytics/facts.go in the SQL read database (SQLite, or PostgreSQL), written by a
// projections.Projection (New) and answered by a Reader (NewReader) with SQL sums of the facts'
// deltas per bucket.
//
// # Tables
//
//	facts              one row per change a finding event made, keyed (event_id, seq)
//	finding_dims       a finding's current state (what "now" answers read)
//	asset_dims         an asset's current state (filters, team scoping, criticality)
//	scan_facts         one row per scan import outcome, keyed by event id
//	scanned            (asset_id, scanner) → last instant the scanner saw the asset
//	analytics_position the highest global position applied (Reader.Position)
//
// One DDL serves both dialects (readkit's column types): times are BIGINT unix milliseconds,
// booleans INTEGER 0/1, an asset's tags one TEXT ",a,b," (a tag filter is a LIKE on ",tag,"; the
// schemas allow no comma in a tag).
// Apply loads the dimension rows of the batch's keys (analytics.Keys) with one SELECT … IN per
// table, folds the batch in memory (analytics.Fold, the code every backend shares) and writes
// with multi-row upserts: facts and scan facts are inserted once (ON CONFLICT DO NOTHING),
// dimensions replaced, scanned and the position keep the greatest value. The runner wraps it
// in the batch's transaction (generations, rebuilds, the stream version guard).
package sqlstore

import (
	"context"
	"database/sql"
	"strings"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/analytics"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/projections/vulns"
)

// Name is the projection's name (and its consumer group's).
const Name = "analytics"

// Projection writes the analytics tables.
type Projection struct{ cache readkit.SQLCache }

// New returns the analytics projection.
func New() *Projection { return &Projection{} }

var _ projections.Projection = (*Projection)(nil)

func (*Projection) Name() string       { return Name }
func (*Projection) Contexts() []string { return []string{"vulns", "assets", "scans"} }
func (*Projection) Tables() []string {
	return []string{"facts", "finding_dims", "asset_dims", "scan_facts", "scanned", "analytics_position"}
}

type table struct {
	base string
	cols func(d projections.Dialect) []readkit.Column
	pk   []string
	ixs  [][2]string
}

func names(cols []readkit.Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name()
	}
	return out
}

var (
	factsT = table{"facts", func(d projections.Dialect) []readkit.Column {
		k := readkit.KeyText(d)
		return []readkit.Column{{"event_id", k}, {"seq", readkit.TInt}, {"position", readkit.TInt}, {"at", readkit.TInt},
			{"finding_id", k}, {"asset_id", k}, {"type", k}, {"severity", k}, {"status_before", k}, {"status_after", k},
			{"open_delta", readkit.TInt}, {"risk_delta", readkit.TInt}, {"scanner", k}, {"cve", readkit.TText}, {"kev", readkit.TInt},
			{"epss", readkit.TReal}, {"has_epss", readkit.TInt}, {"due_at", readkit.TInt}, {"duration", readkit.TInt}}
	}, []string{"event_id", "seq"}, [][2]string{{"at", "at"}, {"asset", "asset_id, at"}}}
	findingDimsT = table{"finding_dims", func(d projections.Dialect) []readkit.Column {
		k := readkit.KeyText(d)
		return []readkit.Column{{"finding_id", k}, {"asset_id", k}, {"severity", k}, {"status", k}, {"open", readkit.TInt},
			{"scanner", k}, {"cve", readkit.TText}, {"kev", readkit.TInt}, {"epss", readkit.TReal}, {"has_epss", readkit.TInt},
			{"due_at", readkit.TInt}, {"opened_at", readkit.TInt}, {"first_seen", readkit.TInt}, {"triaged_at", readkit.TInt},
			{"risk", readkit.TInt}, {"version", readkit.TInt}}
	}, []string{"finding_id"}, [][2]string{{"open", "open, asset_id"}}}
	assetDimsT = table{"asset_dims", func(d projections.Dialect) []readkit.Column {
		k := readkit.KeyText(d)
		return []readkit.Column{{"asset_id", k}, {"name", readkit.TText}, {"kind", k}, {"team", k}, {"environment", k},
			{"tags", readkit.TText}, {"criticality", k}, {"merged_into", k}, {"version", readkit.TInt}}
	}, []string{"asset_id"}, [][2]string{{"team", "team"}, {"merged", "merged_into"}}}
	scanFactsT = table{"scan_facts", func(d projections.Dialect) []readkit.Column {
		k := readkit.KeyText(d)
		return []readkit.Column{{"event_id", k}, {"at", readkit.TInt}, {"scan_id", k}, {"scanner", k}, {"failed", readkit.TInt}}
	}, []string{"event_id"}, [][2]string{{"at", "at"}}}
	scannedT = table{"scanned", func(d projections.Dialect) []readkit.Column {
		k := readkit.KeyText(d)
		return []readkit.Column{{"asset_id", k}, {"scanner", k}, {"at", readkit.TInt}}
	}, []string{"asset_id", "scanner"}, nil}
	positionT = table{"analytics_position", func(projections.Dialect) []readkit.Column {
		return []readkit.Column{{"id", readkit.TInt}, {"position", readkit.TInt}}
	}, []string{"id"}, nil}
	allTables = []table{factsT, findingDimsT, assetDimsT, scanFactsT, scannedT, positionT}
)

// Create implements projections.Projection.
func (p *Projection) Create(ctx context.Context, tx *projections.Tx) error {
	for _, t := range allTables {
		if err := readkit.CreateTable(ctx, tx, t.base, t.cols(tx.Dialect), t.pk...); err != nil {
			return err
		}
		for _, ix := range t.ixs {
			if err := readkit.CreateIndex(ctx, tx, t.base, ix[0], ix[1]); err != nil {
				return err
			}
		}
	}
	return nil
}

// tagsText stores tags as ",a,b," so that ",a," matches one tag exactly.
func tagsText(tags []string) string {
	if len(tags) == 0 {
		return ""
	}
	return "," + strings.Join(tags, ",") + ","
}

func tagsFrom(s string) []string {
	s = strings.Trim(s, ",")
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Apply implements projections.Projection.
func (p *Projection) Apply(ctx context.Context, tx *projections.Tx, batch []events.Envelope) ([]projections.Change, error) {
	fids, aids := analytics.Keys(batch)
	st := &analytics.State{Findings: map[string]*analytics.FindingDim{}, Assets: map[string]*analytics.AssetDim{}}
	fcols := names(findingDimsT.cols(tx.Dialect))
	err := readkit.EachIn(ctx, tx, &p.cache, "SELECT "+strings.Join(fcols, ", ")+" FROM "+tx.Table("finding_dims")+" WHERE finding_id IN ", "", fids,
		func(r *sql.Rows) error {
			var d analytics.FindingDim
			var open, kev, has int64
			if err := r.Scan(&d.FindingID, &d.AssetID, &d.Severity, &d.Status, &open, &d.Scanner, &d.CVE, &kev, &d.EPSS, &has,
				&d.DueAt, &d.OpenedAt, &d.FirstSeen, &d.TriagedAt, &d.Risk, &d.Version); err != nil {
				return err
			}
			d.KEV, d.HasEPSS = kev != 0, has != 0
			st.Findings[d.FindingID] = &d
			return nil
		})
	if err != nil {
		return nil, err
	}
	acols := names(assetDimsT.cols(tx.Dialect))
	err = readkit.EachIn(ctx, tx, &p.cache, "SELECT "+strings.Join(acols, ", ")+" FROM "+tx.Table("asset_dims")+" WHERE asset_id IN ", "", aids,
		func(r *sql.Rows) error {
			var d analytics.AssetDim
			var tags string
			if err := r.Scan(&d.AssetID, &d.Name, &d.Kind, &d.Team, &d.Environment, &tags, &d.Criticality, &d.MergedInto, &d.Version); err != nil {
				return err
			}
			d.Tags = tagsFrom(tags)
			st.Assets[d.AssetID] = &d
			return nil
		})
	if err != nil {
		return nil, err
	}
	out, err := analytics.Fold(st, batch)
	if err != nil {
		return nil, err
	}
	var pos int64
	for _, e := range batch {
		pos = max(pos, e.GlobalPosition)
	}
	if err := p.write(ctx, tx, &out, pos); err != nil {
		return nil, err
	}
	// Live subscribers hear of these events from the findings, assets and scans projections.
	return nil, nil
}

// write stores a folded batch's rows and pos, the batch's greatest global position.
func (p *Projection) write(ctx context.Context, tx *projections.Tx, out *analytics.Output, pos int64) error {
	d := tx.Dialect
	var rows [][]any
	for _, f := range out.Facts {
		rows = append(rows, []any{f.EventID, int64(f.Seq), f.Position, f.At, f.FindingID, f.AssetID, f.Type, f.Severity, f.StatusBefore, f.StatusAfter,
			int64(f.OpenDelta), f.RiskDelta, f.Scanner, f.CVE, readkit.BoolInt(f.KEV), f.EPSS, readkit.BoolInt(f.HasEPSS), f.DueAt, f.Duration})
	}
	if err := readkit.WriteRows(ctx, tx, &p.cache, tx.Table("facts"), names(factsT.cols(d)), " ON CONFLICT (event_id, seq) DO NOTHING", rows); err != nil {
		return err
	}
	rows = rows[:0]
	for _, f := range out.Findings {
		rows = append(rows, []any{f.FindingID, f.AssetID, f.Severity, f.Status, readkit.BoolInt(vulns.IsOpen(f.Status)), f.Scanner, f.CVE, readkit.BoolInt(f.KEV), f.EPSS, readkit.BoolInt(f.HasEPSS),
			f.DueAt, f.OpenedAt, f.FirstSeen, f.TriagedAt, f.Risk, f.Version})
	}
	cols := names(findingDimsT.cols(d))
	if err := readkit.WriteRows(ctx, tx, &p.cache, tx.Table("finding_dims"), cols, readkit.UpsertSuffix(cols, "finding_id"), rows); err != nil {
		return err
	}
	rows = rows[:0]
	for _, a := range out.Assets {
		rows = append(rows, []any{a.AssetID, a.Name, a.Kind, a.Team, a.Environment, tagsText(a.Tags), a.Criticality, a.MergedInto, a.Version})
	}
	cols = names(assetDimsT.cols(d))
	if err := readkit.WriteRows(ctx, tx, &p.cache, tx.Table("asset_dims"), cols, readkit.UpsertSuffix(cols, "asset_id"), rows); err != nil {
		return err
	}
	rows = rows[:0]
	for _, s := range out.Scans {
		rows = append(rows, []any{s.EventID, s.At, s.ScanID, s.Scanner, readkit.BoolInt(s.Failed)})
	}
	if err := readkit.WriteRows(ctx, tx, &p.cache, tx.Table("scan_facts"), names(scanFactsT.cols(d)), " ON CONFLICT (event_id) DO NOTHING", rows); err != nil {
		return err
	}
	rows = rows[:0]
	for _, s := range out.Scanned {
		rows = append(rows, []any{s.AssetID, s.Scanner, s.At})
	}
	t := tx.Table("scanned")
	if err := readkit.WriteRows(ctx, tx, &p.cache, t, names(scannedT.cols(d)),
		" ON CONFLICT (asset_id, scanner) DO UPDATE SET at = CASE WHEN excluded.at > "+t+".at THEN excluded.at ELSE "+t+".at END", rows); err != nil {
		return err
	}
	t = tx.Table("analytics_position")
	return readkit.WriteRows(ctx, tx, &p.cache, t, []string{"id", "position"},
		" ON CONFLICT (id) DO UPDATE SET position = CASE WHEN excluded.position > "+t+".position THEN excluded.position ELSE "+t+".position END",
		[][]any{{int64(1), pos}})
}
