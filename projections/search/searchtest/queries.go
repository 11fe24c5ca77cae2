package searchtest

import (
	"strconv"
	"strings"

	"github.com/socplatform/soc/projections/ownership"
	"github.com/socplatform/soc/projections/search"
	"github.com/socplatform/soc/projections/search/query"
	"github.com/socplatform/soc/schemas/contracts"
)

// The queries are built as ASTs (what the parser produces), so the suite checks backends
// independently of the parser. Each names, worked out by hand from the fixture, the documents
// it must find; the suite checks the oracle finds exactly those before checking a backend
// against the oracle.

// row is one request and the ids it must find (in any order).
type row struct {
	name string
	r    search.Request
	want []string
}

func word(v string) query.Clause   { return query.Clause{Values: []string{v}} }
func phrase(v string) query.Clause { return query.Clause{Values: []string{v}, Phrase: true} }
func is(f query.Field, values ...string) query.Clause {
	return query.Clause{Field: f, Values: values}
}
func not(c query.Clause) query.Clause { c.Negate = true; return c }
func cmp(f query.Field, op query.Op, v string) query.Clause {
	return query.Clause{Field: f, Op: op, Values: []string{v}}
}

func q(cs ...query.Clause) search.Request { return search.Request{Query: query.Query{Clauses: cs}} }

func audit(r search.Request) search.Request { r.Audit = true; return r }

func scoped(r search.Request, teams ...string) search.Request {
	r.Scope = ownership.Scope(teams)
	if r.Scope == nil {
		r.Scope = ownership.Scope{}
	}
	return r
}

func kinds(r search.Request, ks ...search.Kind) search.Request { r.Kinds = ks; return r }

func ids(v ...string) []string { return v }

