package qualys

import (
	"encoding/xml"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
	"github.com/socplatform/soc/commands/scans/importers/internal/xmlscan"
)

// detection is one QID found on one host, read from an asset data report (VULN_INFO) or a host
// detection list (DETECTION): the two shapes name the same facts differently.
type detection struct {
	ip, qid, kind, severity, result, status string
	port                                    int
	proto                                   string
	information                             bool // information gathered: info whatever its level
	// What a CSV row writes beside the detection; XML reports leave these to the glossary.
	title, threat, impact, solution, cves, cvss2, cvss3 string
}

// detectionBuilder gathers the detections of an asset data report or a host detection list;
// an asset data report describes its QIDs in a GLOSSARY that follows the hosts, so findings are
// made once everything is read.
type detectionBuilder struct {
	scanner  string
	assets   parseutil.AssetSet
	found    []detection
	glossary map[string]*xmlscan.Node
	started  time.Time
}

func newDetectionBuilder(scanner string) *detectionBuilder {
	return &detectionBuilder{scanner: scanner, glossary: map[string]*xmlscan.Node{}}
}

// assetData reads an <ASSET_DATA_REPORT> (asset_data_report.dtd): HOST_LIST/HOST with
// VULN_INFO_LIST/VULN_INFO records, described by GLOSSARY/VULN_DETAILS_LIST/VULN_DETAILS.
func (b *detectionBuilder) assetData(s *xmlscan.Scanner) error {
	return s.Children(func(se xml.StartElement) error {
		switch se.Name.Local {
		case "HOST_LIST":
			return b.hosts(s, assetDataShape)
		case "GLOSSARY":
			return s.Each("VULN_DETAILS_LIST", func(xml.StartElement) error {
				return s.Each("VULN_DETAILS", func(se xml.StartElement) error {
					n, err := s.Tree(se, parseutil.MaxField)
					if err == nil {
						b.glossary[strings.TrimSpace(n.Get("QID"))] = n
					}
					return err
				})
			})
		}
		return s.Skip()
	})
}

// hostDetections reads a <HOST_LIST_VM_DETECTION_OUTPUT> (the host detection list API):
// RESPONSE/HOST_LIST/HOST with DETECTION_LIST/DETECTION records. It has no glossary: titles
// are "Qualys QID n" and the severity is the detection's own.
func (b *detectionBuilder) hostDetections(s *xmlscan.Scanner) error {
	return s.Children(func(se xml.StartElement) error {
		if se.Name.Local != "RESPONSE" {
			return s.Skip()
		}
		return s.Children(func(se xml.StartElement) error {
			switch se.Name.Local {
			case "DATETIME":
				v, err := s.Text(parseutil.MaxShort)
				if t, perr := time.Parse(time.RFC3339, v); perr == nil {
					b.started = t.UTC()
				}
				return err
			case "HOST_LIST":
				return b.hosts(s, detectionShape)
			}
			return s.Skip()
		})
	})
}

// hostShape names the elements of one HOST's records in an export: the asset data report and
// the host detection list say the same things under other names.
type hostShape struct {
	os, list, record, information, severity, result, status string
}

var (
	assetDataShape = hostShape{os: "OPERATING_SYSTEM", list: "VULN_INFO_LIST", record: "VULN_INFO", information: "Ig",
		result: "RESULT", status: "VULN_STATUS"} // the level is the glossary's
	detectionShape = hostShape{os: "OS", list: "DETECTION_LIST", record: "DETECTION", information: "Info",
		severity: "SEVERITY", result: "RESULTS", status: "STATUS"}
)

// hosts reads the HOST elements of the HOST_LIST just opened, each whole (a host's records
// are small), and adds their hosts and records.
func (b *detectionBuilder) hosts(s *xmlscan.Scanner, shape hostShape) error {
	return s.Each("HOST", func(se xml.StartElement) error {
		n, err := s.Tree(se, parseutil.MaxField)
		if err != nil {
			return err
		}
		return b.hostRecords(s, n, shape)
	})
}

