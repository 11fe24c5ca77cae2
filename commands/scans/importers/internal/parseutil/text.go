package parseutil

import (
	"math"
	"unicode/utf8"

	"github.com/socplatform/soc/commands/scans/importers"
)

// Limits on the text the nessus, openvas, zap and cyclonedx parsers keep as they read: text
// longer than a field limit is kept cut, with TruncMark appended. They are the model's bounds
// (importers.Report.Bound applies them to every report).
const (
	MaxField    = importers.MaxText         // description, solution, … are cut to this many bytes
	MaxEvidence = importers.MaxEvidenceText // evidence (plugin output, ZAP evidence, …) is cut to this many bytes
	MaxShort    = importers.MaxShortText    // titles, identifiers, URLs, names
	MaxList     = importers.MaxListItems    // entries kept in one list (CVEs, references, …) of a finding
	TruncMark   = importers.TruncMark
)

// Truncate cuts s to at most max bytes on a rune boundary, marking the cut.
func Truncate(s string, max int) string { return importers.Truncate(s, max) }

// Cut always marks s as cut, keeping at most max bytes in all.
func Cut(s string, max int) string { return importers.Cut(s, max) }

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

// Interner keeps one copy of each distinct string a parser keeps. Scanners repeat the text of a
// vulnerability (title, description, references, vectors) for every package it affects: without
// it each repeat would stay in the report, in memory, as many times as the report wrote it. The
// zero Interner is ready to use; it lives as long as one parse.
type Interner struct{ seen map[string]string }

// Intern returns the kept copy of s.
func (in *Interner) Intern(s string) string {
	if s == "" {
		return s
	}
	if kept, ok := in.seen[s]; ok {
		return kept
	}
	if in.seen == nil {
		in.seen = map[string]string{}
	}
	in.seen[s] = s
	return s
}

// InternAll replaces each string of list by its kept copy.
func (in *Interner) InternAll(list []string) {
	for i, s := range list {
		list[i] = in.Intern(s)
	}
}
