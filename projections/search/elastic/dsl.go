package elastic

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/socplatform/soc/projections/search"
	"github.com/socplatform/soc/projections/search/query"
)

// This file turns a search.Request into the query DSL, clause by clause, following the
// semantics search.Match states (its comments are the reference; this says only how).

func term(field string, v any) map[string]any {
	return map[string]any{"term": map[string]any{field: v}}
}

func terms(field string, vs []string) map[string]any {
	return map[string]any{"terms": map[string]any{field: vs}}
}

func anyOf(qs []map[string]any) map[string]any {
	if len(qs) == 1 {
		return qs[0]
	}
	return map[string]any{"bool": map[string]any{"should": qs, "minimum_should_match": 1}}
}

// anyValue is the query of the documents one of values matches, each value's query made by
// of; a value of returns false for (not one the field can hold) matches nothing.
func anyValue(values []string, of func(v string) (map[string]any, bool)) map[string]any {
	var qs []map[string]any
	for _, v := range values {
		if q, ok := of(v); ok {
			qs = append(qs, q)
		}
	}
	if len(qs) == 0 {
		return matchNone
	}
	return anyOf(qs)
}

var (
	matchAll  = map[string]any{"match_all": map[string]any{}}
	matchNone = map[string]any{"match_none": map[string]any{}}
)

// keywordFields are the fields the exact-match operators compare with (keywords with the
// lower-case normalizer). asset, ip, kev, cvss and epss have their own translation.
var keywordFields = map[query.Field][]string{
	query.FieldType:        {"kind"},
	query.FieldCVE:         {"cves"},
	query.FieldCWE:         {"cwes"},
	query.FieldSeverity:    {"severity"},
	query.FieldStatus:      {"status"},
	query.FieldAsset:       {"asset_name.kw", "asset_id", "hostnames"},
	query.FieldHost:        {"hostnames"},
	query.FieldPackage:     {"packages"},
	query.FieldTeam:        {"team"},
	query.FieldEnvironment: {"environment"},
	query.FieldKind:        {"asset_kind"},
	query.FieldScanner:     {"scanner"},
	query.FieldTag:         {"tags"},
	query.FieldActor:       {"actor"},
	query.FieldEvent:       {"event_type"},
}

// compiled is a request's query: the boolean query itself and the positive free-text clauses'
// queries, which are what highlighting marks.
type compiled struct {
	query    map[string]any
	freeText []map[string]any
}

// compile translates q and the request's visibility into one bool query.
func compile(r search.Request) (compiled, error) {
	var c compiled
	var must, mustNot []map[string]any
	for _, cl := range r.Query.Clauses {
		q, err := clauseQuery(cl)
		if err != nil {
			return c, err
		}
		if cl.Negate {
			mustNot = append(mustNot, q)
			continue
		}
		must = append(must, q)
		if cl.Field == query.FieldText {
			c.freeText = append(c.freeText, q)
		}
	}
	b := map[string]any{"filter": visibility(r)}
	if len(must) > 0 {
		b["must"] = must
	}
	if len(mustNot) > 0 {
		b["must_not"] = mustNot
	}
	c.query = map[string]any{"bool": b}
	return c, nil
}

// clauseQuery is the query of the documents a clause (not negated) matches.
func clauseQuery(cl query.Clause) (map[string]any, error) {
	if len(cl.Values) == 0 {
		return matchNone, nil
	}
	switch cl.Field {
	case query.FieldText:
		var qs []map[string]any
		for _, v := range cl.Values {
			if len(search.Tokens(v)) == 0 {
				return matchAll, nil // a value with no word matches every document
			}
			qs = append(qs, map[string]any{"multi_match": map[string]any{
				"query": v, "type": "phrase", "fields": freeTextFields}})
		}
		return anyOf(qs), nil
	case query.FieldIP:
		return anyValue(cl.Values, ipQuery), nil
	case query.FieldKEV:
		return anyValue(cl.Values, func(v string) (map[string]any, bool) {
			lv := strings.ToLower(v)
			return term("kev", lv == "true"), lv == "true" || lv == "false"
		}), nil
	case query.FieldCVSS, query.FieldEPSS:
		return anyValue(cl.Values, func(v string) (map[string]any, bool) { return numeric(string(cl.Field), cl.Op, v) }), nil
	}
	fields, ok := keywordFields[cl.Field]
	if !ok {
		return nil, &search.ParamError{Param: "q", Reason: fmt.Sprintf("unknown field %q", cl.Field)}
	}
	vals := make([]string, len(cl.Values))
	for i, v := range cl.Values {
		if _, err := strconv.ParseUint(v, 10, 32); err == nil && cl.Field == query.FieldCWE {
			v = "CWE-" + v // a bare CWE number names the CWE id, as the language says
		}
		vals[i] = strings.ToLower(v)
	}
	qs := make([]map[string]any, len(fields))
	for i, f := range fields {
		qs[i] = terms(f, vals)
	}
	return anyOf(qs), nil
}

