// Package semgrep parses Semgrep JSON reports (`semgrep --json`) into the normalised
// importers.Report.
//
// # What is read
//
// Every element of results[] becomes a finding: check_id is the RuleID and the title,
// extra.message the description (with the rule's OWASP categories and confidence from
// extra.metadata appended), path, start.line and start.col the location, extra.lines and the
// dataflow trace (extra.dataflow_trace: taint source, intermediate variables, sink; at most
// maxTraceVars variables) the evidence, extra.metadata.cwe the CWEs (a string or a list, "CWE-78:
// Improper …") and extra.metadata.references, .source and .shortlink the references. A result
// with extra.is_ignored true (a nosemgrep comment, reported with --disable-nosem) is marked
// Suppressed as a false positive. errors[] become warnings (at most codescan.MaxScannerErrors,
// then a count); paths, skipped_rules, time and every other member are skipped unread.
//
// Semgrep JSON names no repository and no scan root: the report has one repository asset, keyed
// "semgrep", and Target {"semgrep", "tool_path"}, the weak identity a SARIF run of Semgrep
// without a source root also gets.
//
// Severity: extra.severity ERROR → high, WARNING → medium, INFO → low; the words of newer rules
// (CRITICAL, HIGH, MEDIUM, LOW) map to themselves; anything else (EXPERIMENT, INVENTORY, none)
// → info. ScannerSeverity keeps Semgrep's word.
//
// # Fingerprints
//
// A fingerprint is FingerprintJSON("semgrep/v1", check_id, path, id), where id is
// "fp:"+extra.fingerprint when Semgrep gave one (its match-based id: a hash of the rule, the
// path and the matched code, with an index for repeats; stable when lines move), else, when it
// wrote "requires login" (Semgrep without a login hides it and the lines), "code:"+ the digest of
// extra.lines (parseutil.CodeDigest: indentation and blank lines ignored), else "match:"+ the
// digest of the message and the metavariables' values. The line number is never part of it. A
// repeated identity gets "#n" appended (parseutil.Occurrences): the same rule matching the same
// code twice in one file stays two findings, as Semgrep reports them.
//
// # Limits
//
// Parse reads at most Parser.MaxBytes (512 MiB by default), refuses nesting deeper than
// Parser.MaxDepth (128) and invalid UTF-8, and gives malformed input as a *importers.ParseError
// with line, column and byte offset; a cancelled context gives ctx.Err() unwrapped.
package semgrep

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/codescan"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
	"github.com/socplatform/soc/commands/scans/importers/internal/readguard"
)

const formatName = "semgrep"

const (
	// maxTraceVars is how many intermediate variables of a dataflow trace the evidence lists.
	maxTraceVars = 20
	// loginPlaceholder is what Semgrep writes for the fingerprint and lines without a login.
	loginPlaceholder = "requires login"
)

// Parser parses Semgrep JSON reports. The zero value uses the default limits.
type Parser struct{ jsonguard.Limits }

// New returns a Semgrep parser with the default limits.
func New() importers.Parser { return &Parser{} }

// Format implements importers.Parser.
func (*Parser) Format() string { return formatName }

// Detect reports whether head is the start of a Semgrep JSON report: an object whose results
// array starts with an object holding check_id, or an empty results array beside Semgrep's
// paths or version members (and none of Bandit's metrics or generated_at). Semgrep 0.x wrote an
// empty scan as exactly {"results": [], "errors": []}: that whole document is claimed too.
func (*Parser) Detect(head []byte) bool {
	p := jsonguard.HeadPaths(head)
	if p[""] != "{" || p["/results"] != "[" {
		return false
	}
	if _, ok := p["/results/0"]; ok {
		_, id := p["/results/0/check_id"]
		return p["/results/0"] == "{" && id
	}
	if jsonguard.HasAny(p, "/metrics", "/generated_at") {
		return false
	}
	return p["/errors"] == "[" && (jsonguard.HasAny(p, "/paths", "/version") || emptyScan(head, p))
}

// emptyScan reports whether head is the whole of Semgrep 0.x's empty report: an object of an
// empty results array and an empty errors array, nothing else.
func emptyScan(head []byte, p map[string]string) bool {
	_, anyError := p["/errors/0"]
	return len(p) == 3 && !anyError && json.Valid(readguard.TrimBOM(head))
}

