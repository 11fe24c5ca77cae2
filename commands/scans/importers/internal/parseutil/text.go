package parseutil

import (
	"math"
	"unicode/utf8"
)

// Limits on the text the nessus, openvas, zap and cyclonedx parsers keep: text longer than a field
// limit is kept cut, with TruncMark appended.
const (
	MaxField    = 1 << 20  // description, solution, … are cut to this many bytes
	MaxEvidence = 64 << 10 // evidence (plugin output, ZAP evidence, …) is cut to this many bytes
	MaxShort    = 4 << 10  // titles, identifiers, URLs, names
	MaxList     = 4096     // entries kept in one list (CVEs, references, …) of a finding
	TruncMark   = " …[truncated]"
)

// Truncate cuts s to at most max bytes on a rune boundary, marking the cut.
func Truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return Cut(s, max)
}

// Cut always marks s as cut, keeping at most max bytes in all.
func Cut(s string, max int) string {
	n := max - len(TruncMark)
	if n > len(s) {
		n = len(s)
	}
	if n < 0 {
		n = 0
	}
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	s = s[:n]
	for len(s) > 0 { // drop a rune split by an earlier cut
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size != 1 {
			break
		}
		s = s[:len(s)-size]
	}
	return s + TruncMark
}

// TruncateEllipsis keeps the first n bytes of s (backing off to a rune boundary) and appends "…"
// when it cut anything; the result may be longer than n.
func TruncateEllipsis(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// AppendUnique appends the non-empty values of add to list, keeping the first occurrence of each.
func AppendUnique(list []string, add ...string) []string {
	return appendUnique(list, math.MaxInt, add)
}

// AddUnique appends the non-empty values not yet in list, keeping at most MaxList entries.
func AddUnique(list []string, values ...string) []string {
	return appendUnique(list, MaxList, values)
}

func appendUnique(list []string, limit int, values []string) []string {
	for _, v := range values {
		if v == "" || len(list) >= limit {
			continue
		}
		dup := false
		for _, have := range list {
			if have == v {
				dup = true
				break
			}
		}
		if !dup {
			list = append(list, v)
		}
	}
	return list
}
