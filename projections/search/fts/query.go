package fts

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/projections/search"
	"github.com/socplatform/soc/projections/search/query"
)

// facetColumns maps search.FacetFields to docs_g's columns.
var facetColumns = map[string]string{
	"severity": "d.severity", "status": "d.status", "asset_kind": "d.asset_kind", "scanner": "d.scanner",
	"team": "d.team", "environment": "d.environment", "kind": "d.kind",
}

// sortKey is a sort field's SQL expression and the Go type of its values (for the cursor).
type sortKey struct {
	expr string
	kind byte // 'i' int64, 'f' float64, 's' string
}

var sortKeys = map[string]sortKey{
	"at": {"d.at_ns", 'i'}, "severity": {"d.sev_rank", 'i'}, "cvss": {"d.cvss", 'f'}, "epss": {"d.epss", 'f'},
	"title": {"d.title_key", 's'},
}

// plan is a request checked and made ready to translate.
type plan struct {
	r          search.Request
	sort       search.Sort
	limit      int
	facetSize  int
	facets     []string
	after      *cursor
	relevance  bool   // ordered by bm25 of the FTS match
	match      string // the FTS5 expression of the free-text clauses ("" without one)
	highlights bool
}

// check validates r's parameters (search.CheckRequest) and prepares its translation.
func check(r search.Request) (*plan, error) {
	r, err := search.CheckRequest(r)
	if err != nil {
		return nil, err
	}
	p := &plan{r: r, sort: r.Sort, limit: r.Limit, facetSize: r.FacetSize}
	for _, f := range r.Facets {
		if !slices.Contains(p.facets, f) {
			p.facets = append(p.facets, f)
		}
	}
	p.match = matchExpr(r.Query)
	if p.sort.Field == search.SortRelevance {
		p.sort.Desc = false // best first, whatever the direction asked
		p.relevance = p.match != ""
	}
	p.highlights = r.Highlight && p.match != ""
	if r.Cursor != "" {
		c, err := decodeCursor(r.Cursor, p.sort, p.keyKind())
		if err != nil {
			return nil, err
		}
		p.after = c
	}
	return p, nil
}

// keyKind is the type of the sort key's values ('n' when every row's key is the same).
func (p *plan) keyKind() byte {
	switch {
	case p.relevance:
		return 'f'
	case p.sort.Field == search.SortRelevance:
		return 'n'
	}
	return sortKeys[p.sort.Field].kind
}

// keyExpr is the sort key's SQL expression ("NULL" when every row's key is the same: ties by id).
func (p *plan) keyExpr(t tables) string {
	switch {
	case p.relevance:
		return "bm25(" + t.fts + ")"
	case p.sort.Field == search.SortRelevance:
		return "NULL"
	}
	return sortKeys[p.sort.Field].expr
}

// phrase is the FTS5 phrase of a value's tokens ("" for a value without a token). Tokens are
// letters and digits only, so they never need quoting inside the phrase's quotes.
func phrase(v string) string {
	toks := search.Tokens(v)
	if len(toks) == 0 {
		return ""
	}
	return `"` + strings.Join(toks, " ") + `"`
}

// clauseExpr is the FTS5 expression of one free-text clause: any of its values' phrases; "" when
// a value has no token (it matches every document, so the clause does).
func clauseExpr(c query.Clause) string {
	var alts []string
	for _, v := range c.Values {
		ph := phrase(v)
		if ph == "" {
			return ""
		}
		alts = append(alts, ph)
	}
	if len(alts) == 0 {
		return ""
	}
	return "(" + strings.Join(alts, " OR ") + ")"
}

// matchExpr ANDs the positive free-text clauses into one FTS5 expression (one bm25 for them all).
func matchExpr(q query.Query) string {
	var parts []string
	for _, c := range q.Clauses {
		if c.Field == query.FieldText && !c.Negate {
			if e := clauseExpr(c); e != "" {
				parts = append(parts, e)
			}
		}
	}
	return strings.Join(parts, " AND ")
}

