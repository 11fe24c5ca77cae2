package elastic

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/projections/ownership"
	"github.com/socplatform/soc/projections/search"
	"github.com/socplatform/soc/projections/search/query"
)

func TestConfigValidate(t *testing.T) {
	if err := (Config{URL: "http://127.0.0.1:9200"}).Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	err := Config{URL: "http://user:s3cret@[::1", Index: "Bad Name", Flavor: "solr"}.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	msg := err.Error()
	for _, want := range []string{"search url", "search index", "search flavor"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not report %q", msg, want)
		}
	}
	if strings.Contains(msg, "s3cret") {
		t.Errorf("error %q shows the password", msg)
	}
	if err := (Config{}).Validate(); err == nil || !strings.Contains(err.Error(), "required") {
		t.Errorf("empty URL: %v", err)
	}
}

func TestPrefixesBut(t *testing.T) {
	all := netip.MustParsePrefix("::/0")
	parts := prefixesBut(all, mappedRange)
	if len(parts) != 96 {
		t.Fatalf("%d prefixes, want 96", len(parts))
	}
	for _, a := range []string{"::ffff:10.0.0.1", "::ffff:0.0.0.0", "::ffff:255.255.255.255"} {
		for _, p := range parts {
			if p.Contains(netip.MustParseAddr(a)) {
				t.Errorf("%s covers the mapped address %s", p, a)
			}
		}
	}
	for _, a := range []string{"::", "::1", "2001:db8::1", "::fffe:ffff:ffff", "::1:0:0:0", "ffff::"} {
		n := 0
		for _, p := range parts {
			if p.Contains(netip.MustParseAddr(a)) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s is in %d of the prefixes, want 1", a, n)
		}
	}
}

