// Package kics parses KICS JSON reports (`kics scan --report-formats json`, results.json) into
// the normalised importers.Report.
//
// # What is read
//
// The report is an object with queries[]: each query (query_id, query_name, severity, platform,
// category, description, cwe, query_url) lists the places it matched in files[] (file_name,
// line, similarity_id, issue_type, search_key, expected_value, actual_value, resource_type,
// resource_name). Every element of files[] becomes a finding of the query: the RuleID is the
// query id, the title the query name, the location the file and line, the evidence the issue
// type with the expected and actual values, the CWE the query's cwe (a bare number, as KICS
// writes it), the reference the query URL.
//
// One repository asset, named after the scanned paths (paths[], joined with ", "; "." when the
// report names none), which is also the Target (hint "artifact": what the user passed to -p).
// KICS gives no repository URL.
//
// Severity: CRITICAL (KICS 2.x), HIGH, MEDIUM, LOW map to the same importers severity; INFO and
// TRACE to info; anything else to info. ScannerSeverity keeps KICS's word.
//
// KICS has no suppression in its report: results excluded with --exclude-results or kics-scan
// ignore comments are simply absent.
//
// # Fingerprints
//
// The lower-case hex SHA-256 of the JSON array ["kics/v1", query_id, similarity_id]: KICS's
// similarity id is its own stable hash of the query, file and search key, and does not move with
// the line. A result without one (KICS before 1.2, or queries_failed_to_compute_similarity_id) is
// fingerprinted ["kics/v1", query_id, "", file_name, search_key]. Two results with the same
// fingerprint are merged into one finding.
//
// # Limits
//
// Parse reads at most Parser.MaxBytes (512 MiB by default), refuses nesting deeper than
// Parser.MaxDepth (128) and invalid UTF-8, and keeps strings bounded (jsonguard). Malformed input
// gives a *importers.ParseError with line, column and byte offset; a cancelled context gives
// ctx.Err() unwrapped.
package kics

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

const formatName = "kics"

// Parser parses KICS JSON reports. The zero value uses the default limits.
type Parser struct{ jsonguard.Limits }

// New returns a KICS parser with the default limits.
func New() importers.Parser { return &Parser{} }

// Format implements importers.Parser.
func (*Parser) Format() string { return formatName }

// severities maps KICS's severity words.
var severities = map[string]importers.Severity{
	"CRITICAL": importers.Critical, "HIGH": importers.High, "MEDIUM": importers.Medium,
	"LOW": importers.Low, "INFO": importers.Info, "TRACE": importers.Info,
}

// Info implements importers.Describer.
func (*Parser) Info() importers.FormatInfo {
	return importers.FormatInfo{
		Name:     formatName,
		Title:    "KICS JSON (kics scan --report-formats json)",
		Family:   "infrastructure",
		Versions: []string{"1.x", "2.x"},
		Detection: "a JSON object with a queries array whose first element has query_id and files or query_name " +
			"(or kics_version beside it), or an empty queries array beside kics_version or queries_total",
		Fingerprint: []string{
			"query_id", "similarity_id", "else file_name + search_key",
		},
		Severity: severities,
		Notes: "Every element of a query's files[] is one finding. One repository asset named after paths[], also the " +
			"Target. KICS reports carry no suppression (excluded results are absent).",
	}
}

// Detect reports whether head is the start of a KICS JSON report.
func (*Parser) Detect(head []byte) bool {
	p := jsonguard.HeadPaths(head)
	if p[""] != "{" || p["/queries"] != "[" {
		return false
	}
	_, version := p["/kics_version"]
	if p["/queries/0"] == "{" {
		_, id := p["/queries/0/query_id"]
		_, files := p["/queries/0/files"]
		_, name := p["/queries/0/query_name"]
		return id && (files || name || version)
	}
	if _, ok := p["/queries/0"]; ok {
		return false
	}
	return jsonguard.HasAny(p, "/kics_version", "/queries_total")
}

// Wire types: only the fields used.

type kFile struct {
	FileName      string           `json:"file_name"`
	SimilarityID  string           `json:"similarity_id"`
	Line          jsonguard.LineNo `json:"line"`
	ResourceType  string           `json:"resource_type"`
	ResourceName  string           `json:"resource_name"`
	IssueType     string           `json:"issue_type"`
	SearchKey     string           `json:"search_key"`
	ExpectedValue string           `json:"expected_value"`
	ActualValue   string           `json:"actual_value"`
}