// where builds the FROM and WHERE of every statement of the request over generation t: the
// FTS match first (its argument comes first), visibility, then each clause.
func (p *plan) where(t tables) (from string, q *readkit.Query) {
	q = readkit.NewQuery(projections.SQLite)
	from = t.docs + " d"
	if p.match != "" {
		from = t.fts + " JOIN " + t.docs + " d ON d.rid = " + t.fts + ".rowid"
		q.Cond(t.fts+" MATCH %s", p.match)
	}
	// Visibility: the kinds asked for (every kind by default), the audit trail only for auditors.
	kinds := p.r.Kinds
	if len(kinds) == 0 {
		kinds = search.Kinds
	}
	var visible []string
	for _, k := range kinds {
		if k != search.KindEvent || p.r.Audit {
			visible = append(visible, string(k))
		}
	}
	if len(visible) == 0 {
		q.Where = append(q.Where, "0")
	} else {
		q.In("d.kind", visible)
	}
	if p.r.Scope != nil {
		cond := "d.kind = " + q.Arg(string(search.KindCVE))
		if len(p.r.Scope) > 0 {
			ps := make([]string, len(p.r.Scope))
			for i, team := range p.r.Scope {
				ps[i] = q.Arg(team)
			}
			cond += " OR (d.team <> '' AND d.team IN (" + strings.Join(ps, ", ") + "))"
		}
		q.Where = append(q.Where, "("+cond+")")
	}
	for _, c := range p.r.Query.Clauses {
		if c.Field == query.FieldText && !c.Negate {
			continue // in the MATCH above
		}
		pred := clauseSQL(q, t, c)
		if c.Negate {
			pred = "NOT (" + pred + ")"
		}
		q.Where = append(q.Where, pred)
	}
	return from, q
}

// clauseSQL is one clause's condition, never NULL (so that its negation is its complement: a
// document without the field matches a negated clause).
func clauseSQL(q *readkit.Query, t tables, c query.Clause) string {
	switch c.Field {
	case query.FieldText:
		e := clauseExpr(c)
		if e == "" {
			return "1"
		}
		return "d.rid IN (SELECT rowid FROM " + t.fts + " WHERE " + t.fts + " MATCH " + q.Arg(e) + ")"
	case query.FieldKEV:
		var vals []string
		for _, v := range c.Values {
			switch strings.ToLower(v) {
			case "true":
				vals = append(vals, q.Arg(1))
			case "false":
				vals = append(vals, q.Arg(0))
			}
		}
		if len(vals) == 0 {
			return "0"
		}
		return "d.kev IN (" + strings.Join(vals, ", ") + ")"
	case query.FieldCVSS, query.FieldEPSS:
		col := "d." + string(c.Field)
		op := string(c.Op)
		switch c.Op {
		case query.OpEq:
			op = "="
		case query.OpGT, query.OpGE, query.OpLT, query.OpLE:
		default:
			return "0"
		}
		var alts []string
		for _, v := range c.Values {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				alts = append(alts, "COALESCE("+col+" "+op+" "+q.Arg(f)+", 0)")
			}
		}
		return anyOf(alts)
	case query.FieldIP:
		var alts []string
		for _, v := range c.Values {
			if lo, hi, ok := addrRange(v); ok {
				alts = append(alts, "addr BETWEEN "+q.Arg(lo)+" AND "+q.Arg(hi))
			}
		}
		if len(alts) == 0 {
			return "0"
		}
		return "d.rid IN (SELECT rid FROM " + t.ips + " WHERE " + strings.Join(alts, " OR ") + ")"
	}
	if _, ok := search.ExactFields[c.Field]; (!ok && c.Field != query.FieldCWE) || len(c.Values) == 0 {
		return "0"
	}
	ps := make([]string, len(c.Values))
	col := singleColumn(c.Field)
	field := ""
	if col == "" {
		field = q.Arg(string(c.Field))
	}
	for i, v := range c.Values {
		if c.Field == query.FieldCWE {
			if _, err := strconv.ParseUint(v, 10, 32); err == nil {
				v = "CWE-" + v // a bare number names the CWE, as the query language says
			}
		}
		ps[i] = q.Arg(fold(v))
	}
	if col != "" {
		return "COALESCE(d." + col + " IN (" + strings.Join(ps, ", ") + "), 0)"
	}
	return "d.rid IN (SELECT rid FROM " + t.terms + " WHERE field = " + field + " AND value IN (" + strings.Join(ps, ", ") + "))"
}

