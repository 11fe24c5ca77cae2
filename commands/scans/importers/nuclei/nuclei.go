// Package nuclei parses Nuclei results (`nuclei -jsonl`, one JSON object per line; also the JSON
// array older `-json-export` wrote) into the normalised importers.Report.
//
// # What is read
//
// Results of Nuclei before 2.5 name their fields templateID, matched, matcher_name,
// extracted_results and curl_command; they are read as template-id, matched-at, matcher-name,
// extracted-results and curl-command.
//
// Every result is a finding: template-id is the RuleID; info.name (with the matcher-name, when
// the template has several matchers) the title; info.description and info.remediation the text;
// info.reference the references; info.classification its CVEs (cve-id), CWEs (cwe-id) and CVSS
// rating (cvss-metrics, cvss-score: the vector is kept as written, never scored here). The
// evidence is what the result shows of the match: matcher-name, extracted-results, matched-line,
// meta (the payload values used) and the curl command, cut to a few KiB; request and response
// bodies are not kept (they can be megabytes and the curl command names the request).
//
// The asset is what was scanned, from host: a URL host ("https://example.com/…") gives a
// web_application whose BaseURL is scheme://host[:port] (the result's ip is not kept: a CDN
// changes it); any other host ("example.com", "10.0.0.1:22") gives a host asset named after
// it, with ip as its address when given. Location.URL is matched-at when it is a URL, else
// Location.Host and Port are read from it.
//
// Severity: info.severity critical, high, medium, low map to the same severities, info to info;
// unknown or missing ones derive from cvss-score (>=9 critical, >=7 high, >=4 medium, >0 low),
// else info. ScannerSeverity keeps Nuclei's word.
//
// An empty input (no bytes, or white space only) is a report with no findings and no asset,
// with the warning importers.EmptyWarning: Nuclei writes an empty -o file when nothing matched.
// Auto-detection cannot tell it from any other empty file, so it is imported only with the format
// named (--format nuclei, ?format=nuclei); without an asset named (--asset, ?asset=) it resolves
// nothing (see the import service).
//
// # Fingerprints
//
// A fingerprint is the lower-case hex SHA-256 of the JSON array
//
//	["nuclei/v1", template-id, matcher-name, matched-at]
//
// matched-at names the host and path matched, so the same template matching the same URL in the
// next scan gives the same fingerprint; timestamps, IPs and extracted values (which change
// between scans) are left out. Two results with one fingerprint (a template whose extractor
// reports each value as its own result, e.g. deprecated-tls once per TLS version) are merged
// into one finding whose evidence holds both.
//
// # Limits
//
// Parse reads at most Parser.MaxBytes (512 MiB by default), refuses nesting deeper than
// Parser.MaxDepth (128 by default) and invalid UTF-8, and cuts strings at
// jsonguard.MaxStringBytes as it reads. Errors are *importers.ParseError with line, column and
// byte offset; a cancelled context gives ctx.Err() unwrapped.
package nuclei

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

const formatName = "nuclei"

// maxEvidencePart bounds each piece of a finding's evidence (one extracted value, the curl
// command): enough to show the match, never a whole response.
const maxEvidencePart = 4 << 10

// Parser parses Nuclei results. The zero value uses the default limits.
type Parser struct{ jsonguard.Limits }

// New returns a Nuclei parser with the default limits.
func New() importers.Parser { return &Parser{} }

// Format implements importers.Parser.
func (*Parser) Format() string { return formatName }

// Detect reports whether head starts with a Nuclei result (JSON Lines) or an array of them: an
// object with a string template-id beside an info object and a host or matched-at.
func (*Parser) Detect(head []byte) bool {
	p := jsonguard.HeadPaths(head)
	root := ""
	if p[""] == "[" {
		root = "/0"
	}
	id := root + "/template-id"
	if _, ok := p[id]; !ok {
		id = root + "/templateID" // before Nuclei 2.5
	}
	if p[root] != "{" || p[id] == "" || p[id] == "{" || p[id] == "[" {
		return false
	}
	return p[root+"/info"] == "{" && jsonguard.HasAny(p, root+"/host", root+"/matched-at", root+"/matched")
}

// Info implements importers.Describer.
func (*Parser) Info() importers.FormatInfo {
	return importers.FormatInfo{
		Name:        formatName,
		Title:       "Nuclei results (nuclei -jsonl, -json-export)",
		Family:      "dast",
		Versions:    []string{"2.x", "3.x"},
		Detection:   "JSON Lines (or a JSON array) whose first object has a string template-id (templateID before 2.5), an info object and a host or matched-at (matched)",
		Fingerprint: []string{"template-id", "matcher-name", "matched-at"},
		Severity: map[string]importers.Severity{
			"critical": importers.Critical, "high": importers.High, "medium": importers.Medium,
			"low": importers.Low, "info": importers.Info,
			"unknown": importers.Info, // or from info.classification.cvss-score when given
		},
		Notes: "One finding per result; results with the same template, matcher and matched-at are merged. " +
			"The asset is a web application (base URL of host) or a host; request and response bodies are not kept. " +
			"An empty file (what nuclei -jsonl -o leaves when nothing matched) is a report with no findings when the format is named (--format nuclei); " +
			"it names no asset, so it resolves nothing unless --asset names the scanned asset and close_missing=true.",
	}
}

