// Package veracode reads Veracode detailed reports (detailedreport.do / "Download XML report",
// report_format_version 1.x): <detailedreport app_name=… app_id=…> → <severity level=0..5> →
// <category> (desc, recommendations) → <cwe> → <staticflaws|dynamicflaws|manualflaws> → <flaw>,
// and <software_composition_analysis> → <vulnerable_components> → <component> →
// <vulnerabilities> → <vulnerability>. Read in one streaming token loop; a flaw or a component is
// read as a small tree (xmlscan.Tree) and dropped once mapped.
//
// Mapping:
//   - the application is one repository asset: key "app:" + app_id (else app_name), named
//     app_name, with no identifier Veracode knows of (a repository URL is not in the report), so
//     Target is the application name (hint "artifact") for a weak identity.
//   - each flaw is a finding: RuleID "CWE-n" (cweid; else the categoryid), title the flaw's
//     categoryname, description its description, remediation the category's recommendations;
//     location the sourcefilepath + sourcefile and line (static) or url and vuln_parameter
//     (dynamic). Severity 5 → critical, 4 → high, 3 → medium, 2 → low, 1 and 0 → info
//     (Veracode's Very High, High, Medium, Low, Very Low, Informational).
//   - each SCA vulnerability is a finding on its component (library, version, the
//     maven:group:artifact:version library_id as a package URL, the file path): CVE from
//     cve_id (a Veracode SRCCLR-SID id is kept as the RuleID and a reference), CWE from
//     cwe_id; its severity uses the same 0..5 scale. cvss_score has no vector and is not kept as
//     a rating (the vulns context scores from vectors); it is part of ScannerSeverity.
//   - verdicts: remediation_status Fixed → Suppression resolved; an accepted mitigation
//     (mitigation_status "accepted" on a flaw, mitigation="true" on an SCA vulnerability) →
//     false_positive when the mitigation proposed was "Potential False Positive", else accepted
//     (Mitigate by Design / Network / OS Environment, Accept the Risk, Reported to Library
//     Maintainer), with the proposal's description as the reason.
//
// Fingerprint: lower-case hex SHA-256 of the canonical string
//
//	veracode/v1|<app>|flaw|<issueid>         (static, dynamic and manual flaws)
//	veracode/v1|<app>|sca|<library_id>|<cve_id>
//
// where app is app_id, else app_name. Veracode's issueid is its own stable flaw id (the same
// across builds, whatever the line), so it alone names a flaw within an application.
//
// Limits: the xmlscan ones, a flaw without issueid, a severity outside 0..5, a line that is not
// a number and a component without library or file name are refused with a
// *importers.ParseError naming line and column.
package veracode

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
	"github.com/socplatform/soc/commands/scans/importers/internal/readguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/xmlscan"
)

const format = "veracode"

// New returns the Veracode detailed report parser.
func New() importers.Parser {
	return &xmlscan.Format{Name: format, Root: isRoot, Other: detectAPI, Read: read, Describe: describe}
}

// describe documents the format for the format list.
func describe() importers.FormatInfo {
	return importers.FormatInfo{
		Name:     format,
		Title:    "Veracode detailed report XML (detailedreport.do) and findings REST API JSON",
		Family:   "sast",
		Versions: []string{"report_format_version 1.x", "findings API v2 JSON (_embedded.findings, findings[], or an array)"},
		Detection: "document element <detailedreport> in the Veracode export namespace, or with app_name and report_format_version attributes; " +
			"or JSON whose first finding has a scan_type (STATIC, DYNAMIC, MANUAL, SCA) beside finding_status, finding_details, context_guid or issue_id",
		Fingerprint: []string{"app_id (else app_name; context_guid in the API JSON)", "issueid (flaws; issue_id in the API JSON)",
			"library_id + cve_id (SCA; component_filename@version + cve.name in the API JSON)"},
		Severity: map[string]importers.Severity{
			"5 (Very High)": importers.Critical, "4 (High)": importers.High, "3 (Medium)": importers.Medium,
			"2 (Low)": importers.Low, "1 (Very Low)": importers.Info, "0 (Informational)": importers.Info,
		},
		Notes: "One repository asset per application (weak identity by app name). remediation_status Fixed imports as resolved; " +
			"an accepted mitigation as false positive (Potential False Positive) or risk accepted (every other mitigation). " +
			"The findings API JSON maps the same way: an APPROVED resolution POTENTIAL_FALSE_POSITIVE is false positive, another approved " +
			"resolution accepted, a CLOSED finding resolved; its application is named by GUID only, so its fingerprints differ from the XML's.",
	}
}

