// Package searchtest is the contract suite of the search read model: every backend
// (Elasticsearch, OpenSearch, the embedded SQLite FTS5 one) passes Run, which writes a fixture
// of hand-written documents (fixture.go) and checks each search against search.Answer, the
// reference semantics, itself checked against answers worked out by hand (queries.go).
//
// The suite is strict where the contract is exact — which documents match, totals, facets,
// field sorts with their tie-breaks, paging, versions, what Load returns — and compares sets
// where backends legitimately differ: relevance order (every engine scores its own way).
//
// Decisions it holds backends to (the contract leaves them to the suite):
//   - a request out of bounds (Limit < 0 or > MaxLimit, FacetSize < 0) or naming an unknown
//     facet, sort field or kind is a *search.ParamError naming the parameter ("limit",
//     "facet_size", "facets", "sort", "type"), never clamped: search.CheckRequest says so;
//   - Limit 0 is search.DefaultLimit, FacetSize 0 search.DefaultFacetSize;
//   - "title" sorts by bytes (upper case before lower case);
//   - the last page has Next "", so paging never ends on an empty page;
//   - a facet asked for with no values is absent or empty; facets not asked for are absent;
//   - a highlight fragment is a piece of its field, HTML-escaped, with only <mark> and </mark>
//     as markup (leading or trailing ellipses "…" or "..." allowed), and every marked piece
//     is made of query words; without Request.Highlight a hit has no highlights.
package searchtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/projections/search"
	"github.com/socplatform/soc/projections/search/query"
)

// Run runs the suite; open returns a new, empty index for each subtest that needs one.
func Run(t *testing.T, open func(t *testing.T) search.Index) {
	for _, k := range checks() {
		t.Run(k.name, func(t *testing.T) {
			for _, f := range runCheck(t, open, k) {
				t.Error(f)
			}
		})
	}
}

// Check runs the suite's checks without failing t and returns their failures ("check: what"),
// none when the backend passes: it is how the suite's own test proves that a broken backend
// fails it.
func Check(t *testing.T, open func(t *testing.T) search.Index) []string {
	var out []string
	for _, k := range checks() {
		for _, f := range runCheck(t, open, k) {
			out = append(out, k.name+": "+f)
		}
	}
	return out
}

type check struct {
	name string
	run  func(c *checker)
}

func checks() []check {
	return []check{
		{"oracle", checkOracle},
		{"empty index", checkEmpty},
		{"queries", func(c *checker) { c.rows(c.fixtureIndex(), queries()) }},
		{"visibility", func(c *checker) { c.rows(c.fixtureIndex(), visibility()) }},
		{"redelivery", checkRedelivery},
		{"facets", checkFacets},
		{"sorting", checkSorting},
		{"paging", checkPaging},
		{"highlight", checkHighlight},
		{"versions", checkVersions},
		{"load", checkLoad},
		{"bounds", checkBounds},
	}
}

// checker runs one check, collecting its failures; fatalf ends the check.
type checker struct {
	t        *testing.T
	open     func(t *testing.T) search.Index
	ctx      context.Context
	docs     []search.Doc // the fixture
	batches  []batch
	failures []string
}

type stop struct{}

func runCheck(t *testing.T, open func(t *testing.T) search.Index, k check) []string {
	docs, batches := fixture()
	c := &checker{t: t, open: open, ctx: context.Background(), docs: docs, batches: batches}
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(stop); !ok {
					panic(r)
				}
			}
		}()
		k.run(c)
	}()
	return c.failures
}

func (c *checker) errorf(format string, args ...any) {
	c.failures = append(c.failures, fmt.Sprintf(format, args...))
}

func (c *checker) fatalf(format string, args ...any) {
	c.errorf(format, args...)
	panic(stop{})
}

func (c *checker) write(idx search.Index, docs []search.Doc, position int64) {
	if err := idx.Write(c.ctx, docs, position); err != nil {
		c.fatalf("Write(%d documents, position %d): %v", len(docs), position, err)
	}
}

