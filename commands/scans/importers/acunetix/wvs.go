package acunetix

import (
	"encoding/xml"
	"fmt"
	"regexp"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
	"github.com/socplatform/soc/commands/scans/importers/internal/xmlscan"
)

func wvsSeverities() map[string]importers.Severity {
	return map[string]importers.Severity{
		"critical": importers.Critical, "high": importers.High, "medium": importers.Medium, "low": importers.Low,
		"info": importers.Info, "informational": importers.Info,
	}
}

// reportItem is one WVS ReportItem, its texts bounded as read.
type reportItem struct {
	name, module, details, affects, param, falsePositive, severity, typ string
	impact, description, detailed, recommendation, request, response    string
	cwe                                                                 string
	cves, refs                                                          []string
	cvss                                                                []importers.CVSS
}

// readScanGroup reads a WVS export: one asset per <Scan>.
func readScanGroup(s *xmlscan.Scanner, root xml.StartElement) (*importers.Report, error) {
	var st site
	var fs parseutil.FindingSet
	var started, finished string
	sev := wvsSeverities()
	err := s.Each("Scan", func(xml.StartElement) error {
		var startURL string
		var items []reportItem
		line, col, off := s.Pos()
		err := s.Fields(func(se xml.StartElement) error {
			if se.Name.Local != "ReportItems" {
				return s.Skip()
			}
			return s.Each("ReportItem", func(xml.StartElement) error {
				it, err := readReportItem(s)
				items = append(items, it)
				return err
			})
		},
			xmlscan.Text("StartURL", &startURL, parseutil.MaxShort),
			xmlscan.Text("StartTime", &started, parseutil.MaxShort),
			xmlscan.Text("FinishTime", &finished, parseutil.MaxShort))
		if err != nil {
			return err
		}
		failf := func(f string, args ...any) error {
			return &importers.ParseError{Format: format, Offset: off, Line: line, Column: col, Msg: fmt.Sprintf(f, args...)}
		}
		if startURL == "" {
			return failf("<Scan> without a StartURL")
		}
		key, base := st.add(startURL)
		for _, it := range items {
			f, err := it.finding(key, base, sev)
			if err != nil {
				return failf("%v", err)
			}
			fs.Add(f)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep := &importers.Report{
		Format:      format,
		ScannerName: "Acunetix",
		StartedAt:   reportTime(started),
		FinishedAt:  reportTime(finished),
		Assets:      st.assets.Assets(),
		Findings:    fs.Findings(),
		Target:      st.target,
	}
	if rep.FinishedAt.IsZero() {
		rep.FinishedAt = reportTime(xmlscan.Attr(root, "ExportedOn"))
	}
	return rep, nil
}

func readReportItem(s *xmlscan.Scanner) (reportItem, error) {
	var it reportItem
	short, field := parseutil.MaxShort, parseutil.MaxField
	err := s.Fields(func(se xml.StartElement) error {
		switch se.Name.Local {
		case "TechnicalDetails":
			return s.Fields(nil,
				xmlscan.Text("Request", &it.request, parseutil.MaxDump),
				xmlscan.Text("Response", &it.response, parseutil.MaxDump))
		case "CWE":
			v, err := s.Text(short)
			it.cwe = parseutil.FirstNonEmpty(parseutil.CWENumber(xmlscan.Attr(se, "id")), v)
			return err
		case "CVEList":
			n, err := s.Tree(se, short)
			if err == nil {
				it.cves = cves(n)
			}
			return err
		case "CVSS", "CVSS3":
			n, err := s.Tree(se, short)
			if err == nil {
				it.cvss = parseutil.AddCVSS(it.cvss, wvsCVSS(n))
			}
			return err
		case "References":
			return s.Each("Reference", func(xml.StartElement) error {
				var db, u string
				err := s.Fields(nil, xmlscan.Text("Database", &db, short), xmlscan.Text("URL", &u, short))
				it.refs = parseutil.AddUnique(it.refs, parseutil.FirstNonEmpty(u, db))
				return err
			})
		}
		return s.Skip()
	},
		xmlscan.Text("Name", &it.name, short),
		xmlscan.Text("ModuleName", &it.module, short),
		xmlscan.Text("Details", &it.details, field),
		xmlscan.Text("Affects", &it.affects, short),
		xmlscan.Text("Parameter", &it.param, short),
		xmlscan.Text("IsFalsePositive", &it.falsePositive, short),
		xmlscan.Text("Severity", &it.severity, short),
		xmlscan.Text("Type", &it.typ, short),
		xmlscan.Text("Impact", &it.impact, field),
		xmlscan.Text("Description", &it.description, field),
		xmlscan.Text("DetailedInformation", &it.detailed, field),
		xmlscan.Text("Recommendation", &it.recommendation, field))
	return it, err
}

var reCVE = regexp.MustCompile(`(?i)CVE-\d{4}-\d{4,}`)

// cves are the CVE ids written anywhere in a CVEList (<CVE>id</CVE> or nested elements).
func cves(n *xmlscan.Node) []string {
	var out []string
	var walk func(n *xmlscan.Node)
	walk = func(n *xmlscan.Node) {
		for _, m := range reCVE.FindAllString(n.Text, -1) {
			if id, ok := parseutil.NormCVE(m); ok {
				out = parseutil.AddUnique(out, id)
			}
		}
		for _, k := range n.Kids {
			walk(k)
		}
	}
	walk(n)
	return out
}

// reSetCookie finds the cookie a cookie check's Details names ("Set-Cookie: JSESSIONID=…").
var reSetCookie = regexp.MustCompile(`^\s*(?:<[^>]*>\s*)*Set-Cookie:\s*([^=;\s<>]+)=`)

// cookieName is the cookie a report item's Details shows being set, or "": Acunetix reports a
// cookie check (no HttpOnly, no Secure flag) once per cookie with an empty Parameter, and the
// cookie is what tells those items apart.
func cookieName(details string) string {
	if m := reSetCookie.FindStringSubmatch(details); m != nil {
		return m[1]
	}
	return ""
}

// wvsCVSS reads a <CVSS> (v2, bare vector) or <CVSS3> ("CVSS:3.x/…") element.
func wvsCVSS(n *xmlscan.Node) importers.CVSS {
	vector := strings.TrimSpace(n.Get("Descriptor"))
	c := importers.CVSS{Version: "2.0", Vector: vector, Source: "acunetix"}
	if v, rest, ok := strings.Cut(vector, "/"); ok && strings.HasPrefix(v, "CVSS:") {
		c.Version = strings.TrimPrefix(v, "CVSS:")
		if c.Version != "3.0" && c.Version != "3.1" && c.Version != "4.0" || rest == "" {
			return importers.CVSS{} // an unknown version: AddCVSS drops an empty rating
		}
	}
	if n.Name == "CVSS3" && c.Version == "2.0" {
		return importers.CVSS{}
	}
	if vector == "" {
		return importers.CVSS{}
	}
	// "5,3": the decimal comma of the exporting machine's locale.
	if score, err := parseutil.Number(strings.Replace(n.Get("Score"), ",", ".", 1), 0, 10); err == nil {
		c.Score = score
	}
	return c
}

func (it reportItem) finding(key, base string, sev map[string]importers.Severity) (importers.Finding, error) {
	if it.name == "" && it.module == "" {
		return importers.Finding{}, fmt.Errorf("a ReportItem without Name and ModuleName")
	}
	s, ok := sev[strings.ToLower(strings.TrimSpace(it.severity))]
	if !ok {
		return importers.Finding{}, fmt.Errorf("ReportItem %q: severity %q is none of critical, high, medium, low, info", it.name, parseutil.Truncate(it.severity, 64))
	}
	param := parseutil.FirstNonEmpty(it.param, cookieName(it.details))
	f := importers.Finding{
		AssetKey:        key,
		Fingerprint:     parseutil.FingerprintCanonical("acunetix/v1", base, it.module, it.name, it.affects, param),
		Title:           parseutil.FirstNonEmpty(it.name, it.module),
		Severity:        s,
		ScannerSeverity: it.severity,
		RuleID:          parseutil.FirstNonEmpty(it.module, it.name),
		CVSS:            it.cvss,
		CVEs:            it.cves,
		Location:        importers.Location{URL: under(base, it.affects), Param: param},
		Description:     parseutil.PlainParagraphs(it.description, it.detailed, it.impact),
		Remediation:     parseutil.PlainParagraphs(it.recommendation),
		References:      it.refs,
		Evidence:        parseutil.Exchange(parseutil.PlainText(it.details), it.request, it.response),
	}
	if cwe, ok := parseutil.NormCWE(it.cwe); ok {
		f.CWEs = []string{cwe}
	}
	if strings.EqualFold(strings.TrimSpace(it.falsePositive), "true") {
		f.Suppressed = &importers.Suppression{Kind: importers.SuppressedFalsePositive, Reason: "IsFalsePositive True", Source: "acunetix IsFalsePositive"}
	}
	return f, nil
}
