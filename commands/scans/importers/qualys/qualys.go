// Package qualys parses Qualys XML reports into the normalised importers.Report: VM scan reports
// (<SCAN>, scan-1.dtd: the scan results of Qualys VM/VMDR) and WAS scan reports
// (<WAS_SCAN_REPORT>, Qualys Web Application Scanning).
//
// # VM scan reports
//
// Each <IP value=… name=…> is a host asset keyed by its address, with the name as a hostname
// (unless Qualys wrote "No registered hostname") and <OS> as OS. Each record under it
// (INFOS/CAT/INFO: information gathered, SERVICES/CAT/SERVICE: services, VULNS/CAT/VULN:
// confirmed vulnerabilities, PRACTICES/CAT/PRACTICE: potential vulnerabilities) is a finding:
// the QID (@number) is the RuleID, TITLE the title, DIAGNOSIS and CONSEQUENCE the description,
// SOLUTION the remediation, RESULT the evidence, CVE_ID_LIST (and @cveid) the CVEs,
// VENDOR_REFERENCE_LIST and CVE URLs the references, CVSS_BASE (v2) and CVSS3_BASE the scanner's
// scores (Qualys writes no vectors in this format). The port and protocol come from the CAT.
// Records of a CAT with a port are the host's services too.
//
// # Asset data reports and host detection lists
//
// An asset data report (<ASSET_DATA_REPORT>, asset_data_report.dtd) lists HOST_LIST/HOST, each
// with VULN_INFO_LIST/VULN_INFO records (QID, TYPE Vuln, Practice or Ig, PORT, PROTOCOL, RESULT,
// VULN_STATUS) described by the GLOSSARY's VULN_DETAILS (TITLE, SEVERITY, THREAT, IMPACT,
// SOLUTION, CVE_ID_LIST, VENDOR_REFERENCE_LIST, CVSS_SCORE and CVSS3_SCORE "score (vector)").
// The host detection list of the VM API (<HOST_LIST_VM_DETECTION_OUTPUT>) lists
// RESPONSE/HOST_LIST/HOST with DETECTION_LIST/DETECTION records (QID, TYPE Confirmed, Potential
// or Info, SEVERITY, PORT, PROTOCOL, RESULTS, STATUS) and no descriptions: its findings are
// titled "Qualys QID n". Each record is a finding on the host asset of its IP (DNS and NETBIOS
// as hostnames, OPERATING_SYSTEM or OS as OS); information gathered (Ig, Info) is info; a
// record whose status is Fixed is marked resolved. A KnowledgeBase export lists QIDs, not
// findings, and is refused.
//
// # CSV exports
//
// The VM detections CSV and the PCI CSV (a header naming IP and QID, then one row per QID on a
// host) are read as the host detection list is, the row carrying the title, threat, impact,
// solution, CVEs and CVSS base scores; see parseCSV for the columns.
//
// # WAS scan reports
//
// Each RESULTS/VULNERABILITY_LIST/VULNERABILITY and SENSITIVE_CONTENT_LIST/SENSITIVE_CONTENT is a
// finding on the web application (APPENDIX/WEBAPP URL, else the finding's URL), described by the
// GLOSSARY entry of its QID (title, severity, description, impact, solution, CWE, CVSS scores).
// A finding marked IGNORED is Suppressed: IGNORED_REASON FALSE_POSITIVE as false_positive,
// NOT_APPLICABLE as not_affected, anything else (RISK_ACCEPTED) as accepted. The information
// gathered list is not imported; a warning counts it.
//
// # Severity
//
// Qualys severity 5 is critical, 4 high, 3 medium, 2 low, 1 info, for vulnerabilities and
// potential vulnerabilities; information gathered and services (INFO and SERVICE records, whose
// severities only rank what was learnt) are always info. ScannerSeverity keeps the number.
//
// # Fingerprints
//
// A VM finding's fingerprint (scan report, asset data report or host detection list alike) is
// the hex SHA-256 of the JSON array ["qualys/v1", IP, QID, port, protocol]; a WAS finding's is that of ["qualys-was/v1", web application base URL, QID, URL,
// parameter]. Two records with one fingerprint merge into one finding.
//
// # Safety
//
// Reports are read with internal/xmlscan: the DOCTYPE Qualys writes names an external DTD,
// which is never fetched; a DTD declaring entities is refused, so entity expansion (billion
// laughs) and external entities cannot happen. Depth and token sizes are bounded.
package qualys

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/csvscan"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
	"github.com/socplatform/soc/commands/scans/importers/internal/xmlscan"
)