// stringList is a Nuclei StringSlice: templates write tags, references and authors as an array
// or as one comma-separated string.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	switch jsonguard.Kind(b) {
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		for _, part := range strings.Split(s, ",") {
			*l = parseutil.AppendUnique(*l, strings.TrimSpace(part))
		}
		return nil
	case 'n':
		return nil
	}
	var list []string
	err := json.Unmarshal(b, &list)
	*l = list
	return err
}

type nResult struct {
	TemplateID  string `json:"template-id"`
	TemplateURL string `json:"template-url"`
	Info        struct {
		Name           string     `json:"name"`
		Description    string     `json:"description"`
		Remediation    string     `json:"remediation"`
		Severity       string     `json:"severity"`
		Reference      stringList `json:"reference"`
		Classification struct {
			CVEIDs      stringList      `json:"cve-id"`
			CWEIDs      stringList      `json:"cwe-id"`
			CVSSMetrics string          `json:"cvss-metrics"`
			CVSSScore   jsonguard.Score `json:"cvss-score"`
		} `json:"classification"`
	} `json:"info"`
	Type             string     `json:"type"`
	Host             string     `json:"host"`
	MatchedAt        string     `json:"matched-at"`
	MatcherName      string     `json:"matcher-name"`
	ExtractedResults stringList `json:"extracted-results"`
	MatchedLine      stringList `json:"matched-line"`
	IP               string     `json:"ip"`
	Timestamp        string     `json:"timestamp"`
	CurlCommand      string     `json:"curl-command"`
	// Meta holds the payload values a match used (a default-login template's username and
	// password): two results that differ only there are one finding, and this tells which.
	Meta map[string]any `json:"meta"`

	// Nuclei before 2.5 wrote these names; a result holds either spelling, never both.
	OldTemplateID       string     `json:"templateID"`
	OldMatched          string     `json:"matched"`
	OldMatcherName      string     `json:"matcher_name"`
	OldExtractedResults stringList `json:"extracted_results"`
	OldCurlCommand      string     `json:"curl_command"`
}

// normalise moves the pre-2.5 field names onto the current ones, so that a result reads (and
// fingerprints) the same whichever Nuclei version wrote it.
func (r *nResult) normalise() {
	r.TemplateID = parseutil.FirstNonEmpty(r.TemplateID, r.OldTemplateID)
	r.MatchedAt = parseutil.FirstNonEmpty(r.MatchedAt, r.OldMatched)
	r.MatcherName = parseutil.FirstNonEmpty(r.MatcherName, r.OldMatcherName)
	r.CurlCommand = parseutil.FirstNonEmpty(r.CurlCommand, r.OldCurlCommand)
	if len(r.ExtractedResults) == 0 {
		r.ExtractedResults = r.OldExtractedResults
	}
}

// Parse implements importers.Parser.
func (p *Parser) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	w, err := jsonguard.Open(ctx, formatName, r, p.MaxBytes, p.MaxDepth)
	if err != nil {
		return nil, err
	}
	b := builder{parseutil.Builder{Report: &importers.Report{Format: formatName, ScannerName: "nuclei"}}}
	one := func() error {
		var res nResult
		at, err := w.Decode(&res)
		if err != nil {
			return err
		}
		res.normalise()
		if strings.TrimSpace(res.TemplateID) == "" {
			return w.ErrAt(at, "not a Nuclei result: no template-id")
		}
		b.add(&res)
		return nil
	}
	empty, err := w.EmptyInput()
	if err != nil {
		return nil, err
	}
	switch {
	case empty:
		// nuclei -jsonl -o writes an empty file when nothing matched (since 2.3.8): a clean scan.
		b.Warn(importers.EmptyWarning)
	case w.Next() == '[': // -json-export
		if err := w.Array("results", func(int) error { return one() }); err != nil {
			return nil, err
		}
		if err := w.End(); err != nil {
			return nil, err
		}
	default: // JSON Lines: one object after the other until the end of the input
		for w.Next() != 0 {
			if w.Next() != '{' {
				return nil, w.ErrAt(w.Start(), "expected an object (one Nuclei result per line)")
			}
			if err := one(); err != nil {
				return nil, err
			}
		}
		if err := w.End(); err != nil { // a read error or the byte limit ends the loop too
			return nil, err
		}
	}
	return b.Bounded(w.Warnings())
}

type builder struct{ parseutil.Builder }

