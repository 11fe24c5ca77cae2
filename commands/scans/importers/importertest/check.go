package importertest

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

// Hex64 matches a lower-case sha256 hex digest.
var Hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

var reMAC = regexp.MustCompile(`^([0-9A-F]{2}:){5}[0-9A-F]{2}$`)

// CheckReportBasic verifies what every parser's report satisfies: the format, unique non-empty
// asset keys, findings on known assets with sha256 fingerprints and known severities.
func CheckReportBasic(tb testing.TB, rep *importers.Report, format string) {
	tb.Helper()
	if rep.Format != format {
		tb.Errorf("Format = %q", rep.Format)
	}
	WithinBounds(tb, rep)
	keys := map[string]bool{}
	for _, a := range rep.Assets {
		if a.Key == "" || keys[a.Key] {
			tb.Errorf("asset key %q empty or repeated", a.Key)
		}
		keys[a.Key] = true
	}
	for i, f := range rep.Findings {
		if !keys[f.AssetKey] {
			tb.Errorf("finding %d (%s): asset key %q not among the assets", i, f.RuleID, f.AssetKey)
		}
		if !Hex64.MatchString(f.Fingerprint) {
			tb.Errorf("finding %d (%s): fingerprint %q is not sha256 hex", i, f.RuleID, f.Fingerprint)
		}
		switch f.Severity {
		case importers.Critical, importers.High, importers.Medium, importers.Low, importers.Info:
		default:
			tb.Errorf("finding %d (%s): severity %q", i, f.RuleID, f.Severity)
		}
	}
}

// WithinBounds verifies that every string and list rep holds is within the model's bounds
// (importers.Report.Bound has nothing to cut).
func WithinBounds(tb testing.TB, rep *importers.Report) {
	tb.Helper()
	b, err := json.Marshal(rep)
	if err != nil {
		tb.Fatal(err)
	}
	var copied importers.Report
	if err := json.Unmarshal(b, &copied); err != nil {
		tb.Fatal(err)
	}
	if n := copied.Bound(); n > 0 {
		tb.Errorf("%d strings or lists over the model's bounds: %q", n, copied.Warnings)
	}
}

// UniqueFingerprints verifies that no two findings of rep share a fingerprint: the import
// service keys findings by it, so a repeat would merge two findings into one.
func UniqueFingerprints(tb testing.TB, rep *importers.Report) {
	tb.Helper()
	seen := map[string]bool{}
	for i, f := range rep.Findings {
		if seen[f.Fingerprint] {
			tb.Errorf("finding %d (%s): fingerprint %s repeated", i, f.RuleID, f.Fingerprint)
		}
		seen[f.Fingerprint] = true
	}
}

// CheckReport is CheckReportBasic and UniqueFingerprints plus what the parsers built on parseutil
// guarantee: non-nil slices, normalised MACs, consistent CVSS versions and text within
// parseutil's bounds.
func CheckReport(tb testing.TB, rep *importers.Report, format string) {
	tb.Helper()
	CheckReportBasic(tb, rep, format)
	UniqueFingerprints(tb, rep)
	if rep.Assets == nil || rep.Findings == nil {
		tb.Errorf("nil Assets or Findings slice")
	}
	for _, a := range rep.Assets {
		for _, m := range a.MACs {
			if !reMAC.MatchString(m) {
				tb.Errorf("asset %s: MAC %q not normalised", a.Key, m)
			}
		}
	}
	for _, f := range rep.Findings {
		for _, c := range f.CVSS {
			switch c.Version {
			case "2.0", "3.0", "3.1", "4.0":
			default:
				tb.Errorf("finding %s: CVSS version %q", f.RuleID, c.Version)
			}
			if c.Version != "2.0" && c.Vector != "" && !strings.HasPrefix(c.Vector, "CVSS:"+c.Version+"/") {
				tb.Errorf("finding %s: vector %q does not match version %s", f.RuleID, c.Vector, c.Version)
			}
		}
		if len(f.Evidence) > parseutil.MaxEvidence || len(f.Description) > parseutil.MaxField || len(f.Remediation) > parseutil.MaxField {
			tb.Errorf("finding %s: text over its bound", f.RuleID)
		}
	}
}

