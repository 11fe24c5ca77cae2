// Package gitleaks parses Gitleaks JSON reports (`gitleaks detect --report-format json`) into the
// normalised importers.Report.
//
// # What is read
//
// A report is an array of leaks (null or [] when nothing leaked). An empty input (no bytes, or
// white space only) is read as [] with the warning importers.EmptyWarning: Gitleaks 8.22 and
// later write no report when nothing leaked, so a pipeline that creates the report file first is
// left with an empty one. Auto-detection does not claim an empty file: the format must be named. Each leak becomes a finding:
// RuleID is the rule, Description (else RuleID) the title, File, StartLine and StartColumn the
// location, Commit, Author, Date and Message the commit that introduced the secret, Tags the
// description's last line and Link the reference. Gitleaks 7 reports (rule, offender, line,
// lineNumber, leakURL, repoURL) are read too; their repoURL gives the repository asset its URL.
// Gitleaks 8.0's Context is read as its Match.
//
// # The secret is never kept
//
// Secret and Match are redacted as they are read: the evidence keeps at most the first
// revealedRunes characters of the secret, and never more than a quarter of it (a 5-character
// token shows 1), followed by its length; in Match the secret is replaced by that redacted form,
// and a Match that does not contain the secret is reduced the same way. A secret Gitleaks already
// redacted (--redact: "REDACTED") is kept as written.
//
// Severity: Gitleaks has none; every leak is high (a live credential in a repository is urgent
// until it is rotated). ScannerSeverity is empty.
//
// # Fingerprints
//
// When the leak has a Fingerprint (Gitleaks 8: "commit:file:rule:line", or "file:rule:line" for
// a directory scan), the fingerprint is FingerprintJSON("gitleaks/v1", Fingerprint): Gitleaks'
// own identity, stable across scans because a commit never changes. Otherwise it is
// FingerprintJSON("gitleaks/v1", RuleID, File, Commit, "secret:"+hex SHA-256 of
// "gitleaks-secret/v1\x00"+Secret), or "line:"+StartLine when there is no secret or it was
// redacted. Trade-off: the digest of the secret must be the same at every import, so it cannot
// be salted per report; anyone who can read fingerprints and knows the rule, file and commit
// can test guesses of a short secret against it. A key of the deployment (HMAC) would close that
// but would change every fingerprint when rotated; fingerprints are only shown to users who can
// read the finding itself. A repeated identity gets "#n" appended (parseutil.Occurrences).
//
// # Asset
//
// One repository asset: keyed by Gitleaks 7's repoURL when given (RepoURL set), else "gitleaks"
// with Target {"gitleaks", "tool_path"}, a weak identity (Gitleaks 8 names no repository).
//
// # Limits
//
// Parse reads at most Parser.MaxBytes (512 MiB by default), refuses nesting deeper than
// Parser.MaxDepth (128) and invalid UTF-8, and gives malformed input as a *importers.ParseError
// with line, column and byte offset; a cancelled context gives ctx.Err() unwrapped.
package gitleaks

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/codescan"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

const formatName = "gitleaks"

const (
	// revealedRunes is the most of a secret the evidence shows.
	revealedRunes = 4
	// redactedWord is what `gitleaks --redact` writes for the secret.
	redactedWord = "REDACTED"
)

// Parser parses Gitleaks JSON reports. The zero value uses the default limits.
type Parser struct{ jsonguard.Limits }

// New returns a Gitleaks parser with the default limits.
func New() importers.Parser { return &Parser{} }

// Format implements importers.Parser.
func (*Parser) Format() string { return formatName }

