package readmodel

import (
	"context"
	"database/sql"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
)

// ScansProjection is the scans read model: one row per scan import (table scans), keyed by the
// scan id.
type ScansProjection struct{ cache sqlCache }

// NewScansProjection returns the scans projection.
func NewScansProjection() *ScansProjection { return &ScansProjection{} }

var _ projections.Projection = (*ScansProjection)(nil)

func (*ScansProjection) Name() string       { return "scans" }
func (*ScansProjection) Contexts() []string { return []string{"scans"} }
func (*ScansProjection) Tables() []string   { return []string{"scans"} }

var scanTable = &table[Scan]{
	base: "scans",
	cols: func(d projections.Dialect) []column {
		return []column{
			{"id", keyText(d)}, {"stream_id", tText}, {"format", tText}, {"scanner", tText}, {"scanner_version", tText},
			{"status", tText}, {"actor", tText}, {"started_at", tInt}, {"finished_at", tIntNul},
			{"findings_total", tInt}, {"assets_total", tInt}, {"by_severity", tText}, {"outcome", tText},
			{"warnings", tText}, {"error_stage", tText}, {"error_reason", tText}, {"version", tInt},
		}
	},
	values: func(s *Scan) []any {
		var stage, reason string
		if s.Error != nil {
			stage, reason = s.Error.Stage, s.Error.Reason
		}
		return []any{
			s.ID, s.StreamID, s.Format, s.Scanner, s.ScannerVersion, s.Status, s.Actor, micros(s.StartedAt),
			nullMicros(s.FinishedAt), s.FindingsTotal, s.AssetsTotal, jsonText(s.BySeverity), jsonText(s.Outcome),
			jsonText(s.Warnings), stage, reason, s.Version,
		}
	},
	scan: func(sc scanner) (*Scan, error) {
		var s Scan
		var started int64
		var finished sql.NullInt64
		var bySev, outcome, warnings, stage, reason string
		if err := sc.Scan(&s.ID, &s.StreamID, &s.Format, &s.Scanner, &s.ScannerVersion, &s.Status, &s.Actor, &started,
			&finished, &s.FindingsTotal, &s.AssetsTotal, &bySev, &outcome, &warnings, &stage, &reason, &s.Version); err != nil {
			return nil, err
		}
		var err error
		s.StartedAt, s.FinishedAt = fromMicros(started), fromNullMicros(finished)
		if s.BySeverity, err = fromJSON[map[string]int64](bySev); err != nil {
			return nil, err
		}
		if s.Outcome, err = fromJSON[map[string]int64](outcome); err != nil {
			return nil, err
		}
		if s.Warnings, err = fromJSON[[]string](warnings); err != nil {
			return nil, err
		}
		if stage != "" || reason != "" {
			s.Error = &ScanError{Stage: stage, Reason: reason}
		}
		return &s, nil
	},
}

// Create implements projections.Projection.
func (p *ScansProjection) Create(ctx context.Context, tx *projections.Tx) error {
	if err := createTable(ctx, tx, "scans", scanTable.cols(tx.Dialect), "id"); err != nil {
		return err
	}
	for _, ix := range [][2]string{{"started", "started_at, id"}, {"total", "findings_total, id"}} {
		if err := createIndex(ctx, tx, "scans", ix[0], ix[1]); err != nil {
			return err
		}
	}
	return nil
}

// Apply implements projections.Projection.
func (p *ScansProjection) Apply(ctx context.Context, tx *projections.Tx, batch []events.Envelope) ([]projections.Change, error) {
	_, changes, err := applyKeyed(ctx, tx, &p.cache, scanTable, batch,
		func(e *events.Envelope) (string, bool, error) {
			if !isScanEvent(e.Type) {
				return "", false, nil
			}
			id, err := scanIDOf(e)
			return id, true, err
		},
		applyScan,
		func(e *events.Envelope, _ *Scan) projections.Change {
			return projections.Change{Projection: "scans", Event: *e}
		})
	return changes, err
}
