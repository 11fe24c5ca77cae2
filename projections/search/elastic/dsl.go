package elastic

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode"

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
			if len(tokens(v)) == 0 {
				return matchAll, nil // a value with no word matches every document
			}
			qs = append(qs, map[string]any{"multi_match": map[string]any{
				"query": v, "type": "phrase", "fields": freeTextFields}})
		}
		return anyOf(qs), nil
	case query.FieldIP:
		var qs []map[string]any
		for _, v := range cl.Values {
			if p, ok := ipRange(v); ok {
				qs = append(qs, term("ips", p))
			}
		}
		if len(qs) == 0 {
			return matchNone, nil
		}
		return anyOf(qs), nil
	case query.FieldKEV:
		var qs []map[string]any
		for _, v := range cl.Values {
			if lv := strings.ToLower(v); lv == "true" || lv == "false" {
				qs = append(qs, term("kev", lv == "true"))
			}
		}
		if len(qs) == 0 {
			return matchNone, nil
		}
		return anyOf(qs), nil
	case query.FieldCVSS, query.FieldEPSS:
		var qs []map[string]any
		for _, v := range cl.Values {
			if q, ok := numeric(string(cl.Field), cl.Op, v); ok {
				qs = append(qs, q)
			}
		}
		if len(qs) == 0 {
			return matchNone, nil
		}
		return anyOf(qs), nil
	}
	fields, ok := keywordFields[cl.Field]
	if !ok {
		return nil, &search.ParamError{Param: "q", Reason: fmt.Sprintf("unknown field %q", cl.Field)}
	}
	vals := make([]string, len(cl.Values))
	for i, v := range cl.Values {
		vals[i] = strings.ToLower(v)
	}
	qs := make([]map[string]any, len(fields))
	for i, f := range fields {
		qs[i] = terms(f, vals)
	}
	return anyOf(qs), nil
}

// ipRange is v as the address or CIDR prefix a term query on an ip field takes. An
// IPv4-mapped IPv6 address or prefix is written as IPv4 (the server stores IPv4 addresses in
// that mapped form, so either matches, but the plain form reads better in a query).
func ipRange(v string) (string, bool) {
	if p, err := netip.ParsePrefix(v); err == nil {
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked().String(), true
	}
	if a, err := netip.ParseAddr(v); err == nil {
		return a.Unmap().WithZone("").String(), true
	}
	return "", false
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
			if (k != search.KindEvent || r.Audit) && slices.Contains(search.Kinds, k) && !slices.Contains(kinds, string(k)) {
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

// sortKeys are the sort of a request (the field's, then id) and whether it is by relevance.
func sortKeys(r search.Request) ([]any, string, error) {
	s := r.Sort
	if s.Field == "" {
		s = search.Sort{Field: "at", Desc: true}
		for _, c := range r.Query.Clauses {
			if c.Field == query.FieldText {
				s = search.Sort{Field: search.SortRelevance}
				break
			}
		}
	}
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
		field = "title.raw"
	default:
		return nil, "", &search.ParamError{Param: "sort", Reason: fmt.Sprintf("cannot sort by %q (want one of %s)", s.Field, strings.Join(search.SortFields, ", "))}
	}
	return []any{map[string]any{field: map[string]any{"order": order, "missing": "_last"}}, byID}, s.Field + ":" + order, nil
}

// tokens splits text as the soc_text analyzer does.
func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
}