// Detect reports whether head is the start of a Gitleaks JSON report: an array whose first
// element holds RuleID and one of Secret, Match, StartLine or Fingerprint (Gitleaks 8), or rule
// and offender (Gitleaks 7); or the whole file is null or [], what Gitleaks writes when nothing
// leaked.
func (*Parser) Detect(head []byte) bool {
	switch string(bytes.TrimSpace(bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF")))) {
	case "null", "[]":
		return true
	}
	p := jsonguard.HeadPaths(head)
	if p[""] != "[" || p["/0"] != "{" {
		return false
	}
	has := func(k string) bool { _, ok := p["/0/"+k]; return ok }
	if has("RuleID") {
		return jsonguard.HasAny(p, "/0/Secret", "/0/Match", "/0/StartLine", "/0/Fingerprint")
	}
	return has("rule") && has("offender")
}

// Info implements importers.Describer.
func (*Parser) Info() importers.FormatInfo {
	return importers.FormatInfo{
		Name:      formatName,
		Title:     "Gitleaks JSON (gitleaks detect --report-format json)",
		Family:    "secrets",
		Versions:  []string{"8.x", "7.x"},
		Detection: "a JSON array whose first element holds RuleID and Secret, Match, StartLine or Fingerprint (Gitleaks 7: rule and offender); a file that is only null or []",
		Fingerprint: []string{"Fingerprint (commit:file:rule:line) when present",
			"else RuleID, File, Commit and a SHA-256 digest of the secret (the line when the secret is redacted)",
			"occurrence index of a repeated identity"},
		Severity: map[string]importers.Severity{"(every leak)": importers.High},
		Notes: "The secret is never stored: Secret and Match are redacted to at most the first " + strconv.Itoa(revealedRunes) +
			" characters (never more than a quarter of the secret) and its length. The fallback fingerprint's digest of the secret is unsalted, " +
			"so that it is stable across imports: it lets whoever can read fingerprints test guesses of a short secret. " +
			"One repository asset: Gitleaks 7's repoURL, else a weak identity (target \"gitleaks\" with hint tool_path). " +
			"An empty file (Gitleaks 8.22 and later write no report when nothing leaked) is read as [] when the format is named (--format gitleaks).",
	}
}

// gLeak is one leak; the lower-case fields are Gitleaks 7's names (encoding/json matches names
// without case, so Commit, File, Author, Email, Date and Tags serve both).
type gLeak struct {
	RuleID      string           `json:"RuleID"`
	Description string           `json:"Description"`
	StartLine   jsonguard.LineNo `json:"StartLine"`
	StartColumn jsonguard.LineNo `json:"StartColumn"`
	Match       string           `json:"Match"`
	// Context is what Gitleaks 8.0 and 8.1 wrote in place of Match.
	Context     string `json:"Context"`
	Secret      string `json:"Secret"`
	File        string `json:"File"`
	Commit      string `json:"Commit"`
	Author      string `json:"Author"`
	Date        string `json:"Date"`
	Message     string `json:"Message"`
	Tags        tags   `json:"Tags"`
	Fingerprint string `json:"Fingerprint"`
	Link        string `json:"Link"`

	Rule       string           `json:"rule"`
	Offender   string           `json:"offender"`
	Line       string           `json:"line"`
	LineNumber jsonguard.LineNo `json:"lineNumber"`
	LeakURL    string           `json:"leakURL"`
	RepoURL    string           `json:"repoURL"`
	CommitMsg  string           `json:"commitMessage"`
}

// tags are Gitleaks 8's list of tags, or Gitleaks 7's comma-separated string.
type tags []string

func (t *tags) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		for tag := range strings.SplitSeq(s, ",") {
			if tag = strings.TrimSpace(tag); tag != "" {
				*t = append(*t, tag)
			}
		}
		return nil
	}
	var list []string
	if json.Unmarshal(b, &list) == nil {
		*t = list
	}
	return nil // tags of any other shape are only left out: they are not the leak's identity
}

// redact replaces Secret and Match by their redacted forms, so that the secret is not held past
// the decoding of its leak. It returns the digest the fallback fingerprint uses.
func (l *gLeak) redact() (digest string) {
	secret := parseutil.FirstNonEmpty(l.Secret, l.Offender)
	match := parseutil.FirstNonEmpty(l.Match, l.Context, l.Line)
	l.Context = ""
	if secret == "" || secret == redactedWord {
		l.Secret, l.Match, l.Offender, l.Line = secret, redactMatch(match), "", ""
		return ""
	}
	sum := sha256.Sum256([]byte("gitleaks-secret/v1\x00" + secret))
	masked := mask(secret)
	if match != "" && strings.Contains(match, secret) {
		l.Match = strings.ReplaceAll(match, secret, masked)
	} else {
		l.Match = redactMatch(match)
	}
	l.Secret, l.Offender, l.Line = masked, "", ""
	return hex.EncodeToString(sum[:])
}