func (b *builder) add(res *nResult) {
	if t, err := time.Parse(time.RFC3339Nano, res.Timestamp); err == nil {
		if b.Report.StartedAt.IsZero() || t.Before(b.Report.StartedAt) {
			b.Report.StartedAt = t
		}
		if t.After(b.Report.FinishedAt) {
			b.Report.FinishedAt = t
		}
	}
	key := b.asset(res)
	info := &res.Info
	cls := &info.Classification
	f := importers.Finding{
		AssetKey:        key,
		RuleID:          res.TemplateID,
		Title:           parseutil.FirstNonEmpty(info.Name, res.TemplateID),
		ScannerSeverity: info.Severity,
		Description:     info.Description,
		Remediation:     info.Remediation,
		References:      parseutil.AddUnique(nil, info.Reference...),
		Location:        location(res.MatchedAt),
	}
	if res.MatcherName != "" {
		f.Title += ": " + res.MatcherName
	}
	for _, id := range cls.CVEIDs {
		if c, ok := parseutil.NormCVE(id); ok {
			f.CVEs = parseutil.AddUnique(f.CVEs, c)
		}
	}
	f.CWEs = parseutil.AddUnique(f.CWEs, parseutil.NormAll(cls.CWEIDs, parseutil.NormCWE)...)
	if v := strings.TrimSpace(cls.CVSSMetrics); v != "" || cls.CVSSScore.Ptr() != nil {
		f.CVSS = parseutil.AddCVSS(nil, importers.CVSS{Version: cvssVersion(v), Vector: v, Score: cls.CVSSScore.Ptr(), Source: "nuclei-templates"})
	}
	f.Severity = severity(info.Severity, f.CVSS)
	f.Evidence = evidence(res)
	f.Fingerprint = parseutil.FingerprintJSON("nuclei/v1", res.TemplateID, res.MatcherName, strings.TrimSpace(res.MatchedAt))
	b.Findings.Add(f)
}

// asset adds the asset res.Host names, once, and returns its key.
func (b *builder) asset(res *nResult) string {
	host := strings.TrimSpace(parseutil.FirstNonEmpty(res.Host, res.MatchedAt, res.IP))
	a := importers.Asset{Kind: importers.Host, Name: host, Key: "host:" + host}
	if base, ok := baseURL(host); ok {
		a = importers.Asset{Kind: importers.WebApplication, Name: base, BaseURL: base, Key: "web:" + base}
	} else {
		name := hostOnly(host)
		a.Name, a.Key = name, "host:"+name
		if ip := net.ParseIP(name); ip != nil {
			a.IPs = []string{ip.String()}
		} else if name != "" {
			a.Hostnames = []string{name}
		}
		if ip := net.ParseIP(strings.TrimSpace(res.IP)); ip != nil && len(a.IPs) == 0 {
			a.IPs = []string{ip.String()}
		}
	}
	if b.Assets.Get(a.Key) == nil {
		b.Assets.Add(a)
	}
	return a.Key
}

// baseURL is scheme://host[:port] of an absolute URL, lower-cased.
func baseURL(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), true
}

// hostOnly is the host of "host", "host:port" or "[v6]:port".
func hostOnly(s string) string {
	if h, _, err := net.SplitHostPort(s); err == nil {
		return h
	}
	return s
}

// location is where a result matched: a URL, or a host and port (network and DNS templates).
func location(matchedAt string) importers.Location {
	matchedAt = strings.TrimSpace(matchedAt)
	if u, err := url.Parse(matchedAt); err == nil && u.Host != "" && u.Scheme != "" {
		return importers.Location{URL: matchedAt}
	}
	if h, p, err := net.SplitHostPort(matchedAt); err == nil {
		port, _ := strconv.Atoi(p)
		return importers.Location{Host: h, Port: port}
	}
	return importers.Location{Host: matchedAt}
}

func cvssVersion(vector string) string {
	if v := parseutil.VectorVersion(vector); v != "" {
		return v
	}
	if vector != "" {
		return "2.0" // a vector without a "CVSS:" prefix is version 2
	}
	return "3.1" // Nuclei templates carry CVSS 3.x scores; a score alone is taken as 3.1
}

func severity(word string, ratings []importers.CVSS) importers.Severity {
	if strings.EqualFold(strings.TrimSpace(word), "info") {
		return importers.Info
	}
	return parseutil.WordOrRatings(word, ratings)
}

func evidence(res *nResult) string {
	var parts []string
	if res.MatcherName != "" {
		parts = append(parts, "Matcher: "+res.MatcherName)
	}
	for _, v := range res.ExtractedResults {
		parts = append(parts, "Extracted: "+parseutil.Truncate(v, maxEvidencePart))
	}
	for _, v := range res.MatchedLine {
		parts = append(parts, "Matched line: "+parseutil.Truncate(v, maxEvidencePart))
	}
	if len(res.Meta) > 0 {
		keys := make([]string, 0, len(res.Meta))
		for k := range res.Meta {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var kv []string
		for _, k := range keys {
			kv = append(kv, fmt.Sprintf("%s=%v", k, res.Meta[k]))
		}
		parts = append(parts, "Meta: "+parseutil.Truncate(strings.Join(kv, ", "), maxEvidencePart))
	}
	if res.CurlCommand != "" {
		parts = append(parts, "Request: "+parseutil.Truncate(res.CurlCommand, maxEvidencePart))
	}
	return parseutil.Truncate(strings.Join(parts, "\n"), parseutil.MaxEvidence)
}
