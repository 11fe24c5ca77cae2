// Package depcheck parses OWASP Dependency-Check reports, XML (`-f XML`) and JSON (`-f JSON`),
// into the normalised importers.Report. One format name, "dependency-check", reads both: they are
// the same report in two encodings, and a user should not have to say which one they hold.
//
// # What is read
//
// XML: the document element is <analysis> in the namespace
// https://jeremylong.github.io/DependencyCheck/dependency-check.<schema>.xsd, schema 1.x (the
// 3.x engine: flat <cvssScore>, <cvssAccessVector>…, <cwe>, <identifiers><identifier>), 2.x–3.x
// (engine 5–8: <cvssV2>, <cvssV3>, <cwes>, <packages><package><id>) and 4.x and later (same
// elements, <cvssV4>). JSON: an object with reportSchema and dependencies[] (the same fields,
// cvssv2/cvssv3/cvssv4 in lower case).
//
// One asset per report, a repository named after projectInfo.name (key
// "dependency-check:"+name; "dependency-check:" when the report names no project); Target is
// that name (hint "scan"). Each vulnerability of each dependency is one finding; each
// suppressed vulnerability (suppressedVulnerabilities, written when a suppression file matched)
// is one too, Suppressed false_positive (Dependency-Check suppressions are its way of marking
// false positives), reason the vulnerability's notes. Per finding: the vulnerability name (a
// CVE, a GHSA, an advisory id; a bare advisory number gets its source as prefix, "NSP-3") is
// the RuleID and, when it is one, the CVE or GHSA; CVSS ratings from cvssV2, cvssV3 and cvssV4 (the v2 and v3 vectors are assembled from
// the metric elements the report gives, not computed; v4 from vectorString) with the report's
// base scores; CWEs from cwes (or cwe); references from references/url; the component from the
// dependency's first package id (a purl) else its identifier or fileName ("name:version"), its
// filePath as Path and Location.File.
//
// Severity: the vulnerability's severity (else cvssV3 baseSeverity, else cvssV2 severity):
// CRITICAL, HIGH, MEDIUM or MODERATE, LOW map to ours; anything else (Unknown, "") is derived
// from the highest base score given (>=9 critical, >=7 high, >=4 medium, >0 low), else info.
//
// # Fingerprints
//
// The lower-case hex SHA-256 of the JSON encoding of
//
//	["dependency-check/v1", asset key, dependency identity, vulnerability name]
//
// where the dependency identity is its first package id (a purl, the same wherever the jar is
// unpacked), else "sha256:"+sha256 (else sha1, else md5) + " " + fileName, else filePath. A
// second dependency entry with the same identity and vulnerability merges into the first
// finding.
//
// # Limits
//
// XML: xmlscan's bounds (no DTD, no entities, nesting and size limits). JSON: Parser.MaxBytes
// (512 MiB by default), Parser.MaxDepth (128 by default), invalid UTF-8 refused. Errors are
// positioned *importers.ParseError; a cancelled context gives ctx.Err() unwrapped.
package depcheck

import (
	"context"
	"encoding/xml"
	"io"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
	"github.com/socplatform/soc/commands/scans/importers/internal/readguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/xmlscan"
)

const formatName = "dependency-check"

// xmlNamespace starts the namespace of every Dependency-Check XML report schema.
const xmlNamespace = "https://jeremylong.github.io/DependencyCheck/dependency-check."

// Parser parses Dependency-Check reports. The zero value uses the default limits; they bound
// the JSON encoding (the XML one has xmlscan's).
type Parser struct{ jsonguard.Limits }

// New returns a Dependency-Check parser with the default limits.
func New() importers.Parser { return &Parser{} }

// Format implements importers.Parser.
func (*Parser) Format() string { return formatName }

// Detect reports whether head is the start of a Dependency-Check report: an <analysis> document
// element in a Dependency-Check namespace, or a JSON object with reportSchema beside scanInfo
// or dependencies.
func (*Parser) Detect(head []byte) bool {
	if root, ok := xmlscan.RootElement(head); ok {
		return isAnalysisRoot(root)
	}
	p := jsonguard.HeadPaths(head)
	if p[""] != "{" {
		return false
	}
	if _, ok := p["/reportSchema"]; !ok {
		return false
	}
	return p["/scanInfo"] == "{" || p["/dependencies"] == "["
}

// isAnalysisRoot reports whether se is a Dependency-Check <analysis>, in any schema version.
func isAnalysisRoot(se xml.StartElement) bool {
	return xmlscan.InNamespace(se, "analysis", xmlNamespace)
}

// report is what both encodings are read into.
type report struct {
	project, engine string
	deps            []dep
}

