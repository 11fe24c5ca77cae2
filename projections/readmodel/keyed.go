package readmodel

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
)

// table describes one keyed table of a projection: its columns (the first is the key, "id"), how
// a row becomes values and how values become a row. The same description creates the table,
// loads rows, writes them and reads them in queries.
type table[R any] struct {
	base   string
	cols   func(projections.Dialect) []column
	values func(*R) []any
	scan   func(scanner) (*R, error)
	// fixed lists the columns no event but a stream's first ever changes: a row that existed
	// before the batch is written back without them, which saves sending and parsing its
	// largest texts again.
	fixed []string
}

type scanner interface{ Scan(dest ...any) error }

func (t *table[R]) names() []string { return colNames(t.cols(projections.SQLite)) }

// qualified returns the column list prefixed by alias ("f.id, f.title, …").
func (t *table[R]) qualified(alias string) string {
	names := t.names()
	for i := range names {
		names[i] = alias + "." + names[i]
	}
	return strings.Join(names, ", ")
}

// batchState is what one Apply call knows of the rows its batch touches.
type batchState[R any] struct {
	before map[string]*R // as loaded (absent: the row did not exist)
	after  map[string]*R
	order  []string // keys in order of first touch, for deterministic writes
}

// applyKeyed is the shape every projection's Apply shares: find the keys the batch touches, load
// those rows in one query, fold the events in memory, then write the changed rows back with
// multi-row upserts. keyOf returns ok=false for an event the projection does not handle.
func applyKeyed[R any](ctx context.Context, tx *projections.Tx, cache *sqlCache, t *table[R], batch []events.Envelope,
	keyOf func(*events.Envelope) (key string, ok bool, err error),
	fold func(*R, *events.Envelope) (*R, error),
	change func(*events.Envelope, *R) projections.Change,
) (*batchState[R], []projections.Change, error) {
	st := &batchState[R]{before: map[string]*R{}, after: map[string]*R{}}
	keys := make([]string, len(batch))
	seen := map[string]bool{}
	for i := range batch {
		k, ok, err := keyOf(&batch[i])
		if err != nil {
			return nil, nil, projections.Poison(&batch[i], err)
		}
		if !ok {
			continue
		}
		keys[i] = k
		if !seen[k] {
			seen[k] = true
			st.order = append(st.order, k)
		}
	}
	if len(st.order) == 0 {
		return st, nil, nil
	}
	prefix := "SELECT " + strings.Join(t.names(), ", ") + " FROM " + tx.Table(t.base) + " WHERE id IN "
	err := eachIn(ctx, tx, cache, prefix, "", st.order, func(rows *sql.Rows) error {
		r, err := t.scan(rows)
		if err != nil {
			return err
		}
		k := t.values(r)[0].(string)
		st.before[k], st.after[k] = r, r
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	changes := make([]projections.Change, 0, len(batch))
	for i := range batch {
		k := keys[i]
		if k == "" {
			continue
		}
		r, err := fold(st.after[k], &batch[i])
		if err != nil {
			return nil, nil, projections.Poison(&batch[i], err)
		}
		st.after[k] = r
		changes = append(changes, change(&batch[i], r))
	}
	names := t.names()
	var fresh, old [][]any
	var keep []int // the indexes of the columns an existing row is written with
	for i, n := range names {
		if !slices.Contains(t.fixed, n) {
			keep = append(keep, i)
		}
	}
	for _, k := range st.order {
		r := st.after[k]
		switch {
		case r == nil || r == st.before[k]:
		case st.before[k] == nil:
			fresh = append(fresh, t.values(r))
		case !fixedSame(t, names, st.before[k], r):
			fresh = append(fresh, t.values(r)) // cannot happen with well-formed streams; stay correct anyway
		default:
			all := t.values(r)
			v := make([]any, len(keep))
			for i, c := range keep {
				v[i] = all[c]
			}
			old = append(old, v)
		}
	}
	if err := writeRows(ctx, tx, cache, tx.Table(t.base), names, upsertSuffix(names, "id"), fresh); err != nil {
		return nil, nil, err
	}
	if len(old) > 0 {
		// INSERT needs every NOT NULL column: the fixed ones take their defaults, and the
		// conflict (the row exists) keeps their stored values.
		cols := make([]string, len(keep))
		for i, c := range keep {
			cols[i] = names[c]
		}
		if err := writeRows(ctx, tx, cache, tx.Table(t.base), cols, upsertSuffix(cols, "id"), old); err != nil {
			return nil, nil, err
		}
	}
	return st, changes, nil
}

// fixedSame reports whether the fixed columns of two versions of a row hold the same values.
func fixedSame[R any](t *table[R], names []string, before, after *R) bool {
	if len(t.fixed) == 0 {
		return true
	}
	b, a := t.values(before), t.values(after)
	for i, n := range names {
		if slices.Contains(t.fixed, n) && b[i] != a[i] {
			return false
		}
	}
	return true
}