// isRoot reports whether se, an XML document's element, starts a Veracode detailed report. (A
// head that is not XML may be a findings API page, api.go.)
func isRoot(se xml.StartElement, _ []byte) bool {
	return se.Name.Local == "detailedreport" &&
		(strings.Contains(se.Name.Space, "veracode.com") || xmlscan.Attr(se, "app_name") != "" && xmlscan.Attr(se, "report_format_version") != "")
}

type builder struct {
	s        *xmlscan.Scanner
	app      string // fingerprint scope: app_id, else app_name
	key      string
	fs       parseutil.FindingSet
	category category
}

// category is what a <category> says of all its flaws.
type category struct{ id, name, recommendations string }

// read parses a Veracode detailed report, or a findings API page (api.go) when it starts as JSON.
func read(ctx context.Context, r io.Reader) (*importers.Report, error) {
	br, first := readguard.Sniff(r)
	if first == '{' || first == '[' {
		return parseAPI(ctx, br)
	}
	return xmlscan.Report(ctx, br, format, xmlscan.XMLOnly(format, "a Veracode detailed report"), func(s *xmlscan.Scanner, root xml.StartElement) (*importers.Report, error) {
		if root.Name.Local != "detailedreport" {
			return nil, s.Errorf("document element is <%s>, not <detailedreport>", root.Name.Local)
		}
		name := parseutil.Truncate(strings.TrimSpace(xmlscan.Attr(root, "app_name")), parseutil.MaxShort)
		id := parseutil.Truncate(strings.TrimSpace(xmlscan.Attr(root, "app_id")), parseutil.MaxShort)
		b := &builder{s: s, app: parseutil.FirstNonEmpty(id, name)}
		if b.app == "" {
			return nil, s.Errorf("<detailedreport> names no application (no app_id or app_name)")
		}
		b.key = "app:" + b.app
		err := s.Children(func(se xml.StartElement) error {
			switch se.Name.Local {
			case "severity":
				return s.Each("category", b.readCategory)
			case "software_composition_analysis":
				return s.Each("vulnerable_components", func(xml.StartElement) error {
					return s.Each("component", b.readComponent)
				})
			}
			return s.Skip()
		})
		if err != nil {
			return nil, err
		}
		return &importers.Report{
			Format:         format,
			ScannerName:    "Veracode",
			ScannerVersion: parseutil.Truncate(xmlscan.Attr(root, "report_format_version"), parseutil.MaxShort),
			FinishedAt:     reportTime(xmlscan.Attr(root, "generation_date")),
			Assets:         []importers.Asset{{Key: b.key, Kind: importers.Repository, Name: parseutil.FirstNonEmpty(name, id)}},
			Findings:       b.fs.Findings(),
			Target:         &importers.Target{Name: parseutil.FirstNonEmpty(name, id), Hint: "artifact"},
		}, nil
	})
}

