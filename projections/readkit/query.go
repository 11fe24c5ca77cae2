package readkit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/socplatform/soc/projections"
)

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("readmodel: not found")

// QueryError reports a query parameter the read model cannot honour (the query API answers 400
// naming Param).
type QueryError struct {
	Param  string // the API parameter name: sort, limit, cursor, …
	Reason string
}

func (e *QueryError) Error() string { return fmt.Sprintf("query parameter %s: %s", e.Param, e.Reason) }

// Key is the keyset position of a row in a sorted list: the sort column's value of the last row
// returned (formatted by the read model, opaque to callers) and its id as the tie-breaker.
type Key struct {
	Value string `json:"v"`
	ID    string `json:"id"`
}

// Page is one page of a list.
type Page[T any] struct {
	Items []T
	// Next is the key to pass as After for the next page; nil on the last page.
	Next *Key
}

// List are the parameters every list query takes.
type List struct {
	Sort  string // one of the query's sort fields; "" = the default
	Desc  bool
	Limit int // 1..MaxLimit (the query API refuses larger values)
	After *Key
}

// MaxLimit bounds one page.
const MaxLimit = 1000

// DefaultLimit is the page size when List.Limit is 0.
const DefaultLimit = 50

// DB is a read-model database as the readers query it. It reads the views, never a
// generation's tables, so a rebuild's swap is invisible to it. Every value a caller gives is a
// bind parameter; sort columns come from fixed maps.
type DB struct {
	*projections.DB

	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// NewDB returns a DB over db.
func NewDB(db *projections.DB) *DB {
	return &DB{DB: db, stmts: map[string]*sql.Stmt{}}
}

// maxStmts bounds the prepared statements a DB keeps: statement texts vary only with which
// filters are set and how many values a list filter has, so a few hundred cover real use.
const maxStmts = 512

// stmt returns a prepared statement for q on SQLite, where the driver would otherwise parse and
// plan the text on every call (a tenth of a list query's CPU); nil on PostgreSQL, where pgx
// already keeps a statement cache per connection. SQLite re-prepares a statement by itself when
// a rebuild swaps the views under it.
func (r *DB) stmt(ctx context.Context, q string) *sql.Stmt {
	if r.Dialect != projections.SQLite {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if st, ok := r.stmts[q]; ok {
		return st
	}
	if len(r.stmts) >= maxStmts {
		return nil
	}
	st, err := r.SQL.PrepareContext(ctx, q)
	if err != nil {
		return nil // the unprepared call reports the error
	}
	r.stmts[q] = st
	return st
}

// Query runs q, prepared on SQLite.
func (r *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := r.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return r.SQL.QueryContext(ctx, q, args...)
}

// QueryRow runs q for one row, prepared on SQLite.
func (r *DB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := r.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return r.SQL.QueryRowContext(ctx, q, args...)
}

// Query builds one parameterised statement: its WHERE conditions and their arguments.
type Query struct {
	d     projections.Dialect
	Where []string
	Args  []any
}

// NewQuery starts a statement in dialect d.
func NewQuery(d projections.Dialect) *Query { return &Query{d: d} }

// Arg adds an argument and returns its placeholder.
func (q *Query) Arg(v any) string {
	q.Args = append(q.Args, v)
	return q.d.Placeholder(len(q.Args))
}

// Cond adds a condition: format with a placeholder (%s) for each of vals.
func (q *Query) Cond(format string, vals ...any) {
	ps := make([]any, len(vals))
	for i, v := range vals {
		ps[i] = q.Arg(v)
	}
	q.Where = append(q.Where, fmt.Sprintf(format, ps...))
}

// Eq adds col = v; nothing when v is empty (the query parameter was not given).
func (q *Query) Eq(col, v string) {
	if v != "" {
		q.Cond(col+" = %s", v)
	}
}

// In adds col IN (vals…); nothing when vals is empty.
func (q *Query) In(col string, vals []string) {
	if len(vals) == 0 {
		return
	}
	ps := make([]string, len(vals))
	for i, v := range vals {
		ps[i] = q.Arg(v)
	}
	q.Where = append(q.Where, col+" IN ("+strings.Join(ps, ", ")+")")
}

// Like adds a case-insensitive substring match (LIKE wildcards in s match themselves).
func (q *Query) Like(col, s string) {
	q.Where = append(q.Where, "LOWER("+col+") LIKE "+q.Arg("%"+EscapeLike(strings.ToLower(s))+"%")+` ESCAPE '\'`)
}

// EscapeLike escapes LIKE's wildcards (and its escape character, \) in s so that they match
// themselves in a pattern written with ESCAPE '\'.
func EscapeLike(s string) string { return likeEscaper.Replace(s) }

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// WhereSQL is " WHERE …" ("" without conditions).
func (q *Query) WhereSQL() string {
	if len(q.Where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.Where, " AND ")
}

// SortSpec is one sort field: the SQL expressions it orders by (the row's id breaks ties), how
// a row's key value is formatted and how a key value is parsed back into the expressions' values.
type SortSpec[R any] struct {
	Exprs  []string
	Format func(*R) string
	Parse  func(string) ([]any, error)
}

// Paginate validates l and adds the keyset condition; it returns ORDER BY … LIMIT … and the limit.
func Paginate[R any](q *Query, l List, sorts map[string]SortSpec[R], def, idExpr string) (SortSpec[R], string, int, error) {
	name, desc := l.Sort, l.Desc
	if name == "" {
		name, desc = def, true
	}
	spec, ok := sorts[name]
	if !ok {
		names := make([]string, 0, len(sorts))
		for n := range sorts {
			names = append(names, n)
		}
		slices.Sort(names)
		return spec, "", 0, &QueryError{Param: "sort", Reason: fmt.Sprintf("unknown sort field %q (want one of %s)", l.Sort, strings.Join(names, ", "))}
	}
	limit := l.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLimit {
		return spec, "", 0, &QueryError{Param: "limit", Reason: fmt.Sprintf("limit %d is out of range 1..%d", l.Limit, MaxLimit)}
	}
	dir, cmp := " ASC", ">"
	if desc {
		dir, cmp = " DESC", "<"
	}
	if l.After != nil {
		vals, err := spec.Parse(l.After.Value)
		if err != nil {
			return spec, "", 0, &QueryError{Param: "cursor", Reason: fmt.Sprintf("bad position %q for sort %s: %v", l.After.Value, name, err)}
		}
		if l.After.ID == "" {
			return spec, "", 0, &QueryError{Param: "cursor", Reason: "position without an id"}
		}
		ps := make([]string, 0, len(vals)+1)
		for _, v := range vals {
			ps = append(ps, q.Arg(v))
		}
		ps = append(ps, q.Arg(l.After.ID))
		q.Where = append(q.Where, "("+strings.Join(append(slices.Clone(spec.Exprs), idExpr), ", ")+") "+cmp+" ("+strings.Join(ps, ", ")+")")
	}
	order := make([]string, 0, len(spec.Exprs)+1)
	for _, e := range append(slices.Clone(spec.Exprs), idExpr) {
		order = append(order, e+dir)
	}
	return spec, " ORDER BY " + strings.Join(order, ", ") + " LIMIT " + strconv.Itoa(limit+1), limit, nil
}

// ListPage runs a page query and builds the Page.
func ListPage[R any](ctx context.Context, r *DB, stmt string, args []any, limit int, spec SortSpec[R], scan func(Scanner) (*R, error), id func(*R) string) (Page[R], error) {
	rows, err := r.Query(ctx, stmt, args...)
	if err != nil {
		return Page[R]{}, err
	}
	defer rows.Close()
	p := Page[R]{Items: make([]R, 0, limit)}
	more := false
	for rows.Next() {
		if len(p.Items) == limit {
			more = true
			break
		}
		r, err := scan(rows)
		if err != nil {
			return Page[R]{}, err
		}
		p.Items = append(p.Items, *r)
	}
	if err := rows.Err(); err != nil {
		return Page[R]{}, err
	}
	if more {
		last := &p.Items[len(p.Items)-1]
		p.Next = &Key{Value: spec.Format(last), ID: id(last)}
	}
	return p, nil
}

// ---- key values ------------------------------------------------------------------------------

// Get reads the one row of stmt (a SELECT without WHERE) whose column idCol is id, with scan;
// ErrNotFound when there is none.
func Get[R any](ctx context.Context, r *DB, stmt, idCol, id string, scan func(Scanner) (*R, error)) (*R, error) {
	q := NewQuery(r.Dialect)
	q.Cond(idCol+" = %s", id)
	v, err := scan(r.QueryRow(ctx, stmt+q.WhereSQL(), q.Args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return v, err
}

// FmtTime is a time as a key value.
func FmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// ParseTime reads a time key value as stored (unix microseconds).
func ParseTime(s string) (int64, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, errors.New("want an RFC 3339 time")
	}
	return t.UnixMicro(), nil
}

// FmtFloat is a number as a key value.
func FmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// ParseFloat reads a number key value.
func ParseFloat(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, errors.New("want a number")
	}
	return f, nil
}

// One makes a one-value Parse result.
func One(v any, err error) ([]any, error) {
	if err != nil {
		return nil, err
	}
	return []any{v}, nil
}

// TimeSort sorts by a time column.
func TimeSort[R any](expr string, get func(*R) time.Time) SortSpec[R] {
	return SortSpec[R]{Exprs: []string{expr}, Format: func(r *R) string { return FmtTime(get(r)) },
		Parse: func(s string) ([]any, error) { return One(ParseTime(s)) }}
}

// IDSort sorts by the id alone.
func IDSort[R any](id func(*R) string) SortSpec[R] {
	return SortSpec[R]{Exprs: nil, Format: func(r *R) string { return id(r) }, Parse: func(string) ([]any, error) { return nil, nil }}
}

// TimeRange adds from <= col < to (each bound only when set).
func TimeRange(q *Query, col string, from, to time.Time) {
	if !from.IsZero() {
		q.Cond(col+" >= %s", from.UnixMicro())
	}
	if !to.IsZero() {
		q.Cond(col+" < %s", to.UnixMicro())
	}
}
