// Package bandit parses Bandit JSON reports (`bandit -f json`) into the normalised
// importers.Report.
//
// # What is read
//
// Every element of results[] becomes a finding: test_id is the RuleID, test_name and test_id the
// title ("B605 start_process_with_a_shell"), issue_text the description (with Bandit's
// confidence appended), filename, line_number and col_offset the location, code the evidence,
// issue_cwe.id the CWE and issue_cwe.link and more_info the references. A result without a
// test_id or a filename names nothing to fix: it is skipped with a warning, as is a member of an
// unexpected type (a line_number that is not a number, seen in malformed reports). errors[]
// (files Bandit could not scan) become warnings (at most codescan.MaxScannerErrors, then a count);
// generated_at is the start time; metrics and every other member are skipped unread.
//
// Bandit names no repository: the report has one repository asset, keyed "bandit", and Target
// {"bandit", "tool_path"}, a weak identity.
//
// Severity: issue_severity HIGH → high, MEDIUM → medium, LOW → low, anything else (UNDEFINED,
// none) → info. Bandit has no critical. ScannerSeverity keeps Bandit's word.
//
// # Fingerprints
//
// A fingerprint is FingerprintJSON("bandit/v1", test_id, filename, digest), digest being
// parseutil.CodeDigest of the lines of code that line_range names (Bandit prefixes each line of
// code with its number and adds a line of context around the issue: both are removed, so the
// fingerprint survives code moving up or down and edits next to the issue), "" when the result
// has no code. The line number is never part of it. A repeated identity gets "#n" appended
// (parseutil.Occurrences): two identical calls in one file stay two findings.
//
// # Limits
//
// Parse reads at most Parser.MaxBytes (512 MiB by default), refuses nesting deeper than
// Parser.MaxDepth (128) and invalid UTF-8, and gives malformed input as a *importers.ParseError
// with line, column and byte offset; a cancelled context gives ctx.Err() unwrapped.
package bandit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/codescan"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

const formatName = "bandit"

// Parser parses Bandit JSON reports. The zero value uses the default limits.
type Parser struct{ jsonguard.Limits }

// New returns a Bandit parser with the default limits.
func New() importers.Parser { return &Parser{} }

// Format implements importers.Parser.
func (*Parser) Format() string { return formatName }

// Detect reports whether head is the start of a Bandit JSON report: an object whose results
// array (empty, or of objects) comes after Bandit's generated_at and metrics, or starts with an
// object holding test_id or issue_text (or, when the first result is an empty object, whose
// head holds a test_id key further on). Bandit writes its members sorted and metrics holds one
// entry per scanned file, so on a large project the head ends inside metrics, before results:
// generated_at and a metrics object whose first entry is Bandit's _totals (or a file's counts,
// "CONFIDENCE.HIGH" …) are then enough.
func (*Parser) Detect(head []byte) bool {
	p := jsonguard.HeadPaths(head)
	if p[""] != "{" {
		return false
	}
	if _, results := p["/results"]; !results {
		return cutInMetrics(p)
	}
	if p["/results"] != "[" {
		return false
	}
	first, some := p["/results/0"]
	if some && first != "{" {
		return false
	}
	// Bandit writes its members sorted: errors, generated_at and metrics come before results,
	// whose first element may be cut before its test_id.
	if _, generated := p["/generated_at"]; generated && p["/metrics"] == "{" {
		return true
	}
	if !some {
		return false
	}
	if jsonguard.HasAny(p, "/results/0/test_id", "/results/0/issue_text") {
		return true
	}
	for key := range p {
		if strings.HasPrefix(key, "/results/0/") {
			return false // a first result of another format
		}
	}
	return bytes.Contains(head, []byte(`"test_id"`))
}

// cutInMetrics reports whether p, the paths of a head without results, ends inside Bandit's
// metrics: generated_at is a scalar and the first entry of metrics holds Bandit's counters.
func cutInMetrics(p map[string]string) bool {
	if at, ok := p["/generated_at"]; !ok || at == "{" || at == "[" || p["/metrics"] != "{" {
		return false
	}
	for key := range p {
		if strings.HasPrefix(key, "/metrics/") && strings.HasSuffix(key, "/CONFIDENCE.HIGH") {
			return true
		}
	}
	return false
}

// Info implements importers.Describer.
func (*Parser) Info() importers.FormatInfo {
	return importers.FormatInfo{
		Name:      formatName,
		Title:     "Bandit JSON (bandit -f json)",
		Family:    "sast",
		Versions:  []string{"1.x"},
		Detection: "a JSON object with generated_at, metrics and a results array (or a head cut inside metrics, whose entries hold CONFIDENCE.HIGH), or whose results array starts with an object holding test_id or issue_text",
		Fingerprint: []string{"test_id", "filename",
			"digest of the code lines line_range names (line numbers and context removed); never the line number",
			"occurrence index of a repeated identity"},
		Severity: map[string]importers.Severity{
			"HIGH": importers.High, "MEDIUM": importers.Medium, "LOW": importers.Low,
			"other (UNDEFINED, none)": importers.Info,
		},
		Notes: "One repository asset per report (Bandit names no repository: weak identity, target \"bandit\" with hint tool_path). " +
			"issue_confidence is kept in the description. Results without test_id or filename are skipped with a warning; errors[] become warnings; metrics are ignored.",
	}
}

