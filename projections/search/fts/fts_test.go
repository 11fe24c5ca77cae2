package fts

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	"github.com/socplatform/soc/projections/ownership"
	"github.com/socplatform/soc/projections/search"
	"github.com/socplatform/soc/projections/search/query"
	"github.com/socplatform/soc/projections/search/searchtest"
)

func open(t testing.TB) *Index {
	t.Helper()
	ix, err := Open(context.Background(), filepath.Join(t.TempDir(), "search.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ix.Close() })
	return ix
}

func write(t testing.TB, ix search.Index, pos int64, docs ...search.Doc) {
	t.Helper()
	if err := ix.Write(context.Background(), docs, pos); err != nil {
		t.Fatal(err)
	}
}

func run(t testing.TB, ix search.Index, r search.Request) search.Result {
	t.Helper()
	res, err := ix.Search(context.Background(), r)
	if err != nil {
		t.Fatalf("%+v: %v", r, err)
	}
	return res
}

// ids returns the ids of the hits of r, with r's limit raised to the maximum.
func ids(t testing.TB, ix search.Index, r search.Request) []string {
	t.Helper()
	if r.Limit == 0 {
		r.Limit = search.MaxLimit
	}
	var out []string
	for _, h := range run(t, ix, r).Hits {
		out = append(out, h.Doc.ID)
	}
	return out
}

// found returns the ids of the hits of r, sorted.
func found(t testing.TB, ix search.Index, r search.Request) []string {
	t.Helper()
	out := ids(t, ix, r)
	slices.Sort(out)
	return out
}

func text(vals ...string) query.Clause { return query.Clause{Values: vals} }
func field(f query.Field, vals ...string) query.Clause {
	return query.Clause{Field: f, Values: vals}
}
func not(c query.Clause) query.Clause { c.Negate = true; return c }
func q(cs ...query.Clause) search.Request {
	return search.Request{Query: query.Query{Clauses: cs}}
}

func same(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

func num(f float64) *float64 { return &f }

var at0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func TestAPhraseNeverSpansTwoValuesOfAField(t *testing.T) {
	ix := open(t)
	write(t, ix, 1,
		search.Doc{ID: "a", Kind: search.KindAsset, Version: 1, Title: "a", Hostnames: []string{"web-1", "db-2"},
			Tags: []string{"pci zone", "edge"}, Team: "blue", Environment: "prod"},
	)
	for _, c := range []struct {
		text string
		want []string
	}{
		{"web-1", []string{"a"}}, {"db 2", []string{"a"}}, {"1 db", nil}, {"zone edge", nil}, {"pci zone", []string{"a"}},
		{"blue prod", nil}, {"edge blue", nil}, {"a", []string{"a"}},
	} {
		same(t, c.text, found(t, ix, q(query.Clause{Values: []string{c.text}, Phrase: true})), c.want...)
	}
}

func TestFreeTextTokensAreTheContracts(t *testing.T) {
	ix := open(t)
	write(t, ix, 1,
		search.Doc{ID: "f1", Kind: search.KindFinding, Version: 1, Title: "Log4j-core RCE", Text: "Café cafe\u0301 x\ue000y ½"},
		search.Doc{ID: "f2", Kind: search.KindFinding, Version: 1, Title: "log4j", Text: "core of the RCE", Packages: []string{"log4j-core"}},
	)
	same(t, "word in two docs", found(t, ix, q(text("LOG4J"))), "f1", "f2")
	same(t, "inner punctuation is a phrase", found(t, ix, q(text("log4j-core"))), "f1", "f2")
	same(t, "phrase in one field only", found(t, ix, q(query.Clause{Values: []string{"core rce"}, Phrase: true})), "f1")
	same(t, "clauses in different fields", found(t, ix, q(text("log4j"), text("the"))), "f2")
	same(t, "no diacritic folding", found(t, ix, q(text("cafe"))), "f1")
	same(t, "combining mark splits", found(t, ix, q(query.Clause{Values: []string{"cafe \u0301"}})), "f1")
	same(t, "accented", found(t, ix, q(text("CAFÉ"))), "f1")
	same(t, "private use splits", found(t, ix, q(query.Clause{Values: []string{"x y"}, Phrase: true})), "f1")
	same(t, "numbers", found(t, ix, q(text("½"))), "f1")
	same(t, "no token matches all", found(t, ix, q(text("--"))), "f1", "f2")
	same(t, "negated no token matches none", found(t, ix, q(not(text("--")))))
	same(t, "negated", found(t, ix, q(not(text("the")))), "f1")
	same(t, "any value of a list", found(t, ix, q(text("the", "café"))), "f1", "f2")
}

func TestFieldOperators(t *testing.T) {
	ix := open(t)
	write(t, ix, 1,
		search.Doc{ID: "f1", Kind: search.KindFinding, Version: 1, Title: "t1", CVEs: []string{"CVE-2021-44228"},
			CWEs: []string{"CWE-502"}, Severity: "critical", Status: "open", Packages: []string{"log4j-core"}, KEV: true,
			CVSS: num(10), EPSS: num(0.97), Scanner: "trivy", AssetID: "assets-asset-1", AssetName: "Web-1",
			Hostnames: []string{"web-1.example.com"}, IPs: []string{"10.1.2.3", "2001:db8::1"}, Team: "Platform",
			Environment: "production", AssetKind: "host", Tags: []string{"PCI"}},
		search.Doc{ID: "f2", Kind: search.KindFinding, Version: 1, Title: "t2", Severity: "low", Status: "closed",
			CVSS: num(3.1), IPs: []string{"::ffff:192.168.1.9"}, Team: "data"},
		search.Doc{ID: "e1", Kind: search.KindEvent, Version: 1, Title: "FindingTriaged", Actor: "user:ann",
			EventType: "FindingTriaged"},
	)
	r := func(cs ...query.Clause) search.Request { x := q(cs...); x.Audit = true; return x }
	for _, c := range []struct {
		name string
		c    query.Clause
		want []string
	}{
		{"cve any case", field(query.FieldCVE, "cve-2021-44228"), []string{"f1"}},
		{"cwe", field(query.FieldCWE, "CWE-502"), []string{"f1"}},
		{"severity list", field(query.FieldSeverity, "high", "low"), []string{"f2"}},
		{"status", field(query.FieldStatus, "OPEN"), []string{"f1"}},
		{"asset by name", field(query.FieldAsset, "web-1"), []string{"f1"}},
		{"asset by id", field(query.FieldAsset, "assets-asset-1"), []string{"f1"}},
		{"asset by hostname", field(query.FieldAsset, "WEB-1.example.com"), []string{"f1"}},
		{"host", field(query.FieldHost, "web-1.example.com"), []string{"f1"}},
		{"host is exact", field(query.FieldHost, "web-1"), nil},
		{"package", field(query.FieldPackage, "Log4j-Core"), []string{"f1"}},
		{"team", field(query.FieldTeam, "platform"), []string{"f1"}},
		{"environment", field(query.FieldEnvironment, "production"), []string{"f1"}},
		{"kind", field(query.FieldKind, "host"), []string{"f1"}},
		{"scanner", field(query.FieldScanner, "trivy"), []string{"f1"}},
		{"tag", field(query.FieldTag, "pci"), []string{"f1"}},
		{"actor", field(query.FieldActor, "user:ann"), []string{"e1"}},
		{"event", field(query.FieldEvent, "findingtriaged"), []string{"e1"}},
		{"type", field(query.FieldType, "event"), []string{"e1"}},
		{"kev true", field(query.FieldKEV, "true"), []string{"f1"}},
		{"kev false includes kinds without it", field(query.FieldKEV, "false"), []string{"e1", "f2"}},
		{"cvss eq", field(query.FieldCVSS, "10"), []string{"f1"}},
		{"cvss ge", query.Clause{Field: query.FieldCVSS, Values: []string{"3.1"}, Op: query.OpGE}, []string{"f1", "f2"}},
		{"cvss lt", query.Clause{Field: query.FieldCVSS, Values: []string{"5"}, Op: query.OpLT}, []string{"f2"}},
		{"epss gt", query.Clause{Field: query.FieldEPSS, Values: []string{"0.5"}, Op: query.OpGT}, []string{"f1"}},
		{"negated cvss admits docs without", not(query.Clause{Field: query.FieldCVSS, Values: []string{"5"}, Op: query.OpLT}), []string{"e1", "f1"}},
		{"negated team admits docs without", not(field(query.FieldTeam, "data")), []string{"e1", "f1"}},
		{"ip v4 range", field(query.FieldIP, "10.0.0.0/8"), []string{"f1"}},
		{"ip v4 address", field(query.FieldIP, "10.1.2.3"), []string{"f1"}},
		{"ip v4 range excludes", field(query.FieldIP, "10.1.2.4/31"), nil},
		{"ip mapped stored as v4", field(query.FieldIP, "192.168.0.0/16"), []string{"f2"}},
		{"ip mapped query as v4", field(query.FieldIP, "::ffff:192.168.1.0/120"), []string{"f2"}},
		{"ip v6 range", field(query.FieldIP, "2001:db8::/32"), []string{"f1"}},
		{"ip v6 all excludes v4", field(query.FieldIP, "::/0"), []string{"f1"}},
		{"ip list", field(query.FieldIP, "192.168.1.9", "2001:db8::1"), []string{"f1", "f2"}},
		{"ip invalid", field(query.FieldIP, "nope"), nil},
	} {
		same(t, c.name, found(t, ix, r(c.c)), c.want...)
	}
}

func TestVisibility(t *testing.T) {
	ix := open(t)
	write(t, ix, 1,
		search.Doc{ID: "a1", Kind: search.KindAsset, Version: 1, Title: "x", Team: "blue"},
		search.Doc{ID: "a2", Kind: search.KindAsset, Version: 1, Title: "x"},
		search.Doc{ID: "c1", Kind: search.KindCVE, Version: 1, Title: "x"},
		search.Doc{ID: "e1", Kind: search.KindEvent, Version: 1, Title: "x", Team: "blue"},
		search.Doc{ID: "e2", Kind: search.KindEvent, Version: 1, Title: "x"},
		search.Doc{ID: "f1", Kind: search.KindFinding, Version: 1, Title: "x", Team: "red"},
	)
	r := func(kinds []search.Kind, audit bool, scope ownership.Scope) search.Request {
		return search.Request{Kinds: kinds, Audit: audit, Scope: scope, Sort: search.Sort{Field: "title"}}
	}
	same(t, "default", ids(t, ix, r(nil, false, nil)), "a1", "a2", "c1", "f1")
	same(t, "audit", ids(t, ix, r(nil, true, nil)), "a1", "a2", "c1", "e1", "e2", "f1")
	same(t, "kinds without audit", ids(t, ix, r([]search.Kind{search.KindEvent, search.KindCVE}, false, nil)), "c1")
	same(t, "kinds with audit", ids(t, ix, r([]search.Kind{search.KindEvent}, true, nil)), "e1", "e2")
	same(t, "scoped", ids(t, ix, r(nil, true, ownership.Scope{"blue"})), "a1", "c1", "e1")
	same(t, "empty scope", ids(t, ix, r(nil, true, ownership.Scope{})), "c1")
}

func TestFacets(t *testing.T) {
	ix := open(t)
	var docs []search.Doc
	for i, sev := range []string{"high", "low", "high", "critical", "low", "", "info"} {
		docs = append(docs, search.Doc{ID: string(rune('a' + i)), Kind: search.KindFinding, Version: 1, Title: "x", Severity: sev, Status: "open"})
	}
	docs = append(docs, search.Doc{ID: "z", Kind: search.KindCVE, Version: 1, Title: "x", Severity: "high"})
	write(t, ix, 1, docs...)
	r := search.Request{Facets: []string{"severity", "kind", "team"}, FacetSize: 3, Limit: 1}
	res := run(t, ix, r)
	if res.Total != 8 || len(res.Hits) != 1 {
		t.Errorf("total %d, hits %d", res.Total, len(res.Hits))
	}
	want := map[string][]search.FacetValue{
		"severity": {{Value: "high", Count: 3}, {Value: "low", Count: 2}, {Value: "critical", Count: 1}},
		"kind":     {{Value: "finding", Count: 7}, {Value: "cve", Count: 1}},
		"team":     {},
	}
	got, _ := json.Marshal(res.Facets)
	if w, _ := json.Marshal(want); string(got) != string(w) {
		t.Errorf("facets %s, want %s", got, w)
	}
	r.Query = query.Query{Clauses: []query.Clause{not(field(query.FieldSeverity, "high"))}}
	if res := run(t, ix, r); res.Total != 5 || len(res.Facets["severity"]) != 3 || res.Facets["severity"][0] != (search.FacetValue{Value: "low", Count: 2}) {
		t.Errorf("facets over the matches only: %d %+v", res.Total, res.Facets)
	}
}

// sortDocs have every sort key missing in some document and ties in others.
func sortDocs() []search.Doc {
	return []search.Doc{
		{ID: "d1", Kind: search.KindFinding, Version: 1, Title: "beta", Severity: "low", CVSS: num(5), At: at0.Add(3 * time.Second), Text: "log4j"},
		{ID: "d2", Kind: search.KindFinding, Version: 1, Title: "alpha", Severity: "critical", CVSS: num(9.8), EPSS: num(0.5), At: at0.Add(time.Nanosecond), Text: "log4j log4j log4j"},
		{ID: "d3", Kind: search.KindFinding, Version: 1, Title: "alpha", Severity: "", At: at0, Text: "log4j and more words than the others have here"},
		{ID: "d4", Kind: search.KindFinding, Version: 1, Title: "", Severity: "high", CVSS: num(5), EPSS: num(0.1), At: at0.Add(3 * time.Second), Text: "log4j"},
		{ID: "d5", Kind: search.KindFinding, Version: 1, Title: "gamma", Severity: "info", At: at0.Add(time.Hour)},
	}
}

func TestSortingAndPaging(t *testing.T) {
	ix := open(t)
	write(t, ix, 1, sortDocs()...)
	for _, c := range []struct {
		sort search.Sort
		want []string
	}{
		{search.Sort{Field: "at", Desc: true}, []string{"d5", "d1", "d4", "d2", "d3"}},
		{search.Sort{Field: "at"}, []string{"d3", "d2", "d1", "d4", "d5"}},
		{search.Sort{Field: "severity", Desc: true}, []string{"d2", "d4", "d1", "d5", "d3"}},
		{search.Sort{Field: "severity"}, []string{"d5", "d1", "d4", "d2", "d3"}},
		{search.Sort{Field: "cvss", Desc: true}, []string{"d2", "d1", "d4", "d3", "d5"}},
		{search.Sort{Field: "cvss"}, []string{"d1", "d4", "d2", "d3", "d5"}},
		{search.Sort{Field: "epss"}, []string{"d4", "d2", "d1", "d3", "d5"}},
		{search.Sort{Field: "title"}, []string{"d2", "d3", "d1", "d5", "d4"}},
		{search.Sort{Field: "title", Desc: true}, []string{"d5", "d1", "d2", "d3", "d4"}},
		{search.Sort{}, []string{"d5", "d1", "d4", "d2", "d3"}},
		{search.Sort{Field: search.SortRelevance}, []string{"d1", "d2", "d3", "d4", "d5"}},
	} {
		r := search.Request{Sort: c.sort}
		same(t, c.sort.Field+" one page", ids(t, ix, r), c.want...)
		same(t, c.sort.Field+" pages", pages(t, ix, r, 2), c.want...)
	}
	// Relevance: the densest match first; every page size gives the same order.
	r := search.Request{Query: query.Query{Clauses: []query.Clause{text("log4j")}}}
	all := ids(t, ix, r)
	if len(all) != 4 || all[0] != "d2" || all[3] != "d3" {
		t.Errorf("relevance: %q", all)
	}
	for n := 1; n <= 4; n++ {
		same(t, "relevance pages", pages(t, ix, r, n), all...)
	}
	if h := run(t, ix, r).Hits; h[0].Score <= h[3].Score {
		t.Errorf("scores %v then %v", h[0].Score, h[3].Score)
	}
}

// pages pages through r with limit n and returns every hit's id in order.
func pages(t testing.TB, ix search.Index, r search.Request, n int) []string {
	t.Helper()
	r.Limit = n
	var out []string
	for range 100 {
		res := run(t, ix, r)
		if len(res.Hits) > n {
			t.Fatalf("page of %d > %d", len(res.Hits), n)
		}
		for _, h := range res.Hits {
			out = append(out, h.Doc.ID)
		}
		if res.Next == "" {
			return out
		}
		r.Cursor = res.Next
	}
	t.Fatal("paging does not end")
	return nil
}

func TestBadRequests(t *testing.T) {
	ix := open(t)
	write(t, ix, 1, sortDocs()...)
	first := run(t, ix, search.Request{Limit: 1, Sort: search.Sort{Field: "cvss"}})
	for _, c := range []string{"%%%", "e30", first.Next + "x", strings.Repeat("A", 5000),
		(&cursor{Sort: "cvss", ID: "d1", S: "x"}).encode(), (&cursor{Sort: "at", ID: "d1", I: 1}).encode(),
		(&cursor{Sort: "cvss"}).encode()} {
		_, err := ix.Search(context.Background(), search.Request{Cursor: c, Sort: search.Sort{Field: "cvss"}})
		if !errors.Is(err, search.ErrBadCursor) {
			t.Errorf("cursor %.40q: %v", c, err)
		}
	}
	for _, r := range []search.Request{{Limit: -1}, {Limit: search.MaxLimit + 1}, {Facets: []string{"nope"}},
		{Sort: search.Sort{Field: "nope"}}, {FacetSize: -1}} {
		var pe *search.ParamError
		if _, err := ix.Search(context.Background(), r); !errors.As(err, &pe) {
			t.Errorf("%+v: %v", r, err)
		}
	}
	if res := run(t, ix, search.Request{Limit: search.MaxLimit}); len(res.Hits) != 5 {
		t.Errorf("limit %d: %d hits", search.MaxLimit, len(res.Hits))
	}
}

func TestHighlights(t *testing.T) {
	ix := open(t)
	long := strings.Repeat("filler words here. ", 20) + "the <b>Log4j</b> & log4j-core bug" + strings.Repeat(" more filler", 30) + " log4j at the end"
	write(t, ix, 1,
		search.Doc{ID: "f1", Kind: search.KindFinding, Version: 1, Title: "Log4j <RCE> in “café”", Text: long, State: json.RawMessage(`{"s":1}`)},
		search.Doc{ID: "f2", Kind: search.KindFinding, Version: 1, Title: "other", Text: "short log4j text", Hostnames: []string{"log4j"}},
	)
	r := search.Request{Query: query.Query{Clauses: []query.Clause{text("log4j"), text("café"), not(text("nothing"))}}, Highlight: true}
	res := run(t, ix, r)
	if len(res.Hits) != 1 {
		t.Fatalf("hits %+v", res.Hits)
	}
	h := res.Hits[0]
	if h.Doc.State != nil {
		t.Errorf("a hit carries State %s", h.Doc.State)
	}
	same(t, "title", h.Highlights["title"], "<mark>Log4j</mark> &lt;RCE&gt; in “<mark>café</mark>”")
	want := []string{
		"words here. filler words here. filler words here. filler words here. the &lt;b&gt;<mark>Log4j</mark>&lt;/b&gt; &amp; <mark>log4j</mark>-core bug more filler more filler more filler more filler more filler more",
		"filler more filler more filler more filler more filler more filler more filler <mark>log4j</mark> at the end",
	}
	same(t, "text", h.Highlights["text"], want...)
	r.Query.Clauses = []query.Clause{text("log4j")}
	res = run(t, ix, r)
	for _, h := range res.Hits {
		if h.Doc.ID == "f2" {
			same(t, "f2 text", h.Highlights["text"], "short <mark>log4j</mark> text")
			if _, ok := h.Highlights["title"]; ok {
				t.Errorf("f2: a title without a match highlighted: %q", h.Highlights)
			}
		}
	}
	r.Highlight = false
	if res := run(t, ix, r); res.Hits[0].Highlights != nil {
		t.Errorf("highlights not asked for: %v", res.Hits[0].Highlights)
	}
}

func TestWriteVersionsLoadAndPosition(t *testing.T) {
	ix := open(t)
	ctx := context.Background()
	d := search.Doc{ID: "f1", Kind: search.KindFinding, Version: 2, Title: "new title", AssetID: "a1", Hostnames: []string{"h1"},
		IPs: []string{"10.0.0.1"}, State: json.RawMessage(`{"v":2}`)}
	write(t, ix, 10, d)
	old := d
	old.Version, old.Title, old.Hostnames, old.IPs = 1, "old title", []string{"h0"}, []string{"10.0.0.0"}
	write(t, ix, 5, old)
	same(t, "older is dropped", found(t, ix, q(text("old"))))
	same(t, "older is dropped (terms)", found(t, ix, q(field(query.FieldHost, "h0"))))
	same(t, "newer stays", found(t, ix, q(text("new"))), "f1")
	if p, err := ix.Position(ctx); err != nil || p != 10 {
		t.Errorf("position %d, %v", p, err)
	}
	eq := d
	eq.Title, eq.Hostnames, eq.IPs = "same version rewritten", []string{"h2"}, nil
	write(t, ix, 11, eq)
	same(t, "equal replaces", found(t, ix, q(text("rewritten"))), "f1")
	same(t, "equal replaces (fts)", found(t, ix, q(text("new"))))
	same(t, "equal replaces (terms)", found(t, ix, q(field(query.FieldHost, "h1"))))
	same(t, "equal replaces (ips)", found(t, ix, q(field(query.FieldIP, "10.0.0.1"))))
	got, err := ix.Load(ctx, []string{"f1", "nope"})
	if err != nil || len(got) != 1 || string(got["f1"].State) != `{"v":2}` || got["f1"].Title != eq.Title {
		t.Errorf("load: %+v %v", got, err)
	}
	write(t, ix, 12, search.Doc{ID: "f2", Kind: search.KindFinding, Version: 1, AssetID: "a1"},
		search.Doc{ID: "a1", Kind: search.KindAsset, Version: 1, AssetID: "a1"})
	fs, err := ix.FindingsOf(ctx, []string{"a1", "a2"})
	if err != nil || len(fs) != 2 || fs[0].ID != "f1" || fs[1].ID != "f2" || fs[0].State == nil {
		t.Errorf("findings of: %+v %v", fs, err)
	}
	many := make([]string, 1200)
	for i := range many {
		many[i] = "x" + strings.Repeat("y", i%7)
	}
	if got, err := ix.Load(ctx, append(many, "f2")); err != nil || len(got) != 1 {
		t.Errorf("load of many: %d %v", len(got), err)
	}
}

func TestGenerations(t *testing.T) {
	ctx := context.Background()
	ix := open(t)
	write(t, ix, 7, search.Doc{ID: "old", Kind: search.KindAsset, Version: 1, Title: "x"})
	next, err := ix.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	write(t, next, 3, search.Doc{ID: "new", Kind: search.KindAsset, Version: 1, Title: "x"})
	same(t, "live before swap", ids(t, ix, search.Request{}), "old")
	same(t, "next before swap", ids(t, next, search.Request{}), "new")
	if err := ix.Swap(ctx, next); err != nil {
		t.Fatal(err)
	}
	same(t, "live after swap", ids(t, ix, search.Request{}), "new")
	if p, _ := ix.Position(ctx); p != 3 {
		t.Errorf("position after swap %d", p)
	}
	write(t, ix, 8, search.Doc{ID: "more", Kind: search.KindAsset, Version: 1, Title: "x"})
	same(t, "writes go to the live one", ids(t, next, search.Request{Sort: search.Sort{Field: "title"}}), "more", "new")

	aborted, err := ix.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	write(t, aborted, 1, search.Doc{ID: "gone", Kind: search.KindAsset, Version: 1})
	if err := ix.Abort(ctx, aborted); err != nil {
		t.Fatal(err)
	}
	if _, err := aborted.Search(ctx, search.Request{}); err == nil {
		t.Error("an aborted generation still answers")
	}
	if err := ix.Abort(ctx, next); err == nil {
		t.Error("aborting the live generation")
	}
	same(t, "live after abort", ids(t, ix, search.Request{Sort: search.Sort{Field: "title"}}), "more", "new")

	// Reopening finds the live generation.
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSearchesDuringASwapLoseNothing(t *testing.T) {
	ctx := context.Background()
	ix := open(t)
	docs := func(prefix string) []search.Doc {
		var ds []search.Doc
		for i := range 50 {
			ds = append(ds, search.Doc{ID: prefix + string(rune('a'+i%26)) + string(rune('a'+i/26)), Kind: search.KindFinding, Version: 1, Title: "log4j " + prefix, Severity: "high"})
		}
		return ds
	}
	write(t, ix, 1, docs("g1")...)
	var stop atomic.Bool
	var failures, runs atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				res, err := ix.Search(ctx, search.Request{Query: query.Query{Clauses: []query.Clause{text("log4j")}}, Facets: []string{"severity"}})
				runs.Add(1)
				if err != nil || res.Total != 50 {
					failures.Add(1)
					t.Errorf("search during rebuild: %d, %v", res.Total, err)
				}
			}
		}()
	}
	for g := range 5 {
		next, err := ix.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		write(t, next, int64(g), docs("g"+string(rune('2'+g)))...)
		if err := ix.Swap(ctx, next); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if failures.Load() != 0 || runs.Load() == 0 {
		t.Errorf("%d of %d searches failed", failures.Load(), runs.Load())
	}
}

func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "search.db")
	ix, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	next, _ := ix.Begin(ctx)
	write(t, next, 4, search.Doc{ID: "x", Kind: search.KindCVE, Version: 1})
	if err := ix.Swap(ctx, next); err != nil {
		t.Fatal(err)
	}
	_ = ix.Close()
	ix, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	same(t, "reopened", ids(t, ix, search.Request{}), "x")
	if p, _ := ix.Position(ctx); p != 4 {
		t.Errorf("position %d", p)
	}
}

