// Package generic parses DefectDojo's "Generic Findings Import" reports, JSON ({"findings": […]}
// with optional report-level type, name, version, description) and CSV (a header row naming
// DefectDojo's columns: Date, Title, CweId, Url, Severity, Description, Mitigation, Impact,
// References, Active, Verified, FalsePositive, Duplicate, …), into the normalised
// importers.Report. One format, "generic", reads both: a file whose first byte (after a byte
// order mark and white space) is '{' is JSON, anything else CSV. A team moving from DefectDojo
// exports each product's findings in this format and imports each file with `soc import --format
// generic --asset <asset> export.json`.
//
// # What is read
//
// Every finding (JSON element or CSV row) becomes one finding per endpoint (the JSON endpoints,
// strings or {protocol, host, port, path, query, fragment} objects, or the CSV Url), each on the
// endpoint's asset: a URL with an http(s) scheme is a web_application identified by its base URL,
// any other endpoint a host identified by its IP address or host name. A finding without
// endpoints is on one asset that stands for the report, a repository named after the report's
// type and name (JSON) or "generic findings" (CSV), which only the report's Target identifies:
// pass an asset to attach those findings to a known one. CVEs and GHSAs come from cve,
// vulnerability_ids (JSON) and CVE, Vulnerability Id (CSV); CWEs from cwe and cwes (CweId and
// CweIds); CVSS vectors from cvssv3 and cvssv4 (CVSSV3, CVSSV4) with their scores; the component
// from component_name, component_version and fix_version; the location from file_path, line and
// param; mitigation is the remediation, impact, steps_to_reproduce and payload the evidence.
//
// Severity: Critical, High, Medium, Low (any case) map to the same word; Info, Informational and
// None to info. JSON refuses any other value, as DefectDojo does; CSV reads it, an empty cell
// too, as info with a warning (DefectDojo reads it as Info silently).
//
// Status: false_p (FalsePositive) marks the finding Suppressed as a false positive,
// risk_accepted as accepted, out_of_scope as not affected, is_mitigated (IsMitigated) and an
// inactive finding (active false, or an Active column whose value does not start with "t") as
// resolved.
//
// # Fingerprints
//
// DefectDojo deduplicates generic findings by a hash of title, cwe, line, file path and
// description. A line moves whenever code above it changes and a description often carries
// evidence or dates, so that hash would resolve and reopen findings on every reimport; the
// fingerprint here is, in order of preference, the hex SHA-256 of the JSON array
//
//	["generic/v1", "uid", unique_id_from_tool, endpoint]
//	["generic/v1", "rule", vuln_id_from_tool, component_name, component_version, file_path, endpoint]
//	["generic/v1", "title", title, severity, component_name, file_path, endpoint]
//
// where endpoint is the endpoint's URL as written (a host alone for a host), "" without one. A
// unique_id_from_tool that several findings of the report share is not used (DefectDojo drops it
// too); findings that still share a fingerprint are merged.
//
// # Limits
//
// JSON is read as the other jsonguard parsers read theirs (Parser.MaxBytes, Parser.MaxDepth),
// CSV through csvscan (records of at most 8 MiB); errors are *importers.ParseError with a line
// and column, and ctx.Err() unwrapped on cancellation.
package generic

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/csvscan"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

const formatName = "generic"

// Parser parses DefectDojo generic findings. The zero value uses the default limits.
type Parser struct{ jsonguard.Limits }

// New returns a generic findings parser with the default limits.
func New() importers.Parser { return &Parser{} }

// Format implements importers.Parser.
func (*Parser) Format() string { return formatName }

// reportKeys are the members of a JSON report DefectDojo documents.
var reportKeys = map[string]bool{"/findings": true, "/type": true, "/name": true, "/version": true,
	"/description": true, "/static_tool": true, "/dynamic_tool": true, "/soc": true}

// Detect reports whether head starts a generic findings report: a JSON object with a findings
// array and only DefectDojo's report-level members, whose first finding has a title (an
// Inspector2 finding has a findingArn instead); or, as DefectDojo ignores other report-level
// members (exports carry a "title", say), one with other members whose first finding has all of
// DefectDojo's required fields, title, severity and description; or a CSV header naming Title
// and Severity and one of Date, Description, CweId, Url.
func (*Parser) Detect(head []byte) bool {
	p := jsonguard.HeadPaths(head)
	if p[""] == "{" {
		if p["/findings"] != "[" {
			return false
		}
		known := true
		for path := range p {
			if strings.Count(path, "/") == 1 && !reportKeys[path] {
				known = false
			}
		}
		_, first := p["/findings/0"]
		if !first {
			return known
		}
		_, title := p["/findings/0/title"]
		_, arn := p["/findings/0/findingArn"]
		if !known {
			_, sev := p["/findings/0/severity"]
			_, desc := p["/findings/0/description"]
			title = title && sev && desc
		}
		return p["/findings/0"] == "{" && title && !arn
	}
	h := csvscan.Header(head, 2)
	return h != nil && csvscan.HasColumns(h, "Title", "Severity") &&
		(csvscan.HasColumns(h, "Date") || csvscan.HasColumns(h, "Description") || csvscan.HasColumns(h, "CweId") || csvscan.HasColumns(h, "Url"))
}

