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

func mf(x float64) *float64 { return &x }

var (
	mFinding = Doc{
		ID: "f1", Kind: KindFinding, Title: "Apache Log4j2 remote code execution", Text: "The app uses log4j core 2.14 with JNDI lookups.",
		Severity: "critical", Status: "open", CVEs: []string{"CVE-2021-44228"}, CWEs: []string{"CWE-502"},
		Packages: []string{"log4j-core"}, KEV: true, CVSS: mf(10), EPSS: mf(0.97), Scanner: "trivy",
		AssetID: "a1", AssetName: "web-1", Hostnames: []string{"web-1.prod.example.com", "www.example.com"},
		IPs: []string{"10.0.1.15", "2001:db8:0:1::15", "::ffff:172.16.4.4"}, Team: "platform", Environment: "production",
		AssetKind: "host", Tags: []string{"internet-facing", "pci"},
	}
	mEvent = Doc{ID: "e1", Kind: KindEvent, Title: "FindingTriaged", Actor: "user:alice@example.com", EventType: "FindingTriaged", Team: "payments"}
	mCVE   = Doc{ID: "CVE-2021-44228", Kind: KindCVE, Title: "CVE-2021-44228", CVEs: []string{"CVE-2021-44228"}, Severity: "critical"}
)

func mclause(field query.Field, values ...string) query.Clause {
	return query.Clause{Field: field, Values: values}
}

func mnot(c query.Clause) query.Clause { c.Negate = true; return c }