// fixtureIndex returns a new index holding the fixture.
func (c *checker) fixtureIndex() search.Index {
	idx := c.open(c.t)
	for _, b := range c.batches {
		c.write(idx, b.docs, b.position)
	}
	return idx
}

func (c *checker) position(idx search.Index, want int64) {
	if p, err := idx.Position(c.ctx); err != nil || p != want {
		c.errorf("Position = %d, %v; want %d", p, err, want)
	}
}

// search pages through r's answer (r.Limit a page) and returns every hit and the first page,
// checking that each page agrees on Total, respects the limit, and that only the last page has
// no Next and none is empty but an empty answer's.
func (c *checker) search(idx search.Index, what string, r search.Request) ([]search.Hit, search.Result, bool) {
	var hits []search.Hit
	var first search.Result
	limit := r.Limit
	if limit == 0 {
		limit = search.DefaultLimit
	}
	for page := 0; ; page++ {
		if page > len(c.docs)+1 {
			c.errorf("%s: more pages than documents (the cursor does not advance)", what)
			return nil, first, false
		}
		res, err := idx.Search(c.ctx, r)
		if err != nil {
			c.errorf("%s: page %d: Search: %v", what, page+1, err)
			return nil, first, false
		}
		if page == 0 {
			first = res
		}
		switch {
		case res.Total != first.Total:
			c.errorf("%s: page %d: Total %d, the first page said %d", what, page+1, res.Total, first.Total)
		case len(res.Hits) > limit:
			c.errorf("%s: page %d: %d hits, more than the limit %d", what, page+1, len(res.Hits), limit)
		case len(res.Hits) == 0 && page > 0:
			c.errorf("%s: page %d is empty: the page before it should have been the last (Next \"\")", what, page+1)
		case len(res.Hits) < limit && res.Next != "":
			c.errorf("%s: page %d: %d hits (limit %d) and a Next cursor", what, page+1, len(res.Hits), limit)
		}
		hits = append(hits, res.Hits...)
		if res.Next == "" {
			return hits, first, true
		}
		r.Cursor = res.Next
	}
}

func hitIDs(hits []search.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Doc.ID
	}
	return out
}

func docIDs(docs []search.Doc) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.ID
	}
	return out
}

// sameSet reports, as a failure message, how got differs from want as sets ("" when equal),
// a repeated id counting as a difference.
func sameSet(got, want []string) string {
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
	}
	var dup, extra, missing []string
	for id, n := range seen {
		if n > 1 {
			dup = append(dup, id)
		}
		if !slices.Contains(want, id) {
			extra = append(extra, id)
		}
	}
	for _, id := range want {
		if seen[id] == 0 {
			missing = append(missing, id)
		}
	}
	if len(dup)+len(extra)+len(missing) == 0 {
		return ""
	}
	slices.Sort(dup)
	slices.Sort(extra)
	return fmt.Sprintf("missing %v, unexpected %v, repeated %v", labels(missing), labels(extra), labels(dup))
}

// docJSON is d as JSON, its time in UTC, for comparing a document returned with one written.
func docJSON(d search.Doc, withState bool) string {
	d.At = d.At.UTC()
	if !withState {
		d.State = nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return "unmarshallable: " + err.Error()
	}
	return string(b)
}

func (c *checker) written(id string) (search.Doc, bool) {
	i := slices.IndexFunc(c.docs, func(d search.Doc) bool { return d.ID == id })
	if i < 0 {
		return search.Doc{}, false
	}
	return c.docs[i], true
}