// Info implements importers.Describer.
func (*Parser) Info() importers.FormatInfo {
	return importers.FormatInfo{
		Name:      formatName,
		Title:     "Semgrep JSON (semgrep --json)",
		Family:    "sast",
		Versions:  []string{"0.x", "1.x"},
		Detection: "a JSON object whose results array starts with an object holding check_id, or an empty results array beside errors and paths or version, or exactly {\"results\": [], \"errors\": []}",
		Fingerprint: []string{"check_id", "path",
			"extra.fingerprint, else a digest of extra.lines (when Semgrep wrote \"requires login\"), else of the message and metavariables; never the line number",
			"occurrence index of a repeated identity"},
		Severity: map[string]importers.Severity{
			"ERROR": importers.High, "WARNING": importers.Medium, "INFO": importers.Low,
			"CRITICAL": importers.Critical, "HIGH": importers.High, "MEDIUM": importers.Medium, "LOW": importers.Low,
			"other (EXPERIMENT, INVENTORY, none)": importers.Info,
		},
		Notes: "One repository asset per report (Semgrep JSON names no repository: weak identity, target \"semgrep\" with hint tool_path). " +
			"extra.is_ignored (nosemgrep) marks the finding suppressed as a false positive. errors[] become warnings. " +
			"The API export of Semgrep Supply Chain findings (vulns[]) is not this format and is refused. " +
			"Dataflow traces are kept as evidence (at most " + strconv.Itoa(maxTraceVars) + " intermediate variables).",
	}
}

// Wire types: only the fields used.

type sPos struct {
	Line jsonguard.LineNo `json:"line"`
	Col  jsonguard.LineNo `json:"col"`
}

type sLoc struct {
	Path  string `json:"path"`
	Start sPos   `json:"start"`
}

// flexList is a metadata value that rules write as a string or a list of strings; any other
// shape is ignored (metadata is free-form).
type flexList []string

func (l *flexList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = flexList{one}
		return nil
	}
	var raw []json.RawMessage
	if json.Unmarshal(b, &raw) != nil {
		return nil
	}
	for _, r := range raw {
		if json.Unmarshal(r, &one) == nil {
			*l = append(*l, one)
		}
	}
	return nil
}

// flexString is a free-form metadata value kept when it is a string.
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	var v string
	if json.Unmarshal(b, &v) == nil {
		*s = flexString(v)
	}
	return nil
}

type sMetadata struct {
	CWE        flexList   `json:"cwe"`
	OWASP      flexList   `json:"owasp"`
	References flexList   `json:"references"`
	Confidence flexString `json:"confidence"`
	Source     flexString `json:"source"`
	Shortlink  flexString `json:"shortlink"`
}

type sTrace struct {
	TaintSource      json.RawMessage `json:"taint_source"`
	IntermediateVars []struct {
		Content  string `json:"content"`
		Location sLoc   `json:"location"`
	} `json:"intermediate_vars"`
	TaintSink json.RawMessage `json:"taint_sink"`
}

type sResult struct {
	CheckID string `json:"check_id"`
	Path    string `json:"path"`
	Start   sPos   `json:"start"`
	Extra   struct {
		Message     string    `json:"message"`
		Severity    string    `json:"severity"`
		Lines       string    `json:"lines"`
		Fingerprint string    `json:"fingerprint"`
		IsIgnored   bool      `json:"is_ignored"`
		Fix         string    `json:"fix"`
		Trace       *sTrace   `json:"dataflow_trace"`
		Metadata    sMetadata `json:"metadata"`
		Metavars    map[string]struct {
			AbstractContent string `json:"abstract_content"`
		} `json:"metavars"`
	} `json:"extra"`
}

type sError struct {
	Level   string          `json:"level"`
	Type    json.RawMessage `json:"type"`
	Message string          `json:"message"`
	Path    string          `json:"path"`
}

// Parse implements importers.Parser.
func (p *Parser) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	s, err := codescan.Open(ctx, formatName, r, p.Limits, "check_id", "path", "extra.fingerprint", "extra.lines")
	if err != nil {
		return nil, err
	}
	supplyChain := false
	err = codescan.Results(s.W, "Semgrep JSON", s.Tolerant, func(res sResult) {
		s.Report.Findings = append(s.Report.Findings, finding(&res, &s.Occurrences))
	}, func(key string) error {
		switch key {
		case "errors":
			return codescan.ScannerErrors(s, errorWarning)
		case "version":
			return s.W.StrTo(&s.Report.ScannerVersion)
		case "vulns":
			supplyChain = true
		}
		return s.W.Skip()
	})
	if err != nil && supplyChain {
		return nil, s.W.ErrAt(jsonguard.Pos{}, "a Semgrep Supply Chain findings export (the web API's vulns[]), not "+
			"semgrep --json output: import the JSON of the scan (semgrep ci --json or semgrep scan --json)")
	}
	if err != nil {
		return nil, err
	}
	return s.Done()
}

// errorWarning is one sentence for an element of errors[]: Semgrep's own error (a file it could
// not parse, a rule it could not run), which did not stop the scan.
func errorWarning(e *sError) string {
	typ := ""
	var s string
	var list []json.RawMessage
	switch {
	case json.Unmarshal(e.Type, &s) == nil:
		typ = s
	case json.Unmarshal(e.Type, &list) == nil && len(list) > 0 && json.Unmarshal(list[0], &s) == nil:
		typ = s // newer semgrep: ["PartialParsing", [locations]]
	}
	msg := "semgrep " + strings.ToLower(parseutil.FirstNonEmpty(e.Level, "error"))
	if typ != "" {
		msg += " (" + typ + ")"
	}
	if e.Path != "" {
		msg += " in " + e.Path
	}
	return msg + ": " + parseutil.TruncateEllipsis(strings.TrimSpace(e.Message), 500)
}