func anyOf(alts []string) string {
	if len(alts) == 0 {
		return "0"
	}
	return "(" + strings.Join(alts, " OR ") + ")"
}

// addrRange is the first and last key (addrKey) of the addresses an ip: value covers
// (search.ParseIPRange: a prefix, or an address as the prefix of its own bits).
func addrRange(v string) (lo, hi []byte, ok bool) {
	pfx, ok := search.ParseIPRange(v)
	if !ok {
		return nil, nil, false
	}
	lo = addrKey(pfx.Addr())
	hi = slices.Clone(lo)
	for bit := pfx.Bits(); bit < pfx.Addr().BitLen(); bit++ {
		hi[1+bit/8] |= 0x80 >> (bit % 8)
	}
	return lo, hi, true
}

// Search answers r from the live generation (or the generation ix is bound to), in one read
// transaction: total, facets and page agree with each other.
func (ix *Index) Search(ctx context.Context, r search.Request) (search.Result, error) {
	p, err := check(r)
	if err != nil {
		return search.Result{}, err
	}
	var res search.Result
	err = ix.read(ctx, func(tx *sql.Tx) error {
		gen, err := ix.generation(ctx, tx)
		if err != nil {
			return unavailable(err)
		}
		t := tablesOf(gen)
		from, q := p.where(t)
		if res.Total, res.Facets, err = p.counts(ctx, tx, from, q); err != nil {
			return err
		}
		res.Hits, res.Next, err = p.page(ctx, tx, t, from, q)
		return err
	})
	return res, err
}

// counts returns the number of matching documents and the facets asked for, in one pass over
// the matches: grouped by every facet column at once (few groups: the facets are fields of few
// values), each facet then summed from the groups.
func (p *plan) counts(ctx context.Context, tx *sql.Tx, from string, q *readkit.Query) (int64, map[string][]search.FacetValue, error) {
	var total int64
	if len(p.facets) == 0 {
		err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+from+q.WhereSQL(), q.Args...).Scan(&total)
		return total, nil, unavailable(err)
	}
	cols := make([]string, len(p.facets))
	for i, f := range p.facets {
		cols[i] = facetColumns[f]
	}
	group := strings.Join(cols, ", ")
	rows, err := tx.QueryContext(ctx, "SELECT "+group+", COUNT(*) FROM "+from+q.WhereSQL()+" GROUP BY "+group, q.Args...)
	if err != nil {
		return 0, nil, unavailable(err)
	}
	defer rows.Close()
	counts := make([]map[string]int64, len(p.facets))
	for i := range counts {
		counts[i] = map[string]int64{}
	}
	vals := make([]string, len(p.facets))
	dest := make([]any, len(p.facets)+1)
	for i := range vals {
		dest[i] = &vals[i]
	}
	var n int64
	dest[len(vals)] = &n
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return 0, nil, err
		}
		total += n
		for i, v := range vals {
			if v != "" {
				counts[i][v] += n
			}
		}
	}
	if err := rows.Err(); err != nil {
		return 0, nil, unavailable(err)
	}
	facets := make(map[string][]search.FacetValue, len(p.facets))
	for i, f := range p.facets {
		fv := make([]search.FacetValue, 0, len(counts[i]))
		for v, c := range counts[i] {
			fv = append(fv, search.FacetValue{Value: v, Count: c})
		}
		slices.SortFunc(fv, func(a, b search.FacetValue) int {
			return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Value, b.Value))
		})
		facets[f] = fv[:min(len(fv), p.facetSize)]
	}
	return total, facets, nil
}