func TestContractSuite(t *testing.T) {
	searchtest.Run(t, func(t *testing.T) search.Index { return open(t) })
}

func TestTokenRunesAreTheContracts(t *testing.T) {
	for r := rune(0); r <= 0x2ffff; r++ {
		if r >= 0xd800 && r <= 0xdfff {
			continue
		}
		if want := len(search.Tokens(string(r))) == 1; isTokenRune(r) != want {
			t.Fatalf("%U: token rune %v, search.Tokens says %v", r, isTokenRune(r), want)
		}
	}
}

func TestFoldIsEqualFold(t *testing.T) {
	for r := rune(0); r <= 0x1ffff; r++ {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if fold(string(r)) != fold(string(f)) {
				t.Fatalf("%U and %U fold apart", r, f)
			}
		}
	}
	for _, c := range [][2]string{{"Log4j-Core", "LOG4J-core"}, {"ſ", "S"}, {"K", "k"}, {"straße", "STRASSE"}} {
		if (fold(c[0]) == fold(c[1])) != strings.EqualFold(c[0], c[1]) {
			t.Errorf("%q %q: fold and strings.EqualFold disagree", c[0], c[1])
		}
	}
}

func TestAClosedIndexIsUnavailable(t *testing.T) {
	ix := open(t)
	next, err := ix.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := next.(*Index).Close(); err != nil {
		t.Fatal(err)
	}
	run(t, ix, search.Request{}) // closing a generation leaves the database open
	_ = ix.Close()
	for _, err := range []error{
		func() error { _, err := ix.Search(context.Background(), search.Request{}); return err }(),
		ix.Write(context.Background(), []search.Doc{{ID: "x", Kind: search.KindCVE, Version: 1}}, 1),
		func() error { _, err := ix.Position(context.Background()); return err }(),
	} {
		if !errors.Is(err, search.ErrUnavailable) {
			t.Errorf("closed: %v", err)
		}
	}
}

// Values reach SQL and FTS5 only as bound parameters and quoted phrases of tokens: quotes,
// operators and SQL in a value are text like any other.
func TestValuesAreNeverSyntax(t *testing.T) {
	ix := open(t)
	write(t, ix, 1,
		search.Doc{ID: "f1", Kind: search.KindFinding, Version: 1, Title: `near or "and" not`, Status: "open"},
		search.Doc{ID: "f2", Kind: search.KindFinding, Version: 1, Title: "other", Status: "closed"},
	)
	for _, c := range []struct {
		c    query.Clause
		want []string
	}{
		{text(`NEAR(`), []string{"f1"}},
		{text(`"and" OR`), nil},
		{text(`and" OR not`), nil},
		{text(`or "and`), []string{"f1"}},
		{text(`*`), []string{"f1", "f2"}},
		{text(`title:other`), nil},
		{field(query.FieldStatus, `open' OR '1'='1`), nil},
		{field(query.FieldStatus, `open") OR 1=1 --`), nil},
		{field(query.FieldHost, `x' OR 1=1 --`), nil},
	} {
		same(t, c.c.Values[0], found(t, ix, q(c.c)), c.want...)
	}
}