// ipQuery is the query of the documents with an address in v (an address or a CIDR prefix, as
// search.ParseIPRange reads it). The server stores an IPv4 address as its IPv4-mapped IPv6 form,
// so an IPv6 prefix that covers the mapped range (::/0, ::/64, …) would also match IPv4
// addresses, which the contract keeps apart: such a prefix is split into the prefixes that
// cover it but the mapped range.
func ipQuery(v string) (map[string]any, bool) {
	p, ok := search.ParseIPRange(v)
	if !ok {
		return nil, false
	}
	if !p.Addr().Is6() || !p.Overlaps(mappedRange) || p.Bits() > mappedRange.Bits() {
		return term("ips", p.String()), true
	}
	var qs []map[string]any
	for _, q := range prefixesBut(p, mappedRange) {
		qs = append(qs, term("ips", q.String()))
	}
	return anyOf(qs), true
}

var mappedRange = netip.MustParsePrefix("::ffff:0:0/96")

// prefixesBut returns the prefixes that together cover p except hole (a prefix inside p): at each
// bit from p's length to hole's, the sibling of hole's path.
func prefixesBut(p, hole netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	h := hole.Addr().As16()
	for bits := p.Bits(); bits < hole.Bits(); bits++ {
		sib := h
		sib[bits/8] ^= 0x80 >> (bits % 8)
		out = append(out, netip.PrefixFrom(netip.AddrFrom16(sib), bits+1).Masked())
	}
	return out
}

// numeric is a comparison on a numeric field; a document without the field matches none.
func numeric(field string, op query.Op, v string) (map[string]any, bool) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return nil, false
	}
	bound := map[query.Op]string{query.OpGT: "gt", query.OpGE: "gte", query.OpLT: "lt", query.OpLE: "lte"}
	r := map[string]any{}
	if op == query.OpEq {
		r["gte"], r["lte"] = f, f
	} else if b, ok := bound[op]; ok {
		r[b] = f
	} else {
		return nil, false
	}
	return map[string]any{"range": map[string]any{field: r}}, true
}

// visibility is the filter of the kinds and teams a request may see.
func visibility(r search.Request) []map[string]any {
	var kinds []string
	if len(r.Kinds) == 0 {
		for _, k := range search.Kinds {
			if k != search.KindEvent || r.Audit {
				kinds = append(kinds, string(k))
			}
		}
	} else {
		for _, k := range r.Kinds {
			if (k != search.KindEvent || r.Audit) && !slices.Contains(kinds, string(k)) {
				kinds = append(kinds, string(k))
			}
		}
	}
	if len(kinds) == 0 {
		return []map[string]any{matchNone}
	}
	// The real kinds only: the meta document never shows.
	f := []map[string]any{terms("kind.raw", kinds)}
	if r.Scope != nil {
		teams := make([]string, 0, len(r.Scope))
		for _, t := range r.Scope {
			if t != "" {
				teams = append(teams, t)
			}
		}
		f = append(f, anyOf([]map[string]any{term("kind.raw", string(search.KindCVE)), terms("team.raw", teams)}))
	}
	return f
}

// sortKeys are the sort of a request whose defaults are filled (the field's, missing values
// last, then id) and its name, which a cursor carries.
func sortKeys(s search.Sort) ([]any, string, error) {
	byID := map[string]any{"id": "asc"}
	order := "asc"
	if s.Desc {
		order = "desc"
	}
	var field string
	switch s.Field {
	case search.SortRelevance:
		return []any{map[string]any{"_score": "desc"}, byID}, s.Field, nil
	case "at":
		field = "at_sort"
	case "severity":
		field = "severity_rank"
	case "cvss", "epss":
		field = s.Field
	case "title":
		field = "title_sort"
	default:
		return nil, "", &search.ParamError{Param: "sort", Reason: fmt.Sprintf("cannot sort by %q (want one of %s)", s.Field, strings.Join(search.SortFields, ", "))}
	}
	return []any{map[string]any{field: map[string]any{"order": order, "missing": "_last"}}, byID}, s.Field + ":" + order, nil
}
