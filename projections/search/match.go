package search

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/socplatform/soc/projections/search/query"
	"github.com/socplatform/soc/schemas/contracts"
)

// This file is the reference semantics of a search, in plain Go: what a query matches (Match),
// what a request may see (Visible), and the complete answer to a request (Answer: its matches
// in order and its facets). Backends translate the same rules into their own engines; the
// contract suite (package searchtest) checks every backend against Answer, so a rule changed
// here is a rule every backend must follow.

// Default bounds a request takes when it leaves them zero.
const (
	DefaultLimit     = 20
	DefaultFacetSize = 20
)

// Tokens splits s into the words search matches on: runs of Unicode letters and digits (every
// other rune separates), lower-cased, with no stemming, stop words or diacritic folding — the
// rule the backends' analyzers reproduce (Elasticsearch's pattern tokenizer [^\p{L}\p{N}]+ and a
// lowercase filter, FTS5's unicode61 with remove_diacritics 0). So "log4j-core" is the phrase
// log4j core, and "web-1.prod.example.com" the phrase web 1 prod example com.
func Tokens(s string) []string {
	words := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
	for i, w := range words {
		words[i] = strings.ToLower(w)
	}
	return words
}

// Match reports whether d satisfies every clause of q (the zero Query matches every document).
// Visibility (kinds, audit, scope) is Visible's concern, not Match's.
func Match(d Doc, q query.Query) bool {
	for _, c := range q.Clauses {
		if matchClause(d, c) == c.Negate {
			return false
		}
	}
	return true
}

// matchClause reports whether any of c's values matches d, ignoring c.Negate: a negated clause
// holds exactly where this is false, so a document lacking the field matches it.
func matchClause(d Doc, c query.Clause) bool {
	return slices.ContainsFunc(c.Values, func(v string) bool { return matchValue(d, c.Field, c.Op, v) })
}

func matchValue(d Doc, f query.Field, op query.Op, v string) bool {
	switch f {
	case query.FieldText:
		return matchText(d, Tokens(v))
	case query.FieldCWE:
		return anyFold(d.CWEs, cweID(v))
	case query.FieldIP:
		return matchIP(d.IPs, v)
	case query.FieldKEV:
		switch strings.ToLower(v) {
		case "true":
			return d.KEV
		case "false":
			return !d.KEV
		}
		return false
	case query.FieldCVSS:
		return compareNumber(d.CVSS, op, v)
	case query.FieldEPSS:
		return compareNumber(d.EPSS, op, v)
	}
	if values, ok := ExactFields[f]; ok {
		return anyFold(values(d), v)
	}
	return false
}

// ExactFields are the field operators that match a value exactly, case-insensitively, against
// one of a document's strings: each returns those strings (an empty one matches nothing).
var ExactFields = map[query.Field]func(d Doc) []string{
	query.FieldType:        func(d Doc) []string { return []string{string(d.Kind)} },
	query.FieldCVE:         func(d Doc) []string { return d.CVEs },
	query.FieldSeverity:    func(d Doc) []string { return []string{d.Severity} },
	query.FieldStatus:      func(d Doc) []string { return []string{d.Status} },
	query.FieldAsset:       func(d Doc) []string { return append([]string{d.AssetName, d.AssetID}, d.Hostnames...) },
	query.FieldHost:        func(d Doc) []string { return d.Hostnames },
	query.FieldPackage:     func(d Doc) []string { return d.Packages },
	query.FieldTeam:        func(d Doc) []string { return []string{d.Team} },
	query.FieldEnvironment: func(d Doc) []string { return []string{d.Environment} },
	query.FieldKind:        func(d Doc) []string { return []string{d.AssetKind} },
	query.FieldScanner:     func(d Doc) []string { return []string{d.Scanner} },
	query.FieldTag:         func(d Doc) []string { return d.Tags },
	query.FieldActor:       func(d Doc) []string { return []string{d.Actor} },
	query.FieldEvent:       func(d Doc) []string { return []string{d.EventType} },
}

// eqFold is exact, case-insensitive equality, where an empty field never matches.
func eqFold(field, v string) bool { return field != "" && strings.EqualFold(field, v) }

func anyFold(fields []string, v string) bool {
	return slices.ContainsFunc(fields, func(f string) bool { return eqFold(f, v) })
}

// cweID reads a bare CWE number as the id it names (79 → CWE-79), as the query language says.
func cweID(v string) string {
	if _, err := strconv.ParseUint(v, 10, 32); err == nil {
		return "CWE-" + v
	}
	return v
}