const format = "qualys"

// New returns the Qualys XML parser.
func New() importers.Parser {
	return &xmlscan.Format{Name: format, Root: isRoot, Other: detectCSV, Read: read, Describe: describe}
}

// isRoot reports whether head, whose document element is se, is a Qualys VM scan report (a <SCAN> root whose value is
// "scan/…", or that names scan-1.dtd), an asset data report (<ASSET_DATA_REPORT>), a host
// detection list (<HOST_LIST_VM_DETECTION_OUTPUT>) or a Qualys WAS scan report
// (<WAS_SCAN_REPORT>).
func isRoot(se xml.StartElement, head []byte) bool {
	switch se.Name.Local {
	case "SCAN":
		return strings.HasPrefix(xmlscan.Attr(se, "value"), "scan/") || strings.Contains(string(head[:min(len(head), 1024)]), "scan-1.dtd")
	case "WAS_SCAN_REPORT", "ASSET_DATA_REPORT", "HOST_LIST_VM_DETECTION_OUTPUT":
		return true
	}
	return false
}

// detectCSV reports whether head is a CSV export whose header names IP and QID.
func detectCSV(head []byte) bool {
	h := csvscan.Header(head, 2)
	return h != nil && csvscan.HasColumns(h, csvRequired...)
}

// describe documents the format for the format list.
func describe() importers.FormatInfo {
	return importers.FormatInfo{
		Name:      format,
		Title:     "Qualys VM scan report, asset data report and host detection list XML, VM detections CSV, and Qualys WAS scan report XML",
		Family:    "infrastructure",
		Versions:  []string{"scan-1.dtd", "asset_data_report.dtd", "host detection list (HOST_LIST_VM_DETECTION_OUTPUT)", "WAS scan report", "VM detections CSV and PCI CSV"},
		Detection: `XML whose root is <SCAN value="scan/…"> (or that names scan-1.dtd), <ASSET_DATA_REPORT>, <HOST_LIST_VM_DETECTION_OUTPUT> or <WAS_SCAN_REPORT>; CSV whose header names IP and QID`,
		Fingerprint: []string{"VM: IP", "QID", "port", "protocol",
			"WAS: web application base URL", "QID", "URL", "parameter"},
		Severity: map[string]importers.Severity{
			"5": importers.Critical, "4": importers.High, "3": importers.Medium, "2": importers.Low, "1": importers.Info,
		},
		Notes: "Information gathered and services (INFO, SERVICE records) are imported as info whatever their Qualys severity. " +
			"WAS findings marked IGNORED are suppressed (FALSE_POSITIVE: false positive, NOT_APPLICABLE: not affected, else accepted). " +
			"Asset data reports and host detection lists give the same fingerprints as scan reports; a detection whose status is Fixed is resolved. " +
			"The DTD Qualys names is never fetched; DTDs declaring entities are refused. KnowledgeBase exports (no findings) are refused.",
	}
}

// read parses a Qualys XML report, or a CSV export (csv.go).
func read(ctx context.Context, r io.Reader) (*importers.Report, error) {
	return xmlscan.Report(ctx, r, format, parseCSV, parseXML)
}

func parseXML(s *xmlscan.Scanner, root xml.StartElement) (*importers.Report, error) {
	switch root.Name.Local {
	case "SCAN":
		b := &vmBuilder{}
		if err := b.scan(s); err != nil {
			return nil, err
		}
		return b.report(), nil
	case "WAS_SCAN_REPORT":
		b := &wasBuilder{glossary: map[string]*xmlscan.Node{}}
		if err := b.read(s); err != nil {
			return nil, err
		}
		return b.report(), nil
	case "ASSET_DATA_REPORT":
		b := newDetectionBuilder("Qualys VM")
		if err := b.assetData(s); err != nil {
			return nil, err
		}
		return b.report(), nil
	case "HOST_LIST_VM_DETECTION_OUTPUT":
		b := newDetectionBuilder("Qualys VM")
		if err := b.hostDetections(s); err != nil {
			return nil, err
		}
		return b.report(), nil
	case "KNOWLEDGE_BASE_VULN_LIST_OUTPUT":
		return nil, s.Errorf("a Qualys KnowledgeBase lists QIDs, not findings: export a scan report, an asset data report or the host detection list")
	}
	return nil, s.Errorf("document element is <%s>, not <SCAN>, <ASSET_DATA_REPORT>, <HOST_LIST_VM_DETECTION_OUTPUT> or <WAS_SCAN_REPORT>", root.Name.Local)
}

