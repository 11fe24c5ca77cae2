package clickhouse

import (
	"context"
	"fmt"

	"github.com/socplatform/soc/projections/analytics"
)

// write stores one batch's Output in generation gen and then its position: facts and scans
// first, dimensions after, the position last (schema.go says why this order keeps a
// redelivered batch from changing any answer). Each table is one batch INSERT naming its
// columns.
func (db *DB) write(ctx context.Context, gen uint64, out analytics.Output, position int64) error {
	if err := db.insert(ctx, table("analytics_facts", gen),
		"event_id, seq, position, at, finding_id, asset_id, type, severity, status_before, status_after, open_delta, risk_delta, scanner, cve, kev, epss, has_epss, due_at, duration",
		len(out.Facts), func(i int) []any {
			f := &out.Facts[i]
			return []any{f.EventID, f.Seq, f.Position, f.At, f.FindingID, f.AssetID, f.Type, f.Severity, f.StatusBefore, f.StatusAfter,
				f.OpenDelta, f.RiskDelta, f.Scanner, f.CVE, u8(f.KEV), f.EPSS, u8(f.HasEPSS), f.DueAt, f.Duration}
		}); err != nil {
		return err
	}
	if err := db.insert(ctx, table("analytics_scans", gen), "event_id, at, scan_id, scanner, failed",
		len(out.Scans), func(i int) []any {
			s := &out.Scans[i]
			return []any{s.EventID, s.At, s.ScanID, s.Scanner, u8(s.Failed)}
		}); err != nil {
		return err
	}
	if err := db.insert(ctx, table("analytics_scanned", gen), "asset_id, scanner, at",
		len(out.Scanned), func(i int) []any {
			s := &out.Scanned[i]
			return []any{s.AssetID, s.Scanner, unsigned(s.At)}
		}); err != nil {
		return err
	}
	if err := db.insert(ctx, table("analytics_findings", gen),
		"finding_id, asset_id, severity, status, scanner, cve, kev, epss, has_epss, due_at, opened_at, first_seen, triaged_at, risk, version",
		len(out.Findings), func(i int) []any {
			f := &out.Findings[i]
			return []any{f.FindingID, f.AssetID, f.Severity, f.Status, f.Scanner, f.CVE, u8(f.KEV), f.EPSS, u8(f.HasEPSS),
				f.DueAt, f.OpenedAt, f.FirstSeen, f.TriagedAt, f.Risk, unsigned(f.Version)}
		}); err != nil {
		return err
	}
	if err := db.insert(ctx, table("analytics_assets", gen),
		"asset_id, name, kind, team, environment, tags, criticality, merged_into, version",
		len(out.Assets), func(i int) []any {
			a := &out.Assets[i]
			tags := a.Tags
			if tags == nil {
				tags = []string{}
			}
			return []any{a.AssetID, a.Name, a.Kind, a.Team, a.Environment, tags, a.Criticality, a.MergedInto, unsigned(a.Version)}
		}); err != nil {
		return err
	}
	if position <= 0 {
		return nil
	}
	return db.insert(ctx, table("analytics_position", gen), "id, position", 1, func(int) []any {
		return []any{uint8(0), uint64(position)}
	})
}

// insert sends n rows, row(i) each, to table as one batch INSERT naming columns (n == 0 sends
// nothing).
func (db *DB) insert(ctx context.Context, table, columns string, n int, row func(i int) []any) error {
	if n == 0 {
		return nil
	}
	b, err := db.conn.PrepareBatch(ctx, fmt.Sprintf("INSERT INTO %s (%s)", table, columns))
	if err != nil {
		return db.wrap("inserting into "+table, err)
	}
	for i := 0; i < n; i++ {
		if err := b.Append(row(i)...); err != nil {
			_ = b.Abort()
			return db.wrap("inserting into "+table, err)
		}
	}
	return db.wrap("inserting into "+table, b.Send())
}

// position returns the position generation gen has applied (0: none).
func (db *DB) position(ctx context.Context, gen uint64) (int64, error) {
	var p uint64
	if err := db.conn.QueryRow(ctx, "SELECT max(position) FROM "+table("analytics_position", gen)).Scan(&p); err != nil {
		return 0, db.wrap("reading the position", err)
	}
	return int64(p), nil
}

func u8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// unsigned stores a non-negative version or time in a UInt64 column (negative: 0).
func unsigned(v int64) uint64 {
	if v < 0 {
		return 0
	}
	return uint64(v)
}