// WantParseError asserts err is a *importers.ParseError of the parser named format that names a
// position (a line or an offset) and, unless contains is empty, whose message mentions contains.
func WantParseError(tb testing.TB, err error, format, contains string) *importers.ParseError {
	tb.Helper()
	var pe *importers.ParseError
	if !errors.As(err, &pe) {
		tb.Fatalf("error %v (%T) is not a *importers.ParseError", err, err)
	}
	if pe.Format != format {
		tb.Errorf("ParseError.Format = %q", pe.Format)
	}
	if pe.Line <= 0 && pe.Offset < 0 {
		tb.Errorf("ParseError names no position: %v", pe)
	}
	if contains != "" && !strings.Contains(pe.Error(), contains) {
		tb.Errorf("error %q does not mention %q", pe.Error(), contains)
	}
	return pe
}

// PositionedParseError asserts that err is a *importers.ParseError of format with a full position
// (offset, line and column) and a message, and returns it. name labels the case in failures.
func PositionedParseError(tb testing.TB, format, name string, err error) *importers.ParseError {
	tb.Helper()
	var pe *importers.ParseError
	if !errors.As(err, &pe) {
		tb.Fatalf("%s: error %v (%T), want *importers.ParseError", name, err, err)
	}
	if pe.Format != format || pe.Offset < 0 || pe.Line < 1 || pe.Column < 1 || pe.Msg == "" {
		tb.Errorf("%s: ParseError without a position: %+v", name, pe)
	}
	return pe
}

// Severities verifies that rep has, of each severity, the number of findings want gives (none
// for a severity want lacks).
func Severities(tb testing.TB, rep *importers.Report, want map[importers.Severity]int) {
	tb.Helper()
	got := map[importers.Severity]int{}
	for _, f := range rep.Findings {
		got[f.Severity]++
	}
	for _, s := range []importers.Severity{importers.Info, importers.Low, importers.Medium, importers.High, importers.Critical} {
		if got[s] != want[s] {
			tb.Errorf("%s findings = %d, want %d", s, got[s], want[s])
		}
	}
}

// Counts verifies that rep has assets assets and findings findings, of the severities sev gives
// (see Severities); counted, when not empty, says what the findings were counted from ("49
// items, repeats merged") in a failure.
func Counts(tb testing.TB, rep *importers.Report, assets, findings int, sev map[importers.Severity]int, counted string) {
	tb.Helper()
	if len(rep.Assets) != assets || len(rep.Findings) != findings {
		tb.Errorf("assets/findings = %d/%d, want %d/%d (%s)", len(rep.Assets), len(rep.Findings), assets, findings, counted)
	}
	Severities(tb, rep, sev)
}

// Where returns the findings of rep that pred holds for, in report order.
func Where(rep *importers.Report, pred func(*importers.Finding) bool) []*importers.Finding {
	var out []*importers.Finding
	for i := range rep.Findings {
		if pred(&rep.Findings[i]) {
			out = append(out, &rep.Findings[i])
		}
	}
	return out
}

// RuleFindings are the findings of rep with the rule id, in report order; the test stops unless
// there are n.
func RuleFindings(t *testing.T, rep *importers.Report, rule string, n int) []*importers.Finding {
	t.Helper()
	fs := Where(rep, func(f *importers.Finding) bool { return f.RuleID == rule })
	if len(fs) != n {
		t.Fatalf("%s: %d findings, want %d", rule, len(fs), n)
	}
	return fs
}

// Rule is the first finding of rep with the rule id; the test stops if there is none.
func Rule(t *testing.T, rep *importers.Report, rule string) *importers.Finding {
	t.Helper()
	f := First(rep, func(f *importers.Finding) bool { return f.RuleID == rule })
	if f == nil {
		t.Fatalf("no finding of rule %s", rule)
	}
	return f
}

// First is the first finding of rep that pred holds for, nil if none.
func First(rep *importers.Report, pred func(*importers.Finding) bool) *importers.Finding {
	for i := range rep.Findings {
		if pred(&rep.Findings[i]) {
			return &rep.Findings[i]
		}
	}
	return nil
}

