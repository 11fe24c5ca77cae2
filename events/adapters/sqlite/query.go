package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/socplatform/soc/events"
)

var _ events.EventQuerier = (*Store)(nil)

// QueryEvents implements events.EventQuerier: one statement, hence one snapshot, and like ReadAll
// it sees a prefix of the positions (appends commit in position order, see the package comment).
//
// Each equality filter has an index (schema): type, actor, correlation_id (partial: only events
// that have one); global_position is the rowid, so every index is in (column, position)
// order and an equality filter plus the position bounds reads exactly one page, in order.
//   - Several types are one arm per type, merged in position order (UNION ALL with ORDER BY is a
//     merge of ordered scans in SQLite), so a page costs at most a page per type, not a sort of
//     every match.
//   - A time window becomes a range of positions: recorded_at never decreases along positions
//     (runGroup), so [From, To) is the positions from the first one recorded at or after From to
//     the one before the first recorded at or after To, each found by bisecting the positions
//     (firstRecordedAt; without a bound SQLite would scan in position order, filtering). The
//     recorded_at conditions stay in the query too. Rows written before runGroup enforced that
//     order, while a clock stepped back, could fall outside the range and be left out.
//   - A stream's events are read from the (stream_id, version) index in version order, which is
//     their position order.
func (s *Store) QueryEvents(ctx context.Context, q events.EventQuery) ([]events.Envelope, error) {
	q, err := q.Normalize()
	if err != nil {
		return nil, err
	}
	text, args := buildQuery(q)
	out, err := s.queryRaw(ctx, text, args, min(q.Limit, 64))
	if err != nil {
		return nil, fmt.Errorf("sqlite: query events: %w", err)
	}
	return out, nil
}

// firstRecordedAt is the first position recorded at or after a time (its two parameters), or the
// head + 1 when there is none: a bisection of the positions 1..head, which are gapless and along
// which recorded_at never decreases, one primary-key probe per step (about 24 for 10 million
// events). It replaces an index on recorded_at that every append would pay for.
const firstRecordedAt = `(WITH RECURSIVE b(lo, hi) AS (
		SELECT 1, (SELECT coalesce(max(global_position), 0) + 1 FROM events)
		UNION ALL
		SELECT CASE WHEN x.recorded_at >= ? THEN b.lo ELSE x.global_position + 1 END,
		       CASE WHEN x.recorded_at >= ? THEN x.global_position ELSE b.hi END
		  FROM b JOIN events x ON x.global_position = (b.lo + b.hi) / 2
		 WHERE b.lo < b.hi)
	SELECT max(lo) FROM b)`

// buildQuery returns the parameterised statement for a normalised query. Only fixed SQL
// fragments are concatenated; every value is a parameter.
func buildQuery(q events.EventQuery) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		conds = append(conds, cond)
		args = append(args, arg)
	}
	// One lower and one upper bound of positions, so that SQLite seeks to the right one.
	switch {
	case !q.From.IsZero():
		conds = append(conds, "global_position >= max(?, "+firstRecordedAt+")")
		args = append(args, q.After+1, q.From.UnixMicro(), q.From.UnixMicro())
	default:
		add("global_position > ?", q.After)
	}
	switch {
	case !q.To.IsZero() && q.Before > 0:
		conds = append(conds, "global_position < min(?, "+firstRecordedAt+")")
		args = append(args, q.Before, q.To.UnixMicro(), q.To.UnixMicro())
	case !q.To.IsZero():
		conds = append(conds, "global_position < "+firstRecordedAt)
		args = append(args, q.To.UnixMicro(), q.To.UnixMicro())
	case q.Before > 0:
		add("global_position < ?", q.Before)
	}
	if q.StreamID != "" {
		add("stream_id = ?", q.StreamID)
	}
	if q.Actor != "" {
		add("actor = ?", q.Actor)
	}
	if q.CorrelationID != "" {
		// The second term is implied by the first but must be written out: SQLite uses a partial
		// index only when the query's WHERE contains the index's WHERE terms.
		add("correlation_id = ?", q.CorrelationID)
		conds = append(conds, "correlation_id <> ''")
	}
	if !q.From.IsZero() {
		add("recorded_at >= ?", q.From.UnixMicro())
	}
	if !q.To.IsZero() {
		add("recorded_at < ?", q.To.UnixMicro())
	}
	if q.StreamID != "" {
		// One stream: its index, in version order (= position order); the types are a filter.
		if len(q.Types) > 0 {
			conds = append(conds, "type IN (?"+strings.Repeat(", ?", len(q.Types)-1)+")")
			for _, t := range q.Types {
				args = append(args, t)
			}
		}
		text := "SELECT " + eventColumns + " FROM events WHERE " + strings.Join(conds, " AND ") + " ORDER BY version"
		if q.Backwards {
			text += " DESC"
		}
		return text + " LIMIT ?", append(args, int64(q.Limit))
	}
	order := " ORDER BY global_position"
	if q.Backwards {
		order += " DESC"
	}
	where := strings.Join(conds, " AND ")
	var b strings.Builder
	switch len(q.Types) {
	case 0:
		b.WriteString("SELECT " + eventColumns + " FROM events WHERE " + where)
	case 1:
		b.WriteString("SELECT " + eventColumns + " FROM events WHERE type = ? AND " + where)
		args = append([]any{q.Types[0]}, args...)
	default:
		per := args
		args = make([]any, 0, len(q.Types)*(len(per)+1)+1)
		for i, t := range q.Types {
			if i > 0 {
				b.WriteString(" UNION ALL ")
			}
			b.WriteString("SELECT " + eventColumns + " FROM events WHERE type = ? AND " + where)
			args = append(append(args, t), per...)
		}
	}
	b.WriteString(order + " LIMIT ?")
	args = append(args, int64(q.Limit))
	return b.String(), args
}