// hitDocs checks that every hit is the document written, without its State, and carries
// highlights only when asked.
func (c *checker) hitDocs(what string, r search.Request, hits []search.Hit) {
	for _, h := range hits {
		if len(h.Doc.State) > 0 {
			c.errorf("%s: hit %s carries the fold's State", what, label(h.Doc.ID))
		}
		if w, ok := c.written(h.Doc.ID); ok {
			if g, w := docJSON(h.Doc, false), docJSON(w, false); g != w {
				c.errorf("%s: hit %s is not the document written:\n got %s\nwant %s", what, label(h.Doc.ID), g, w)
			}
		}
		if !r.Highlight && len(h.Highlights) > 0 {
			c.errorf("%s: hit %s has highlights %v without Highlight", what, label(h.Doc.ID), h.Highlights)
		}
	}
}

// rows checks each row's request against the oracle (the set of hits, paged by 7, and Total).
func (c *checker) rows(idx search.Index, rows []row) {
	for _, w := range rows {
		r := w.r
		r.Limit = 7
		c.compareSet(idx, "query "+w.name, r)
	}
}

// compareSet checks that r finds the oracle's documents (as a set, over every page).
func (c *checker) compareSet(idx search.Index, what string, r search.Request) []search.Hit {
	want, _ := search.Answer(c.docs, r)
	hits, first, ok := c.search(idx, what, r)
	if !ok {
		return nil
	}
	if d := sameSet(hitIDs(hits), docIDs(want)); d != "" {
		c.errorf("%s: %s", what, d)
	}
	if first.Total != int64(len(want)) {
		c.errorf("%s: Total %d, want %d", what, first.Total, len(want))
	}
	c.hitDocs(what, r, hits)
	return hits
}

// checkOracle checks search.Answer against the answers worked out by hand, and that the
// fixture exercises what the suite means it to.
func checkOracle(c *checker) {
	for _, w := range slices.Concat(queries(), visibility()) {
		got, _ := search.Answer(c.docs, w.r)
		if d := sameSet(docIDs(got), w.want); d != "" {
			c.errorf("search.Answer for %q disagrees with the fixture's expected ids: %s", w.name, d)
		}
	}
	used := map[query.Field]bool{}
	for _, w := range queries() {
		for _, cl := range w.r.Query.Clauses {
			used[cl.Field] = true
		}
	}
	for _, f := range append([]query.Field{query.FieldText}, query.Fields...) {
		if !used[f] {
			c.errorf("no query of the suite uses field %q", f)
		}
	}
	r := q(is(query.FieldType, "finding"))
	r.Facets = []string{"severity", "scanner"}
	_, facets := search.Answer(c.docs, r)
	want := map[string][]search.FacetValue{
		"severity": {{Value: "critical", Count: 6}, {Value: "high", Count: 3}, {Value: "medium", Count: 3}, {Value: "info", Count: 1}, {Value: "low", Count: 1}},
		"scanner":  {{Value: "trivy", Count: 6}, {Value: "nessus", Count: 4}, {Value: "zap", Count: 3}, {Value: "grype", Count: 1}},
	}
	for k, w := range want {
		if !slices.Equal(facets[k], w) {
			c.errorf("search.Answer's facet %s of the findings = %v, want %v", k, facets[k], w)
		}
	}
	for _, f := range search.FacetFields {
		if vs := search.Facet(c.docs, f, 100); len(vs) < 2 {
			c.errorf("the fixture has fewer than two values of facet %s: %v", f, vs)
		}
	}
}

func checkEmpty(c *checker) {
	idx := c.open(c.t)
	c.position(idx, 0)
	res, err := idx.Search(c.ctx, audit(q()))
	if err != nil || res.Total != 0 || len(res.Hits) != 0 || res.Next != "" {
		c.errorf("Search on an empty index = %+v, %v; want nothing", res, err)
	}
	if m, err := idx.Load(c.ctx, []string{f1}); err != nil || len(m) != 0 {
		c.errorf("Load on an empty index = %v, %v; want an empty map", m, err)
	}
	if ds, err := idx.FindingsOf(c.ctx, []string{a1}); err != nil || len(ds) != 0 {
		c.errorf("FindingsOf on an empty index = %v, %v; want none", ds, err)
	}
}