type dep struct {
	FileName, FilePath, SHA256, SHA1, MD5 string
	Packages                              []string // package ids (purls)
	Identifier                            string   // the schema 1.x identifier, "(name:version)"
	IdentifierType                        string
	Vulns, Suppressed                     []vuln
}

type vuln struct {
	Name, Source, Severity, Description, Notes string
	CVSS                                       []importers.CVSS
	CVSSv3Severity, CVSSv2Severity             string
	CWEs, References                           []string
}

// Parse implements importers.Parser.
func (p *Parser) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	br, first := readguard.Sniff(r)
	if first == '<' {
		return parseXML(ctx, br)
	}
	return p.parseJSON(ctx, br)
}

// identity is what the fingerprint knows a dependency by.
func (d *dep) identity() string {
	if len(d.Packages) > 0 {
		return d.Packages[0]
	}
	for _, h := range []struct{ algo, sum string }{{"sha256", d.SHA256}, {"sha1", d.SHA1}, {"md5", d.MD5}} {
		if h.sum != "" {
			return h.algo + ":" + h.sum + " " + d.FileName
		}
	}
	return d.FilePath
}

func build(ctx context.Context, rep *report, warnings []string) (*importers.Report, error) {
	out := &importers.Report{Format: formatName, ScannerName: "dependency-check", ScannerVersion: rep.engine,
		Assets: []importers.Asset{}, Findings: []importers.Finding{}, Warnings: warnings}
	asset := importers.Asset{Key: "dependency-check:" + rep.project, Kind: importers.Repository, Name: parseutil.FirstNonEmpty(rep.project, "dependency-check")}
	out.Assets = append(out.Assets, asset)
	if rep.project != "" {
		out.Target = &importers.Target{Name: rep.project, Hint: "scan"}
	}
	var set parseutil.FindingSet
	for i := range rep.deps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		d := &rep.deps[i]
		comp := component(d)
		for j := range d.Vulns {
			set.Add(finding(asset.Key, d, comp, &d.Vulns[j], nil))
		}
		for j := range d.Suppressed {
			v := &d.Suppressed[j]
			s := &importers.Suppression{Kind: importers.SuppressedFalsePositive, Reason: parseutil.FirstNonEmpty(v.Notes, "suppressed by a suppression file"), Source: "dependency-check suppression"}
			set.Add(finding(asset.Key, d, comp, v, s))
		}
	}
	out.Findings = set.Findings()
	return out, nil
}