// TextFields returns the values of d that free text searches, each list element on its own (a
// phrase matches within one value, never across two): title, text, asset name, hostnames,
// CVEs, packages, team, environment and tags.
func TextFields(d Doc) []string {
	out := []string{d.Title, d.Text, d.AssetName}
	out = append(out, d.Hostnames...)
	out = append(out, d.CVEs...)
	out = append(out, d.Packages...)
	out = append(out, d.Team, d.Environment)
	return append(out, d.Tags...)
}

// matchText reports whether phrase (a value's tokens) stands consecutively in one of d's text
// fields. A value with no token (only punctuation) restricts nothing.
func matchText(d Doc, phrase []string) bool {
	if len(phrase) == 0 {
		return true
	}
	return slices.ContainsFunc(TextFields(d), func(f string) bool { return ContainsPhrase(Tokens(f), phrase) })
}

// ContainsPhrase reports whether phrase stands consecutively in tokens (an empty phrase does).
func ContainsPhrase(tokens, phrase []string) bool {
	for i := 0; i+len(phrase) <= len(tokens); i++ {
		if slices.Equal(tokens[i:i+len(phrase)], phrase) {
			return true
		}
	}
	return false
}

// matchIP reports whether one of ips is v (an address) or inside v (a CIDR prefix). IPv4-mapped
// IPv6 addresses and prefixes compare as the IPv4 ones they map; a v that is neither an
// address nor a prefix matches nothing (the parser refuses it).
func matchIP(ips []string, v string) bool {
	p, ok := ParseIPRange(v)
	if !ok {
		return false
	}
	return slices.ContainsFunc(ips, func(s string) bool {
		a, err := netip.ParseAddr(s)
		return err == nil && p.Contains(a.WithZone("").Unmap())
	})
}