// Info implements importers.Describer.
func (*Parser) Info() importers.FormatInfo {
	return importers.FormatInfo{
		Name:     formatName,
		Title:    "DefectDojo Generic Findings Import (JSON and CSV)",
		Family:   "generic",
		Versions: []string{"DefectDojo 2.x generic findings JSON", "DefectDojo 2.x generic findings CSV"},
		Detection: `JSON: an object with a "findings" array (and only type, name, version, description, static_tool, ` +
			`dynamic_tool, soc beside it) whose first finding has a title, or with other members beside it whose first ` +
			`finding has title, severity and description; CSV: a header naming Title and Severity ` +
			`and one of Date, Description, CweId, Url`,
		Fingerprint: []string{"unique_id_from_tool + endpoint",
			"else vuln_id_from_tool + component_name + component_version + file_path + endpoint",
			"else title + severity + component_name + file_path + endpoint"},
		Severity: map[string]importers.Severity{
			"Critical": importers.Critical, "High": importers.High, "Medium": importers.Medium, "Low": importers.Low,
			"Info": importers.Info, "Informational": importers.Info, "None": importers.Info,
		},
		Notes: "Moving from DefectDojo: export each product's findings in this format and run " +
			"`soc import --format generic --asset <asset> export.json` per product (findings without endpoints are " +
			"otherwise attached weakly, by the report's type and name). One finding per endpoint. false_p marks a " +
			"finding false positive, risk_accepted accepted, out_of_scope not affected, is_mitigated and inactive " +
			"resolved. DefectDojo's own hash (title, cwe, line, file path, description) is not used: lines and " +
			"descriptions change between scans of the same issue. CSV severities other than the five words are " +
			"read as info with a warning; JSON ones refuse the report, as in DefectDojo.",
	}
}

// Parse implements importers.Parser.
func (p *Parser) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	br := bufio.NewReaderSize(r, 4096)
	if firstByte(br) == '{' {
		return p.parseJSON(ctx, br)
	}
	return parseCSV(ctx, br)
}

// firstByte is the first byte of the buffered input after a UTF-8 byte order mark and white
// space, looking no further than the buffer (0 when there is none).
func firstByte(br *bufio.Reader) byte {
	head, _ := br.Peek(br.Size())
	head = []byte(strings.TrimPrefix(string(head), "\xEF\xBB\xBF"))
	for _, c := range head {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return c
		}
	}
	return 0
}

// item is one finding of either shape, before it is split by endpoint and fingerprinted.
type item struct {
	f                        importers.Finding // without asset, location endpoint or fingerprint
	endpoints                []endpoint
	uid, vulnID              string
	component, version, file string
	severityWord             string
}

// endpoint is a place a finding was seen at: Raw as written, with its parts.
type endpoint struct {
	Raw, Scheme, Host, Path string
	Port                    int
}

