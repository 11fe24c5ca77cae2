package readmodel

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
	"github.com/socplatform/soc/projections/readkit"
)

// DefaultLimit is the page size when List.Limit is 0.
const DefaultLimit = 50

// Reader runs the read models' queries. It reads the views (assets, findings, asset_findings,
// finding_cves, finding_cwes, scans, cves), never a generation's tables, so a rebuild's swap is
// invisible to it. Every value a caller gives is a bind parameter; sort columns come from fixed
// maps.
type Reader struct {
	db *projections.DB

	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// NewReader returns a Reader over db.
func NewReader(db *projections.DB) *Reader {
	return &Reader{db: db, stmts: map[string]*sql.Stmt{}}
}

// maxStmts bounds the prepared statements a Reader keeps: statement texts vary only with which
// filters are set and how many values a list filter has, so a few hundred cover real use.
const maxStmts = 512

// stmt returns a prepared statement for q on SQLite, where the driver would otherwise parse and
// plan the text on every call (a tenth of a list query's CPU); nil on PostgreSQL, where pgx
// already keeps a statement cache per connection. SQLite re-prepares a statement by itself when
// a rebuild swaps the views under it.
func (r *Reader) stmt(ctx context.Context, q string) *sql.Stmt {
	if r.db.Dialect != projections.SQLite {
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
	st, err := r.db.SQL.PrepareContext(ctx, q)
	if err != nil {
		return nil // the unprepared call reports the error
	}
	r.stmts[q] = st
	return st
}

func (r *Reader) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := r.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return r.db.SQL.QueryContext(ctx, q, args...)
}

func (r *Reader) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := r.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return r.db.SQL.QueryRowContext(ctx, q, args...)
}

// query builds one parameterised statement.
type query struct {
	d     projections.Dialect
	where []string
	args  []any
}

func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return q.d.Placeholder(len(q.args))
}

func (q *query) cond(format string, vals ...any) {
	ps := make([]any, len(vals))
	for i, v := range vals {
		ps[i] = q.arg(v)
	}
	q.where = append(q.where, fmt.Sprintf(format, ps...))
}

func (q *query) in(col string, vals []string) {
	if len(vals) == 0 {
		return
	}
	ps := make([]string, len(vals))
	for i, v := range vals {
		ps[i] = q.arg(v)
	}
	q.where = append(q.where, col+" IN ("+strings.Join(ps, ", ")+")")
}

// like adds a case-insensitive substring match (LIKE wildcards in s match themselves).
func (q *query) like(col, s string) {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	q.where = append(q.where, "LOWER("+col+") LIKE "+q.arg("%"+r.Replace(strings.ToLower(s))+"%")+` ESCAPE '\'`)
}

func (q *query) whereSQL() string {
	if len(q.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.where, " AND ")
}

// sortSpec is one sort field: the SQL expressions it orders by (the row's id breaks ties), how
// a row's key value is formatted and how a key value is parsed back into the expressions' values.
type sortSpec[R any] struct {
	exprs  []string
	format func(*R) string
	parse  func(string) ([]any, error)
}

// page validates l and adds the keyset condition; it returns ORDER BY … LIMIT … and the limit.
func page[R any](q *query, l List, sorts map[string]sortSpec[R], def, idExpr string) (sortSpec[R], string, int, error) {
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
		vals, err := spec.parse(l.After.Value)
		if err != nil {
			return spec, "", 0, &QueryError{Param: "cursor", Reason: fmt.Sprintf("bad position %q for sort %s: %v", l.After.Value, name, err)}
		}
		if l.After.ID == "" {
			return spec, "", 0, &QueryError{Param: "cursor", Reason: "position without an id"}
		}
		ps := make([]string, 0, len(vals)+1)
		for _, v := range vals {
			ps = append(ps, q.arg(v))
		}
		ps = append(ps, q.arg(l.After.ID))
		q.where = append(q.where, "("+strings.Join(append(slices.Clone(spec.exprs), idExpr), ", ")+") "+cmp+" ("+strings.Join(ps, ", ")+")")
	}
	order := make([]string, 0, len(spec.exprs)+1)
	for _, e := range append(slices.Clone(spec.exprs), idExpr) {
		order = append(order, e+dir)
	}
	return spec, " ORDER BY " + strings.Join(order, ", ") + " LIMIT " + strconv.Itoa(limit+1), limit, nil
}