// vmBuilder gathers a VM scan report; its Scan is the report's title.
type vmBuilder struct{ parseutil.ScanReport }

func (b *vmBuilder) report() *importers.Report { return b.Report(format, "Qualys VM", "") }

func (b *vmBuilder) scan(s *xmlscan.Scanner) error {
	return s.Children(func(se xml.StartElement) error {
		switch se.Name.Local {
		case "HEADER":
			return s.Each("KEY", func(se xml.StartElement) error {
				v, err := s.Text(parseutil.MaxShort)
				switch xmlscan.Attr(se, "value") {
				case "DATE":
					if t, perr := time.Parse(time.RFC3339, v); perr == nil {
						b.Start = t.UTC()
					}
				case "TITLE":
					b.Scan = v
				}
				return err
			})
		case "IP":
			return b.host(s, se)
		}
		return s.Skip()
	})
}

// host reads one <IP> element.
func (b *vmBuilder) host(s *xmlscan.Scanner, se xml.StartElement) error {
	ip := strings.TrimSpace(xmlscan.Attr(se, "value"))
	if net.ParseIP(ip) == nil {
		return s.Errorf("<IP value=%q>: not an IP address", parseutil.TruncateEllipsis(ip, 64))
	}
	key := "host:" + ip
	a := b.Assets.Get(key)
	if a == nil {
		a = b.Assets.Add(importers.Asset{Key: key, Kind: importers.Host, Name: ip, IPs: []string{ip}})
	}
	if name := strings.TrimSpace(xmlscan.Attr(se, "name")); name != "" && !strings.EqualFold(name, "No registered hostname") {
		a.Hostnames = parseutil.AddHostname(a.Hostnames, name)
	}
	return s.Children(func(se xml.StartElement) error {
		switch se.Name.Local {
		case "OS":
			os, err := s.Text(parseutil.MaxShort)
			b.Assets.Get(key).OS = os
			return err
		case "INFOS", "SERVICES", "VULNS", "PRACTICES":
			return s.Each("CAT", func(cat xml.StartElement) error { return b.category(s, key, ip, cat) })
		}
		return s.Skip()
	})
}

// category reads one <CAT>: its records share its port and protocol.
func (b *vmBuilder) category(s *xmlscan.Scanner, key, ip string, cat xml.StartElement) error {
	port := 0
	if p := strings.TrimSpace(xmlscan.Attr(cat, "port")); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 65535 {
			return s.Errorf("<CAT port=%q>: not a port number", parseutil.TruncateEllipsis(p, 32))
		}
		port = n
	}
	proto := strings.ToLower(strings.TrimSpace(xmlscan.Attr(cat, "protocol")))
	return s.Children(func(se xml.StartElement) error {
		kind := se.Name.Local
		if kind != "INFO" && kind != "SERVICE" && kind != "VULN" && kind != "PRACTICE" {
			return s.Skip()
		}
		n, err := s.Tree(se, parseutil.MaxField)
		if err != nil {
			return err
		}
		f, err := vmFinding(s, n, key, ip, port, proto)
		if err != nil {
			return err
		}
		f.Location.Protocol = proto
		if port > 0 {
			a := b.Assets.Get(key)
			a.Services = parseutil.AddService(a.Services, port, proto, "")
		}
		b.Findings.Add(f)
		return nil
	})
}