// queries covers every field operator, free text in every free-text field, phrases, negation,
// comma lists and numeric comparisons.
func queries() []row {
	return []row{
		{"cve id", q(is(query.FieldCVE, c1)), ids(f1, f2, c1)},
		{"cve id as free text", q(word("CVE-2021-44228")), ids(f1, f2, c1)},
		{"asset by name", q(is(query.FieldAsset, "web-1")), ids(a1, f1, f3)},
		{"asset by hostname", q(is(query.FieldAsset, "www.example.com")), ids(a1, f1, f3)},
		{"asset by id", q(is(query.FieldAsset, a1)), ids(a1, f1, f3)},
		{"host", q(is(query.FieldHost, "web-2.prod.example.com")), ids(a2, f4, f10)},
		{"host case-insensitive", q(is(query.FieldHost, "FTP.Example.ORG")), ids(a6, f8)},
		{"host is exact", q(is(query.FieldHost, "web-2")), nil},
		{"ip address", q(is(query.FieldIP, "10.0.1.15")), ids(a1, f1, f3)},
		{"ipv4 /8", q(is(query.FieldIP, "10.0.0.0/8")), ids(a1, a2, a3, f1, f2, f3, f4, f9, f10)},
		{"ipv4 /24", q(is(query.FieldIP, "192.168.10.0/24")), ids(a4, a7, f5, f11, f13)},
		{"ipv6 /64", q(is(query.FieldIP, "2001:db8:0:1::/64")), ids(a1, a2, f1, f3, f4, f10)},
		{"ipv6 /32", q(is(query.FieldIP, "2001:db8::/32")), ids(a1, a2, a6, f1, f3, f4, f8, f10)},
		{"ipv6 address", q(is(query.FieldIP, "2001:db8:0:2::8")), ids(a6, f8)},
		{"ipv4-mapped address in an ipv4 range", q(is(query.FieldIP, "172.16.0.0/12")), ids(a6, f8)},
		{"ip comma list", q(is(query.FieldIP, "203.0.113.10", "10.20.0.0/16")), ids(a3, a8, f2, f9, f12, f14)},
		{"package", q(is(query.FieldPackage, "log4j-core")), ids(f1, f2)},
		{"package is exact", q(is(query.FieldPackage, "log4j")), ids(f11)},
		{"package purl name", q(is(query.FieldPackage, "org.springframework:spring-beans")), ids(f6)},
		{"punctuated word is a phrase", q(word("log4j-core")), ids(f1, f2)},
		{"word", q(word("log4j")), ids(f1, f2, f11)},
		{"word case-insensitive", q(word("LOG4SHELL")), ids(f1, f2)},
		{"quoted phrase in titles and descriptions", q(phrase("remote code execution")), ids(f1, f2, f6, f13, c3)},
		{"phrase across punctuation", q(phrase("buffer over-read")), ids(f7)},
		{"phrase in order", q(phrase("overflow buffer")), nil},
		{"words ANDed, in any field", q(word("buffer"), word("overflow")), ids(f3, f7)},
		{"word", q(word("buffer")), ids(f3, f7, c2)},
		{"dotted words", q(word("jquery.extend")), ids(f12, c6)},
		{"word only in hostnames", q(word("prod")), ids(a1, a2, f1, f3, f4, f10)},
		{"word only in tags", q(word("pci")), ids(a1, a3, a5, a8, f1, f2, f3, f6, f7, f9, f12, f14)},
		{"word in team and text", q(word("payments")), ids(a3, a5, a7, a8, f2, f6, f7, f9, f11, f12, f14)},
		{"word in environment and hostname", q(word("staging")), ids(a4, a5, f5, f6, f7, f13)},
		{"hostname as words", q(word("web-1")), ids(a1, f1, f3)},
		{"punctuation only restricts nothing", q(word("--"), is(query.FieldType, "cve")), ids(c1, c2, c3, c4, c5, c6)},
		{"negated word", q(word("xz"), not(is(query.FieldKEV, "true"))), ids(f14, c5)},
		{"negation", q(is(query.FieldType, "finding"), not(is(query.FieldStatus, "open"))), ids(f2, f3, f6, f9, f12, f13)},
		{"negation of a field many lack", q(not(is(query.FieldStatus, "open"))),
			ids(a1, a2, a3, a4, a5, a6, a7, a8, c1, c2, c3, c4, c5, c6, f2, f3, f6, f9, f12, f13)},
		{"negated team, unowned included", q(is(query.FieldType, "asset"), not(is(query.FieldTeam, "platform"))), ids(a3, a5, a6, a7, a8)},
		{"negated free text", q(is(query.FieldType, "finding"), not(word("log4j"))), ids(f3, f4, f5, f6, f7, f8, f9, f10, f12, f13, f14)},
		{"severity comma list", q(is(query.FieldType, "finding"), is(query.FieldSeverity, "critical", "high")),
			ids(f1, f2, f3, f6, f7, f8, f11, f13, f14)},
		{"kev true", q(is(query.FieldKEV, "true")), ids(f1, f2, f6, c1, c3)},
		{"kev false", q(is(query.FieldKEV, "false"), is(query.FieldType, "cve")), ids(c2, c4, c5, c6)},
		{"not kev", q(not(is(query.FieldKEV, "true")), is(query.FieldType, "finding")), ids(f3, f4, f5, f7, f8, f9, f10, f11, f12, f13, f14)},
		{"cvss >=", q(cmp(query.FieldCVSS, query.OpGE, "9")), ids(f1, f2, f6, f7, f11, f14, c1, c3, c5)},
		{"cvss >= at a value", q(cmp(query.FieldCVSS, query.OpGE, "7.5"), is(query.FieldType, "finding")), ids(f1, f2, f3, f6, f7, f11, f14)},
		{"cvss <", q(cmp(query.FieldCVSS, query.OpLT, "7.5")), ids(f5, f9, f12, c4, c6)},
		{"cvss =", q(cmp(query.FieldCVSS, query.OpEq, "10")), ids(f1, f2, f14, c1, c5)},
		{"cvss <=, negated", q(not(cmp(query.FieldCVSS, query.OpLE, "9.8")), is(query.FieldType, "cve")), ids(c1, c5)},
		{"epss <", q(cmp(query.FieldEPSS, query.OpLT, "0.05")), ids(f3, f7, f12, c2, c6)},
		{"epss >", q(cmp(query.FieldEPSS, query.OpGT, "0.5")), ids(f1, f2, f5, f6, c1, c3, c4)},
		{"type", q(is(query.FieldType, "asset")), ids(a1, a2, a3, a4, a5, a6, a7, a8)},
		{"type list and team", q(is(query.FieldType, "cve", "asset"), is(query.FieldTeam, "payments")), ids(a3, a5, a7, a8)},
		{"team, environment and type", q(is(query.FieldTeam, "platform"), is(query.FieldEnvironment, "production"), is(query.FieldType, "finding")),
			ids(f1, f3, f4, f10)},
		{"asset kind", q(is(query.FieldKind, "container_image")), ids(a5, f6, f7)},
		{"scanner", q(is(query.FieldScanner, "nessus")), ids(f5, f8, f9, f10)},
		{"tag", q(is(query.FieldTag, "internet-facing")), ids(a1, a2, a8, f1, f3, f4, f10, f12, f14)},
		{"cwe", q(is(query.FieldCWE, "CWE-502")), ids(f1, f2, f11, c1)},
		{"status", q(is(query.FieldStatus, "retired")), ids(a6)},
		{"severity and free text", q(is(query.FieldSeverity, "critical"), word("apache")), ids(f1, f2, f11, c1)},
		{"actor", audit(q(is(query.FieldActor, "user:alice@example.com"))), ids(e1)},
		{"event type", audit(q(is(query.FieldEvent, contracts.TypeFindingResolved))), ids(e3)},
		{"events but one actor", audit(q(is(query.FieldType, "event"), not(is(query.FieldActor, "token:ci-pipeline")))), ids(e1, e2, e3, e4, e5)},
		{"free text in events", audit(q(word("triaged"))), ids(e1)},
		{"free text across kinds", audit(q(word("log4shell"))), ids(e1, f1, f2)},
	}
}