func mnum(field query.Field, op query.Op, v string) query.Clause {
	return query.Clause{Field: field, Op: op, Values: []string{v}}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		name string
		doc  Doc
		q    []query.Clause
		want bool
	}{
		{"empty query", mFinding, nil, true},
		{"free word in title", mFinding, []query.Clause{mclause("", "apache")}, true},
		{"free word case-insensitive", mFinding, []query.Clause{mclause("", "JNDI")}, true},
		{"free word absent", mFinding, []query.Clause{mclause("", "openssl")}, false},
		{"phrase across punctuation", mFinding, []query.Clause{mclause("", "log4j-core")}, true},
		{"punctuated word matches text's spaced words", Doc{Text: "uses log4j core 2.14"}, []query.Clause{mclause("", "log4j-core")}, true},
		{"phrase in order only", Doc{Text: "core log4j"}, []query.Clause{mclause("", "log4j core")}, false},
		{"phrase not across fields", mFinding, []query.Clause{{Field: "", Values: []string{"execution the app"}, Phrase: true}}, false},
		{"phrase not across list elements", mFinding, []query.Clause{{Values: []string{"com www"}, Phrase: true}}, false},
		{"quoted phrase", mFinding, []query.Clause{{Values: []string{"remote code execution"}, Phrase: true}}, true},
		{"partial token is no match", mFinding, []query.Clause{mclause("", "log4")}, false},
		{"free text in hostname", mFinding, []query.Clause{mclause("", "prod")}, true},
		{"free text in tag", mFinding, []query.Clause{mclause("", "internet")}, true},
		{"free text in team", mFinding, []query.Clause{mclause("", "platform")}, true},
		{"free text in environment", mFinding, []query.Clause{mclause("", "production")}, true},
		{"free text in cve", mFinding, []query.Clause{mclause("", "44228")}, true},
		{"free text not in scanner", mFinding, []query.Clause{mclause("", "trivy")}, false},
		{"free clauses ANDed across fields", mFinding, []query.Clause{mclause("", "apache"), mclause("", "pci")}, true},
		{"free clauses ANDed, one fails", mFinding, []query.Clause{mclause("", "apache"), mclause("", "staging")}, false},
		{"token-less value matches all", Doc{}, []query.Clause{mclause("", "--")}, true},
		{"type", mFinding, []query.Clause{mclause(query.FieldType, "finding")}, true},
		{"type other", mFinding, []query.Clause{mclause(query.FieldType, "asset")}, false},
		{"cve exact any case", mFinding, []query.Clause{mclause(query.FieldCVE, "cve-2021-44228")}, true},
		{"cve not a prefix", mFinding, []query.Clause{mclause(query.FieldCVE, "CVE-2021-4422")}, false},
		{"cwe", mFinding, []query.Clause{mclause(query.FieldCWE, "CWE-502")}, true},
		{"cwe bare number", mFinding, []query.Clause{mclause(query.FieldCWE, "502")}, true},
		{"severity", mFinding, []query.Clause{mclause(query.FieldSeverity, "CRITICAL")}, true},
		{"status", mFinding, []query.Clause{mclause(query.FieldStatus, "closed")}, false},
		{"asset by name", mFinding, []query.Clause{mclause(query.FieldAsset, "WEB-1")}, true},
		{"asset by id", mFinding, []query.Clause{mclause(query.FieldAsset, "a1")}, true},
		{"asset by hostname", mFinding, []query.Clause{mclause(query.FieldAsset, "www.example.com")}, true},
		{"asset not by a hostname's part", mFinding, []query.Clause{mclause(query.FieldAsset, "www")}, false},
		{"host", mFinding, []query.Clause{mclause(query.FieldHost, "web-1.prod.example.com")}, true},
		{"host is not the name", mFinding, []query.Clause{mclause(query.FieldHost, "web-1")}, false},
		{"package exact", mFinding, []query.Clause{mclause(query.FieldPackage, "Log4j-Core")}, true},
		{"package not a token", mFinding, []query.Clause{mclause(query.FieldPackage, "log4j")}, false},
		{"ip address", mFinding, []query.Clause{mclause(query.FieldIP, "10.0.1.15")}, true},
		{"ip other address", mFinding, []query.Clause{mclause(query.FieldIP, "10.0.1.16")}, false},
		{"ip /8", mFinding, []query.Clause{mclause(query.FieldIP, "10.0.0.0/8")}, true},
		{"ip /24 elsewhere", mFinding, []query.Clause{mclause(query.FieldIP, "10.0.2.0/24")}, false},
		{"ip unmasked prefix", mFinding, []query.Clause{mclause(query.FieldIP, "10.0.1.200/24")}, true},
		{"ipv6 /64", mFinding, []query.Clause{mclause(query.FieldIP, "2001:db8:0:1::/64")}, true},
		{"ipv6 other /64", mFinding, []query.Clause{mclause(query.FieldIP, "2001:db8:0:2::/64")}, false},
		{"ipv6 address non-canonical", mFinding, []query.Clause{mclause(query.FieldIP, "2001:0db8:0:1:0:0:0:15")}, true},
		{"mapped doc address in an IPv4 range", mFinding, []query.Clause{mclause(query.FieldIP, "172.16.0.0/12")}, true},
		{"mapped doc address equals IPv4", mFinding, []query.Clause{mclause(query.FieldIP, "172.16.4.4")}, true},
		{"mapped query address", Doc{IPs: []string{"10.0.1.15"}}, []query.Clause{mclause(query.FieldIP, "::ffff:10.0.1.15")}, true},
		{"mapped query prefix", Doc{IPs: []string{"10.0.1.15"}}, []query.Clause{mclause(query.FieldIP, "::ffff:10.0.0.0/104")}, true},
		{"ip garbage", mFinding, []query.Clause{mclause(query.FieldIP, "web-1")}, false},
		{"ip on a doc without", mCVE, []query.Clause{mclause(query.FieldIP, "0.0.0.0/0")}, false},
		{"kev true", mFinding, []query.Clause{mclause(query.FieldKEV, "true")}, true},
		{"kev false", mFinding, []query.Clause{mclause(query.FieldKEV, "false")}, false},
		{"kev false on a kind without", mEvent, []query.Clause{mclause(query.FieldKEV, "false")}, true},
		{"kev true on a kind without", mEvent, []query.Clause{mclause(query.FieldKEV, "true")}, false},
		{"team", mFinding, []query.Clause{mclause(query.FieldTeam, "Platform")}, true},
		{"environment", mFinding, []query.Clause{mclause(query.FieldEnvironment, "staging")}, false},
		{"kind", mFinding, []query.Clause{mclause(query.FieldKind, "host")}, true},
		{"scanner", mFinding, []query.Clause{mclause(query.FieldScanner, "trivy")}, true},
		{"tag", mFinding, []query.Clause{mclause(query.FieldTag, "PCI")}, true},
		{"tag not a token", mFinding, []query.Clause{mclause(query.FieldTag, "internet")}, false},
		{"actor", mEvent, []query.Clause{mclause(query.FieldActor, "user:alice@example.com")}, true},
		{"event", mEvent, []query.Clause{mclause(query.FieldEvent, "findingtriaged")}, true},
		{"cvss eq", mFinding, []query.Clause{mnum(query.FieldCVSS, query.OpEq, "10")}, true},
		{"cvss gt equal", mFinding, []query.Clause{mnum(query.FieldCVSS, query.OpGT, "10")}, false},
		{"cvss ge", mFinding, []query.Clause{mnum(query.FieldCVSS, query.OpGE, "10.0")}, true},
		{"cvss lt", mFinding, []query.Clause{mnum(query.FieldCVSS, query.OpLT, "10")}, false},
		{"cvss le", mFinding, []query.Clause{mnum(query.FieldCVSS, query.OpLE, "10")}, true},
		{"epss lt", mFinding, []query.Clause{mnum(query.FieldEPSS, query.OpLT, "0.5")}, false},
		{"cvss missing never matches", mCVE, []query.Clause{mnum(query.FieldCVSS, query.OpLT, "100")}, false},
		{"cvss not a number", mFinding, []query.Clause{mnum(query.FieldCVSS, query.OpGE, "high")}, false},
		{"comma list any", mFinding, []query.Clause{mclause(query.FieldSeverity, "high", "critical")}, true},
		{"comma list none", mFinding, []query.Clause{mclause(query.FieldSeverity, "high", "low")}, false},
		{"negation", mFinding, []query.Clause{mnot(mclause(query.FieldStatus, "closed"))}, true},
		{"negation of a match", mFinding, []query.Clause{mnot(mclause(query.FieldStatus, "open"))}, false},
		{"negated comma list: none of them", mFinding, []query.Clause{mnot(mclause(query.FieldSeverity, "high", "critical"))}, false},
		{"negation of a missing field matches", mCVE, []query.Clause{mnot(mclause(query.FieldStatus, "open"))}, true},
		{"negation of a missing number matches", mCVE, []query.Clause{mnot(mnum(query.FieldCVSS, query.OpGE, "9"))}, true},
		{"negated free text", mFinding, []query.Clause{mnot(mclause("", "openssl"))}, true},
		{"negated free phrase present", mFinding, []query.Clause{mnot(mclause("", "log4j-core"))}, false},
		{"clauses ANDed", mFinding, []query.Clause{mclause(query.FieldSeverity, "critical"), mclause(query.FieldStatus, "closed")}, false},
		{"unknown field", mFinding, []query.Clause{mclause("nope", "x")}, false},
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
		{"finding by default", mFinding, Request{}, true},
		{"event hidden without audit", mEvent, Request{}, false},
		{"event with audit", mEvent, Request{Audit: true}, true},
		{"event asked for without audit", mEvent, Request{Kinds: []Kind{KindEvent}}, false},
		{"event asked for with audit", mEvent, Request{Kinds: []Kind{KindEvent}, Audit: true}, true},
		{"kind not asked for", mFinding, Request{Kinds: []Kind{KindAsset, KindCVE}}, false},
		{"kind asked for", asset, Request{Kinds: []Kind{KindAsset}}, true},
		{"scope of its team", mFinding, Request{Scope: ownership.Scope{"payments", "platform"}}, true},
		{"scope of another team", mFinding, Request{Scope: ownership.Scope{"payments"}}, false},
		{"unowned in a scope", unowned, Request{Scope: ownership.Scope{"payments"}}, false},
		{"unowned unscoped", unowned, Request{}, true},
		{"cve in an empty scope", mCVE, Request{Scope: ownership.Scope{}}, true},
		{"finding in an empty scope", mFinding, Request{Scope: ownership.Scope{}}, false},
		{"event of another team", mEvent, Request{Audit: true, Scope: ownership.Scope{"platform"}}, false},
		{"event of no team, scoped", noTeamEvent, Request{Audit: true, Scope: ownership.Scope{"platform"}}, false},
		{"event of no team, unscoped", noTeamEvent, Request{Audit: true}, true},
	} {
		if got := Visible(c.doc, c.r); got != c.want {
			t.Errorf("%s: Visible = %v, want %v", c.name, got, c.want)
		}
	}
}

