package readkit

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
)

// Table describes one keyed table of a projection: its columns (the first is the key, "id"), how
// a row becomes values and how values become a row. The same description creates the table,
// loads rows, writes them and reads them in queries.
type Table[R any] struct {
	Base   string
	Cols   func(projections.Dialect) []Column
	Values func(*R) []any
	Scan   func(Scanner) (*R, error)
	// fixed lists the columns no event but a stream's first ever changes: a row that existed
	// before the batch is written back without them, which saves sending and parsing its
	// largest texts again.
	Fixed []string
}

// Scanner is a *sql.Row or *sql.Rows.
type Scanner interface{ Scan(dest ...any) error }

// Names are the table's column names.
func (t *Table[R]) Names() []string { return colNames(t.Cols(projections.SQLite)) }

// Qualified returns the column list prefixed by alias ("f.id, f.title, …").
func (t *Table[R]) Qualified(alias string) string {
	names := t.Names()
	for i := range names {
		names[i] = alias + "." + names[i]
	}
	return strings.Join(names, ", ")
}

// Create creates the table for tx's generation, keyed by its first column, with an index per
// {name suffix, columns} pair.
func (t *Table[R]) Create(ctx context.Context, tx *projections.Tx, indexes ...[2]string) error {
	cols := t.Cols(tx.Dialect)
	if err := CreateTable(ctx, tx, t.Base, cols, cols[0].Name()); err != nil {
		return err
	}
	for _, ix := range indexes {
		if err := CreateIndex(ctx, tx, t.Base, ix[0], ix[1]); err != nil {
			return err
		}
	}
	return nil
}

// BatchState is what one Apply call knows of the rows its batch touches.
type BatchState[R any] struct {
	Before map[string]*R // as loaded (absent: the row did not exist)
	After  map[string]*R
	Order  []string // keys in order of first touch, for deterministic writes
}

// ApplyKeyed is the shape every projection's Apply shares: find the keys the batch touches, load
// those rows in one query, fold the events in memory, then write the changed rows back with
// multi-row upserts. keyOf returns ok=false for an event the projection does not handle.
func ApplyKeyed[R any](ctx context.Context, tx *projections.Tx, cache *SQLCache, t *Table[R], batch []events.Envelope,
	keyOf func(*events.Envelope) (key string, ok bool, err error),
	fold func(*R, *events.Envelope) (*R, error),
	change func(*events.Envelope, *R) projections.Change,
) (*BatchState[R], []projections.Change, error) {
	st := &BatchState[R]{Before: map[string]*R{}, After: map[string]*R{}}
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
			st.Order = append(st.Order, k)
		}
	}
	if len(st.Order) == 0 {
		return st, nil, nil
	}
	prefix := "SELECT " + strings.Join(t.Names(), ", ") + " FROM " + tx.Table(t.Base) + " WHERE id IN "
	err := EachIn(ctx, tx, cache, prefix, "", st.Order, func(rows *sql.Rows) error {
		r, err := t.Scan(rows)
		if err != nil {
			return err
		}
		k := t.Values(r)[0].(string)
		st.Before[k], st.After[k] = r, r
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
		r, err := fold(st.After[k], &batch[i])
		if err != nil {
			return nil, nil, projections.Poison(&batch[i], err)
		}
		st.After[k] = r
		changes = append(changes, change(&batch[i], r))
	}
	names := t.Names()
	var fresh, old [][]any
	var keep []int // the indexes of the columns an existing row is written with
	for i, n := range names {
		if !slices.Contains(t.Fixed, n) {
			keep = append(keep, i)
		}
	}
	for _, k := range st.Order {
		r := st.After[k]
		switch {
		case r == nil || r == st.Before[k]:
		case st.Before[k] == nil:
			fresh = append(fresh, t.Values(r))
		case !fixedSame(t, names, st.Before[k], r):
			fresh = append(fresh, t.Values(r)) // cannot happen with well-formed streams; stay correct anyway
		default:
			all := t.Values(r)
			v := make([]any, len(keep))
			for i, c := range keep {
				v[i] = all[c]
			}
			old = append(old, v)
		}
	}
	if err := WriteRows(ctx, tx, cache, tx.Table(t.Base), names, UpsertSuffix(names, "id"), fresh); err != nil {
		return nil, nil, err
	}
	if len(old) > 0 {
		// INSERT needs every NOT NULL column: the fixed ones take their defaults, and the
		// conflict (the row exists) keeps their stored values.
		cols := make([]string, len(keep))
		for i, c := range keep {
			cols[i] = names[c]
		}
		if err := WriteRows(ctx, tx, cache, tx.Table(t.Base), cols, UpsertSuffix(cols, "id"), old); err != nil {
			return nil, nil, err
		}
	}
	return st, changes, nil
}

// fixedSame reports whether the fixed columns of two versions of a row hold the same values.
func fixedSame[R any](t *Table[R], names []string, before, after *R) bool {
	if len(t.Fixed) == 0 {
		return true
	}
	b, a := t.Values(before), t.Values(after)
	for i, n := range names {
		if slices.Contains(t.Fixed, n) && b[i] != a[i] {
			return false
		}
	}
	return true
}