// component is the package a dependency is: from its purl, else its schema 1.x identifier or
// file name ("name:version").
func component(d *dep) importers.Component {
	c := importers.Component{Path: d.FilePath}
	if len(d.Packages) > 0 && strings.HasPrefix(d.Packages[0], "pkg:") {
		c.PURL = d.Packages[0]
		c.Type = parseutil.PurlType(c.PURL)
		rest := c.PURL[strings.Index(c.PURL, "/")+1:]
		rest, _, _ = strings.Cut(rest, "?")
		nameVer, _, _ := strings.Cut(rest, "#")
		if at := strings.LastIndex(nameVer, "@"); at >= 0 {
			c.Name, c.Version = nameVer[:at], nameVer[at+1:]
		} else {
			c.Name = nameVer
		}
		c.Name = strings.ReplaceAll(c.Name, "/", ":")
		return c
	}
	c.Type = strings.ToLower(d.IdentifierType)
	id := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(d.Identifier), "("), ")")
	if id == "" && !strings.ContainsAny(d.FileName, `/\`) {
		id = d.FileName
	}
	if at := strings.LastIndex(id, ":"); at > 0 {
		c.Name, c.Version = id[:at], id[at+1:]
	} else {
		c.Name = parseutil.FirstNonEmpty(id, d.FileName)
	}
	return c
}

func severity(v *vuln) (importers.Severity, string) {
	for _, word := range []string{v.Severity, v.CVSSv3Severity, v.CVSSv2Severity} {
		w := strings.ToLower(strings.TrimSpace(word))
		if w == "moderate" {
			return importers.Medium, word
		}
		if s, ok := parseutil.SeverityWord(w); ok {
			return s, word
		}
	}
	if s, ok := parseutil.MaxScore(v.CVSS); ok {
		return parseutil.SeverityFromScore(s), v.Severity
	}
	return importers.Info, v.Severity
}

func finding(assetKey string, d *dep, comp importers.Component, v *vuln, s *importers.Suppression) importers.Finding {
	c := comp
	rule := v.Name
	if strings.Trim(rule, "0123456789") == "" && v.Source != "" {
		rule = v.Source + "-" + rule // an NSP or OSS Index advisory number: "NSP-3", not "3"
	}
	f := importers.Finding{
		AssetKey:    assetKey,
		RuleID:      rule,
		Title:       strings.TrimSpace(rule + " in " + parseutil.FirstNonEmpty(strings.TrimSpace(c.Name+" "+c.Version), d.FileName)),
		CVSS:        v.CVSS,
		CWEs:        v.CWEs,
		Component:   &c,
		Location:    importers.Location{File: d.FilePath},
		Description: v.Description,
		References:  v.References,
		Suppressed:  s,
	}
	f.Severity, f.ScannerSeverity = severity(v)
	if cve, ok := parseutil.NormCVE(v.Name); ok {
		f.CVEs = []string{cve}
	} else if g, ok := parseutil.NormGHSA(v.Name); ok {
		f.GHSAs = []string{g}
	}
	if v.Source != "" {
		f.Evidence = "Matched by the " + v.Source + " data source"
	}
	f.Fingerprint = parseutil.FingerprintJSON("dependency-check/v1", assetKey, d.identity(), v.Name)
	return f
}

// v3 and v2 metric letters, from the words the reports write.
var (
	v3Letters = map[string]string{
		"NETWORK": "N", "ADJACENT_NETWORK": "A", "ADJACENT": "A", "LOCAL": "L", "PHYSICAL": "P",
		"LOW": "L", "HIGH": "H", "NONE": "N", "REQUIRED": "R", "UNCHANGED": "U", "CHANGED": "C",
	}
	v2Letters = map[string]string{
		"NETWORK": "N", "ADJACENT_NETWORK": "A", "LOCAL": "L", "LOW": "L", "MEDIUM": "M", "HIGH": "H",
		"NONE": "N", "SINGLE": "S", "MULTIPLE": "M", "PARTIAL": "P", "COMPLETE": "C",
	}
)

// vector assembles a CVSS vector from the metric words of a report, in the order of names
// ("AV", "AC", …) and vals; "" when one is missing or unknown.
func vector(prefix string, letters map[string]string, names, vals []string) string {
	if len(vals) != len(names) {
		return ""
	}
	parts := []string{}
	if prefix != "" {
		parts = append(parts, prefix)
	}
	for i, n := range names {
		l, ok := letters[strings.ToUpper(strings.TrimSpace(vals[i]))]
		if !ok {
			return ""
		}
		parts = append(parts, n+":"+l)
	}
	return strings.Join(parts, "/")
}

var (
	v3Names = []string{"AV", "AC", "PR", "UI", "S", "C", "I", "A"}
	v2Names = []string{"AV", "AC", "Au", "C", "I", "A"}
)

// cvss3 is a v3 rating from its metric words; version is "3.0" or "3.1" ("" is 3.1, what NVD has
// published since 2019).
func cvss3(version string, score *float64, metrics ...string) importers.CVSS {
	if version != "3.0" {
		version = "3.1"
	}
	return importers.CVSS{Version: version, Vector: vector("CVSS:"+version, v3Letters, v3Names, metrics), Score: score, Source: "dependency-check"}
}

func cvss2(score *float64, metrics ...string) importers.CVSS {
	return importers.CVSS{Version: "2.0", Vector: vector("", v2Letters, v2Names, metrics), Score: score, Source: "dependency-check"}
}

func cvss4(vec string, score *float64) importers.CVSS {
	return importers.CVSS{Version: "4.0", Vector: vec, Score: score, Source: "dependency-check"}
}

// Info implements importers.Describer.
func (*Parser) Info() importers.FormatInfo {
	return importers.FormatInfo{
		Name:   formatName,
		Title:  "OWASP Dependency-Check XML and JSON (-f XML, -f JSON)",
		Family: "dependencies",
		Versions: []string{"XML schema 1.x (engine 3.x), 2.x–3.x (engine 5–8), 4.x and later (engine 9+)",
			"JSON reportSchema 1.x"},
		Detection: "XML: document element <analysis> in a namespace starting " + xmlNamespace +
			"; JSON: an object with reportSchema beside scanInfo or dependencies",
		Fingerprint: []string{"asset (project name)", "dependency: first package purl, else sha256 (sha1, md5) + fileName, else filePath", "vulnerability name"},
		Severity: map[string]importers.Severity{
			"CRITICAL": importers.Critical, "HIGH": importers.High, "MEDIUM / MODERATE": importers.Medium,
			"LOW": importers.Low, "other: from the highest base score, else": importers.Info,
		},
		Notes: "One finding per vulnerability per dependency; suppressedVulnerabilities are imported as suppressed " +
			"(false positive, the suppression's notes as reason). CVSS v2/v3 vectors are assembled from the metric " +
			"elements; related dependencies and evidence are not imported.",
	}
}