// checkRedelivery writes every batch twice, then all of them again (a consumer redelivering
// after a crash), and expects the answers of a single delivery.
func checkRedelivery(c *checker) {
	idx := c.open(c.t)
	for _, b := range c.batches {
		c.write(idx, b.docs, b.position)
		c.write(idx, b.docs, b.position)
	}
	for _, b := range c.batches {
		c.write(idx, b.docs, b.position)
	}
	c.position(idx, c.batches[len(c.batches)-1].position)
	c.rows(idx, slices.Concat(queries(), visibility()))
	c.facets(idx, facetRequests())
}

func checkFacets(c *checker) {
	idx := c.fixtureIndex()
	c.facets(idx, facetRequests())
	sized := func(n int, r search.Request) search.Request {
		r.Facets, r.FacetSize = []string{"severity", "scanner", "status", "team"}, n
		return r
	}
	c.facets(idx, []row{
		{"facet size 2 (ties by value)", sized(2, q(is(query.FieldType, "finding"))), nil},
		{"facet size 1", sized(1, audit(q())), nil},
	})
	res, err := idx.Search(c.ctx, q(word("log4j")))
	if err != nil || len(res.Facets) != 0 {
		c.errorf("facets not asked for = %v, %v; want none", res.Facets, err)
	}
}

// facets checks each row's facets (those the row asks for) against the oracle's, exactly.
func (c *checker) facets(idx search.Index, rows []row) {
	for _, w := range rows {
		all, want := search.Answer(c.docs, w.r)
		res, err := idx.Search(c.ctx, w.r)
		if err != nil {
			c.errorf("facets of %s: %v", w.name, err)
			continue
		}
		if res.Total != int64(len(all)) {
			c.errorf("facets of %s: Total %d, want %d", w.name, res.Total, len(all))
		}
		for _, f := range w.r.Facets {
			if got := res.Facets[f]; !slices.Equal(got, want[f]) && len(got)+len(want[f]) > 0 {
				c.errorf("facets of %s: %s = %v, want %v", w.name, f, got, want[f])
			}
		}
		for f := range res.Facets {
			if !slices.Contains(w.r.Facets, f) {
				c.errorf("facets of %s: facet %s was not asked for", w.name, f)
			}
		}
	}
}

// checkSorting checks every field sort, both ways, in exact order (ties by id, missing values
// last), over every kind and over a filtered answer; relevance as a set.
func checkSorting(c *checker) {
	idx := c.fixtureIndex()
	for _, base := range []row{
		{"everything", audit(q()), nil},
		{"findings and cves", q(is(query.FieldType, "finding", "cve"), not(is(query.FieldSeverity, "info"))), nil},
	} {
		for _, f := range search.SortFields {
			if f == search.SortRelevance {
				continue
			}
			for _, desc := range []bool{false, true} {
				r := base.r
				r.Sort, r.Limit = search.Sort{Field: f, Desc: desc}, search.MaxLimit
				c.compareOrder(idx, fmt.Sprintf("%s sorted by %s (desc %v)", base.name, f, desc), r)
			}
		}
	}
	// Without free text the default is "at" descending.
	c.compareOrder(idx, "default sort without free text", q(is(query.FieldType, "asset", "cve")))
	for _, r := range []search.Request{
		audit(q(word("log4j"))),
		q(phrase("remote code execution")),
		{Query: q(word("pci")).Query, Sort: search.Sort{Field: search.SortRelevance}},
		{Query: q(is(query.FieldTeam, "platform")).Query, Sort: search.Sort{Field: search.SortRelevance}},
	} {
		c.compareSet(idx, "relevance "+describe(r.Query), r)
	}
}

// compareOrder checks that r (every page) answers the oracle's documents in its order.
func (c *checker) compareOrder(idx search.Index, what string, r search.Request) {
	want, _ := search.Answer(c.docs, r)
	hits, first, ok := c.search(idx, what, r)
	if !ok {
		return
	}
	if got, w := hitIDs(hits), docIDs(want); !slices.Equal(got, w) {
		c.errorf("%s:\n got %v\nwant %v", what, labels(got), labels(w))
	}
	if first.Total != int64(len(want)) {
		c.errorf("%s: Total %d, want %d", what, first.Total, len(want))
	}
}