func vmFinding(s *xmlscan.Scanner, n *xmlscan.Node, key, ip string, port int, proto string) (importers.Finding, error) {
	qid := strings.TrimSpace(n.AttrValue("number"))
	if _, err := strconv.ParseUint(qid, 10, 32); err != nil {
		return importers.Finding{}, s.Errorf("<%s number=%q>: not a QID", n.Name, parseutil.TruncateEllipsis(qid, 32))
	}
	word := strings.TrimSpace(n.AttrValue("severity"))
	sev, err := severity(s, n.Name, word, n.Name == "INFO" || n.Name == "SERVICE")
	if err != nil {
		return importers.Finding{}, err
	}
	f := importers.Finding{
		AssetKey:        key,
		RuleID:          qid,
		Title:           parseutil.FirstNonEmpty(n.Get("TITLE"), "Qualys QID "+qid),
		Severity:        sev,
		ScannerSeverity: word,
		Description:     joinText(n.Get("DIAGNOSIS"), n.Get("CONSEQUENCE")),
		Remediation:     n.Get("SOLUTION"),
		Evidence:        parseutil.Truncate(n.Get("RESULT"), parseutil.MaxEvidence),
		Location:        importers.Location{Host: ip, Port: port},
	}
	if c, ok := parseutil.NormCVE(n.AttrValue("cveid")); ok {
		f.CVEs = parseutil.AddUnique(f.CVEs, c)
	}
	for _, c := range n.All("CVE_ID_LIST", "CVE_ID") {
		if id, ok := parseutil.NormCVE(c.Get("ID")); ok {
			f.CVEs = parseutil.AddUnique(f.CVEs, id)
		}
		f.References = parseutil.AddUnique(f.References, c.Get("URL"))
	}
	for _, v := range n.All("VENDOR_REFERENCE_LIST", "VENDOR_REFERENCE") {
		f.References = parseutil.AddUnique(f.References, v.Get("URL"))
	}
	if f.CVSS, err = scores(n.Get("CVSS_BASE"), n.Get("CVSS3_BASE")); err != nil {
		return f, s.Errorf("%v", err)
	}
	f.Fingerprint = parseutil.FingerprintJSON("qualys/v1", ip, qid, strconv.Itoa(port), proto)
	return f, nil
}

// severity maps a Qualys severity (1–5); information records are info whatever their level.
func severity(s *xmlscan.Scanner, what, word string, information bool) (importers.Severity, error) {
	sev, ok := level(word)
	if !ok {
		return "", s.Errorf("<%s>: severity %q is not a level 1–5", what, parseutil.TruncateEllipsis(word, 32))
	}
	if information {
		return importers.Info, nil
	}
	return sev, nil
}

// level maps a Qualys severity level, 1 (info) to 5 (critical).
func level(word string) (importers.Severity, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(word))
	if err != nil || n < 1 || n > 5 {
		return "", false
	}
	return [...]importers.Severity{importers.Info, importers.Low, importers.Medium, importers.High, importers.Critical}[n-1], true
}

// scores are the scanner's CVSS v2 and v3 base scores (Qualys writes no vectors here); the
// error names the first text that is not a score in [0, 10].
func scores(v2, v3 string) ([]importers.CVSS, error) {
	var out []importers.CVSS
	for _, c := range []struct{ version, text string }{{"2.0", v2}, {"3.1", v3}} {
		score, err := parseutil.Number(c.text, 0, 10)
		if err != nil {
			return nil, fmt.Errorf("CVSS score %q: %v", parseutil.TruncateEllipsis(c.text, 32), err)
		}
		out = parseutil.AddCVSS(out, importers.CVSS{Version: c.version, Score: score, Source: "qualys"})
	}
	return out, nil
}

func joinText(parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" && p != "N/A" {
			kept = append(kept, p)
		}
	}
	return parseutil.Truncate(strings.Join(kept, "\n\n"), parseutil.MaxField)
}

// wasBuilder keeps a WAS report's findings until its glossary, which follows them, is read.
type wasBuilder struct {
	findings []*xmlscan.Node
	glossary map[string]*xmlscan.Node
	webapp   string
	name     string
	gathered int
}