func matchIDs(docs []Doc) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.ID
	}
	return out
}

func TestAnswerSorts(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 3, 2, h, 0, 0, 0, time.UTC) }
	docs := []Doc{
		{ID: "d", Title: "beta", Severity: "info", CVSS: mf(5), At: at(1)},
		{ID: "b", Title: "Zeta", Severity: "critical", CVSS: mf(9.8), EPSS: mf(0.2), At: at(3)},
		{ID: "a", Title: "alpha", Severity: "", At: at(2)},
		{ID: "c", Title: "", Severity: "high", CVSS: mf(9.8), EPSS: mf(0.9), At: at(3)},
		{ID: "e", Title: "gamma", Severity: "low", At: at(0)},
		{ID: "f", Title: "delta", Severity: "medium", EPSS: mf(0.2)},
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
		if got := matchIDs(all); !slices.Equal(got, c.want) {
			t.Errorf("sort %+v: %q, want %q", c.sort, got, c.want)
		}
		if facets != nil {
			t.Errorf("sort %+v: facets %v without asking", c.sort, facets)
		}
	}
	// Free text makes relevance the default.
	all, _ := Answer(docs, Request{Query: query.Query{Clauses: []query.Clause{mnot(mclause("", "zzz")), mclause("", "a")}}})
	if len(all) != 0 {
		t.Errorf("free text a matched %q", matchIDs(all))
	}
	if r := withDefaults(Request{Query: query.Query{Clauses: []query.Clause{mclause("", "x")}}}); r.Sort != (Sort{Field: SortRelevance}) || r.Limit != DefaultLimit || r.FacetSize != DefaultFacetSize {
		t.Errorf("defaults with free text: %+v", r)
	}
	if r := withDefaults(Request{Query: query.Query{Clauses: []query.Clause{mnot(mclause("", "x"))}}}); r.Sort != (Sort{Field: "at", Desc: true}) {
		t.Errorf("defaults with negated free text only: %+v", r.Sort)
	}
}

func TestAnswerFiltersAndFacets(t *testing.T) {
	docs := []Doc{
		mFinding, mEvent, mCVE,
		{ID: "f2", Kind: KindFinding, Severity: "high", Status: "open", Scanner: "nessus", Team: "payments"},
		{ID: "f3", Kind: KindFinding, Severity: "high", Status: "closed", Scanner: "zap", Team: "platform"},
		{ID: "a1", Kind: KindAsset, Status: "active", Team: "platform", AssetKind: "host"},
	}
	r := Request{Scope: ownership.Scope{"platform"}, Facets: []string{"severity", "kind", "team", "environment", "status"}}
	all, facets := Answer(docs, r)
	if got := matchIDs(all); !slices.Equal(got, []string{"CVE-2021-44228", "a1", "f1", "f3"}) {
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
	_, facets = Answer(docs, Request{Facets: []string{"asset_kind"}, Query: query.Query{Clauses: []query.Clause{mclause(query.FieldType, "cve")}}})
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