// checkPaging pages through answers by 1, 2 and 3: every document once, in the order of one
// page (the oracle's for a field sort, the backend's own for relevance); a cursor that is none
// is ErrBadCursor.
func checkPaging(c *checker) {
	idx := c.fixtureIndex()
	bySeverity := audit(q())
	bySeverity.Sort = search.Sort{Field: "severity", Desc: true} // many ties: the cursor must carry the id
	byRelevance := q(word("pci"))
	one := byRelevance
	one.Limit = search.MaxLimit
	page, _, ok := c.search(idx, "relevance in one page", one)
	if !ok {
		return
	}
	for _, limit := range []int{1, 2, 3} {
		r := bySeverity
		r.Limit = limit
		c.compareOrder(idx, fmt.Sprintf("severity by pages of %d", limit), r)
		r = byRelevance
		r.Limit = limit
		what := fmt.Sprintf("relevance by pages of %d", limit)
		if hits, _, ok := c.search(idx, what, r); ok && !slices.Equal(hitIDs(hits), hitIDs(page)) {
			c.errorf("%s:\n got %v\none page %v", what, labels(hitIDs(hits)), labels(hitIDs(page)))
		}
	}
	for _, cursor := range []string{"not a cursor!", "%00%ff", "eyJub3QiOiJ5b3VycyJ9"} {
		r := bySeverity
		r.Cursor = cursor
		if _, err := idx.Search(c.ctx, r); !errors.Is(err, search.ErrBadCursor) {
			c.errorf("Search with cursor %q: %v, want ErrBadCursor", cursor, err)
		}
	}
}

// checkHighlight checks the highlights of free-text searches: each hit whose title or text
// matched has a fragment of it with a marked query word; every fragment is HTML-escaped text
// of its field.
func checkHighlight(c *checker) {
	idx := c.fixtureIndex()
	for _, r := range []search.Request{
		q(word("log4j")),
		q(phrase("remote code execution")),
		q(word("alert")), // f4's text holds <script>alert(1)</script>
		audit(q(word("scripting"), is(query.FieldSeverity, "medium"))),
		q(word("JNDI"), not(word("triaged"))),
	} {
		r.Highlight = true
		what := "highlight " + describe(r.Query)
		hits := c.compareSet(idx, what, r)
		words := queryWords(r.Query)
		for _, h := range hits {
			for field, value := range map[string]string{"title": h.Doc.Title, "text": h.Doc.Text} {
				c.highlights(fmt.Sprintf("%s: %s of %s", what, field, label(h.Doc.ID)), r.Query, words, value, h.Highlights[field])
			}
			for field := range h.Highlights {
				if field != "title" && field != "text" {
					c.errorf("%s: %s has highlights of %q, want only title and text", what, label(h.Doc.ID), field)
				}
			}
		}
	}
}

// queryWords are the tokens of q's free-text clauses that are not negated: what may be marked.
func queryWords(q query.Query) []string {
	var out []string
	for _, cl := range q.Clauses {
		if cl.Field == query.FieldText && !cl.Negate {
			for _, v := range cl.Values {
				out = append(out, search.Tokens(v)...)
			}
		}
	}
	return out
}