// list runs a page query and builds the Page.
func list[R any](ctx context.Context, r *Reader, stmt string, args []any, limit int, spec sortSpec[R], scan func(readkit.Scanner) (*R, error), id func(*R) string) (Page[R], error) {
	rows, err := r.query(ctx, stmt, args...)
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
		p.Next = &Key{Value: spec.format(last), ID: id(last)}
	}
	return p, nil
}

// ---- key values ------------------------------------------------------------------------------

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTime(s string) (int64, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, errors.New("want an RFC 3339 time")
	}
	return t.UnixMicro(), nil
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func parseFloat(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, errors.New("want a number")
	}
	return f, nil
}

func one(v any, err error) ([]any, error) {
	if err != nil {
		return nil, err
	}
	return []any{v}, nil
}

func timeSort[R any](expr string, get func(*R) time.Time) sortSpec[R] {
	return sortSpec[R]{exprs: []string{expr}, format: func(r *R) string { return fmtTime(get(r)) },
		parse: func(s string) ([]any, error) { return one(parseTime(s)) }}
}

// optional numbers: "" is "none", stored as noScore.
func scoreSort[R any](expr string, get func(*R) *float64) sortSpec[R] {
	return sortSpec[R]{exprs: []string{expr},
		format: func(r *R) string {
			if v := get(r); v != nil {
				return fmtFloat(*v)
			}
			return ""
		},
		parse: func(s string) ([]any, error) {
			if s == "" {
				return []any{noScore}, nil
			}
			f, err := parseFloat(s)
			if err == nil && f < 0 {
				err = errors.New("want a number ≥ 0")
			}
			return one(f, err)
		}}
}

func idSort[R any](id func(*R) string) sortSpec[R] {
	return sortSpec[R]{exprs: nil, format: func(r *R) string { return id(r) }, parse: func(string) ([]any, error) { return nil, nil }}
}

// ---- findings --------------------------------------------------------------------------------

func dueKey(f *Finding) string {
	if f.DueAt == nil {
		return ""
	}
	return fmtTime(*f.DueAt)
}

func parseDue(s string) (int64, error) {
	if s == "" {
		return noDue, nil
	}
	return parseTime(s)
}

// findingSorts: severity orders by severity, then by urgency (the earlier due date first when
// descending; no due date last), as a triage list wants; its key value is "<severity>|<due>".
var findingSorts = map[string]sortSpec[Finding]{
	"severity": {
		exprs:  []string{"f.severity_rank", "f.due_urgency"},
		format: func(f *Finding) string { return f.Severity + "|" + dueKey(f) },
		parse: func(s string) ([]any, error) {
			sev, due, ok := strings.Cut(s, "|")
			if !ok || severityRank(sev) == 0 {
				return nil, errors.New(`want "<severity>|<due date or empty>"`)
			}
			d, err := parseDue(due)
			if err != nil {
				return nil, err
			}
			return []any{severityRank(sev), -d}, nil
		},
	},
	"due_at":     {exprs: []string{"f.due_at"}, format: dueKey, parse: func(s string) ([]any, error) { return one(parseDue(s)) }},
	"first_seen": timeSort("f.first_seen", func(f *Finding) time.Time { return f.FirstSeen }),
	"last_seen":  timeSort("f.last_seen", func(f *Finding) time.Time { return f.LastSeen }),
	"updated_at": timeSort("f.updated_at", func(f *Finding) time.Time { return f.UpdatedAt }),
	"epss":       scoreSort("f.epss", func(f *Finding) *float64 { return f.EPSS }),
	"cvss":       scoreSort("f.cvss_score", func(f *Finding) *float64 { return f.CVSSScore }),
	"id":         idSort(func(f *Finding) string { return f.ID }),
}

func (r *Reader) findingSelect() string {
	return "SELECT " + findingTable.Qualified("f") + ", COALESCE(a.name, '') FROM findings f LEFT JOIN assets a ON a.id = f.asset_id"
}

