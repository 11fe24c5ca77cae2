package scans

import (
	"database/sql"

	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/readkit"
)

// Projection is the scans read model: one row per scan import (table scans), keyed by the
// scan id.
type Projection struct{ readkit.Keyed[Scan] }

// NewProjection returns the scans projection.
func NewProjection() *Projection {
	return &Projection{readkit.Keyed[Scan]{
		Context: "scans",
		Table:   scanTable,
		Indexes: [][2]string{{"started", "started_at, id"}, {"total", "findings_total, id"}},
		Handles: isScanEvent,
		Key:     scanIDOf,
		Fold:    applyScan,
	}}
}

var scanTable = &readkit.Table[Scan]{
	Base: "scans",
	Cols: func(d projections.Dialect) []readkit.Column {
		return []readkit.Column{
			{"id", readkit.KeyText(d)}, {"stream_id", readkit.TText}, {"format", readkit.TText}, {"scanner", readkit.TText}, {"scanner_version", readkit.TText},
			{"status", readkit.TText}, {"actor", readkit.TText}, {"started_at", readkit.TInt}, {"finished_at", readkit.TIntNul},
			{"findings_total", readkit.TInt}, {"assets_total", readkit.TInt}, {"by_severity", readkit.TText}, {"outcome", readkit.TText},
			{"warnings", readkit.TText}, {"error_stage", readkit.TText}, {"error_reason", readkit.TText}, {"version", readkit.TInt},
		}
	},
	Values: func(s *Scan) []any {
		var stage, reason string
		if s.Error != nil {
			stage, reason = s.Error.Stage, s.Error.Reason
		}
		return []any{
			s.ID, s.StreamID, s.Format, s.Scanner, s.ScannerVersion, s.Status, s.Actor, readkit.Micros(s.StartedAt),
			readkit.NullMicros(s.FinishedAt), s.FindingsTotal, s.AssetsTotal, readkit.JSONText(s.BySeverity), readkit.JSONText(s.Outcome),
			readkit.JSONText(s.Warnings), stage, reason, s.Version,
		}
	},
	Scan: func(sc readkit.Scanner) (*Scan, error) {
		var s Scan
		var started int64
		var finished sql.NullInt64
		var bySev, outcome, warnings, stage, reason string
		if err := sc.Scan(&s.ID, &s.StreamID, &s.Format, &s.Scanner, &s.ScannerVersion, &s.Status, &s.Actor, &started,
			&finished, &s.FindingsTotal, &s.AssetsTotal, &bySev, &outcome, &warnings, &stage, &reason, &s.Version); err != nil {
			return nil, err
		}
		var err error
		s.StartedAt, s.FinishedAt = readkit.FromMicros(started), readkit.FromNullMicros(finished)
		if s.BySeverity, err = readkit.FromJSON[map[string]int64](bySev); err != nil {
			return nil, err
		}
		if s.Outcome, err = readkit.FromJSON[map[string]int64](outcome); err != nil {
			return nil, err
		}
		if s.Warnings, err = readkit.FromJSON[[]string](warnings); err != nil {
			return nil, err
		}
		if stage != "" || reason != "" {
			s.Error = &ScanError{Stage: stage, Reason: reason}
		}
		return &s, nil
	},
}