// severity maps extra.severity (see the package doc).
func severity(word string) importers.Severity {
	switch w := strings.ToLower(strings.TrimSpace(word)); w {
	case "error":
		return importers.High
	case "warning":
		return importers.Medium
	case "info":
		return importers.Low
	default:
		return parseutil.SeverityWordOrInfo(w)
	}
}

func finding(res *sResult, fps *parseutil.Occurrences) importers.Finding {
	x := &res.Extra
	f := importers.Finding{
		AssetKey:        formatName,
		Title:           parseutil.FirstNonEmpty(res.CheckID, "semgrep finding"),
		RuleID:          res.CheckID,
		Severity:        severity(x.Severity),
		ScannerSeverity: x.Severity,
		Location:        importers.Location{File: res.Path, Line: int(res.Start.Line), Column: int(res.Start.Col)},
	}
	md := &x.Metadata
	desc := []string{strings.TrimSpace(x.Message)}
	if len(md.OWASP) > 0 {
		desc = append(desc, "OWASP: "+strings.Join(md.OWASP, "; "))
	}
	if md.Confidence != "" {
		desc = append(desc, "Confidence: "+string(md.Confidence))
	}
	f.Description = strings.TrimSpace(strings.Join(desc, "\n\n"))
	f.CWEs = parseutil.AddUnique(f.CWEs, parseutil.NormAll(md.CWE, parseutil.NormCWE)...)
	f.References = parseutil.AddUnique(f.References, md.References...)
	f.References = parseutil.AddUnique(f.References, string(md.Source), string(md.Shortlink))
	if x.Fix != "" {
		f.Remediation = "Suggested fix: " + x.Fix
	}
	if x.IsIgnored {
		f.Suppressed = &importers.Suppression{Kind: importers.SuppressedFalsePositive, Reason: "nosemgrep", Source: "semgrep extra.is_ignored"}
	}
	f.Evidence = evidence(x.Lines, x.Trace)

	var id string
	switch {
	case x.Fingerprint != "" && x.Fingerprint != loginPlaceholder:
		id = "fp:" + x.Fingerprint
	case x.Lines != "" && x.Lines != loginPlaceholder:
		id = "code:" + parseutil.CodeDigest(x.Lines)
	default:
		vals := make([]string, 0, len(x.Metavars))
		for name, v := range x.Metavars {
			vals = append(vals, name+"="+v.AbstractContent)
		}
		slices.Sort(vals)
		id = "match:" + parseutil.CodeDigest(x.Message+"\n"+strings.Join(vals, "\n"))
	}
	f.Fingerprint = fps.Fingerprint("semgrep/v1", res.CheckID, res.Path, id)
	return f
}

// evidence is the matched lines and the dataflow trace, as text.
func evidence(lines string, tr *sTrace) string {
	var b strings.Builder
	if lines != "" && lines != loginPlaceholder {
		b.WriteString(lines)
	}
	if tr == nil {
		return b.String()
	}
	step := func(label string, l sLoc, content string) {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s: %s at %s:%d", label, content, l.Path, l.Start.Line)
	}
	if l, content, ok := traceEnd(tr.TaintSource); ok {
		step("taint source", l, content)
	}
	for i, v := range tr.IntermediateVars {
		if i == maxTraceVars {
			fmt.Fprintf(&b, "\n… %d more intermediate variables", len(tr.IntermediateVars)-maxTraceVars)
			break
		}
		step("through", v.Location, v.Content)
	}
	if l, content, ok := traceEnd(tr.TaintSink); ok {
		step("taint sink", l, content)
	}
	return b.String()
}

// traceEnd reads a taint source or sink: ["CliLoc", [location, content]], or ["CliCall",
// [[location, content], intermediate vars, inner trace]] (a call whose inside the trace enters),
// of which the call's own location is kept. ok is false for any other shape.
func traceEnd(raw json.RawMessage) (l sLoc, content string, ok bool) {
	var tagged []json.RawMessage
	if json.Unmarshal(raw, &tagged) != nil || len(tagged) != 2 {
		return l, "", false
	}
	var tag string
	var body []json.RawMessage
	if json.Unmarshal(tagged[0], &tag) != nil || json.Unmarshal(tagged[1], &body) != nil || len(body) < 2 {
		return l, "", false
	}
	if tag == "CliCall" {
		if json.Unmarshal(body[0], &body) != nil || len(body) < 2 {
			return l, "", false
		}
	}
	if json.Unmarshal(body[0], &l) != nil || json.Unmarshal(body[1], &content) != nil {
		return l, "", false
	}
	return l, content, true
}