// hostRecords adds the host of one HOST element and its records.
func (b *detectionBuilder) hostRecords(s *xmlscan.Scanner, n *xmlscan.Node, shape hostShape) error {
	ip, err := b.xmlHost(s, n, shape.os)
	if err != nil {
		return err
	}
	for _, v := range n.All(shape.list, shape.record) {
		d := detection{ip: ip, qid: strings.TrimSpace(v.Get("QID")), kind: v.Get("TYPE"), result: v.Get(shape.result),
			status: v.Get(shape.status), proto: strings.ToLower(v.Get("PROTOCOL"))}
		if shape.severity != "" {
			d.severity = v.Get(shape.severity)
		}
		d.information = strings.EqualFold(d.kind, shape.information)
		if err := checkQID(s, d.qid); err != nil {
			return err
		}
		if d.port, err = portNumber(s, v.Get("PORT")); err != nil {
			return err
		}
		b.found = append(b.found, d)
	}
	return nil
}

// host adds the host asset of one HOST and returns what identifies it: its IP address, else
// (an agent-tracked host the export gives no address for) its DNS or NetBIOS name, else its
// Qualys host ID. False when ip is given but is not an address, or nothing names the host.
func (b *detectionBuilder) host(ip, dns, netbios, os, id string) (string, bool) {
	ip, dns, netbios, id = strings.TrimSpace(ip), strings.TrimSpace(dns), strings.TrimSpace(netbios), strings.TrimSpace(id)
	a := importers.Asset{Kind: importers.Host}
	switch {
	case net.ParseIP(ip) != nil:
		a.Name, a.IPs = ip, []string{ip}
	case ip != "":
		return "", false
	case dns != "" || netbios != "":
		a.Name = strings.ToLower(parseutil.FirstNonEmpty(dns, netbios))
	case id != "":
		a.Name = "qualys-host-" + id
	default:
		return "", false
	}
	a.Key = "host:" + a.Name
	if got := b.assets.Get(a.Key); got == nil {
		b.assets.Add(a)
	}
	got := b.assets.Get(a.Key)
	for _, h := range []string{dns, netbios} {
		got.Hostnames = parseutil.AddHostname(got.Hostnames, h)
	}
	if os = strings.TrimSpace(os); os != "" {
		got.OS = os
	}
	return a.Name, true
}

// xmlHost is host for a HOST element (IPV6 when there is no IP), refusing one that names no
// host.
func (b *detectionBuilder) xmlHost(s *xmlscan.Scanner, n *xmlscan.Node, osField string) (string, error) {
	ip := parseutil.FirstNonEmpty(n.Get("IP"), n.Get("IPV6"))
	name, ok := b.host(ip, n.Get("DNS"), n.Get("NETBIOS"), n.Get(osField), n.Get("ID"))
	if !ok {
		return "", s.Errorf("<HOST><IP>%s</IP>: not an IP address, and no DNS, NETBIOS or ID names the host", parseutil.TruncateEllipsis(ip, 64))
	}
	return name, nil
}

// checkQID refuses a record whose QID is not a number: the QID is the finding's rule and part
// of its fingerprint.
func checkQID(s *xmlscan.Scanner, qid string) error {
	if _, err := strconv.ParseUint(qid, 10, 32); err != nil {
		return s.Errorf("<QID>%s</QID>: not a QID", parseutil.TruncateEllipsis(qid, 32))
	}
	return nil
}

// portNumber reads a detection's PORT ("" is none).
func portNumber(s *xmlscan.Scanner, p string) (int, error) {
	if p = strings.TrimSpace(p); p == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 65535 {
		return 0, s.Errorf("<PORT>%s</PORT>: not a port number", parseutil.TruncateEllipsis(p, 32))
	}
	return n, nil
}