type kQuery struct {
	QueryName   string  `json:"query_name"`
	QueryID     string  `json:"query_id"`
	QueryURL    string  `json:"query_url"`
	Severity    string  `json:"severity"`
	Platform    string  `json:"platform"`
	Category    string  `json:"category"`
	Description string  `json:"description"`
	CWE         string  `json:"cwe"`
	Files       []kFile `json:"files"`
}

// queryRequired are the members the fingerprint is made of: a wrong type there refuses the report.
var queryRequired = []string{"query_id", "files.similarity_id", "files.file_name", "files.search_key"}

// Parse implements importers.Parser.
func (p *Parser) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	w, err := jsonguard.Open(ctx, formatName, r, p.MaxBytes, p.MaxDepth)
	if err != nil {
		return nil, err
	}
	out := &importers.Report{Format: formatName, ScannerName: "KICS"}
	var warnings, paths []string
	var findings parseutil.FindingSet
	var queries []kQuery
	tolerant := jsonguard.Tolerant{Required: queryRequired, Warn: func(m string) { warnings = append(warnings, m) }}
	sawQueries := false
	start := w.Start()
	err = w.Document("report", func(key string) error {
		switch key {
		case "queries":
			sawQueries = true
			return jsonguard.Each(w, "queries", tolerant, func(q kQuery) { queries = append(queries, q) })
		case "paths":
			return jsonguard.Elements(w, "paths", &paths, tolerant)
		case "kics_version":
			return w.StrTo(&out.ScannerVersion)
		case "start":
			v, err := w.Str()
			out.StartedAt = timestamp(v)
			return err
		case "end":
			v, err := w.Str()
			out.FinishedAt = timestamp(v)
			return err
		}
		return w.Skip()
	})
	if err != nil {
		return nil, err
	}
	if !sawQueries {
		return nil, w.ErrAt(start, "not a KICS JSON report: no queries array")
	}
	name := parseutil.FirstNonEmpty(strings.Join(paths, ", "), ".")
	asset := importers.Asset{Key: "kics:" + name, Kind: importers.Repository, Name: name}
	out.Assets = []importers.Asset{asset}
	out.Target = &importers.Target{Name: name, Hint: "artifact"}
	for i := range queries {
		q := &queries[i]
		for j := range q.Files {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			findings.Add(finding(asset.Key, q, &q.Files[j]))
		}
	}
	out.Findings = findings.Findings()
	if warnings = append(warnings, w.Warnings()...); len(warnings) > 0 {
		out.Warnings = warnings
	}
	return importers.Bounded(out, nil)
}

// timestamp reads KICS's start and end times (RFC 3339 with nanoseconds); zero when unreadable.
func timestamp(v string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v))
	if err != nil {
		return time.Time{}
	}
	return t
}

func finding(assetKey string, q *kQuery, f *kFile) importers.Finding {
	out := importers.Finding{
		AssetKey:        assetKey,
		RuleID:          q.QueryID,
		Title:           parseutil.FirstNonEmpty(q.QueryName, q.QueryID, "KICS result"),
		ScannerSeverity: q.Severity,
		Severity:        importers.Info,
		Description:     q.Description,
		Location:        importers.Location{File: f.FileName, Line: int(f.Line)},
		References:      parseutil.AppendUnique(nil, q.QueryURL),
	}
	if s, ok := severities[strings.ToUpper(strings.TrimSpace(q.Severity))]; ok {
		out.Severity = s
	}
	if c := parseutil.CWENumber(q.CWE); c != "" {
		out.CWEs = []string{c}
	}
	var ev []string
	for _, kv := range [][2]string{
		{"Platform", q.Platform}, {"Category", q.Category}, {"Issue", f.IssueType},
		{"Resource", strings.TrimSpace(f.ResourceType + " " + f.ResourceName)},
		{"Search key", f.SearchKey}, {"Expected", f.ExpectedValue}, {"Actual", f.ActualValue},
	} {
		if kv[1] != "" {
			ev = append(ev, kv[0]+": "+kv[1])
		}
	}
	out.Evidence = strings.Join(ev, "\n")
	if f.ExpectedValue != "" {
		out.Remediation = f.ExpectedValue
	}
	if f.SimilarityID != "" {
		out.Fingerprint = parseutil.FingerprintJSON("kics/v1", q.QueryID, f.SimilarityID)
	} else {
		out.Fingerprint = parseutil.FingerprintJSON("kics/v1", q.QueryID, "", f.FileName, f.SearchKey)
	}
	return out
}
