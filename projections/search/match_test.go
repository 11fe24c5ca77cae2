package search

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/socplatform/soc/projections/ownership"
	"github.com/socplatform/soc/projections/search/query"
)

func TestTokens(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"log4j-core", []string{"log4j", "core"}},
		{"Web-1.PROD.example.com", []string{"web", "1", "prod", "example", "com"}},
		{"  CVE-2021-44228, (JNDI)!", []string{"cve", "2021", "44228", "jndi"}},
		{"Straße café naïve", []string{"straße", "café", "naïve"}}, // no diacritic folding
		{"pkg:maven/org.apache/log4j@2.14.1", []string{"pkg", "maven", "org", "apache", "log4j", "2", "14", "1"}},
		{"Ⅻ²", []string{"ⅻ²"}}, // every Unicode number is a token rune (\p{N}), not only decimal digits
		{"--", nil},
		{"", nil},
	} {
		if got := Tokens(c.in); !slices.Equal(got, c.want) {
			t.Errorf("Tokens(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func f(x float64) *float64 { return &x }

var (
	finding = Doc{
		ID: "f1", Kind: KindFinding, Title: "Apache Log4j2 remote code execution", Text: "The app uses log4j core 2.14 with JNDI lookups.",
		Severity: "critical", Status: "open", CVEs: []string{"CVE-2021-44228"}, CWEs: []string{"CWE-502"},
		Packages: []string{"log4j-core"}, KEV: true, CVSS: f(10), EPSS: f(0.97), Scanner: "trivy",
		AssetID: "a1", AssetName: "web-1", Hostnames: []string{"web-1.prod.example.com", "www.example.com"},
		IPs: []string{"10.0.1.15", "2001:db8:0:1::15", "::ffff:172.16.4.4"}, Team: "platform", Environment: "production",
		AssetKind: "host", Tags: []string{"internet-facing", "pci"},
	}
	event = Doc{ID: "e1", Kind: KindEvent, Title: "FindingTriaged", Actor: "user:alice@example.com", EventType: "FindingTriaged", Team: "payments"}
	cve   = Doc{ID: "CVE-2021-44228", Kind: KindCVE, Title: "CVE-2021-44228", CVEs: []string{"CVE-2021-44228"}, Severity: "critical"}
)

func clause(field query.Field, values ...string) query.Clause {
	return query.Clause{Field: field, Values: values}
}

func not(c query.Clause) query.Clause { c.Negate = true; return c }

func num(field query.Field, op query.Op, v string) query.Clause {
	return query.Clause{Field: field, Op: op, Values: []string{v}}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		name string
		doc  Doc
		q    []query.Clause
		want bool
	}{
		{"empty query", finding, nil, true},
		{"free word in title", finding, []query.Clause{clause("", "apache")}, true},
		{"free word case-insensitive", finding, []query.Clause{clause("", "JNDI")}, true},
		{"free word absent", finding, []query.Clause{clause("", "openssl")}, false},
		{"phrase across punctuation", finding, []query.Clause{clause("", "log4j-core")}, true},
		{"punctuated word matches text's spaced words", Doc{Text: "uses log4j core 2.14"}, []query.Clause{clause("", "log4j-core")}, true},
		{"phrase in order only", Doc{Text: "core log4j"}, []query.Clause{clause("", "log4j core")}, false},
		{"phrase not across fields", finding, []query.Clause{{Field: "", Values: []string{"execution the app"}, Phrase: true}}, false},
		{"phrase not across list elements", finding, []query.Clause{{Values: []string{"com www"}, Phrase: true}}, false},
		{"quoted phrase", finding, []query.Clause{{Values: []string{"remote code execution"}, Phrase: true}}, true},
		{"partial token is no match", finding, []query.Clause{clause("", "log4")}, false},
		{"free text in hostname", finding, []query.Clause{clause("", "prod")}, true},
		{"free text in tag", finding, []query.Clause{clause("", "internet")}, true},
		{"free text in team", finding, []query.Clause{clause("", "platform")}, true},
		{"free text in environment", finding, []query.Clause{clause("", "production")}, true},
		{"free text in cve", finding, []query.Clause{clause("", "44228")}, true},
		{"free text not in scanner", finding, []query.Clause{clause("", "trivy")}, false},
		{"free clauses ANDed across fields", finding, []query.Clause{clause("", "apache"), clause("", "pci")}, true},
		{"free clauses ANDed, one fails", finding, []query.Clause{clause("", "apache"), clause("", "staging")}, false},
		{"token-less value matches all", Doc{}, []query.Clause{clause("", "--")}, true},
		{"type", finding, []query.Clause{clause(query.FieldType, "finding")}, true},
		{"type other", finding, []query.Clause{clause(query.FieldType, "asset")}, false},
		{"cve exact any case", finding, []query.Clause{clause(query.FieldCVE, "cve-2021-44228")}, true},
		{"cve not a prefix", finding, []query.Clause{clause(query.FieldCVE, "CVE-2021-4422")}, false},
		{"cwe", finding, []query.Clause{clause(query.FieldCWE, "CWE-502")}, true},
		{"cwe bare number", finding, []query.Clause{clause(query.FieldCWE, "502")}, true},
		{"severity", finding, []query.Clause{clause(query.FieldSeverity, "CRITICAL")}, true},
		{"status", finding, []query.Clause{clause(query.FieldStatus, "closed")}, false},
		{"asset by name", finding, []query.Clause{clause(query.FieldAsset, "WEB-1")}, true},
		{"asset by id", finding, []query.Clause{clause(query.FieldAsset, "a1")}, true},
		{"asset by hostname", finding, []query.Clause{clause(query.FieldAsset, "www.example.com")}, true},
		{"asset not by a hostname's part", finding, []query.Clause{clause(query.FieldAsset, "www")}, false},
		{"host", finding, []query.Clause{clause(query.FieldHost, "web-1.prod.example.com")}, true},
		{"host is not the name", finding, []query.Clause{clause(query.FieldHost, "web-1")}, false},
		{"package exact", finding, []query.Clause{clause(query.FieldPackage, "Log4j-Core")}, true},
		{"package not a token", finding, []query.Clause{clause(query.FieldPackage, "log4j")}, false},
		{"ip address", finding, []query.Clause{clause(query.FieldIP, "10.0.1.15")}, true},
		{"ip other address", finding, []query.Clause{clause(query.FieldIP, "10.0.1.16")}, false},
		{"ip /8", finding, []query.Clause{clause(query.FieldIP, "10.0.0.0/8")}, true},
		{"ip /24 elsewhere", finding, []query.Clause{clause(query.FieldIP, "10.0.2.0/24")}, false},
		{"ip unmasked prefix", finding, []query.Clause{clause(query.FieldIP, "10.0.1.200/24")}, true},
		{"ipv6 /64", finding, []query.Clause{clause(query.FieldIP, "2001:db8:0:1::/64")}, true},
		{"ipv6 other /64", finding, []query.Clause{clause(query.FieldIP, "2001:db8:0:2::/64")}, false},
		{"ipv6 address non-canonical", finding, []query.Clause{clause(query.FieldIP, "2001:0db8:0:1:0:0:0:15")}, true},
		{"mapped doc address in an IPv4 range", finding, []query.Clause{clause(query.FieldIP, "172.16.0.0/12")}, true},
		{"mapped doc address equals IPv4", finding, []query.Clause{clause(query.FieldIP, "172.16.4.4")}, true},
		{"mapped query address", Doc{IPs: []string{"10.0.1.15"}}, []query.Clause{clause(query.FieldIP, "::ffff:10.0.1.15")}, true},
		{"mapped query prefix", Doc{IPs: []string{"10.0.1.15"}}, []query.Clause{clause(query.FieldIP, "::ffff:10.0.0.0/104")}, true},
		{"ip garbage", finding, []query.Clause{clause(query.FieldIP, "web-1")}, false},
		{"ip on a doc without", cve, []query.Clause{clause(query.FieldIP, "0.0.0.0/0")}, false},
		{"kev true", finding, []query.Clause{clause(query.FieldKEV, "true")}, true},
		{"kev false", finding, []query.Clause{clause(query.FieldKEV, "false")}, false},
		{"kev false on a kind without", event, []query.Clause{clause(query.FieldKEV, "false")}, true},
		{"kev true on a kind without", event, []query.Clause{clause(query.FieldKEV, "true")}, false},
		{"team", finding, []query.Clause{clause(query.FieldTeam, "Platform")}, true},
		{"environment", finding, []query.Clause{clause(query.FieldEnvironment, "staging")}, false},
		{"kind", finding, []query.Clause{clause(query.FieldKind, "host")}, true},
		{"scanner", finding, []query.Clause{clause(query.FieldScanner, "trivy")}, true},
		{"tag", finding, []query.Clause{clause(query.FieldTag, "PCI")}, true},
		{"tag not a token", finding, []query.Clause{clause(query.FieldTag, "internet")}, false},
		{"actor", event, []query.Clause{clause(query.FieldActor, "user:alice@example.com")}, true},
		{"event", event, []query.Clause{clause(query.FieldEvent, "findingtriaged")}, true},
		{"cvss eq", finding, []query.Clause{num(query.FieldCVSS, query.OpEq, "10")}, true},
		{"cvss gt equal", finding, []query.Clause{num(query.FieldCVSS, query.OpGT, "10")}, false},
		{"cvss ge", finding, []query.Clause{num(query.FieldCVSS, query.OpGE, "10.0")}, true},
		{"cvss lt", finding, []query.Clause{num(query.FieldCVSS, query.OpLT, "10")}, false},
		{"cvss le", finding, []query.Clause{num(query.FieldCVSS, query.OpLE, "10")}, true},
		{"epss lt", finding, []query.Clause{num(query.FieldEPSS, query.OpLT, "0.5")}, false},
		{"cvss missing never matches", cve, []query.Clause{num(query.FieldCVSS, query.OpLT, "100")}, false},
		{"cvss not a number", finding, []query.Clause{num(query.FieldCVSS, query.OpGE, "high")}, false},
		{"comma list any", finding, []query.Clause{clause(query.FieldSeverity, "high", "critical")}, true},
		{"comma list none", finding, []query.Clause{clause(query.FieldSeverity, "high", "low")}, false},
		{"negation", finding, []query.Clause{not(clause(query.FieldStatus, "closed"))}, true},
		{"negation of a match", finding, []query.Clause{not(clause(query.FieldStatus, "open"))}, false},
		{"negated comma list: none of them", finding, []query.Clause{not(clause(query.FieldSeverity, "high", "critical"))}, false},
		{"negation of a missing field matches", cve, []query.Clause{not(clause(query.FieldStatus, "open"))}, true},
		{"negation of a missing number matches", cve, []query.Clause{not(num(query.FieldCVSS, query.OpGE, "9"))}, true},
		{"negated free text", finding, []query.Clause{not(clause("", "openssl"))}, true},
		{"negated free phrase present", finding, []query.Clause{not(clause("", "log4j-core"))}, false},
		{"clauses ANDed", finding, []query.Clause{clause(query.FieldSeverity, "critical"), clause(query.FieldStatus, "closed")}, false},
		{"unknown field", finding, []query.Clause{clause("nope", "x")}, false},
	} {
		if got := Match(c.doc, query.Query{Clauses: c.q}); got != c.want {
			t.Errorf("%s: Match = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestVisible(t *testing.T) {
	asset := Doc{ID: "a1", Kind: KindAsset, Team: "platform"}
	unowned := Doc{ID: "a2", Kind: KindAsset}
	noTeamEvent := Doc{ID: "e2", Kind: KindEvent}
	for _, c := range []struct {
		name string
		doc  Doc
		r    Request
		want bool
	}{
		{"finding by default", finding, Request{}, true},
		{"event hidden without audit", event, Request{}, false},
		{"event with audit", event, Request{Audit: true}, true},
		{"event asked for without audit", event, Request{Kinds: []Kind{KindEvent}}, false},
		{"event asked for with audit", event, Request{Kinds: []Kind{KindEvent}, Audit: true}, true},
		{"kind not asked for", finding, Request{Kinds: []Kind{KindAsset, KindCVE}}, false},
		{"kind asked for", asset, Request{Kinds: []Kind{KindAsset}}, true},
		{"scope of its team", finding, Request{Scope: ownership.Scope{"payments", "platform"}}, true},
		{"scope of another team", finding, Request{Scope: ownership.Scope{"payments"}}, false},
		{"unowned in a scope", unowned, Request{Scope: ownership.Scope{"payments"}}, false},
		{"unowned unscoped", unowned, Request{}, true},
		{"cve in an empty scope", cve, Request{Scope: ownership.Scope{}}, true},
		{"finding in an empty scope", finding, Request{Scope: ownership.Scope{}}, false},
		{"event of another team", event, Request{Audit: true, Scope: ownership.Scope{"platform"}}, false},
		{"event of no team, scoped", noTeamEvent, Request{Audit: true, Scope: ownership.Scope{"platform"}}, false},
		{"event of no team, unscoped", noTeamEvent, Request{Audit: true}, true},
	} {
		if got := Visible(c.doc, c.r); got != c.want {
			t.Errorf("%s: Visible = %v, want %v", c.name, got, c.want)
		}
	}
}

func ids(docs []Doc) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.ID
	}
	return out
}

func TestAnswerSorts(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 3, 2, h, 0, 0, 0, time.UTC) }
	docs := []Doc{
		{ID: "d", Title: "beta", Severity: "info", CVSS: f(5), At: at(1)},
		{ID: "b", Title: "Zeta", Severity: "critical", CVSS: f(9.8), EPSS: f(0.2), At: at(3)},
		{ID: "a", Title: "alpha", Severity: "", At: at(2)},
		{ID: "c", Title: "", Severity: "high", CVSS: f(9.8), EPSS: f(0.9), At: at(3)},
		{ID: "e", Title: "gamma", Severity: "low", At: at(0)},
		{ID: "f", Title: "delta", Severity: "medium", EPSS: f(0.2)},
	}
	for _, c := range []struct {
		sort Sort
		want []string
	}{
		{Sort{Field: "severity", Desc: true}, []string{"b", "c", "f", "e", "d", "a"}},
		{Sort{Field: "severity"}, []string{"d", "e", "f", "c", "b", "a"}},
		{Sort{Field: "cvss", Desc: true}, []string{"b", "c", "d", "a", "e", "f"}}, // tie by id; missing last
		{Sort{Field: "cvss"}, []string{"d", "b", "c", "a", "e", "f"}},
		{Sort{Field: "epss", Desc: true}, []string{"c", "b", "f", "a", "d", "e"}},
		{Sort{Field: "epss"}, []string{"b", "f", "c", "a", "d", "e"}},
		{Sort{Field: "at", Desc: true}, []string{"b", "c", "a", "d", "e", "f"}}, // zero time is missing
		{Sort{Field: "at"}, []string{"e", "d", "a", "b", "c", "f"}},
		{Sort{Field: "title"}, []string{"b", "a", "d", "f", "e", "c"}}, // bytes: upper case first; empty last
		{Sort{Field: "title", Desc: true}, []string{"e", "f", "d", "a", "b", "c"}},
		{Sort{Field: SortRelevance}, []string{"a", "b", "c", "d", "e", "f"}},
		{Sort{}, []string{"b", "c", "a", "d", "e", "f"}}, // no free text: at descending
	} {
		all, facets := Answer(docs, Request{Sort: c.sort})
		if got := ids(all); !slices.Equal(got, c.want) {
			t.Errorf("sort %+v: %q, want %q", c.sort, got, c.want)
		}
		if facets != nil {
			t.Errorf("sort %+v: facets %v without asking", c.sort, facets)
		}
	}
	// Free text makes relevance the default.
	all, _ := Answer(docs, Request{Query: query.Query{Clauses: []query.Clause{not(clause("", "zzz")), clause("", "a")}}})
	if len(all) != 0 {
		t.Errorf("free text a matched %q", ids(all))
	}
	if r := withDefaults(Request{Query: query.Query{Clauses: []query.Clause{clause("", "x")}}}); r.Sort != (Sort{Field: SortRelevance}) || r.Limit != DefaultLimit || r.FacetSize != DefaultFacetSize {
		t.Errorf("defaults with free text: %+v", r)
	}
	if r := withDefaults(Request{Query: query.Query{Clauses: []query.Clause{not(clause("", "x"))}}}); r.Sort != (Sort{Field: "at", Desc: true}) {
		t.Errorf("defaults with negated free text only: %+v", r.Sort)
	}
}

func TestAnswerFiltersAndFacets(t *testing.T) {
	docs := []Doc{
		finding, event, cve,
		{ID: "f2", Kind: KindFinding, Severity: "high", Status: "open", Scanner: "nessus", Team: "payments"},
		{ID: "f3", Kind: KindFinding, Severity: "high", Status: "closed", Scanner: "zap", Team: "platform"},
		{ID: "a1", Kind: KindAsset, Status: "active", Team: "platform", AssetKind: "host"},
	}
	r := Request{Scope: ownership.Scope{"platform"}, Facets: []string{"severity", "kind", "team", "environment", "status"}}
	all, facets := Answer(docs, r)
	if got := ids(all); !slices.Equal(got, []string{"CVE-2021-44228", "a1", "f1", "f3"}) {
		t.Fatalf("matches %q", got)
	}
	want := map[string][]FacetValue{
		"severity":    {{"critical", 2}, {"high", 1}}, // the CVE counts, the asset has none
		"kind":        {{"finding", 2}, {"asset", 1}, {"cve", 1}},
		"team":        {{"platform", 3}},
		"environment": {{"production", 1}},
		"status":      {{"active", 1}, {"closed", 1}, {"open", 1}}, // ties by value
	}
	for k, w := range want {
		if !slices.Equal(facets[k], w) {
			t.Errorf("facet %s = %v, want %v", k, facets[k], w)
		}
	}
	_, facets = Answer(docs, Request{Audit: true, Facets: []string{"status", "scanner"}, FacetSize: 2})
	if w := []FacetValue{{"open", 2}, {"active", 1}}; !slices.Equal(facets["status"], w) {
		t.Errorf("facet status, size 2 = %v, want %v", facets["status"], w)
	}
	if w := []FacetValue{{"nessus", 1}, {"trivy", 1}}; !slices.Equal(facets["scanner"], w) {
		t.Errorf("facet scanner, size 2 = %v, want %v", facets["scanner"], w)
	}
	_, facets = Answer(docs, Request{Facets: []string{"asset_kind"}, Query: query.Query{Clauses: []query.Clause{clause(query.FieldType, "cve")}}})
	if v, ok := facets["asset_kind"]; !ok || len(v) != 0 {
		t.Errorf("facet without values = %v, %v; want present and empty", v, ok)
	}
}

func TestCheckRequest(t *testing.T) {
	for _, c := range []struct {
		r     Request
		param string
	}{
		{Request{Limit: MaxLimit + 1}, "limit"},
		{Request{Limit: -1}, "limit"},
		{Request{FacetSize: -1}, "facet_size"},
		{Request{Facets: []string{"severity", "owner"}}, "facets"},
		{Request{Sort: Sort{Field: "risk"}}, "sort"},
		{Request{Kinds: []Kind{"vuln"}}, "type"},
	} {
		var pe *ParamError
		if _, err := CheckRequest(c.r); !errors.As(err, &pe) || pe.Param != c.param {
			t.Errorf("CheckRequest(%+v) = %v, want a *ParamError for %s", c.r, err, c.param)
		}
	}
	r, err := CheckRequest(Request{Limit: MaxLimit, Facets: FacetFields, Sort: Sort{Field: "cvss"}, Kinds: Kinds})
	if err != nil || r.Limit != MaxLimit || r.FacetSize != DefaultFacetSize || r.Sort != (Sort{Field: "cvss"}) {
		t.Errorf("CheckRequest(valid) = %+v, %v", r, err)
	}
}

func TestEveryFieldHasAMeaning(t *testing.T) {
	special := []query.Field{query.FieldCWE, query.FieldIP, query.FieldKEV, query.FieldCVSS, query.FieldEPSS}
	for _, f := range query.Fields {
		if _, ok := ExactFields[f]; ok == slices.Contains(special, f) {
			t.Errorf("field %q: in ExactFields %v, matched on its own %v; want exactly one", f, ok, !ok)
		}
	}
	if len(ExactFields)+len(special) != len(query.Fields) {
		t.Errorf("ExactFields has %d fields, query.Fields %d, %d special", len(ExactFields), len(query.Fields), len(special))
	}
}

func TestSeverityRank(t *testing.T) {
	for s, want := range map[string]int{"critical": 5, "high": 4, "medium": 3, "low": 2, "info": 1, "": 0, "urgent": 0} {
		if got := SeverityRank(s); got != want {
			t.Errorf("SeverityRank(%q) = %d, want %d", s, got, want)
		}
	}
}
