package query

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// severities are severity's values, most severe first.
var severities = []string{"critical", "high", "medium", "low", "info"}

// The enumerated fields' spellings, each mapped to its canonical value.
var (
	severitySpellings = func() map[string]string {
		m := map[string]string{}
		for _, s := range severities {
			m[s] = s
		}
		return m
	}()
	typeSpellings = map[string]string{
		"finding": "finding", "findings": "finding", "asset": "asset", "assets": "asset",
		"cve": "cve", "cves": "cve", "event": "event", "events": "event",
	}
	kevSpellings = map[string]string{"true": "true", "false": "false"}
	// kevMeant suggests the value meant by the words analysts also use for a boolean.
	kevMeant = map[string]string{"yes": "true", "y": "true", "1": "true", "no": "false", "n": "false", "0": "false"}
)

// normalise checks v, a value of f starting at pos in q, and returns its canonical form.
func normalise(f Field, v string, pos int) (string, error) {
	bad := func(format string, suggestion string) error {
		return &ParseError{Pos: pos, Msg: fmt.Sprintf("%s: %q "+format, f, v), Suggestion: suggestion}
	}
	switch f {
	case FieldSeverity:
		return enum(v, severitySpellings, bad, "is not a severity (critical, high, medium, low, info)")
	case FieldType:
		return enum(v, typeSpellings, bad, "is not a document type (finding, asset, cve, event)")
	case FieldKEV:
		if meant, ok := kevMeant[strings.ToLower(v)]; ok {
			return "", bad("is not true or false", meant)
		}
		return enum(v, kevSpellings, bad, "is not true or false")
	case FieldCVE:
		u := strings.ToUpper(v)
		if y, n, ok := strings.Cut(strings.TrimPrefix(u, "CVE-"), "-"); ok && strings.HasPrefix(u, "CVE-") &&
			len(y) == 4 && digits(y) && len(n) >= 4 && digits(n) {
			return u, nil
		}
		if y, n, ok := strings.Cut(u, "-"); ok && len(y) == 4 && digits(y) && len(n) >= 4 && digits(n) {
			return "", bad("is not a CVE id (CVE-YYYY-NNNN)", "CVE-"+u)
		}
		return "", bad("is not a CVE id (CVE-YYYY-NNNN)", "")
	case FieldCWE:
		n := v
		if len(n) > 4 && strings.EqualFold(n[:4], "CWE-") {
			n = n[4:]
		}
		if !digits(n) {
			return "", bad("is not a CWE id (CWE-79, or 79)", "")
		}
		// CWE ids are numbers: CWE-079 is CWE-79.
		if t := strings.TrimLeft(n, "0"); t != "" {
			n = t
		} else {
			n = "0"
		}
		return "CWE-" + n, nil
	case FieldIP:
		s, ok := canonicalIP(v)
		if !ok {
			return "", bad("is not an IP address or CIDR range", "")
		}
		return s, nil
	case FieldCVSS, FieldEPSS:
		top := 10.0
		if f == FieldEPSS {
			top = 1
		}
		if x, err := strconv.ParseFloat(v, 64); err != nil || !decimal(v) || x > top {
			return "", bad(fmt.Sprintf("is not a number from 0 to %g", top), "")
		}
		return v, nil
	}
	return v, nil
}

// enum looks v up, case-insensitively, among spellings; otherwise bad(format) with the value
// probably meant.
func enum(v string, spellings map[string]string, bad func(string, string) error, format string) (string, error) {
	l := strings.ToLower(v)
	if s, ok := spellings[l]; ok {
		return s, nil
	}
	return "", bad(format, suggest(l, spellings))
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// decimal reports whether s is a plain decimal number: digits with an optional fraction (not
// ParseFloat's signs, exponents, hex, Inf or NaN).
func decimal(s string) bool {
	i, f, ok := strings.Cut(s, ".")
	return (digits(i) || i == "" && ok) && (!ok || digits(f))
}

// canonicalIP is v, an address or CIDR range, in canonical text: ranges masked (10.1.2.3/8 is
// 10.0.0.0/8), IPv4-mapped IPv6 as IPv4 (documents compare that way). Zones are refused: no
// document address has one.
func canonicalIP(v string) (string, bool) {
	if !strings.Contains(v, "/") {
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return "", false
		}
		return a.Unmap().String(), true
	}
	p, err := netip.ParsePrefix(v)
	if err != nil {
		return "", false
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked().String(), true
}

// suggest is the canonical value of the spelling word probably meant, or "": the one spelling
// word is a prefix of (words of 3 letters or more), or else the nearest by Damerau-Levenshtein
// distance, at most 2 for words of 5 letters or more, 1 for shorter ones and 0 for one letter:
// a short word is a couple of edits from many others (port:443 is not a misspelt host, nor
// path:x a misspelt tag), and typos in short words are mostly one edit (pi, hsot, tga).
// Ties go to the alphabetically first spelling.
func suggest(word string, spellings map[string]string) string {
	names := make([]string, 0, len(spellings))
	for s := range spellings {
		names = append(names, s)
	}
	sort.Strings(names)
	n := len([]rune(word))
	if n >= 3 {
		meant := ""
		for _, s := range names {
			if strings.HasPrefix(s, word) {
				if meant != "" && meant != spellings[s] {
					meant = ""
					break
				}
				meant = spellings[s]
			}
		}
		if meant != "" {
			return meant
		}
	}
	limit := 2
	switch {
	case n <= 1:
		limit = 0
	case n <= 4:
		limit = 1
	}
	best, bestD := "", limit+1
	for _, s := range names {
		if d := distance(word, s); d < bestD {
			best, bestD = spellings[s], d
		}
	}
	return best
}

// distance is the Damerau-Levenshtein distance of a and b (optimal string alignment: edits are
// insertions, deletions, substitutions and transpositions of adjacent runes).
func distance(a, b string) int {
	x, y := []rune(a), []rune(b)
	// rows i-2, i-1 and i of the edit matrix
	prev2, prev, cur := make([]int, len(y)+1), make([]int, len(y)+1), make([]int, len(y)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(x); i++ {
		cur[0] = i
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(y)]
}