// page reads one page of hits in sort order after the cursor (keyset: missing keys last in both
// directions, ties by id) and the cursor of the next page. The sort carries only ids and keys;
// the page's documents and highlights are read for its own hits afterwards.
func (p *plan) page(ctx context.Context, tx *sql.Tx, t tables, from string, q *readkit.Query) ([]search.Hit, string, error) {
	key := p.keyExpr(t)
	// Missing keys (NULL) last in both directions: SQLite puts NULL first ascending, last descending.
	dir := "ASC NULLS LAST"
	if p.sort.Desc {
		dir = "DESC"
	}
	kq := readkit.NewQuery(projections.SQLite)
	kq.Where, kq.Args = slices.Clone(q.Where), slices.Clone(q.Args)
	if p.after != nil {
		p.afterCond(kq, key, p.after)
	}
	stmt := "SELECT d.rid, d.id, " + key + " FROM " + from + kq.WhereSQL() +
		" ORDER BY " + key + " " + dir + ", d.id LIMIT ?"
	type row struct {
		rid  int64
		id   string
		key  any
		body []byte
		hl   [2]string
	}
	var page []row
	err := scanRows(ctx, tx, stmt, append(kq.Args, p.limit+1), func(rows *sql.Rows) error {
		var r row
		if err := rows.Scan(&r.rid, &r.id, &r.key); err != nil {
			return err
		}
		page = append(page, r)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(page) > p.limit {
		page = page[:p.limit]
		last := page[len(page)-1]
		next = p.cursorAt(last.id, last.key).encode()
	}
	if len(page) == 0 {
		return []search.Hit{}, "", nil
	}
	// A page has at most search.MaxLimit rows: one IN list each.
	at := make(map[int64]*row, len(page))
	rids := make([]any, len(page))
	for i := range page {
		at[page[i].rid] = &page[i]
		rids[i] = page[i].rid
	}
	in := projections.SQLite.Placeholders(1, len(rids))
	err = scanRows(ctx, tx, "SELECT rid, doc FROM "+t.bodies+" WHERE rid IN "+in, rids, func(rows *sql.Rows) error {
		var rid int64
		var body []byte
		if err := rows.Scan(&rid, &body); err != nil {
			return err
		}
		at[rid].body = body
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	if p.highlights {
		stmt := "SELECT rowid, highlight(" + t.fts + ", 0, char(1), char(2)), highlight(" + t.fts + ", 1, char(1), char(2)) FROM " +
			t.fts + " WHERE rowid IN " + in + " AND " + t.fts + " MATCH ?"
		err = scanRows(ctx, tx, stmt, append(rids, p.match), func(rows *sql.Rows) error {
			var rid int64
			var hl [2]sql.NullString
			if err := rows.Scan(&rid, &hl[0], &hl[1]); err != nil {
				return err
			}
			at[rid].hl = [2]string{hl[0].String, hl[1].String}
			return nil
		})
		if err != nil {
			return nil, "", err
		}
	}
	hits := make([]search.Hit, len(page))
	for i, r := range page {
		h := &hits[i]
		if err := json.Unmarshal(r.body, &h.Doc); err != nil {
			return nil, "", fmt.Errorf("search index: stored document %s: %w", r.id, err)
		}
		if f, ok := r.key.(float64); ok && p.relevance {
			h.Score = -f // bm25: lower is better
		}
		if p.highlights {
			h.Highlights = highlights(h.Doc.Title, r.hl[0], h.Doc.Text, r.hl[1])
		}
	}
	return hits, next, nil
}

// scanRows runs a query and calls fn for each row.
func scanRows(ctx context.Context, tx *sql.Tx, stmt string, args []any, fn func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, stmt, args...)
	if err != nil {
		return unavailable(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return unavailable(rows.Err())
}

// afterCond adds to q the keyset condition "after cursor c" over the sort key expression key.
func (p *plan) afterCond(q *readkit.Query, key string, c *cursor) {
	if c.Null {
		q.Where = append(q.Where, "(("+key+") IS NULL AND d.id > "+q.Arg(c.ID)+")")
		return
	}
	var v any
	switch p.keyKind() {
	case 'i':
		v = c.I
	case 'f':
		v = c.F
	default:
		v = c.S
	}
	cmp := ">"
	if p.sort.Desc {
		cmp = "<"
	}
	q.Where = append(q.Where, fmt.Sprintf("((%[1]s) IS NULL OR %[1]s %[2]s %[3]s OR (%[1]s = %[4]s AND d.id > %[5]s))",
		key, cmp, q.Arg(v), q.Arg(v), q.Arg(c.ID)))
}