// ParseIPRange reads an ip: value as the prefix it covers (an address is the prefix of its own
// bits), IPv4-mapped IPv6 forms turned into IPv4 and the prefix masked.
func ParseIPRange(v string) (netip.Prefix, bool) {
	if a, err := netip.ParseAddr(v); err == nil {
		a = a.WithZone("").Unmap()
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	p, err := netip.ParsePrefix(v)
	if err != nil {
		return netip.Prefix{}, false
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			// Wider than the mapped range: it holds IPv6 addresses a doc never has in mapped form
			// (canonical IPv4 is stored unmapped), so compare it as written.
			return p.Masked(), true
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), true
}

// compareNumber compares a document's number with v under op; a document without the number,
// or a v that is no number, never matches.
func compareNumber(n *float64, op query.Op, v string) bool {
	x, err := strconv.ParseFloat(v, 64)
	if n == nil || err != nil {
		return false
	}
	switch op {
	case query.OpEq:
		return *n == x
	case query.OpGT:
		return *n > x
	case query.OpGE:
		return *n >= x
	case query.OpLT:
		return *n < x
	case query.OpLE:
		return *n <= x
	}
	return false
}

// Visible reports whether r may see d: its kind is one r asks for (every kind when r.Kinds is
// empty) and audit-trail documents only with r.Audit; within r.Scope, findings, assets and
// events only of the scope's teams (a document of no team is invisible to any scope), CVE
// documents always.
func Visible(d Doc, r Request) bool {
	if d.Kind == KindEvent && !r.Audit {
		return false
	}
	if len(r.Kinds) > 0 && !slices.Contains(r.Kinds, d.Kind) {
		return false
	}
	if r.Scope == nil || d.Kind == KindCVE {
		return true
	}
	return d.Team != "" && slices.Contains(r.Scope, d.Team)
}

// HasFreeText reports whether q has a free-text clause that is not negated: what makes
// relevance the default sort and what highlighting marks.
func HasFreeText(q query.Query) bool {
	return slices.ContainsFunc(q.Clauses, func(c query.Clause) bool { return c.Field == query.FieldText && !c.Negate })
}

// CheckRequest validates r's bounds and names and returns it with its defaults filled: Limit
// and FacetSize (DefaultLimit, DefaultFacetSize), and the sort (relevance when the query has
// free text, else "at" descending). Out-of-range bounds and unknown names are a *ParamError
// (never clamped, so that a caller learns its request was not answered as asked) naming the
// API parameter: "limit", "facet_size", "facets", "sort", "type".
func CheckRequest(r Request) (Request, error) {
	switch {
	case r.Limit < 0 || r.Limit > MaxLimit:
		return r, &ParamError{Param: "limit", Reason: "must be between 1 and " + strconv.Itoa(MaxLimit)}
	case r.FacetSize < 0:
		return r, &ParamError{Param: "facet_size", Reason: "must not be negative"}
	}
	for _, f := range r.Facets {
		if !slices.Contains(FacetFields, f) {
			return r, &ParamError{Param: "facets", Reason: "unknown facet " + strconv.Quote(f) + "; one of " + strings.Join(FacetFields, ", ")}
		}
	}
	for _, k := range r.Kinds {
		if !slices.Contains(Kinds, k) {
			return r, &ParamError{Param: "type", Reason: "unknown document type " + strconv.Quote(string(k))}
		}
	}
	if r.Sort.Field != "" && !slices.Contains(SortFields, r.Sort.Field) {
		return r, &ParamError{Param: "sort", Reason: "unknown sort field " + strconv.Quote(r.Sort.Field) + "; one of " + strings.Join(SortFields, ", ")}
	}
	return withDefaults(r), nil
}

func withDefaults(r Request) Request {
	if r.Limit == 0 {
		r.Limit = DefaultLimit
	}
	if r.FacetSize == 0 {
		r.FacetSize = DefaultFacetSize
	}
	if r.Sort.Field == "" {
		r.Sort = Sort{Field: "at", Desc: true}
		if HasFreeText(r.Query) {
			r.Sort = Sort{Field: SortRelevance}
		}
	}
	return r
}

// Answer is the reference answer to r over docs: every visible match in r's order (relevance,
// which only a backend can score, orders by ID here) and the facets r asks for, counted over all
// of them. r's bounds are not checked (CheckRequest does that); paging is the caller's.
func Answer(docs []Doc, r Request) (all []Doc, facets map[string][]FacetValue) {
	r = withDefaults(r)
	for _, d := range docs {
		if Visible(d, r) && Match(d, r.Query) {
			all = append(all, d)
		}
	}
	slices.SortFunc(all, func(a, b Doc) int { return CompareDocs(a, b, r.Sort) })
	if len(r.Facets) > 0 {
		facets = make(map[string][]FacetValue, len(r.Facets))
		for _, f := range r.Facets {
			facets[f] = Facet(all, f, r.FacetSize)
		}
	}
	return all, facets
}

// severityOrder is the severities, most severe first (the schemas' order).
var severityOrder = contracts.SeverityValues()

// SeverityRank orders severities for sorting (info 1 … critical 5); 0 is no severity.
func SeverityRank(s string) int {
	i := slices.Index(severityOrder, s)
	if i < 0 {
		return 0
	}
	return len(severityOrder) - i
}

// CompareDocs orders a and b by s: by the field (severity by rank, title by bytes), a document
// without the value after every one with it in both directions, ties by ID ascending.
// Relevance orders by ID alone (the score is a backend's).
func CompareDocs(a, b Doc, s Sort) int {
	c, ok := compareField(a, b, s.Field)
	switch {
	case ok[0] && !ok[1]:
		return -1
	case !ok[0] && ok[1]:
		return 1
	case ok[0] && ok[1] && c != 0:
		if s.Desc {
			return -c
		}
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// compareField compares a's and b's field and says which of the two has it.
func compareField(a, b Doc, field string) (int, [2]bool) {
	switch field {
	case "at":
		return a.At.Compare(b.At), [2]bool{!a.At.IsZero(), !b.At.IsZero()}
	case "severity":
		ra, rb := SeverityRank(a.Severity), SeverityRank(b.Severity)
		return cmp.Compare(ra, rb), [2]bool{ra > 0, rb > 0}
	case "cvss":
		return compareOptional(a.CVSS, b.CVSS)
	case "epss":
		return compareOptional(a.EPSS, b.EPSS)
	case "title":
		return strings.Compare(a.Title, b.Title), [2]bool{a.Title != "", b.Title != ""}
	}
	return 0, [2]bool{true, true}
}

func compareOptional(a, b *float64) (int, [2]bool) {
	if a == nil || b == nil {
		return 0, [2]bool{a != nil, b != nil}
	}
	return cmp.Compare(*a, *b), [2]bool{true, true}
}

// FacetValueOf returns d's value for a facet of FacetFields ("" when it has none).
func FacetValueOf(d Doc, facet string) string {
	switch facet {
	case "severity":
		return d.Severity
	case "status":
		return d.Status
	case "asset_kind":
		return d.AssetKind
	case "scanner":
		return d.Scanner
	case "team":
		return d.Team
	case "environment":
		return d.Environment
	case "kind":
		return string(d.Kind)
	}
	return ""
}

// Facet counts docs by their value of facet (empty values not counted): the size most frequent
// values, by count descending then value ascending.
func Facet(docs []Doc, facet string, size int) []FacetValue {
	counts := map[string]int64{}
	for _, d := range docs {
		if v := FacetValueOf(d, facet); v != "" {
			counts[v]++
		}
	}
	out := make([]FacetValue, 0, len(counts))
	for v, n := range counts {
		out = append(out, FacetValue{Value: v, Count: n})
	}
	slices.SortFunc(out, func(a, b FacetValue) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Value, b.Value))
	})
	return out[:min(len(out), size)]
}