// reportTime reads Veracode's "2023-03-07 14:45:59 UTC".
func reportTime(v string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05 MST", strings.TrimSpace(v))
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

func (b *builder) readCategory(se xml.StartElement) error {
	b.category = category{
		id:   parseutil.Truncate(xmlscan.Attr(se, "categoryid"), parseutil.MaxShort),
		name: parseutil.Truncate(xmlscan.Attr(se, "categoryname"), parseutil.MaxShort),
	}
	s := b.s
	return s.Children(func(se xml.StartElement) error {
		switch se.Name.Local {
		case "recommendations":
			n, err := s.Tree(se, parseutil.MaxShort)
			if err != nil {
				return err
			}
			b.category.recommendations = parseutil.Truncate(paras(n), parseutil.MaxField)
			return nil
		case "cwe":
			return s.Children(func(se xml.StartElement) error {
				switch se.Name.Local {
				case "staticflaws", "dynamicflaws", "manualflaws":
					return s.Each("flaw", b.readFlaw)
				}
				return s.Skip()
			})
		}
		return s.Skip()
	})
}

// paras is the text of a desc or recommendations element: its paragraphs' text attributes
// (Veracode writes prose in attributes) and bullet items, one per line.
func paras(n *xmlscan.Node) string {
	var lines []string
	var walk func(n *xmlscan.Node)
	walk = func(n *xmlscan.Node) {
		if t := strings.TrimSpace(n.AttrValue("text")); t != "" {
			if n.Name == "bulletitem" {
				t = "- " + t
			}
			lines = append(lines, t)
		}
		for _, k := range n.Kids {
			walk(k)
		}
	}
	walk(n)
	return strings.Join(lines, "\n")
}

// fail is a ParseError at the start of the element being read.
type fail func(format string, args ...any) error

func (b *builder) failAt() fail {
	line, col, off := b.s.Pos()
	return func(f string, args ...any) error {
		return &importers.ParseError{Format: format, Offset: off, Line: line, Column: col, Msg: fmt.Sprintf(f, args...)}
	}
}

func attr(n *xmlscan.Node, name string) string {
	return parseutil.Truncate(strings.TrimSpace(n.AttrValue(name)), parseutil.MaxShort)
}

func (b *builder) readFlaw(se xml.StartElement) error {
	failf := b.failAt()
	n, err := b.s.Tree(se, parseutil.MaxShort)
	if err != nil {
		return err
	}
	issue := attr(n, "issueid")
	if issue == "" {
		return failf("flaw without an issueid")
	}
	sev, err := severity(n.AttrValue("severity"))
	if err != nil {
		return failf("flaw %s: %v", issue, err)
	}
	f := importers.Finding{
		AssetKey:        b.key,
		Fingerprint:     parseutil.FingerprintCanonical("veracode/v1", b.app, "flaw", issue),
		Title:           parseutil.FirstNonEmpty(attr(n, "categoryname"), b.category.name, "Veracode flaw "+issue),
		Severity:        sev,
		ScannerSeverity: strings.TrimSpace(n.AttrValue("severity")),
		RuleID:          b.category.id,
		Description:     parseutil.Truncate(strings.TrimSpace(n.AttrValue("description")), parseutil.MaxField),
		Remediation:     b.category.recommendations,
	}
	if cwe := parseutil.CWENumber(n.AttrValue("cweid")); cwe != "" {
		f.CWEs, f.RuleID = []string{cwe}, cwe
	}
	if file := attr(n, "sourcefile"); file != "" {
		f.Location.File = parseutil.Truncate(attr(n, "sourcefilepath")+file, parseutil.MaxShort)
	}
	if v := strings.TrimSpace(n.AttrValue("line")); v != "" {
		line, err := strconv.Atoi(v)
		if err != nil || line < 0 {
			return failf("flaw %s: line %q is not a number", issue, parseutil.Truncate(v, 64))
		}
		f.Location.Line = line
	}
	f.Location.URL = attr(n, "url")
	f.Location.Param = attr(n, "vuln_parameter")
	if f.Location.File == "" && f.Location.URL == "" {
		f.Location.File = attr(n, "module")
	}
	switch {
	case strings.EqualFold(strings.TrimSpace(n.AttrValue("remediation_status")), "fixed"):
		f.Suppressed = &importers.Suppression{Kind: importers.SuppressedResolved, Reason: "remediation_status Fixed", Source: "veracode remediation_status"}
	case strings.EqualFold(strings.TrimSpace(n.AttrValue("mitigation_status")), "accepted"):
		f.Suppressed = mitigation(n, "")
	}
	b.fs.Add(f)
	return nil
}

// mitigation is the verdict of an accepted mitigation: the latest proposal among the
// <mitigations> (approvals, rejections and comments are not proposals), else fallback (the SCA
// vulnerability's mitigation_type).
func mitigation(n *xmlscan.Node, fallback string) *importers.Suppression {
	action, reason, date := fallback, "", ""
	for _, m := range n.All("mitigations", "mitigation") {
		a := strings.TrimSpace(m.AttrValue("action"))
		switch strings.ToLower(a) {
		case "", "approve mitigation", "reject mitigation", "comment":
			continue
		}
		// Dates are "2022-12-12 15:59:53 UTC": in order as strings.
		if d := m.AttrValue("date"); date == "" || d > date {
			action, reason, date = a, strings.TrimSpace(m.AttrValue("description")), d
		}
	}
	kind := importers.SuppressedAccepted
	if strings.EqualFold(action, "Potential False Positive") {
		kind = importers.SuppressedFalsePositive
	}
	why := parseutil.FirstNonEmpty(action, "mitigation accepted")
	if reason != "" {
		why += ": " + reason
	}
	return &importers.Suppression{Kind: kind, Reason: parseutil.Truncate(why, parseutil.MaxField), Source: "veracode mitigation"}
}

// severity maps Veracode's 0..5 scale.
func severity(v string) (importers.Severity, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 || n > 5 {
		return "", fmt.Errorf("severity %q is not a number in 0..5", parseutil.Truncate(v, 64))
	}
	return []importers.Severity{importers.Info, importers.Info, importers.Low, importers.Medium, importers.High, importers.Critical}[n], nil
}

func (b *builder) readComponent(se xml.StartElement) error {
	failf := b.failAt()
	n, err := b.s.Tree(se, parseutil.MaxShort)
	if err != nil {
		return err
	}
	c := importers.Component{
		Name:    parseutil.FirstNonEmpty(attr(n, "library"), attr(n, "file_name")),
		Version: attr(n, "version"),
	}
	if c.Name == "" {
		return failf("component without a library or file name")
	}
	libID := parseutil.FirstNonEmpty(attr(n, "library_id"), c.Name+"@"+c.Version)
	c.Type, c.PURL = libraryPURL(libID)
	if paths := n.All("file_paths", "file_path"); len(paths) > 0 {
		c.Path = attr(paths[0], "value")
	}
	for _, v := range n.All("vulnerabilities", "vulnerability") {
		id := attr(v, "cve_id")
		if id == "" {
			return failf("component %s: vulnerability without a cve_id", c.Name)
		}
		sev, err := severity(v.AttrValue("severity"))
		if err != nil {
			return failf("component %s, %s: %v", c.Name, id, err)
		}
		comp := c
		f := importers.Finding{
			AssetKey:        b.key,
			Fingerprint:     parseutil.FingerprintCanonical("veracode/v1", b.app, "sca", libID, id),
			Title:           id + " in " + c.Name + " " + c.Version,
			Severity:        sev,
			ScannerSeverity: scaSeverity(v),
			RuleID:          id,
			Component:       &comp,
			Location:        importers.Location{File: c.Path},
			Description:     parseutil.Truncate(strings.TrimSpace(v.AttrValue("cve_summary")), parseutil.MaxField),
		}
		if cve, ok := parseutil.NormCVE(id); ok {
			f.CVEs = []string{cve}
		} else {
			f.References = []string{id}
		}
		if cwe, ok := parseutil.NormCWE(v.AttrValue("cwe_id")); ok {
			f.CWEs = []string{cwe}
		}
		if strings.EqualFold(strings.TrimSpace(v.AttrValue("mitigation")), "true") {
			f.Suppressed = mitigation(v, attr(v, "mitigation_type"))
		}
		b.fs.Add(f)
	}
	return nil
}

// scaSeverity is the vulnerability's severity as written: "4 (High), CVSS 6.4".
func scaSeverity(v *xmlscan.Node) string {
	s := strings.TrimSpace(v.AttrValue("severity"))
	if d := attr(v, "severity_desc"); d != "" {
		s += " (" + d + ")"
	}
	if c := attr(v, "cvss_score"); c != "" {
		s += ", CVSS " + c
	}
	return parseutil.Truncate(s, parseutil.MaxShort)
}

// libraryPURL reads Veracode's library_id ("maven:group:artifact:version:"): its package type,
// and a package URL for maven coordinates.
func libraryPURL(id string) (typ, purl string) {
	parts := strings.Split(id, ":")
	if len(parts) < 2 {
		return "", ""
	}
	typ = strings.ToLower(parts[0])
	if typ == "maven" && len(parts) >= 4 && parts[1] != "" && parts[2] != "" && parts[3] != "" {
		purl = "pkg:maven/" + parts[1] + "/" + parts[2] + "@" + parts[3]
	}
	return typ, purl
}