func scanFindingRow(now time.Time) func(readkit.Scanner) (*Finding, error) {
	return func(s readkit.Scanner) (*Finding, error) {
		var name string
		f, err := scanFinding(s, &name)
		if err != nil {
			return nil, err
		}
		f.AssetName = name
		f.Overdue = IsOpen(f.Status) && f.DueAt != nil && f.DueAt.Before(now)
		return f, nil
	}
}

// Finding returns one finding by stream id.
func (r *Reader) Finding(ctx context.Context, id string) (*Finding, error) {
	q := &query{d: r.db.Dialect}
	q.cond("f.id = %s", id)
	row := r.queryRow(ctx, r.findingSelect()+q.whereSQL(), q.args...)
	f, err := scanFindingRow(time.Now())(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return f, err
}

// Findings lists findings.
func (r *Reader) Findings(ctx context.Context, fq FindingQuery) (Page[Finding], error) {
	now := fq.Now
	if now.IsZero() {
		now = time.Now()
	}
	q := &query{d: r.db.Dialect}
	if len(fq.Severity) > 0 {
		// By rank, which the triage indexes carry, so the filter is checked without reading rows.
		ranks := make([]string, 0, len(fq.Severity))
		for _, s := range fq.Severity {
			ranks = append(ranks, q.arg(severityRank(s)))
		}
		q.where = append(q.where, "f.severity_rank IN ("+strings.Join(ranks, ", ")+")")
	}
	q.in("f.status", fq.Status)
	if len(fq.Status) > 0 && !slices.ContainsFunc(fq.Status, func(s string) bool { return !IsOpen(s) }) && fq.Open == nil {
		// Implied by the statuses, but only this lets the planner use the open_sev index.
		q.where = append(q.where, "f.open = 1")
	}
	if fq.Open != nil {
		q.cond("f.open = %s", readkit.BoolInt(*fq.Open))
	}
	if fq.AssetID != "" {
		q.cond("f.asset_id = %s", fq.AssetID)
	}
	if fq.CVE != "" {
		q.cond("f.id IN (SELECT finding_id FROM finding_cves WHERE cve = %s)", fq.CVE)
	}
	if fq.CWE != "" {
		q.cond("f.id IN (SELECT finding_id FROM finding_cwes WHERE cwe = %s)", fq.CWE)
	}
	if fq.KEV != nil {
		q.cond("f.kev = %s", readkit.BoolInt(*fq.KEV))
	}
	if fq.EPSSMin != nil {
		q.cond("f.epss >= %s", *fq.EPSSMin)
	}
	if fq.Owner != "" {
		q.cond("f.owner = %s", fq.Owner)
	}
	if fq.Overdue != nil {
		if *fq.Overdue {
			q.cond("(f.open = 1 AND f.due_at < %s)", now.UnixMicro())
		} else {
			q.cond("NOT (f.open = 1 AND f.due_at < %s)", now.UnixMicro())
		}
	}
	if !fq.DueBefore.IsZero() {
		q.cond("f.due_at < %s", fq.DueBefore.UnixMicro()) // no due date is noDue: never before
	}
	if !fq.DueAfter.IsZero() {
		q.cond("(f.due_at >= %s AND f.due_at <> %s)", fq.DueAfter.UnixMicro(), int64(noDue))
	}
	if fq.Scanner != "" {
		q.cond("f.scanner = %s", fq.Scanner)
	}
	if fq.Format != "" {
		q.cond("f.format = %s", fq.Format)
	}
	if fq.ScanID != "" {
		q.cond("(f.first_scan_id = %s OR f.last_scan_id = %s)", fq.ScanID, fq.ScanID)
	}
	timeRange(q, "f.first_seen", fq.FirstSeenFrom, fq.FirstSeenTo)
	timeRange(q, "f.last_seen", fq.LastSeenFrom, fq.LastSeenTo)
	if fq.Q != "" {
		q.like("f.title", fq.Q)
	}
	spec, tail, limit, err := page(q, fq.List, findingSorts, FindingSorts[0], "f.id")
	if err != nil {
		return Page[Finding]{}, err
	}
	return list(ctx, r, r.findingSelect()+q.whereSQL()+tail, q.args, limit, spec, scanFindingRow(now), func(f *Finding) string { return f.ID })
}

func timeRange(q *query, col string, from, to time.Time) {
	if !from.IsZero() {
		q.cond(col+" >= %s", from.UnixMicro())
	}
	if !to.IsZero() {
		q.cond(col+" < %s", to.UnixMicro())
	}
}

// ---- assets ----------------------------------------------------------------------------------

// riskExpr is an asset's score in SQL (see RiskFormula); the Reader returns the value SQL
// computed, so sorting, MinRisk and the returned Score agree exactly.
const riskExpr = "(CASE WHEN COALESCE(af.risk_milli, 0) * a.risk_factor / 1000 > 100 THEN CAST(100 AS DOUBLE PRECISION) ELSE COALESCE(af.risk_milli, 0) * a.risk_factor / 1000 END)"

var assetSorts = map[string]sortSpec[Asset]{
	"risk": {exprs: []string{riskExpr}, format: func(a *Asset) string { return fmtFloat(a.Risk.Score) },
		parse: func(s string) ([]any, error) { return one(parseFloat(s)) }},
	"name": {exprs: []string{"a.name"}, format: func(a *Asset) string { return a.Name },
		parse: func(s string) ([]any, error) { return []any{s}, nil }},
	"criticality": {exprs: []string{"a.criticality_rank"}, format: func(a *Asset) string { return a.Criticality },
		parse: func(s string) ([]any, error) {
			if s != "" && criticalityRank(s) == 0 {
				return nil, errors.New("want critical, high, medium, low or empty")
			}
			return []any{criticalityRank(s)}, nil
		}},
	"open_critical": {exprs: []string{"COALESCE(af.open_critical, 0)"}, format: func(a *Asset) string { return strconv.FormatInt(a.OpenFindings["critical"], 10) },
		parse: func(s string) ([]any, error) { return one(strconv.ParseInt(s, 10, 64)) }},
	"updated_at": timeSort("a.updated_at", func(a *Asset) time.Time { return a.UpdatedAt }),
	"id":         idSort(func(a *Asset) string { return a.ID }),
}

func (r *Reader) assetSelect() string {
	af := make([]string, 0, len(assetFindingsCols))
	for _, c := range assetFindingsCols[1:] {
		af = append(af, "COALESCE(af."+c+", 0)")
	}
	return "SELECT " + assetTable.Qualified("a") + ", " + strings.Join(af, ", ") + ", " + riskExpr +
		" FROM assets a LEFT JOIN asset_findings af ON af.asset_id = a.id"
}

func scanAssetRow(s readkit.Scanner) (*Asset, error) {
	var a Asset
	var ids, tags, links string
	var rank int64
	var factor, score float64
	var created, updated int64
	var af assetFindings
	dest := append([]any{&a.ID, &a.Kind, &a.Name, &a.Description, &ids, &a.Criticality, &rank, &factor,
		&a.Environment, &a.OwnerTeam, &a.DataClassification, &tags, &links, &a.Status, &created, &updated, &a.Version},
		af.dest()...)
	if err := s.Scan(append(dest, &score)...); err != nil {
		return nil, err
	}
	if _, err := decodeAsset(&a, ids, tags, links, created, updated); err != nil {
		return nil, err
	}
	a.OpenFindings = af.counts()
	a.Risk = riskOf(score, a.Criticality, &af)
	return &a, nil
}

// Asset returns one asset by stream id, with its open findings and risk.
func (r *Reader) Asset(ctx context.Context, id string) (*Asset, error) {
	q := &query{d: r.db.Dialect}
	q.cond("a.id = %s", id)
	a, err := scanAssetRow(r.queryRow(ctx, r.assetSelect()+q.whereSQL(), q.args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return a, err
}

// Assets lists assets.
func (r *Reader) Assets(ctx context.Context, aq AssetQuery) (Page[Asset], error) {
	q := &query{d: r.db.Dialect}
	q.in("a.kind", aq.Kind)
	q.in("a.criticality", aq.Criticality)
	if aq.Environment != "" {
		q.cond("a.environment = %s", aq.Environment)
	}
	if aq.OwnerTeam != "" {
		q.cond("a.owner_team = %s", aq.OwnerTeam)
	}
	if aq.Status != "" {
		q.cond("a.status = %s", aq.Status)
	}
	if aq.Tag != "" {
		// tags is a JSON array of strings that hold no quote or backslash (the schema's pattern).
		r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
		q.where = append(q.where, "a.tags LIKE "+q.arg(`%"`+r.Replace(aq.Tag)+`"%`)+` ESCAPE '\'`)
	}
	if aq.Q != "" {
		q.like("a.name", aq.Q)
	}
	if aq.MinRisk != nil {
		q.cond(riskExpr+" >= %s", *aq.MinRisk)
	}
	if aq.HasOpen != nil {
		if *aq.HasOpen {
			q.where = append(q.where, "COALESCE(af.open_total, 0) > 0")
		} else {
			q.where = append(q.where, "COALESCE(af.open_total, 0) = 0")
		}
	}
	spec, tail, limit, err := page(q, aq.List, assetSorts, AssetSorts[0], "a.id")
	if err != nil {
		return Page[Asset]{}, err
	}
	return list(ctx, r, r.assetSelect()+q.whereSQL()+tail, q.args, limit, spec, scanAssetRow, func(a *Asset) string { return a.ID })
}

// ---- scans -----------------------------------------------------------------------------------

var scanSorts = map[string]sortSpec[Scan]{
	"started_at": timeSort("s.started_at", func(s *Scan) time.Time { return s.StartedAt }),
	"findings_total": {exprs: []string{"s.findings_total"}, format: func(s *Scan) string { return strconv.FormatInt(s.FindingsTotal, 10) },
		parse: func(v string) ([]any, error) { return one(strconv.ParseInt(v, 10, 64)) }},
	"id": idSort(func(s *Scan) string { return s.ID }),
}

func scanSelect() string { return "SELECT " + scanTable.Qualified("s") + " FROM scans s" }

// Scan returns one scan by scan id.
func (r *Reader) Scan(ctx context.Context, id string) (*Scan, error) {
	q := &query{d: r.db.Dialect}
	q.cond("s.id = %s", id)
	s, err := scanTable.Scan(r.queryRow(ctx, scanSelect()+q.whereSQL(), q.args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return s, err
}

// Scans lists scans.
func (r *Reader) Scans(ctx context.Context, sq ScanQuery) (Page[Scan], error) {
	q := &query{d: r.db.Dialect}
	if sq.Format != "" {
		q.cond("s.format = %s", sq.Format)
	}
	if sq.Status != "" {
		q.cond("s.status = %s", sq.Status)
	}
	if sq.Actor != "" {
		q.cond("s.actor = %s", sq.Actor)
	}
	timeRange(q, "s.started_at", sq.From, sq.To)
	spec, tail, limit, err := page(q, sq.List, scanSorts, ScanSorts[0], "s.id")
	if err != nil {
		return Page[Scan]{}, err
	}
	return list(ctx, r, scanSelect()+q.whereSQL()+tail, q.args, limit, spec, scanTable.Scan, func(s *Scan) string { return s.ID })
}

// ---- CVEs ------------------------------------------------------------------------------------

// CVE returns one catalogue entry by CVE id, with the number of open findings that carry it.
func (r *Reader) CVE(ctx context.Context, id string) (*CVE, error) {
	q := &query{d: r.db.Dialect}
	q.cond("c.id = %s", id)
	c, err := cveTable.Scan(r.queryRow(ctx, "SELECT "+cveTable.Qualified("c")+" FROM cves c"+q.whereSQL(), q.args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	q = &query{d: r.db.Dialect}
	q.cond("fc.cve = %s", id)
	err = r.queryRow(ctx, "SELECT COUNT(*) FROM finding_cves fc JOIN findings f ON f.id = fc.finding_id"+q.whereSQL()+" AND f.open = 1", q.args...).Scan(&c.OpenFindings)
	return c, err
}
