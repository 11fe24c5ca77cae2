package runner

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventlog"
	"github.com/socplatform/soc/projections"
)

// Rows per multi-row statement: 2 parameters a row keeps a statement far below SQLite's and
// PostgreSQL's bind limits.
const rowsPerStatement = 500

// batchResult is what one batch transaction did.
type batchResult struct {
	Kept     []events.Envelope // events past the version guard (applied or skipped)
	Applied  int64             // events handed to Apply
	Changes  []projections.Change
	Position int64 // the state's position after the batch
	Recorded int64 // last_recorded_at after the batch
	Total    int64 // events_applied after the batch
}

// applyInTx applies batch (events of p's contexts, in delivery order) inside tx, bound to the
// generation to write: it drops redeliveries and detects gaps against the generation's streams
// table, hands the rest to p.Apply (minus the event ids in skip, which only advance their
// stream), records the new stream versions and advances the state row to scanned (the highest
// global position the batch covers, including events of other contexts that were filtered out).
func applyInTx(ctx context.Context, tx *projections.Tx, p projections.Projection, batch []events.Envelope, scanned int64,
	skip map[string]bool, now time.Time) (batchResult, error) {
	name := p.Name()
	var res batchResult
	versions, err := loadVersions(ctx, tx, name, batch)
	if err != nil {
		return res, err
	}
	guard := eventlog.VersionGuard{Versions: eventlog.VersionsFunc(func(_ context.Context, id string) (int64, error) {
		return versions[id], nil
	})}
	kept, err := guard.Filter(ctx, batch)
	if err != nil {
		return res, err
	}
	res.Kept = kept
	toApply := kept
	if len(skip) > 0 {
		toApply = kept[:0:0]
		for i := range kept {
			if !skip[kept[i].EventID] {
				toApply = append(toApply, kept[i])
			}
		}
	}
	if len(toApply) > 0 {
		if res.Changes, err = p.Apply(ctx, tx, toApply); err != nil {
			return res, err
		}
		res.Applied = int64(len(toApply))
	}
	if err := saveVersions(ctx, tx, name, kept); err != nil {
		return res, err
	}
	var recorded int64
	for i := range kept {
		if r := kept[i].RecordedAt.UnixMicro(); !kept[i].RecordedAt.IsZero() && r > recorded {
			recorded = r
		}
	}
	g := greatest(tx.Dialect)
	q := newQuery(tx.Dialect)
	text := "UPDATE projection_state SET position = " + g + "(position, " + q.arg(scanned) + "), last_recorded_at = " + g +
		"(last_recorded_at, " + q.arg(recorded) + "), events_applied = events_applied + " + q.arg(res.Applied) +
		", updated_at = " + q.arg(now.UnixMicro()) + " WHERE name = " + q.arg(name) + " AND generation = " + q.arg(tx.Generation) +
		" RETURNING position, last_recorded_at, events_applied"
	err = tx.QueryRowContext(ctx, text, q.args...).Scan(&res.Position, &res.Recorded, &res.Total)
	if err == sql.ErrNoRows {
		return res, fmt.Errorf("%w: %s generation %d has no state (dropped by a rebuild?)", ErrNotInitialized, name, tx.Generation)
	}
	if err != nil {
		return res, fmt.Errorf("updating %s state: %w", name, err)
	}
	return res, nil
}

// loadVersions reads the last applied version of each stream of batch, in one query per
// rowsPerStatement streams (one for any batch of the default size).
func loadVersions(ctx context.Context, tx *projections.Tx, name string, batch []events.Envelope) (map[string]int64, error) {
	out := map[string]int64{}
	var ids []string
	seen := map[string]bool{}
	for i := range batch {
		if id := batch[i].StreamID; !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	table := streamsTable(name, tx.Generation)
	for len(ids) > 0 {
		n := min(len(ids), 2*rowsPerStatement)
		chunk := ids[:n]
		ids = ids[n:]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := tx.QueryContext(ctx, "SELECT stream_id, version FROM "+table+" WHERE stream_id IN "+tx.Dialect.Placeholders(1, len(chunk)), args...)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", table, err)
		}
		for rows.Next() {
			var id string
			var v int64
			if err := rows.Scan(&id, &v); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = v
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// saveVersions upserts the last version of each stream of kept (multi-row statements).
func saveVersions(ctx context.Context, tx *projections.Tx, name string, kept []events.Envelope) error {
	last := map[string]int64{}
	var order []string
	for i := range kept {
		if _, ok := last[kept[i].StreamID]; !ok {
			order = append(order, kept[i].StreamID)
		}
		if kept[i].Version > last[kept[i].StreamID] {
			last[kept[i].StreamID] = kept[i].Version
		}
	}
	table := streamsTable(name, tx.Generation)
	for len(order) > 0 {
		n := min(len(order), rowsPerStatement)
		chunk := order[:n]
		order = order[n:]
		q := newQuery(tx.Dialect)
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (stream_id, version) VALUES ")
		for i, id := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + q.arg(id) + ", " + q.arg(last[id]) + ")")
		}
		// GREATEST: a skip or a concurrent member may have moved a stream further; never go back.
		b.WriteString(" ON CONFLICT (stream_id) DO UPDATE SET version = " + greatest(tx.Dialect) + "(" + table + ".version, excluded.version)")
		if _, err := tx.ExecContext(ctx, b.String(), q.args...); err != nil {
			return fmt.Errorf("writing %s: %w", table, err)
		}
	}
	return nil
}

// filterContexts returns the events of batch in one of contexts (all when contexts is empty).
func filterContexts(batch []events.Envelope, contexts []string) []events.Envelope {
	return eventlog.Filter{Contexts: contexts}.Apply(batch)
}

func maxPosition(batch []events.Envelope) int64 {
	var m int64
	for i := range batch {
		m = max(m, batch[i].GlobalPosition)
	}
	return m
}