// visibility covers kinds, the audit trail and team scopes.
func visibility() []row {
	return []row{
		{"audit trail hidden by default", q(word("log4shell")), ids(f1, f2)},
		{"events asked for without audit", kinds(q(), search.KindEvent), nil},
		{"events asked for with audit", audit(kinds(q(), search.KindEvent)), ids(e1, e2, e3, e4, e5, e6)},
		{"kinds", kinds(q(word("pci")), search.KindAsset, search.KindCVE), ids(a1, a3, a5, a8)},
		{"scope hides other teams", scoped(q(word("log4j")), "platform"), ids(f1)},
		{"scope shows cves", scoped(q(is(query.FieldCVE, c1)), "platform"), ids(f1, c1)},
		{"empty scope shows only cves", scoped(q(is(query.FieldCVE, c1))), ids(c1)},
		{"empty scope, assets", scoped(q(is(query.FieldType, "asset"))), nil},
		{"scope hides the unowned", scoped(q(is(query.FieldIP, "172.16.0.0/12")), "platform", "payments"), nil},
		{"scope and kinds", scoped(kinds(q(word("pci")), search.KindAsset, search.KindCVE), "payments"), ids(a3, a5, a8)},
		{"scoped audit trail", scoped(audit(q(is(query.FieldType, "event"))), "payments"), ids(e1, e5)},
		{"scoped audit trail hides events of no team", scoped(audit(q(is(query.FieldActor, "token:ci-pipeline"))), "platform", "payments"), nil},
		{"unscoped audit trail shows events of no team", audit(q(is(query.FieldActor, "token:ci-pipeline"))), ids(e6)},
		{"scoped, audit, free text", scoped(audit(q(word("web-1"))), "platform"), ids(a1, f1, f3, e2, e3)},
	}
}

// facetRequests are requests whose facets (every facet field) the suite compares.
func facetRequests() []row {
	all := func(r search.Request) search.Request { r.Facets = search.FacetFields; return r }
	return []row{
		{"everything", all(q()), nil},
		{"findings of payments", scoped(all(q(is(query.FieldType, "finding"))), "payments"), nil},
		{"free text with the audit trail", audit(all(q(word("log4j")))), nil},
		{"audit trail", audit(all(q(word("web-1")))), nil},
		{"nothing", all(q(word("nonexistentword"))), nil},
	}
}

// describe writes q back in the query language, for failures that read.
func describe(q query.Query) string {
	parts := make([]string, len(q.Clauses))
	for i, c := range q.Clauses {
		v := strings.Join(c.Values, ",")
		switch {
		case c.Phrase:
			v = strconv.Quote(v)
		case c.Field != query.FieldText:
			v = string(c.Field) + ":" + string(c.Op) + v
		}
		if c.Negate {
			v = "-" + v
		}
		parts[i] = v
	}
	return strings.Join(parts, " ")
}