func (b *wasBuilder) read(s *xmlscan.Scanner) error {
	record := func(se xml.StartElement) error {
		n, err := s.Tree(se, parseutil.MaxField)
		if err == nil {
			b.findings = append(b.findings, n)
		}
		return err
	}
	return s.Children(func(se xml.StartElement) error {
		switch se.Name.Local {
		case "RESULTS":
			return s.Children(func(se xml.StartElement) error {
				switch se.Name.Local {
				case "VULNERABILITY_LIST":
					return s.Each("VULNERABILITY", record)
				case "SENSITIVE_CONTENT_LIST":
					return s.Each("SENSITIVE_CONTENT", record)
				case "INFORMATION_GATHERED_LIST":
					return s.Each("INFORMATION_GATHERED", func(xml.StartElement) error { b.gathered++; return s.Skip() })
				}
				return s.Skip()
			})
		case "GLOSSARY":
			return s.Each("QID_LIST", func(xml.StartElement) error {
				return s.Each("QID", func(se xml.StartElement) error {
					n, err := s.Tree(se, parseutil.MaxField)
					if err == nil {
						b.glossary[n.Get("QID")] = n
					}
					return err
				})
			})
		case "APPENDIX":
			return s.Each("WEBAPP", func(xml.StartElement) error {
				var u, name string
				err := s.Fields(nil, xmlscan.Text("URL", &u, parseutil.MaxShort), xmlscan.Text("NAME", &name, parseutil.MaxShort))
				if b.webapp == "" {
					b.webapp, b.name = u, name
				}
				return err
			})
		}
		return s.Skip()
	}) // the glossary is checked once all is read: errors name no position then
}

func (b *wasBuilder) report() *importers.Report {
	var assets parseutil.AssetSet
	var fs parseutil.FindingSet
	var warnings []string
	webapp := func(u string) string {
		base, ok := baseURL(parseutil.FirstNonEmpty(b.webapp, u))
		if !ok {
			base = parseutil.FirstNonEmpty(b.webapp, u, "unknown")
		}
		key := "web:" + base
		if assets.Get(key) == nil {
			assets.Add(importers.Asset{Key: key, Kind: importers.WebApplication, Name: parseutil.FirstNonEmpty(b.name, base), BaseURL: base})
		}
		return key
	}
	if b.webapp != "" {
		// The scanned application is named even when the scan found nothing: a clean scan then
		// resolves the findings earlier scans left open on it.
		webapp("")
	}
	for _, n := range b.findings {
		u := n.Get("URL")
		key := webapp(u)
		qid := n.Get("QID")
		g := b.glossary[qid] // nil when the glossary lacks it: Get gives ""
		word := g.Get("SEVERITY")
		sev, ok := level(word)
		if !ok {
			sev = importers.Info // a QID the glossary lacks, or an odd level: the finding is kept
		}
		param := n.Get("PARAM")
		f := importers.Finding{
			AssetKey:        key,
			RuleID:          qid,
			Title:           parseutil.FirstNonEmpty(g.Get("TITLE"), "Qualys WAS QID "+qid),
			Severity:        sev,
			ScannerSeverity: word,
			Description:     joinText(g.Get("DESCRIPTION"), g.Get("IMPACT")),
			Remediation:     joinText(g.Get("SOLUTION")),
			Location:        importers.Location{URL: u, Param: param},
		}
		if c, ok := parseutil.NormCWE(g.Get("CWE")); ok {
			f.CWEs = []string{c}
		}
		var err error
		if f.CVSS, err = scores(g.Get("CVSS_BASE"), g.Get("CVSS_V3", "BASE")); err != nil {
			// The glossary only describes the QID, and is read after the findings (no position
			// is left to name): the finding is kept without scores.
			warnings = append(warnings, fmt.Sprintf("QID %s: %v: ignored", parseutil.TruncateEllipsis(qid, 32), err))
		}
		if strings.EqualFold(n.Get("IGNORED"), "true") {
			reason := n.Get("IGNORED_REASON")
			kind := importers.SuppressedAccepted
			switch strings.ToUpper(reason) {
			case "FALSE_POSITIVE":
				kind = importers.SuppressedFalsePositive
			case "NOT_APPLICABLE":
				kind = importers.SuppressedNotAffected
			}
			f.Suppressed = &importers.Suppression{Kind: kind, Reason: parseutil.FirstNonEmpty(reason, "ignored"), Source: "qualys was IGNORED"}
		}
		f.Fingerprint = parseutil.FingerprintJSON("qualys-was/v1", assets.Get(key).BaseURL, qid, u, param)
		fs.Add(f)
	}
	if b.gathered > 0 {
		warnings = append(warnings, fmt.Sprintf("%d information gathered records not imported", b.gathered))
	}
	rep := &importers.Report{Format: format, ScannerName: "Qualys WAS", Assets: assets.Assets(), Findings: fs.Findings(), Warnings: warnings}
	return rep
}

// baseURL is scheme://host[:port] of an absolute URL, lower-cased.
func baseURL(s string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" || u.Scheme == "" {
		return "", false
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), true
}
