// Package readkit holds what the read models of every context share: describing a keyed table
// once (Table) and applying a batch to it with one load and multi-row upserts (ApplyKeyed), the
// SQL builders behind that (CreateTable, WriteRows, EachIn, statement caching, chunking under the
// bind-parameter limits), and the column encodings both dialects agree on (unix microseconds,
// INTEGER booleans, JSON TEXT).
package readkit

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/socplatform/soc/projections"
)

// Column types shared by both dialects: times are BIGINT unix microseconds, booleans INTEGER 0/1,
// lists and objects JSON TEXT.
const (
	TText   = "TEXT NOT NULL DEFAULT ''"
	TInt    = "BIGINT NOT NULL DEFAULT 0"
	TIntNul = "BIGINT"
	TReal   = "DOUBLE PRECISION NOT NULL DEFAULT 0"
	TRealN  = "DOUBLE PRECISION"
)

// KeyText is the type of text columns used as keys or sort columns. On PostgreSQL they compare
// bytewise (COLLATE "C"), as SQLite's do, so both dialects sort ids and names the same way and
// keyset pagination never depends on the server's locale.
func KeyText(d projections.Dialect) string {
	if d == projections.Postgres {
		return `TEXT COLLATE "C" NOT NULL DEFAULT ''`
	}
	return TText
}

// Column is one column of a read-model table: {name, SQL type}. An array rather than a struct, so
// that the long column lists of the read models stay one pair per column.
type Column [2]string

// Name is the column's name.
func (c Column) Name() string { return c[0] }

// Type is the column's SQL type.
func (c Column) Type() string { return c[1] }

// colNames are the names of cols, in order.
func colNames(cols []Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name()
	}
	return out
}

// CreateTable creates base's table for tx's generation; pk lists the primary key's columns.
func CreateTable(ctx context.Context, tx *projections.Tx, base string, cols []Column, pk ...string) error {
	var b strings.Builder
	b.WriteString("CREATE TABLE " + tx.Table(base) + " (")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.Name() + " " + c.Type())
	}
	b.WriteString(", PRIMARY KEY (" + strings.Join(pk, ", ") + "))")
	if tx.Dialect == projections.Postgres {
		// Rows are updated far more often than inserted (a finding is seen by every scan). Free
		// room in each page lets PostgreSQL update a row in place (HOT) when no indexed column
		// changes, which skips every index write.
		b.WriteString(" WITH (fillfactor = 70)")
	}
	_, err := tx.ExecContext(ctx, b.String())
	return err
}

// AddColumns adds to base (in tx's generation) those of cols it does not have yet, at the end:
// the idempotent upgrade of a table created before the columns existed (projections.Upgrader).
func AddColumns(ctx context.Context, tx *projections.Tx, base string, cols ...Column) error {
	for _, c := range cols {
		var n int
		q := "SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?"
		if tx.Dialect == projections.Postgres {
			q = "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2"
		}
		if err := tx.QueryRowContext(ctx, q, tx.Table(base), c.Name()).Scan(&n); err != nil {
			return fmt.Errorf("columns of %s: %w", tx.Table(base), err)
		}
		if n > 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, "ALTER TABLE "+tx.Table(base)+" ADD COLUMN "+c.Name()+" "+c.Type()); err != nil {
			return fmt.Errorf("adding %s to %s: %w", c.Name(), tx.Table(base), err)
		}
	}
	return nil
}

// CreateIndex creates the index named by base and suffix on base's table for tx's generation.
func CreateIndex(ctx context.Context, tx *projections.Tx, base, suffix, cols string) error {
	_, err := tx.ExecContext(ctx, "CREATE INDEX "+tx.Index(base, suffix)+" ON "+tx.Table(base)+" ("+cols+")")
	return err
}

// EnsureIndex is CreateIndex for an index added after generations of the table were created:
// it creates it when missing (projections.Upgrader; both dialects know IF NOT EXISTS).
func EnsureIndex(ctx context.Context, tx *projections.Tx, base, suffix, cols string) error {
	_, err := tx.ExecContext(ctx, "CREATE INDEX IF NOT EXISTS "+tx.Index(base, suffix)+" ON "+tx.Table(base)+" ("+cols+")")
	return err
}

// Bind-parameter limits: SQLite's SQLITE_MAX_VARIABLE_NUMBER is 32766, PostgreSQL's wire protocol
// allows 65535. Statements stay under the smaller.
const maxParams = 32766

// chunkSizes are the row counts a multi-row statement is built with: a batch of any size is cut
// into chunks of these sizes and one last chunk of fewer than the smallest, so the SQL texts
// repeat (PostgreSQL's statement cache — pgx prepares each distinct text once per connection —
// keeps hitting instead of preparing a new statement for every batch size) while a batch takes
// few round trips.
var chunkSizes = []int{128, 32, 8}

// chunks cuts n rows of width params into chunk sizes.
func chunks(n, width int) []int {
	limit := maxParams / width
	var out []int
	for _, c := range chunkSizes {
		if c > limit {
			continue
		}
		for n >= c {
			out = append(out, c)
			n -= c
		}
	}
	for n > 0 { // fewer than 8 rows (or rows wider than a chunk allows): at most a few statements
		c := min(n, max(1, limit))
		out = append(out, c)
		n -= c
	}
	return out
}