// parseEndpoint reads a URL or host ("https://a.example:8443/x", "a.example", "10.0.0.1:22").
func parseEndpoint(raw string) endpoint {
	raw = strings.TrimSpace(raw)
	e := endpoint{Raw: raw}
	s := raw
	if !strings.Contains(s, "://") {
		s = "none://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" {
		e.Host = raw
		return e
	}
	if u.Scheme != "none" {
		e.Scheme = strings.ToLower(u.Scheme)
	}
	e.Host, e.Path = strings.ToLower(u.Hostname()), u.Path
	e.Port, _ = strconv.Atoi(u.Port())
	return e
}

// builder gathers the items and makes the report from them.
type builder struct {
	items    []item
	warnings []string
	target   string // the report's own name, for the asset of findings without endpoints
}

func (b *builder) report() *importers.Report {
	rep := &importers.Report{Format: formatName, ScannerName: "DefectDojo generic findings", Warnings: b.warnings}
	uids := map[string]int{}
	for i := range b.items {
		if u := b.items[i].uid; u != "" {
			uids[u]++
		}
	}
	var assets parseutil.AssetSet
	var findings parseutil.FindingSet
	for i := range b.items {
		it := &b.items[i]
		eps := it.endpoints
		if len(eps) == 0 {
			eps = []endpoint{{}}
		}
		for _, e := range eps {
			f := it.f
			f.AssetKey = b.asset(&assets, e)
			if e.Raw != "" {
				f.Location.URL, f.Location.Host, f.Location.Port = e.Raw, e.Host, e.Port
				if e.Scheme == "" {
					f.Location.URL = ""
				}
			}
			f.Fingerprint = fingerprint(it, e.Raw, uids[it.uid] == 1)
			findings.Add(f)
		}
	}
	rep.Assets, rep.Findings = assets.Assets(), findings.Findings()
	for _, a := range rep.Assets {
		if a.Key == reportKey {
			rep.Target = &importers.Target{Name: a.Name, Hint: "scan"}
		}
	}
	return rep
}

const reportKey = "report"

// asset returns the key of the asset of endpoint e, adding it on first sight.
func (b *builder) asset(set *parseutil.AssetSet, e endpoint) string {
	var a importers.Asset
	switch {
	case e.Host == "":
		a = importers.Asset{Key: reportKey, Kind: importers.Repository, Name: parseutil.FirstNonEmpty(b.target, "generic findings")}
	case e.Scheme == "http" || e.Scheme == "https":
		base := e.Scheme + "://" + e.Host
		if e.Port != 0 && !(e.Scheme == "http" && e.Port == 80) && !(e.Scheme == "https" && e.Port == 443) {
			base += ":" + strconv.Itoa(e.Port)
		}
		a = importers.Asset{Key: "web:" + base, Kind: importers.WebApplication, Name: base, BaseURL: base}
	default:
		a = importers.Asset{Key: "host:" + e.Host, Kind: importers.Host, Name: e.Host}
		if ip := net.ParseIP(e.Host); ip != nil {
			a.IPs = []string{ip.String()}
		} else {
			a.Hostnames = []string{e.Host}
		}
	}
	if set.Get(a.Key) == nil {
		set.Add(a)
	}
	return a.Key
}

func fingerprint(it *item, endpoint string, uidUnique bool) string {
	switch {
	case it.uid != "" && uidUnique:
		return parseutil.FingerprintJSON("generic/v1", "uid", it.uid, endpoint)
	case it.vulnID != "":
		return parseutil.FingerprintJSON("generic/v1", "rule", it.vulnID, it.component, it.version, it.file, endpoint)
	}
	return parseutil.FingerprintJSON("generic/v1", "title", it.f.Title, it.severityWord, it.component, it.file, endpoint)
}

// severity maps a DefectDojo severity word; ok is false for any other.
func severity(word string) (importers.Severity, bool) {
	w := strings.ToLower(strings.TrimSpace(word))
	if s, ok := parseutil.SeverityWord(w); ok {
		return s, true
	}
	switch w {
	case "info", "informational", "none":
		return importers.Info, true
	}
	return importers.Info, false
}

// status is the verdict DefectDojo's flags give, the most specific first.
func status(falseP, accepted, outOfScope, mitigated, inactive bool) *importers.Suppression {
	s := func(k importers.SuppressionKind, reason string) *importers.Suppression {
		return &importers.Suppression{Kind: k, Reason: reason, Source: "defectdojo finding status"}
	}
	switch {
	case falseP:
		return s(importers.SuppressedFalsePositive, "false positive")
	case accepted:
		return s(importers.SuppressedAccepted, "risk accepted")
	case outOfScope:
		return s(importers.SuppressedNotAffected, "out of scope")
	case mitigated:
		return s(importers.SuppressedResolved, "mitigated")
	case inactive:
		return s(importers.SuppressedResolved, "inactive")
	}
	return nil
}

// addCWE adds a CWE given as a number or a CWE-n label.
func addCWE(f *importers.Finding, v string) {
	if c := parseutil.CWENumber(v); c != "" {
		f.CWEs = parseutil.AddUnique(f.CWEs, c)
	} else if c, ok := parseutil.NormCWE(v); ok {
		f.CWEs = parseutil.AddUnique(f.CWEs, c)
	}
}

// addVector adds a CVSS v3 or v4 vector with its score; a vector without its CVSS:x.y/ prefix is
// ignored (DefectDojo ignores it too) and reported.
func (b *builder) addVector(f *importers.Finding, vector, score, where string) {
	vector = strings.TrimSpace(vector)
	if vector == "" {
		return
	}
	version, ok := parseutil.CVSSVersion("", vector)
	if !ok {
		b.warnings = append(b.warnings, where+": CVSS vector "+strconv.Quote(parseutil.TruncateEllipsis(vector, 60))+" lacks its CVSS:x.y/ prefix: ignored")
		return
	}
	s, err := parseutil.Number(score, 0, 10)
	if err != nil {
		b.warnings = append(b.warnings, where+": CVSS score "+strconv.Quote(parseutil.TruncateEllipsis(score, 20))+" is not a number in 0..10: ignored")
	}
	f.CVSS = parseutil.AddCVSS(f.CVSS, importers.CVSS{Version: version, Vector: vector, Score: s})
}

// evidence joins the labelled texts that are not empty.
func evidence(parts ...string) string {
	var out []string
	for i := 0; i+1 < len(parts); i += 2 {
		if v := strings.TrimSpace(parts[i+1]); v != "" {
			out = append(out, parts[i]+": "+v)
		}
	}
	return parseutil.Truncate(strings.Join(out, "\n\n"), parseutil.MaxEvidence)
}

// references splits DefectDojo's references text (one string, references on separate lines).
func references(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		out = parseutil.AddUnique(out, strings.TrimSpace(line))
	}
	return out
}