func TestCursorDecoding(t *testing.T) {
	good := encodeCursor(cursor{Sort: "at:desc", After: []json.RawMessage{json.RawMessage(`"x"`), json.RawMessage(`"id"`)}})
	if _, err := decodeCursor(good, "at:desc", 2); err != nil {
		t.Fatalf("own cursor refused: %v", err)
	}
	for name, c := range map[string]string{
		"not base64":   "%%%",
		"not JSON":     "bm90IGpzb24",
		"another sort": good + "",
	} {
		sort := "at:desc"
		if name == "another sort" {
			sort = "cvss:asc"
		}
		if _, err := decodeCursor(c, sort, 2); !errors.Is(err, search.ErrBadCursor) {
			t.Errorf("%s: %v, want ErrBadCursor", name, err)
		}
	}
	nested := encodeCursor(cursor{Sort: "at:desc", After: []json.RawMessage{json.RawMessage(`{"a":1}`), json.RawMessage(`"id"`)}})
	if _, err := decodeCursor(nested, "at:desc", 2); !errors.Is(err, search.ErrBadCursor) {
		t.Errorf("object in cursor: %v, want ErrBadCursor", err)
	}
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ptr(f float64) *float64 { return &f }

// fixture is a small world: two assets' findings, an asset, a CVE and an audit event.
func fixture() []search.Doc {
	web := func(d search.Doc) search.Doc {
		d.AssetID, d.AssetName, d.Hostnames, d.IPs = "a1", "web-1", []string{"web-1.prod.example.com"}, []string{"10.0.0.5"}
		d.Environment, d.AssetKind, d.Tags = "production", "host", []string{"pci"}
		return d
	}
	return []search.Doc{
		web(search.Doc{ID: "f1", Kind: search.KindFinding, Version: 3, Title: "Apache Log4j2 remote code execution",
			Text: "JNDI lookup in log4j-core allows RCE <b>now</b>", At: t0.Add(time.Hour), Severity: "critical", Status: "open",
			CVEs: []string{"CVE-2021-44228"}, CWEs: []string{"CWE-502"}, Packages: []string{"log4j-core"}, KEV: true,
			CVSS: ptr(10), EPSS: ptr(0.97), Scanner: "trivy", Team: "platform", State: json.RawMessage(`{"n":1}`)}),
		{ID: "f2", Kind: search.KindFinding, Version: 2, Title: "OpenSSL buffer overflow", Text: "heap overflow in libssl",
			At: t0.Add(2 * time.Hour), Severity: "high", Status: "closed", CVEs: []string{"CVE-2022-3602"},
			Packages: []string{"openssl"}, CVSS: ptr(7.5), Scanner: "grype", AssetID: "a2", AssetName: "db-1",
			Hostnames: []string{"db-1.internal"}, IPs: []string{"192.168.1.10", "2001:db8::1"}, Team: "data",
			Environment: "staging", AssetKind: "host"},
		web(search.Doc{ID: "f3", Kind: search.KindFinding, Version: 1, Title: "Outdated jQuery", Text: "cross site scripting",
			At: t0.Add(3 * time.Hour), Severity: "medium", Status: "open", Scanner: "trivy"}),
		web(search.Doc{ID: "a1", Kind: search.KindAsset, Version: 4, Title: "web-1", Status: "active", At: t0, Team: "platform"}),
		{ID: "CVE-2021-44228", Kind: search.KindCVE, Version: 1, Title: "CVE-2021-44228", At: t0.Add(-time.Hour),
			Text: "Apache Log4j2 JNDI features do not protect against attacker controlled LDAP", Severity: "critical",
			CVEs: []string{"CVE-2021-44228"}, KEV: true, CVSS: ptr(10)},
		{ID: "e1", Kind: search.KindEvent, Version: 1, Title: "FindingTriaged", EventType: "FindingTriaged",
			Actor: "user:alice", Team: "platform", StreamID: "f1", At: t0.Add(4 * time.Hour)},
	}
}

func ids(r search.Result) []string {
	out := make([]string, len(r.Hits))
	for i, h := range r.Hits {
		out[i] = h.Doc.ID
	}
	return out
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

func text(v string) query.Clause { return query.Clause{Values: []string{v}} }
func field(f query.Field, v ...string) query.Clause {
	return query.Clause{Field: f, Values: v}
}
func not(c query.Clause) query.Clause  { c.Negate = true; return c }
func q(cs ...query.Clause) query.Query { return query.Query{Clauses: cs} }

func TestQueries(t *testing.T) {
	eachServer(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		ix := openFixture(t, cfg)
		cases := []struct {
			name string
			req  search.Request
			want []string // any order
		}{
			{"all but events", search.Request{}, []string{"f1", "f2", "f3", "a1", "CVE-2021-44228"}},
			{"audit", search.Request{Audit: true, Kinds: []search.Kind{search.KindEvent}}, []string{"e1"}},
			{"events need audit", search.Request{Kinds: []search.Kind{search.KindEvent}}, nil},
			{"word in title and text", search.Request{Query: q(text("log4j2"))}, []string{"f1", "CVE-2021-44228"}},
			{"phrase of a word's tokens", search.Request{Query: q(text("log4j-core"))}, []string{"f1"}},
			{"phrase out of order", search.Request{Query: q(query.Clause{Values: []string{"core log4j"}, Phrase: true})}, nil},
			{"hostname words", search.Request{Query: q(text("prod.example"))}, []string{"f1", "f3", "a1"}},
			{"clauses in different fields", search.Request{Query: q(text("jquery"), text("production"))}, []string{"f3"}},
			{"no word matches all", search.Request{Query: q(text("--"))}, []string{"f1", "f2", "f3", "a1", "CVE-2021-44228"}},
			{"negated text", search.Request{Query: q(not(text("overflow")))}, []string{"f1", "f3", "a1", "CVE-2021-44228"}},
			{"cve", search.Request{Query: q(field(query.FieldCVE, "CVE-2021-44228"))}, []string{"f1", "CVE-2021-44228"}},
			{"not closed", search.Request{Query: q(not(field(query.FieldStatus, "closed")))}, []string{"f1", "f3", "a1", "CVE-2021-44228"}},
			{"severity list", search.Request{Query: q(field(query.FieldSeverity, "high", "medium"))}, []string{"f2", "f3"}},
			{"asset by name", search.Request{Query: q(field(query.FieldAsset, "WEB-1"))}, []string{"f1", "f3", "a1"}},
			{"asset by host", search.Request{Query: q(field(query.FieldAsset, "db-1.internal"))}, []string{"f2"}},
			{"asset by id", search.Request{Query: q(field(query.FieldAsset, "a2"))}, []string{"f2"}},
			{"ipv4 range", search.Request{Query: q(field(query.FieldIP, "10.0.0.0/8"))}, []string{"f1", "f3", "a1"}},
			{"ipv6 range", search.Request{Query: q(field(query.FieldIP, "2001:db8::/32"))}, []string{"f2"}},
			{"ipv6 prefix over the mapped range", search.Request{Query: q(field(query.FieldIP, "::/0"))}, []string{"f2"}},
			{"mapped address", search.Request{Query: q(field(query.FieldIP, "::ffff:192.168.1.10"))}, []string{"f2"}},
			{"package", search.Request{Query: q(field(query.FieldPackage, "LOG4J-CORE"))}, []string{"f1"}},
			{"kev true", search.Request{Query: q(field(query.FieldKEV, "true"))}, []string{"f1", "CVE-2021-44228"}},
			{"kev false", search.Request{Query: q(field(query.FieldKEV, "false"))}, []string{"f2", "f3", "a1"}},
			{"cvss at least", search.Request{Query: q(query.Clause{Field: query.FieldCVSS, Op: query.OpGE, Values: []string{"9"}})}, []string{"f1", "CVE-2021-44228"}},
			{"cvss equal", search.Request{Query: q(field(query.FieldCVSS, "7.5"))}, []string{"f2"}},
			{"cvss negated", search.Request{Query: q(not(query.Clause{Field: query.FieldCVSS, Op: query.OpGE, Values: []string{"9"}}))}, []string{"f2", "f3", "a1"}},
			{"epss above", search.Request{Query: q(query.Clause{Field: query.FieldEPSS, Op: query.OpGT, Values: []string{"0.5"}})}, []string{"f1"}},
			{"type", search.Request{Query: q(field(query.FieldType, "cve"))}, []string{"CVE-2021-44228"}},
			{"actor", search.Request{Audit: true, Query: q(field(query.FieldActor, "user:alice"))}, []string{"e1"}},
			{"tag and team", search.Request{Query: q(field(query.FieldTag, "PCI"), field(query.FieldTeam, "platform"))}, []string{"f1", "a1"}},
			{"scoped", search.Request{Scope: ownership.Scope{"platform"}}, []string{"f1", "a1", "CVE-2021-44228"}},
			{"scoped audit", search.Request{Scope: ownership.Scope{"data"}, Audit: true}, []string{"f2", "CVE-2021-44228"}},
			{"no team", search.Request{Scope: ownership.Scope{}}, []string{"CVE-2021-44228"}},
		}
		for _, c := range cases {
			res, err := ix.Search(ctx, c.req)
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			if got := sorted(ids(res)); !slices.Equal(got, sorted(c.want)) || res.Total != int64(len(c.want)) {
				t.Errorf("%s: got %v (total %d), want %v", c.name, got, res.Total, sorted(c.want))
			}
			for _, h := range res.Hits {
				if h.Doc.State != nil {
					t.Errorf("%s: hit %s carries its state", c.name, h.Doc.ID)
				}
			}
		}
	})
}

func TestFacetsSortingPaging(t *testing.T) {
	eachServer(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		ix := openFixture(t, cfg)
		res, err := ix.Search(ctx, search.Request{Facets: []string{"severity", "status", "kind", "team"}, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]search.FacetValue{
			"severity": {{Value: "critical", Count: 2}, {Value: "high", Count: 1}, {Value: "medium", Count: 1}},
			"status":   {{Value: "open", Count: 2}, {Value: "active", Count: 1}, {Value: "closed", Count: 1}},
			"kind":     {{Value: "finding", Count: 3}, {Value: "asset", Count: 1}, {Value: "cve", Count: 1}},
			"team":     {{Value: "platform", Count: 2}, {Value: "data", Count: 1}},
		}
		for f, w := range want {
			if !slices.Equal(res.Facets[f], w) {
				t.Errorf("facet %s: %v, want %v", f, res.Facets[f], w)
			}
		}
		if res.Total != 5 || len(res.Hits) != 1 || res.Next == "" {
			t.Errorf("first page of one: total %d, %d hits, next %q", res.Total, len(res.Hits), res.Next)
		}

		orders := []struct {
			sort search.Sort
			want []string
		}{
			{search.Sort{Field: "cvss", Desc: true}, []string{"CVE-2021-44228", "f1", "f2", "a1", "f3"}},
			{search.Sort{Field: "cvss"}, []string{"f2", "CVE-2021-44228", "f1", "a1", "f3"}},
			{search.Sort{Field: "severity", Desc: true}, []string{"CVE-2021-44228", "f1", "f2", "f3", "a1"}},
			{search.Sort{Field: "at"}, []string{"CVE-2021-44228", "a1", "f1", "f2", "f3"}},
			{search.Sort{}, []string{"f3", "f2", "f1", "a1", "CVE-2021-44228"}},
			{search.Sort{Field: "title"}, []string{"f1", "CVE-2021-44228", "f2", "f3", "a1"}}, // byte order: "Apache" < "CVE"
		}
		for _, o := range orders {
			one, err := ix.Search(ctx, search.Request{Sort: o.sort, Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(one), o.want) {
				t.Errorf("sort %+v: %v, want %v", o.sort, ids(one), o.want)
			}
			var paged []string
			cur := ""
			for range 10 {
				p, err := ix.Search(ctx, search.Request{Sort: o.sort, Limit: 2, Cursor: cur, Facets: []string{"kind"}})
				if err != nil {
					t.Fatal(err)
				}
				if p.Total != 5 || !slices.Equal(p.Facets["kind"], want["kind"]) {
					t.Errorf("sort %+v: a later page has total %d, facets %v", o.sort, p.Total, p.Facets["kind"])
				}
				paged = append(paged, ids(p)...)
				if cur = p.Next; cur == "" {
					break
				}
			}
			if !slices.Equal(paged, o.want) {
				t.Errorf("sort %+v paged by 2: %v, want %v", o.sort, paged, o.want)
			}
		}

		_, err = ix.Search(ctx, search.Request{Cursor: "garbage!"})
		if !errors.Is(err, search.ErrBadCursor) {
			t.Errorf("bad cursor: %v", err)
		}
		var pe *search.ParamError
		if _, err := ix.Search(ctx, search.Request{Sort: search.Sort{Field: "colour"}}); !errors.As(err, &pe) || pe.Param != "sort" {
			t.Errorf("unknown sort: %v", err)
		}
		if _, err := ix.Search(ctx, search.Request{Facets: []string{"colour"}}); !errors.As(err, &pe) || pe.Param != "facets" {
			t.Errorf("unknown facet: %v", err)
		}
	})
}

func TestRelevanceAndHighlight(t *testing.T) {
	eachServer(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		ix := openFixture(t, cfg)
		res, err := ix.Search(ctx, search.Request{Query: q(text("log4j-core"), not(field(query.FieldStatus, "closed"))), Highlight: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Hits) != 1 || res.Hits[0].Score <= 0 {
			t.Fatalf("hits %+v", res.Hits)
		}
		frags := strings.Join(res.Hits[0].Highlights["text"], " ")
		if !strings.Contains(frags, "<mark>log4j</mark>-<mark>core</mark>") || !strings.Contains(frags, "&lt;b&gt;now&lt;&#x2F;b&gt;") && !strings.Contains(frags, "&lt;b&gt;now&lt;/b&gt;") {
			t.Errorf("text highlights %q", frags)
		}
		if _, ok := res.Hits[0].Highlights["title"]; ok {
			t.Errorf("title highlighted without a match: %v", res.Hits[0].Highlights)
		}
		res, err = ix.Search(ctx, search.Request{Query: q(field(query.FieldCVE, "CVE-2021-44228")), Highlight: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range res.Hits {
			if h.Highlights != nil {
				t.Errorf("field operator highlighted %s: %v", h.Doc.ID, h.Highlights)
			}
		}
	})
}

func TestVersionsPositionLoad(t *testing.T) {
	eachServer(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		ix := openTest(t, cfg)
		if p, err := ix.Position(ctx); err != nil || p != 0 {
			t.Fatalf("empty index position %d, %v", p, err)
		}
		docs := fixture()
		if err := ix.Write(ctx, docs, 6); err != nil {
			t.Fatal(err)
		}
		older, equal := docs[1], docs[0]
		older.Version, older.Title = 1, "stale"
		equal.Title = "rewritten at the same version"
		if err := ix.Write(ctx, []search.Doc{older, equal}, 4); err != nil {
			t.Fatalf("write with an older document: %v", err)
		}
		if p, err := ix.Position(ctx); err != nil || p != 6 {
			t.Errorf("position %d, %v; want 6 (the highest written)", p, err)
		}
		got, err := ix.Load(ctx, []string{"f1", "f2", "nope", metaID})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got["f2"].Title != "OpenSSL buffer overflow" || got["f1"].Title != equal.Title {
			t.Errorf("load: %+v", got)
		}
		if string(got["f1"].State) != `{"n":1}` || !got["f1"].At.Equal(docs[0].At) || *got["f1"].CVSS != 10 {
			t.Errorf("load lost fields: %+v", got["f1"])
		}
		fs, err := ix.FindingsOf(ctx, []string{"a1"})
		if err != nil {
			t.Fatal(err)
		}
		var fids []string
		for _, d := range fs {
			fids = append(fids, d.ID)
		}
		if !slices.Equal(sorted(fids), []string{"f1", "f3"}) || string(fs[0].State) != `{"n":1}` {
			t.Errorf("findings of a1: %v", fids)
		}
		if err := ix.Write(ctx, []search.Doc{{ID: metaID, Kind: search.KindFinding, Version: 1}}, 7); err == nil {
			t.Error("a document with the position's id was written")
		}
	})
}

func TestBulkItemErrors(t *testing.T) {
	eachServer(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		ix := openTest(t, cfg)
		if err := ix.Write(ctx, fixture()[:1], 1); err != nil {
			t.Fatal(err)
		}
		older, err := bulkItem("f1", 1, newSource(search.Doc{ID: "f1", Kind: search.KindFinding, Version: 1, Title: "older"}))
		if err != nil {
			t.Fatal(err)
		}
		if err := ix.bulk(ctx, older, nil); err != nil {
			t.Errorf("an older version (409) failed the write: %v", err)
		}
		bad := append(slices.Clone(older), []byte(`{"index":{"_id":"broken"}}`+"\n"+`{"kind":"finding","at":"not a date"}`+"\n")...)
		err = ix.bulk(ctx, bad, nil)
		if err == nil || !strings.Contains(err.Error(), "broken") || !strings.Contains(err.Error(), "1 documents refused") {
			t.Errorf("a refused document: %v", err)
		}
		if err := ix.Write(ctx, []search.Doc{{ID: "n", Kind: search.KindFinding, Version: -5}}, 2); err == nil {
			t.Error("a negative version was accepted")
		}
	})
}

// TestOpenRefusesTheOtherServer gives each server's URL with the other flavor: Open refuses it,
// saying so, and creates nothing there.
func TestOpenRefusesTheOtherServer(t *testing.T) {
	es, osURL := os.Getenv("SOC_TEST_ELASTICSEARCH_URL"), os.Getenv("SOC_TEST_OPENSEARCH_URL")
	if es == "" || osURL == "" {
		t.Skip("SOC_TEST_ELASTICSEARCH_URL or SOC_TEST_OPENSEARCH_URL is unset: needs both servers")
	}
	for _, c := range []Config{{URL: osURL, Flavor: FlavorElasticsearch}, {URL: es, Flavor: FlavorOpenSearch}} {
		c.Index = uniqueAlias(t)
		ix, err := Open(context.Background(), c)
		if err == nil || !strings.Contains(err.Error(), "not the "+c.Flavor) {
			t.Errorf("%s given as %s: %v", c.URL, c.Flavor, err)
		}
		if ix != nil {
			dropAll(t, ix)
		}
		right := Config{URL: c.URL, Index: c.Index, Flavor: FlavorElasticsearch}
		if c.Flavor == FlavorElasticsearch {
			right.Flavor = FlavorOpenSearch
		}
		probe := &Index{alias: c.Index}
		probe.tp, err = newTransport(right)
		if err != nil {
			t.Fatal(err)
		}
		if gens, err := probe.generations(context.Background()); err != nil || len(gens) != 0 {
			t.Errorf("%s given as %s: left indices %v (%v)", c.URL, c.Flavor, gens, err)
			probe.target = c.Index
			dropAll(t, probe)
		}
	}
}