// mask is the redacted form of a secret: its first runes (at most revealedRunes, at most a
// quarter of it) and its length.
func mask(secret string) string {
	n := utf8.RuneCountInString(secret)
	keep := min(revealedRunes, n/4)
	prefix := secret
	for i := range secret {
		if keep == 0 {
			prefix = secret[:i]
			break
		}
		keep--
	}
	return fmt.Sprintf("%s…[redacted, %d characters]", prefix, n)
}

// redactMatch reduces a match that does not show where the secret is to a redacted form of its
// own: it may be all secret.
func redactMatch(match string) string {
	switch {
	case match == "":
		return ""
	case match == redactedWord || strings.Contains(match, redactedWord):
		return match
	}
	return mask(match)
}

// Parse implements importers.Parser.
func (p *Parser) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	s, err := codescan.Open(ctx, formatName, r, p.Limits, "RuleID", "File", "Commit", "Secret", "Match", "Fingerprint", "StartLine")
	if err != nil {
		return nil, err
	}
	out := s.Report
	repoURL := ""
	empty, err := s.W.EmptyInput()
	if err != nil {
		return nil, err
	}
	if empty {
		// The same report as [] (no leak), said: Gitleaks 8.22 and later, and 7 before them, write no
		// report when nothing leaked, and a pipeline that creates the file first hands over an empty one.
		out.Warnings = append(out.Warnings, importers.EmptyWarning)
		return importers.Bounded(out, nil)
	}
	err = jsonguard.EachDocument(s.W, "leaks", s.Tolerant, func(l gLeak) {
		digest := l.redact()
		repoURL = parseutil.FirstNonEmpty(repoURL, l.RepoURL)
		out.Findings = append(out.Findings, finding(&l, digest, &s.Occurrences))
	})
	if err != nil {
		return nil, err
	}
	if repoURL != "" {
		// Gitleaks 7 named the repository: a strong identity, no weak Target needed.
		out.Assets[0] = importers.Asset{Key: "repo:" + repoURL, Kind: importers.Repository, Name: repoURL, RepoURL: repoURL}
		out.Target = nil
	}
	for i := range out.Findings {
		out.Findings[i].AssetKey = out.Assets[0].Key
	}
	return s.Done()
}

func finding(l *gLeak, digest string, fps *parseutil.Occurrences) importers.Finding {
	rule := parseutil.FirstNonEmpty(l.RuleID, l.Rule)
	line := int(l.StartLine)
	if line == 0 {
		line = int(l.LineNumber)
	}
	f := importers.Finding{
		Title:    parseutil.FirstNonEmpty(l.Description, rule, "secret"),
		RuleID:   rule,
		Severity: importers.High,
		Location: importers.Location{File: l.File, Line: line, Column: int(l.StartColumn)},
	}
	desc := "Credential committed to the repository"
	if l.Description != "" {
		desc = l.Description + ". Credential committed to the repository"
	}
	if l.File != "" {
		desc += " in " + l.File
	}
	desc += ". Rotate it: removing it from the code does not remove it from the history."
	if len(l.Tags) > 0 {
		desc += "\n\nTags: " + strings.Join(l.Tags, ", ")
	}
	f.Description = desc
	var ev []string
	if l.Secret != "" {
		ev = append(ev, "Secret: "+l.Secret)
	}
	if l.Match != "" {
		ev = append(ev, "Match: "+l.Match)
	}
	if l.Commit != "" {
		c := "Commit " + l.Commit
		if l.Author != "" {
			c += " by " + l.Author
		}
		if l.Date != "" {
			c += " on " + l.Date
		}
		if msg := parseutil.FirstNonEmpty(l.Message, l.CommitMsg); msg != "" {
			c += ": " + parseutil.TruncateEllipsis(msg, 300)
		}
		ev = append(ev, c)
	}
	f.Evidence = strings.Join(ev, "\n")
	f.References = parseutil.AddUnique(f.References, l.Link, l.LeakURL)

	if l.Fingerprint != "" {
		f.Fingerprint = fps.Fingerprint("gitleaks/v1", l.Fingerprint)
		return f
	}
	id := "secret:" + digest
	if digest == "" {
		id = "line:" + strconv.Itoa(line)
	}
	f.Fingerprint = fps.Fingerprint("gitleaks/v1", rule, l.File, l.Commit, id)
	return f
}