// Wire types: only the fields used.

type bResult struct {
	TestID          string `json:"test_id"`
	TestName        string `json:"test_name"`
	IssueText       string `json:"issue_text"`
	IssueSeverity   string `json:"issue_severity"`
	IssueConfidence string `json:"issue_confidence"`
	Filename        string `json:"filename"`
	LineNumber      int    `json:"line_number"`
	LineRange       []int  `json:"line_range"`
	ColOffset       *int   `json:"col_offset"`
	Code            string `json:"code"`
	MoreInfo        string `json:"more_info"`
	IssueCWE        *bCWE  `json:"issue_cwe"`
}

type bCWE struct {
	ID   int    `json:"id"`
	Link string `json:"link"`
}

type bError struct {
	Filename string `json:"filename"`
	Reason   string `json:"reason"`
}

// Parse implements importers.Parser.
func (p *Parser) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	s, err := codescan.Open(ctx, formatName, r, p.Limits, "test_id", "filename", "code", "line_range")
	if err != nil {
		return nil, err
	}
	i := 0
	err = codescan.Results(s.W, "Bandit JSON", s.Tolerant, func(res bResult) {
		if res.TestID == "" || strings.TrimSpace(res.Filename) == "" {
			s.Warnings.Add(fmt.Sprintf("results[%d]: no test_id or filename: skipped", i))
		} else {
			s.Report.Findings = append(s.Report.Findings, finding(&res, &s.Occurrences))
		}
		i++
	}, func(key string) error {
		switch key {
		case "errors":
			return codescan.ScannerErrors(s, func(e *bError) string {
				return "bandit could not scan " + parseutil.FirstNonEmpty(e.Filename, "a file") + ": " + parseutil.TruncateEllipsis(strings.TrimSpace(e.Reason), 500)
			})
		case "generated_at":
			v, err := s.W.Str()
			if t, perr := time.Parse(time.RFC3339, v); perr == nil {
				s.Report.StartedAt = t
			}
			return err
		}
		return s.W.Skip()
	})
	if err != nil {
		return nil, err
	}
	return s.Done()
}

// severity maps issue_severity (see the package doc).
func severity(word string) importers.Severity {
	switch strings.ToUpper(strings.TrimSpace(word)) {
	case "HIGH":
		return importers.High
	case "MEDIUM":
		return importers.Medium
	case "LOW":
		return importers.Low
	}
	return importers.Info
}

func finding(res *bResult, fps *parseutil.Occurrences) importers.Finding {
	f := importers.Finding{
		AssetKey:        formatName,
		Title:           strings.TrimSpace(res.TestID + " " + res.TestName),
		RuleID:          res.TestID,
		Severity:        severity(res.IssueSeverity),
		ScannerSeverity: res.IssueSeverity,
		Location:        importers.Location{File: res.Filename, Line: max(res.LineNumber, 0)},
		Evidence:        res.Code,
	}
	if res.ColOffset != nil && *res.ColOffset >= 0 {
		f.Location.Column = *res.ColOffset + 1 // Bandit's columns count from 0
	}
	f.Description = strings.TrimSpace(res.IssueText)
	if res.IssueConfidence != "" {
		f.Description = strings.TrimSpace(f.Description + "\n\nConfidence: " + res.IssueConfidence)
	}
	if c := res.IssueCWE; c != nil {
		if c.ID > 0 {
			f.CWEs = []string{"CWE-" + strconv.Itoa(c.ID)}
		}
		f.References = parseutil.AddUnique(f.References, c.Link)
	}
	f.References = parseutil.AddUnique(f.References, res.MoreInfo)
	f.Fingerprint = fps.Fingerprint("bandit/v1", res.TestID, res.Filename, parseutil.CodeDigest(issueLines(res.Code, res.LineRange)))
	return f
}

// issueLines is the code of the lines in lineRange, each without the line number Bandit puts in
// front of it; all of code, numbers removed, when lineRange is empty or names none of its lines.
func issueLines(code string, lineRange []int) string {
	var all, picked []string
	for line := range strings.SplitSeq(code, "\n") {
		num, text, _ := strings.Cut(line, " ")
		n, err := strconv.Atoi(num)
		if err != nil {
			all = append(all, line) // not numbered: kept whole
			continue
		}
		all = append(all, text)
		if slices.Contains(lineRange, n) {
			picked = append(picked, text)
		}
	}
	if len(picked) == 0 {
		picked = all
	}
	return strings.Join(picked, "\n")
}