// report makes one finding per detection, read after the glossary: an unknown QID or an odd
// level keeps the finding (titled by its QID, info) and warns, since the glossary is a
// description, not the finding.
func (b *detectionBuilder) report() *importers.Report {
	var fs parseutil.FindingSet
	var warnings []string
	for _, d := range b.found {
		g := b.glossary[d.qid] // nil when there is no glossary entry: Get gives ""
		word := parseutil.FirstNonEmpty(strings.TrimSpace(d.severity), g.Get("SEVERITY"))
		sev, ok := level(word)
		if !ok && !d.information { // information records often carry no level at all
			sev = importers.Info
			warnings = append(warnings, fmt.Sprintf("QID %s: severity %q is not a level 1–5: info", parseutil.TruncateEllipsis(d.qid, 32), parseutil.TruncateEllipsis(word, 32)))
		}
		if d.information {
			sev = importers.Info
		}
		f := importers.Finding{
			AssetKey:        "host:" + d.ip,
			RuleID:          d.qid,
			Title:           parseutil.FirstNonEmpty(d.title, g.Get("TITLE"), "Qualys QID "+d.qid),
			Severity:        sev,
			ScannerSeverity: word,
			Description:     joinText(parseutil.FirstNonEmpty(d.threat, g.Get("THREAT")), parseutil.FirstNonEmpty(d.impact, g.Get("IMPACT"))),
			Remediation:     joinText(parseutil.FirstNonEmpty(d.solution, g.Get("SOLUTION"))),
			Evidence:        parseutil.Truncate(d.result, parseutil.MaxEvidence),
			Location:        importers.Location{Host: d.ip, Port: d.port, Protocol: d.proto},
		}
		for _, c := range g.All("CVE_ID_LIST", "CVE_ID") {
			if id, ok := parseutil.NormCVE(c.Get("ID")); ok {
				f.CVEs = parseutil.AddUnique(f.CVEs, id)
			}
			f.References = parseutil.AddUnique(f.References, c.Get("URL"))
		}
		for _, id := range strings.FieldsFunc(d.cves, func(r rune) bool { return r == ',' || r == ' ' }) {
			if c, ok := parseutil.NormCVE(id); ok {
				f.CVEs = parseutil.AddUnique(f.CVEs, c)
			}
		}
		for _, v := range g.All("VENDOR_REFERENCE_LIST", "VENDOR_REFERENCE") {
			f.References = parseutil.AddUnique(f.References, v.Get("URL"))
		}
		f.CVSS = parseutil.AddCVSS(f.CVSS, scoreWithVector("2.0", parseutil.FirstNonEmpty(d.cvss2, g.Get("CVSS_SCORE", "CVSS_BASE"))))
		f.CVSS = parseutil.AddCVSS(f.CVSS, scoreWithVector("3.1", parseutil.FirstNonEmpty(d.cvss3, g.Get("CVSS3_SCORE", "CVSS3_BASE"))))
		if strings.EqualFold(strings.TrimSpace(d.status), "Fixed") {
			f.Suppressed = &importers.Suppression{Kind: importers.SuppressedResolved, Reason: "Fixed", Source: "qualys status"}
		}
		if d.port > 0 {
			a := b.assets.Get(f.AssetKey)
			a.Services = parseutil.AddService(a.Services, d.port, d.proto, "")
		}
		// The fingerprint of a VM scan report's record: the same QID on the same host and port
		// is one finding whichever Qualys export it came from.
		f.Fingerprint = parseutil.FingerprintJSON("qualys/v1", d.ip, d.qid, strconv.Itoa(d.port), d.proto)
		fs.Add(f)
	}
	return &importers.Report{
		Format: format, ScannerName: b.scanner, StartedAt: b.started,
		Assets: b.assets.Assets(), Findings: fs.Findings(), Warnings: warnings,
	}
}

// scoreWithVector reads a glossary score, "9.3 (AV:N/AC:M/Au:N/C:C/I:C/A:C)" or "9.3"; a
// score that does not read ("-") is left out (the glossary describes the QID, the finding
// stands).
func scoreWithVector(version, text string) importers.CVSS {
	text = strings.TrimSpace(text)
	score, vector, _ := strings.Cut(text, "(")
	c := importers.CVSS{Version: version, Source: "qualys"}
	if x, err := parseutil.Number(score, 0, 10); err == nil {
		c.Score = x
	}
	v := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(vector), ")"))
	switch {
	case c.Score == nil:
	case version == "2.0":
		c.Vector = v
	case parseutil.VectorVersion(v) != "":
		c.Vector, c.Version = v, parseutil.VectorVersion(v)
	}
	// A v3 vector without its "CVSS:3.x/" prefix does not say which 3.x it is: only the score
	// is kept rather than a guessed version.
	return c
}