// Targets verifies the Target of the report each file of want (a base name in format's
// testdata) gives: named want[file], with the hint.
func Targets(t *testing.T, p importers.Parser, format, hint string, want map[string]string) {
	t.Helper()
	for file, name := range want {
		rep := ParseFile(t, p, File(t, format, file))
		if rep.Target == nil || rep.Target.Name != name || rep.Target.Hint != hint {
			t.Errorf("%s: target %+v, want %q", file, rep.Target, name)
		}
	}
}

// FieldsCut parses in, whose first finding has a description and evidence over the model's
// bounds, and checks that both were cut to them, marked as cut and still valid UTF-8 (inputs of
// multi-byte runes show a cut inside one).
func FieldsCut(t *testing.T, p importers.Parser, in string) {
	t.Helper()
	rep, err := ParseString(p, in)
	if err != nil {
		t.Fatal(err)
	}
	f := rep.Findings[0]
	for _, field := range []struct {
		name, v string
		max     int
	}{{"description", f.Description, parseutil.MaxField}, {"evidence", f.Evidence, parseutil.MaxEvidence}} {
		if len(field.v) > field.max || !strings.HasSuffix(field.v, parseutil.TruncMark) || !utf8.ValidString(field.v) {
			t.Errorf("%s: %d bytes, marked %v", field.name, len(field.v), strings.HasSuffix(field.v, parseutil.TruncMark))
		}
	}
}

// RepeatedTextKeptOnce parses a report of 1,000 findings sharing one 16 KiB description (prefix,
// the elements element writes, comma-separated, then suffix) and fails unless the report keeps
// the text once: scanners write a vulnerability's text again for every package it affects, and
// 1,000 copies would be 16 MB.
func RepeatedTextKeptOnce(t *testing.T, p importers.Parser, prefix string, element func(i int, desc string) string, suffix string) {
	t.Helper()
	desc := strings.Repeat("d", 16<<10)
	var b strings.Builder
	b.WriteString(prefix)
	for i := range 1000 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(element(i, desc))
	}
	b.WriteString(suffix)
	doc := b.String()
	var rep *importers.Report
	kept := Retained(func() any {
		var err error
		if rep, err = p.Parse(context.Background(), strings.NewReader(doc)); err != nil {
			t.Fatal(err)
		}
		return rep
	})
	runtime.KeepAlive(doc) // the input is not what the report keeps
	if len(rep.Findings) != 1000 || rep.Findings[999].Description != desc {
		t.Fatalf("%d findings", len(rep.Findings))
	}
	if kept > 4<<20 {
		t.Errorf("the report retains %d bytes", kept)
	}
}

// Fingerprint fails the test unless got is the fingerprint the format documents:
// parseutil.FingerprintJSON of parts (the format's version tag, then the finding's identity).
// rule, when set, says in words what the identity is, for the failure.
func Fingerprint(tb testing.TB, got, rule string, parts ...string) {
	tb.Helper()
	want := parseutil.FingerprintJSON(parts...)
	switch {
	case got == want:
	case rule == "":
		tb.Errorf("fingerprint %s, want %s", got, want)
	default:
		tb.Errorf("fingerprint %s, want %s (%s)", got, want, rule)
	}
}

// SeverityWords checks how a parser maps its scanner's severity words: in(word), a report of
// one finding of that word, must give the severity want[word] with the word kept as the
// finding's ScannerSeverity, and the parser's Info, where it documents the word, must say the
// same. Each report is parsed with a parser of newParser and checked as s says (MustParse).
func (s Spec) SeverityWords(t *testing.T, newParser func() importers.Parser, want map[string]importers.Severity, in func(word string) string) {
	t.Helper()
	info := newParser().(importers.Describer).Info()
	for word, sev := range want {
		rep := s.MustParse(t, newParser(), in(word))
		if f := rep.Findings[0]; f.Severity != sev || f.ScannerSeverity != word {
			t.Errorf("%q: severity %q (%q), want %q", word, f.Severity, f.ScannerSeverity, sev)
		}
		if documented, ok := info.Severity[word]; ok && documented != sev {
			t.Errorf("Info documents %q as %q, the parser gives %q", word, documented, sev)
		}
	}
}