func (c *checker) highlights(what string, q query.Query, words []string, value string, frags []string) {
	matched := false
	tokens := search.Tokens(value)
	for _, cl := range q.Clauses {
		if cl.Field == query.FieldText && !cl.Negate {
			for _, v := range cl.Values {
				if p := search.Tokens(v); len(p) > 0 && search.ContainsPhrase(tokens, p) {
					matched = true
				}
			}
		}
	}
	marked := false
	for _, frag := range frags {
		plain := strings.NewReplacer("<mark>", "", "</mark>", "").Replace(frag)
		if strings.ContainsAny(plain, "<>") {
			c.errorf("%s: fragment %q has markup other than <mark> (text not HTML-escaped)", what, frag)
			continue
		}
		piece := strings.TrimSpace(html.UnescapeString(plain))
		for _, e := range []string{"…", "..."} {
			piece = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(piece, e), e))
		}
		if !strings.Contains(value, piece) {
			c.errorf("%s: fragment %q is not a piece of the field %q", what, frag, value)
		}
		for rest := frag; ; {
			i := strings.Index(rest, "<mark>")
			if i < 0 {
				break
			}
			rest = rest[i+len("<mark>"):]
			j := strings.Index(rest, "</mark>")
			if j < 0 {
				c.errorf("%s: fragment %q has an unclosed <mark>", what, frag)
				break
			}
			in := search.Tokens(html.UnescapeString(rest[:j]))
			if len(in) == 0 || slices.ContainsFunc(in, func(w string) bool { return !slices.Contains(words, w) }) {
				c.errorf("%s: fragment %q marks %q, which is not made of the query's words %q", what, frag, rest[:j], words)
			}
			marked = true
			rest = rest[j+len("</mark>"):]
		}
	}
	if matched && !marked {
		c.errorf("%s: the field matched but its highlights %q mark nothing", what, frags)
	}
}

// checkVersions checks external greater-or-equal versions: an older document is ignored
// (without failing the write), an equal or newer one replaces the indexed one; the position
// never goes back.
func checkVersions(c *checker) {
	idx := c.open(c.t)
	id := findingID(99)
	doc := func(v int64, title, severity string) search.Doc {
		return search.Doc{ID: id, Kind: search.KindFinding, Version: v, Title: title, Severity: severity, Status: "open",
			Team: "platform", AssetID: a1, At: at(9, 9), State: state(map[string]any{"v": v, "title": title})}
	}
	expect := func(step string, want search.Doc, gone ...string) {
		m, err := idx.Load(c.ctx, []string{id})
		if err != nil {
			c.fatalf("%s: Load: %v", step, err)
		}
		if g, w := docJSON(m[id], true), docJSON(want, true); g != w {
			c.errorf("%s: Load:\n got %s\nwant %s", step, g, w)
		}
		for _, title := range append(gone, want.Title) {
			res, err := idx.Search(c.ctx, q(word(title)))
			wantN := 0
			if title == want.Title {
				wantN = 1
			}
			if err != nil || res.Total != int64(wantN) || len(res.Hits) != wantN {
				c.errorf("%s: search %q = %d hits (total %d), %v; want %d", step, title, len(res.Hits), res.Total, err, wantN)
			}
		}
		if res, err := idx.Search(c.ctx, q(is(query.FieldSeverity, want.Severity))); err != nil || res.Total != 1 {
			c.errorf("%s: search severity:%s = %d, %v; want 1", step, want.Severity, res.Total, err)
		}
	}
	v2 := doc(2, "alphamarker", "low")
	c.write(idx, []search.Doc{v2}, 10)
	expect("version 2 written", v2)
	other := search.Doc{ID: findingID(98), Kind: search.KindFinding, Version: 1, Title: "othermarker", At: at(9, 9)}
	c.write(idx, []search.Doc{doc(1, "bravomarker", "high"), other}, 11)
	expect("version 1 after version 2", v2, "bravomarker")
	if m, err := idx.Load(c.ctx, []string{other.ID}); err != nil || len(m) != 1 {
		c.errorf("a document written beside an older one was not written: %v, %v", m, err)
	}
	again := doc(2, "charliemarker", "medium")
	c.write(idx, []search.Doc{again}, 12)
	expect("version 2 again", again, "alphamarker")
	v5 := doc(5, "deltamarker", "critical")
	c.write(idx, []search.Doc{v5}, 13)
	expect("version 5", v5, "charliemarker")
	c.write(idx, []search.Doc{doc(4, "echomarker", "info")}, 7)
	expect("version 4 at a lower position", v5, "echomarker")
	c.position(idx, 13)
}