// insertSQL is "INSERT INTO table (cols) VALUES (…), … [suffix]" for rows rows.
func insertSQL(d projections.Dialect, table string, cols []string, rows int, suffix string) string {
	var b strings.Builder
	b.Grow(64 + rows*len(cols)*6)
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
	n := 1
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.Placeholders(n, len(cols)))
		n += len(cols)
	}
	b.WriteString(suffix)
	return b.String()
}

// UpsertSuffix is " ON CONFLICT (key) DO UPDATE SET" every column of cols but the key.
func UpsertSuffix(cols []string, key string) string {
	var b strings.Builder
	b.WriteString(" ON CONFLICT (" + key + ") DO UPDATE SET ")
	first := true
	for _, c := range cols {
		if c == key {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		b.WriteString(c + " = excluded." + c)
	}
	return b.String()
}

// SQLCache keeps built statement texts: building a 256-row VALUES list costs more than it should
// once per batch.
// A runner may apply two generations of one projection at once (a rebuild beside the live one).
type SQLCache struct {
	mu sync.Mutex
	m  map[string]string
}

func (c *SQLCache) Get(key string, build func() string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[key]; ok {
		return s
	}
	s := build()
	if c.m == nil {
		c.m = map[string]string{}
	}
	c.m[key] = s
	return s
}

// WriteRows writes rows (each len(cols) values) with multi-row INSERTs; suffix (ON CONFLICT …)
// is appended to each. On SQLite, a chunk size used more than once in the call is prepared once
// (parsing a 128-row statement costs about as much as running it); on PostgreSQL pgx already
// caches a prepared statement per distinct text and connection, and an explicit Prepare would
// only add round trips.
func WriteRows(ctx context.Context, tx *projections.Tx, cache *SQLCache, table string, cols []string, suffix string, rows [][]any) error {
	sizes := chunks(len(rows), len(cols))
	args := make([]any, 0, min(len(rows), chunkSizes[0])*len(cols))
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	i := 0
	for k, n := range sizes {
		q := cache.Get(table+"|"+suffix+"|"+strconv.Itoa(n), func() string { return insertSQL(tx.Dialect, table, cols, n, suffix) })
		args = args[:0]
		for _, r := range rows[i : i+n] {
			args = append(args, r...)
		}
		i += n
		st := stmts[n]
		if st == nil && tx.Dialect == projections.SQLite && k+1 < len(sizes) && sizes[k+1] == n {
			var err error
			if st, err = tx.PrepareContext(ctx, q); err != nil {
				return err
			}
			stmts[n] = st
		}
		var err error
		if st != nil {
			_, err = st.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, q, args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// padded returns ids padded (by repeating the first) to a power of two, so that an IN list has
// few distinct lengths and its statement is reused (a repeated id changes nothing).
func padded(ids []string) []any {
	n := 1
	for n < len(ids) {
		n *= 2
	}
	out := make([]any, n)
	for i := range out {
		if i < len(ids) {
			out[i] = ids[i]
		} else {
			out[i] = ids[0]
		}
	}
	return out
}

// inChunk bounds an IN list (well under both dialects' parameter limits).
const inChunk = 1024

// EachIn runs query(prefix + "(…)" + suffix) for ids in chunks, calling fn for each result row
// (fn nil: Exec).
func EachIn(ctx context.Context, tx *projections.Tx, cache *SQLCache, prefix, suffix string, ids []string, fn func(*sql.Rows) error) error {
	for start := 0; start < len(ids); start += inChunk {
		args := padded(ids[start:min(len(ids), start+inChunk)])
		q := cache.Get(prefix+"|"+suffix+"|"+strconv.Itoa(len(args)), func() string {
			return prefix + tx.Dialect.Placeholders(1, len(args)) + suffix
		})
		if fn == nil {
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
			continue
		}
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := fn(rows); err != nil {
				rows.Close()
				return err
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// ---- value encoding --------------------------------------------------------------------------

// Micros is t as stored: unix microseconds.
func Micros(t time.Time) int64 { return t.UnixMicro() }

// FromMicros reads a stored time back, in UTC.
func FromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// NullMicros stores an optional time (NULL when absent).
func NullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

// FromNullMicros reads an optional time back.
func FromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := FromMicros(v.Int64)
	return &t
}

// NullFloat stores an optional number (NULL when absent).
func NullFloat(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// FromNullFloat reads an optional number back.
func FromNullFloat(v sql.NullFloat64) *float64 {
	if !v.Valid {
		return nil
	}
	f := v.Float64
	return &f
}

// BoolInt stores a boolean as INTEGER 0/1.
func BoolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// JSONText encodes v as JSON TEXT ("" for an empty value, so that nil and empty read back alike).
func JSONText(v any) string {
	switch x := v.(type) {
	case []string:
		if len(x) == 0 {
			return ""
		}
	case map[string][]string:
		if len(x) == 0 {
			return ""
		}
	case map[string]int64:
		if len(x) == 0 {
			return ""
		}
	default:
		// Any other list or object (a read model's own element types): the same rule, found by
		// reflection, off the common path above.
		if rv := reflect.ValueOf(v); (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map) && rv.Len() == 0 {
			return ""
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // read models store lists and objects of plain data: they always encode
	}
	return string(b)
}

// FromJSON reads a JSON TEXT column back ("" is the zero value).
func FromJSON[T any](s string) (T, error) {
	var v T
	if s == "" {
		return v, nil
	}
	err := json.Unmarshal([]byte(s), &v)
	return v, err
}
