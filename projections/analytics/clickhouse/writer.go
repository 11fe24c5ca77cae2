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
	var err error
	if out.Facts, err = unstored(ctx, db, table("analytics_facts", gen), out.Facts, func(f *analytics.Fact) string { return f.EventID }); err != nil {
		return err
	}
	if out.Scans, err = unstored(ctx, db, table("analytics_scans", gen), out.Scans, func(s *analytics.ScanFact) string { return s.EventID }); err != nil {
		return err
	}
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

// unstored returns the rows whose event is not yet in table: a batch redelivered after a crash
// between its INSERTs stores its facts once (one INSERT block is atomic, so a batch's facts are
// all there or none). The lookup is a range of the table's primary key.
func unstored[T any](ctx context.Context, db *DB, table string, rows []T, id func(*T) string) ([]T, error) {
	if len(rows) == 0 {
		return rows, nil
	}
	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = id(&rows[i])
	}
	stored := map[string]bool{}
	r, err := db.conn.Query(queryCtx(ctx), "SELECT DISTINCT event_id FROM "+table+" WHERE event_id IN ?", set(ids))
	if err != nil {
		return nil, db.wrap("reading "+table, err)
	}
	defer r.Close()
	for r.Next() {
		var id string
		if err := r.Scan(&id); err != nil {
			return nil, db.wrap("reading "+table, err)
		}
		stored[id] = true
	}
	if err := r.Err(); err != nil || len(stored) == 0 {
		return rows, db.wrap("reading "+table, err)
	}
	out := rows[:0:0]
	for i := range rows {
		if !stored[id(&rows[i])] {
			out = append(out, rows[i])
		}
	}
	return out, nil
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