// checkLoad checks that Load and FindingsOf return the documents written, State and all.
func checkLoad(c *checker) {
	idx := c.fixtureIndex()
	same := func(what string, got []search.Doc, want []string) {
		if d := sameSet(docIDs(got), want); d != "" {
			c.errorf("%s: %s", what, d)
		}
		for _, g := range got {
			w, ok := c.written(g.ID)
			if !ok {
				continue
			}
			if gj, wj := docJSON(g, true), docJSON(w, true); gj != wj {
				c.errorf("%s: %s:\n got %s\nwant %s", what, label(g.ID), gj, wj)
			}
			if string(g.State) != string(w.State) {
				c.errorf("%s: %s: State %s, want %s", what, label(g.ID), g.State, w.State)
			}
		}
	}
	m, err := idx.Load(c.ctx, []string{f1, a6, c1, e1, e4, "vulns-finding-absent", f14})
	if err != nil {
		c.fatalf("Load: %v", err)
	}
	var got []search.Doc
	for id, d := range m {
		if d.ID != id {
			c.errorf("Load: key %s holds document %s", id, d.ID)
		}
		got = append(got, d)
	}
	same("Load", got, ids(f1, a6, c1, e1, e4, f14))
	if m, err := idx.Load(c.ctx, nil); err != nil || len(m) != 0 {
		c.errorf("Load(no ids) = %v, %v; want an empty map", m, err)
	}
	for _, w := range []struct {
		assets, want []string
	}{
		{ids(a1, a3, "assets-asset-absent"), ids(f1, f2, f3, f9)}, // not the assets themselves, nor their events
		{ids(a6), ids(f8)},
		{ids(a5, a8), ids(f6, f7, f12, f14)},
		{nil, nil},
	} {
		ds, err := idx.FindingsOf(c.ctx, w.assets)
		if err != nil {
			c.errorf("FindingsOf(%q): %v", w.assets, err)
			continue
		}
		same(fmt.Sprintf("FindingsOf(%q)", w.assets), ds, w.want)
	}
}

// checkBounds checks that bad parameters are a *search.ParamError naming them (never clamped)
// and that zero ones take their defaults.
func checkBounds(c *checker) {
	idx := c.fixtureIndex()
	for _, w := range []struct {
		param string
		r     search.Request
	}{
		{"limit", search.Request{Limit: search.MaxLimit + 1}},
		{"limit", search.Request{Limit: -1}},
		{"facet_size", search.Request{Facets: []string{"team"}, FacetSize: -1}},
		{"facets", search.Request{Facets: []string{"severity", "owner"}}},
		{"sort", search.Request{Sort: search.Sort{Field: "risk"}}},
		{"type", search.Request{Kinds: []search.Kind{"vulnerability"}}},
	} {
		var pe *search.ParamError
		if _, err := idx.Search(c.ctx, w.r); !errors.As(err, &pe) || pe.Param != w.param {
			c.errorf("Search(%+v) = %v, want a *search.ParamError for %q", w.r, err, w.param)
		}
	}
	res, err := idx.Search(c.ctx, audit(q()))
	if err != nil || len(res.Hits) != search.DefaultLimit || res.Next == "" || res.Total != int64(len(c.docs)) {
		c.errorf("Search with Limit 0: %d hits, total %d, next %q, %v; want a first page of %d of %d", len(res.Hits), res.Total, res.Next, err,
			search.DefaultLimit, len(c.docs))
	}
	max := audit(q())
	max.Limit = search.MaxLimit
	if res, err := idx.Search(c.ctx, max); err != nil || len(res.Hits) != len(c.docs) || res.Next != "" {
		c.errorf("Search with Limit MaxLimit: %d hits, next %q, %v; want all %d in one page", len(res.Hits), res.Next, err, len(c.docs))
	}
}
