// Package openvas reads OpenVAS / Greenbone (GVM) XML reports: the <report> document exported by
// GSA or gvm-cli (a <report> wrapping the inner <report>), a bare inner <report>, or a whole
// <get_reports_response>. It is read with a streaming encoding/xml token loop. GVM's CSV Results
// export maps to the same findings (csv.go).
//
// Mapping:
//   - each distinct result host is one host asset, key "host:" + the host text (the IP); the
//     <hostname> child and the report-level <host> detail blocks (<detail> hostname, best_os_txt or
//     OS, MAC) add hostnames, OS and MACs; result ports add services. A host that does not parse as
//     an IP address is kept as a hostname.
//   - each <result> (under <results>) is one finding: the NVT oid is the rule id; the NVT name the
//     title (the result name when the NVT has none); <port> ("80/tcp", "general/tcp") gives port and
//     protocol; CVEs, URLs and CERT advisories come from <refs><ref type id> (and from the older
//     <cve>, <xref>, <cert> elements); the NVT tags (a|b=c|… list) give description (summary,
//     insight, impact, affected, vuldetect), remediation (the <solution> element, else the solution
//     tag) and the CVSS vector (cvss_base_vector, plus <severities><severity><value>); the result's
//     <description> is the evidence (cut at 64 KiB).
//   - severity: the numeric <severity> of the result on the CVSS rating scale (>= 9.0 critical,
//     >= 7.0 high, >= 4.0 medium, > 0 low, 0 info: the scale GVM uses since 22.4); the <threat>
//     label (High, Medium, Low, Log) when there is no score. ScannerSeverity is "<threat> (<score>)".
//     A negative severity (-1 false positive, -2 debug, -3 error) is info; a false positive (threat
//     "False Positive" or severity -1) also sets VEXState "false_positive".
//   - a v2 vector (no prefix) is kept as GVM writes it, "AV:N/AC:L/Au:N/C:P/I:P/A:P"; a v3/v4 vector
//     keeps its "CVSS:3.x/" / "CVSS:4.0/" prefix, which gives the version.
//
// Target is the task's name (hint "scan"); a false positive also carries a Suppressed hint.
//
// Fingerprint: lower-case hex SHA-256 of the canonical string
//
//	openvas/v1|<host>|<nvt oid>|<port>
//
// where host is the result's host text (trimmed), port the <port> text trimmed and lower-cased
// ("80/tcp", "general/tcp"), and '|' or '\' inside a field is escaped with '\'. The result id is not
// used: GVM issues new result ids on every scan (and the metasploitable2 sample anonymised all of
// them to one value). Results with the same host, NVT and port (several virtual hosts of one IP, or
// a repeated detection) are one finding: the description of the repeat is appended to its evidence.
//
// Limits: nesting deeper than 256 elements, a single text run or tag over 16 MiB, DTDs declaring
// entities, ports outside 0..65535 and scores outside -3..10 are refused with a
// *importers.ParseError giving line and column (or byte offset). Text fields are cut at 1 MiB.
// Cancelling ctx stops the parse; the context's error is returned as is.
package openvas

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
	"github.com/socplatform/soc/commands/scans/importers/internal/xmlscan"
)

const format = "openvas"

// New returns the OpenVAS / GVM XML report parser.
func New() importers.Parser {
	return &xmlscan.Format{Name: format, Root: isRoot, Other: detectCSV, Read: read, Describe: describe}
}

// isRoot reports whether head, whose document element is se, is a GVM report: a
// <get_reports_response> document, or a <report> document that carries GVM's format_id attribute
// or GVM-only elements (<gmp>, <omp>, <nvt oid=, <scan_run_status>) in its first bytes. (A head
// that is not XML may be a CSV Results export, csv.go.)
func isRoot(se xml.StartElement, head []byte) bool {
	switch se.Name.Local {
	case "get_reports_response":
		return true
	case "report":
		if xmlscan.Attr(se, "format_id") != "" {
			return true
		}
		for _, m := range []string{"<gmp>", "<omp>", "<nvt oid=", "<scan_run_status>"} {
			if bytes.Contains(head, []byte(m)) {
				return true
			}
		}
	}
	return false
}

// read parses an XML report, or a CSV Results export (csv.go) when the file starts with neither
// '<' nor a JSON bracket (those get the XML reader's "not an XML report").
func read(ctx context.Context, r io.Reader) (*importers.Report, error) {
	return xmlscan.Report(ctx, r, format, parseCSV, parseXML)
}

func parseXML(s *xmlscan.Scanner, root xml.StartElement) (*importers.Report, error) {
	b := &builder{}
	var err error
	switch root.Name.Local {
	case "report":
		err = b.report(s)
	case "get_reports_response":
		err = s.Children(func(se xml.StartElement) error {
			if se.Name.Local == "report" {
				return b.report(s)
			}
			return s.Skip()
		})
	default:
		return nil, s.Errorf("document element is <%s>, not <report> or <get_reports_response>", root.Name.Local)
	}
	if err != nil {
		return nil, err
	}
	return b.result(), nil
}

// builder gathers the report; its Scan is the task's name: what users call the scan.
type builder struct{ parseutil.ScanReport }

func (b *builder) result() *importers.Report { return b.Report(format, "OpenVAS", "") }

// report reads the children of a <report> element (outer or inner).
func (b *builder) report(s *xmlscan.Scanner) error {
	return s.Children(func(se xml.StartElement) error {
		switch se.Name.Local {
		case "report":
			return b.report(s)
		case "results":
			return s.Each("result", func(se xml.StartElement) error {
				return b.resultElem(s)
			})
		case "host":
			return b.hostDetail(s)
		case "task":
			return s.Children(func(se xml.StartElement) error {
				if se.Name.Local != "name" || b.Scan != "" {
					return s.Skip()
				}
				var err error
				b.Scan, err = s.Text(parseutil.MaxShort)
				return err
			})
		case "scan_start", "scan_end":
			v, err := s.Text(parseutil.MaxShort)
			if t, perr := time.Parse(time.RFC3339Nano, v); perr == nil {
				if se.Name.Local == "scan_start" {
					b.Start = t.UTC()
				} else {
					b.End = t.UTC()
				}
			}
			return err
		}
		return s.Skip()
	})
}

func (b *builder) asset(key string) *importers.Asset {
	if a := b.Assets.Get(key); a != nil {
		return a
	}
	host := strings.TrimPrefix(key, "host:")
	a := importers.Asset{Key: key, Kind: importers.Host, Name: host}
	if addr, err := netip.ParseAddr(host); err == nil {
		a.IPs = []string{addr.String()}
	} else {
		a.Hostnames = []string{host}
	}
	return b.Assets.Add(a)
}

// hostDetail reads a report-level <host> block: <ip>, <start>, <end>, <detail><name/><value/>.
func (b *builder) hostDetail(s *xmlscan.Scanner) error {
	var ip, hostname, bestOS, os string
	var macs []string
	err := s.Children(func(se xml.StartElement) error {
		switch se.Name.Local {
		case "ip":
			v, err := s.Text(parseutil.MaxShort)
			ip = v
			return err
		case "detail":
			var name, value string
			err := s.Fields(nil, xmlscan.Text("name", &name, parseutil.MaxShort), xmlscan.Text("value", &value, parseutil.MaxShort))
			switch name {
			case "hostname":
				if hostname == "" {
					hostname = value
				}
			case "best_os_txt":
				bestOS = value
			case "OS":
				if os == "" {
					os = value
				}
			case "MAC":
				macs = append(macs, parseutil.ParseMACs(value)...)
			}
			return err
		}
		return s.Skip()
	})
	if err != nil || ip == "" {
		return err
	}
	a := b.asset("host:" + ip)
	if hostname != "" {
		a.Hostnames = parseutil.AddHostname(a.Hostnames, hostname)
		if a.Name == ip {
			a.Name = hostname
		}
	}
	if a.OS == "" {
		a.OS = parseutil.FirstNonEmpty(bestOS, os)
	}
	a.MACs = parseutil.AddUnique(a.MACs, macs...)
	return nil
}

type nvtInfo struct {
	oid, name, cvssBase, sevScore, tags, solution string
	vectors                                       []struct{ vector, score, origin string }
	cves, refs                                    []string
	// tagMap, when set, holds the tags already split (the CSV's columns); else tags is parsed.
	tagMap map[string]string
}

// rawResult is one result as either encoding gives it, before mapping.
type rawResult struct {
	name, host, hostname, port, threat, severity, description string
	nvt                                                       nvtInfo
}

func (b *builder) resultElem(s *xmlscan.Scanner) error {
	line, col, off := s.Pos()
	fail := func(msg string, args ...any) error {
		return &importers.ParseError{Format: format, Offset: off, Line: line, Column: col, Msg: fmt.Sprintf(msg, args...)}
	}
	var name, host, hostname, port, threat, severity, description string
	var nvt nvtInfo
	err := s.Fields(func(se xml.StartElement) error {
		var err error
		switch se.Name.Local {
		case "host":
			host, hostname, err = readHost(s)
		case "nvt":
			nvt.oid = strings.TrimSpace(xmlscan.Attr(se, "oid"))
			err = readNVT(s, &nvt)
		default:
			err = s.Skip()
		}
		return err
	},
		xmlscan.Text("name", &name, parseutil.MaxShort),
		xmlscan.Text("port", &port, parseutil.MaxShort),
		xmlscan.Text("threat", &threat, parseutil.MaxShort),
		xmlscan.Text("severity", &severity, parseutil.MaxShort),
		xmlscan.Text("description", &description, parseutil.MaxEvidence))
	if err != nil {
		return err
	}
	return b.add(rawResult{name, host, hostname, port, threat, severity, description, nvt}, fail)
}

// add maps one result; fail positions an error at it.
func (b *builder) add(r rawResult, fail func(msg string, args ...any) error) error {
	name, host, hostname, port, threat, severity, description, nvt := r.name, r.host, r.hostname, r.port, r.threat, r.severity, r.description, &r.nvt
	if host == "" {
		return fail("<result> without a host")
	}
	host = parseutil.Truncate(host, parseutil.MaxShort)

	f := importers.Finding{
		AssetKey: "host:" + host,
		RuleID:   parseutil.Truncate(nvt.oid, parseutil.MaxShort),
		Title:    parseutil.FirstNonEmpty(nvt.name, name),
		Evidence: description,
		CVEs:     nvt.cves,
	}
	if f.RuleID == "" {
		f.RuleID = parseutil.Truncate(name, parseutil.MaxShort)
	}
	if f.RuleID == "" {
		return fail("<result> without an NVT oid or a name")
	}
	f.Location.Host = host
	portKey := strings.ToLower(strings.TrimSpace(port))
	if num, proto, ok := strings.Cut(portKey, "/"); ok {
		f.Location.Protocol = proto
		if num != "general" && num != "" {
			n, err := strconv.Atoi(num)
			if err != nil || n < 0 || n > 65535 {
				return fail("<result>: port %q is not a number in 0..65535", parseutil.Truncate(port, 64))
			}
			f.Location.Port = n
		}
	} else if portKey != "" && portKey != "general" && portKey != "package" {
		if n, err := strconv.Atoi(portKey); err == nil && n >= 0 && n <= 65535 {
			f.Location.Port = n
		}
	}

	// Severity.
	score, err := parseutil.Number(severity, -3, 10)
	if err != nil {
		return fail("<result>: severity %q: %v", parseutil.Truncate(severity, 64), err)
	}
	threat = strings.TrimSpace(threat)
	switch {
	case score != nil:
		f.Severity = parseutil.SeverityFromScore(*score)
		if threat != "" {
			f.ScannerSeverity = threat + " (" + strings.TrimSpace(severity) + ")"
		} else {
			f.ScannerSeverity = strings.TrimSpace(severity)
		}
	default:
		f.Severity = parseutil.SeverityWordOrInfo(threat)
		f.ScannerSeverity = threat
	}
	if strings.EqualFold(threat, "False Positive") || (score != nil && *score == -1) {
		f.VEXState = "false_positive"
		f.Suppressed = &importers.Suppression{Kind: importers.SuppressedFalsePositive, Reason: "override: False Positive", Source: "openvas threat"}
	}

	// NVT tags: a|b=c|… list.
	tags := nvt.tagMap
	if tags == nil {
		tags = parseTags(nvt.tags)
	}
	var desc strings.Builder
	add := func(label, v string) {
		if v = strings.TrimSpace(v); v == "" {
			return
		}
		if desc.Len() > 0 {
			desc.WriteString("\n\n")
		}
		if label != "" {
			desc.WriteString(label + ": ")
		}
		desc.WriteString(v)
	}
	add("", tags["summary"])
	add("Insight", tags["insight"])
	add("Impact", tags["impact"])
	add("Affected", tags["affected"])
	add("Detection", tags["vuldetect"])
	f.Description = parseutil.Truncate(desc.String(), parseutil.MaxField)
	f.Remediation = parseutil.FirstNonEmpty(nvt.solution, tags["solution"])

	// CVSS.
	baseScore, err := parseutil.Number(parseutil.FirstNonEmpty(nvt.sevScore, nvt.cvssBase), 0, 10)
	if err != nil {
		return fail("<nvt oid=%q>: CVSS score: %v", parseutil.Truncate(nvt.oid, 64), err)
	}
	if v := strings.TrimSpace(tags["cvss_base_vector"]); v != "" {
		f.CVSS = parseutil.AddCVSS(f.CVSS, importers.CVSS{Version: vectorVersion(v), Vector: v, Score: baseScore, Source: "openvas"})
	}
	for _, sv := range nvt.vectors {
		sc, err := parseutil.Number(sv.score, 0, 10)
		if err != nil {
			return fail("<nvt oid=%q>: severity score: %v", parseutil.Truncate(nvt.oid, 64), err)
		}
		v := strings.TrimSpace(sv.vector)
		if v == "" || hasVector(f.CVSS, v) {
			continue
		}
		f.CVSS = parseutil.AddCVSS(f.CVSS, importers.CVSS{Version: vectorVersion(v), Vector: v, Score: sc, Source: parseutil.FirstNonEmpty(strings.ToLower(sv.origin), "openvas")})
	}
	for _, ref := range nvt.refs {
		if strings.HasPrefix(strings.ToUpper(ref), "CWE-") {
			f.CWEs = parseutil.AddUnique(f.CWEs, parseutil.CWENumber(ref))
			continue
		}
		f.References = parseutil.AddUnique(f.References, ref)
	}

	parts := []string{"openvas/v1", host, f.RuleID, portKey}
	f.Fingerprint = parseutil.FingerprintCanonical(parts...)

	a := b.asset(f.AssetKey)
	if hostname != "" {
		a.Hostnames = parseutil.AddHostname(a.Hostnames, hostname)
		if a.Name == host {
			a.Name = hostname
		}
	}
	if f.Location.Port > 0 {
		a.Services = parseutil.AddService(a.Services, f.Location.Port, f.Location.Protocol, "")
	}
	b.Findings.Add(f)
	return nil
}

// readHost reads <host>10.0.0.1<asset/><hostname>x</hostname></host>.
func readHost(s *xmlscan.Scanner) (host, hostname string, err error) {
	var text strings.Builder
	depth := 1
	for depth > 0 {
		tok, err := s.Next()
		if err == io.EOF {
			return "", "", s.Wrap(io.ErrUnexpectedEOF)
		}
		if err != nil {
			return "", "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 1 && t.Name.Local == "hostname" {
				if hostname, err = s.Text(parseutil.MaxShort); err != nil {
					return "", "", err
				}
				continue
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 1 && text.Len() <= parseutil.MaxShort {
				text.Write(t[:min(len(t), parseutil.MaxShort+1-text.Len())])
			}
		}
	}
	return parseutil.Truncate(strings.TrimSpace(text.String()), parseutil.MaxShort), hostname, nil
}

func readNVT(s *xmlscan.Scanner, nvt *nvtInfo) error {
	return s.Fields(func(se xml.StartElement) error {
		var err error
		switch se.Name.Local {
		case "severities":
			nvt.sevScore = xmlscan.Attr(se, "score")
			err = s.Each("severity", func(se xml.StartElement) error {
				var v struct{ vector, score, origin string }
				err := s.Fields(nil,
					xmlscan.Text("value", &v.vector, parseutil.MaxShort),
					xmlscan.Text("score", &v.score, parseutil.MaxShort),
					xmlscan.Text("origin", &v.origin, parseutil.MaxShort))
				if len(nvt.vectors) < parseutil.MaxList {
					nvt.vectors = append(nvt.vectors, v)
				}
				return err
			})
		case "refs":
			err = s.Children(func(se xml.StartElement) error {
				if se.Name.Local == "ref" {
					nvt.addRef(xmlscan.Attr(se, "type"), xmlscan.Attr(se, "id"))
				}
				return s.Skip()
			})
		case "cve": // OMP 6 and older: "CVE-2014-0160, CVE-…" or "NOCVE"
			var v string
			v, err = s.Text(parseutil.MaxField)
			for _, c := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
				nvt.addRef("cve", c)
			}
		case "xref": // OMP 6: "URL:http://…, URL:http://…" or "NOXREF"
			var v string
			v, err = s.Text(parseutil.MaxField)
			for _, x := range strings.Split(v, ",") {
				if k, id, ok := strings.Cut(strings.TrimSpace(x), ":"); ok && strings.EqualFold(k, "URL") {
					nvt.addRef("url", id)
				}
			}
		case "cert": // OMP 6: <cert><cert_ref id type/></cert>
			err = s.Children(func(se xml.StartElement) error {
				if se.Name.Local == "cert_ref" {
					nvt.addRef(xmlscan.Attr(se, "type"), xmlscan.Attr(se, "id"))
				}
				return s.Skip()
			})
		default:
			err = s.Skip()
		}
		return err
	},
		xmlscan.Text("name", &nvt.name, parseutil.MaxShort),
		xmlscan.Text("cvss_base", &nvt.cvssBase, parseutil.MaxShort),
		xmlscan.Text("tags", &nvt.tags, parseutil.MaxField),
		xmlscan.Text("solution", &nvt.solution, parseutil.MaxField))
}

func (n *nvtInfo) addRef(typ, id string) {
	id = parseutil.Truncate(strings.TrimSpace(id), parseutil.MaxShort)
	typ = strings.ToLower(strings.TrimSpace(typ))
	switch {
	case id == "" || strings.EqualFold(id, "NOCVE"):
	case typ == "cve":
		n.cves = parseutil.AddUnique(n.cves, strings.ToUpper(id))
	case typ == "url":
		n.refs = parseutil.AddUnique(n.refs, id)
	case typ == "cwe":
		n.refs = parseutil.AddUnique(n.refs, "CWE-"+strings.TrimPrefix(strings.ToUpper(id), "CWE-"))
	case typ == "cert-bund" || typ == "dfn-cert":
		n.refs = parseutil.AddUnique(n.refs, id) // WID-SEC-…, CB-K…, DFN-CERT-… carry their issuer
	default:
		n.refs = parseutil.AddUnique(n.refs, parseutil.Truncate(typ+":"+id, parseutil.MaxShort))
	}
}

// parseTags splits GVM's "key=value|key=value" tag list.
func parseTags(v string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(v, "|") {
		if k, val, ok := strings.Cut(kv, "="); ok {
			out[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
	}
	return out
}

func vectorVersion(v string) string {
	switch {
	case strings.HasPrefix(v, "CVSS:4.0/"):
		return "4.0"
	case strings.HasPrefix(v, "CVSS:3.1/"):
		return "3.1"
	case strings.HasPrefix(v, "CVSS:3.0/"):
		return "3.0"
	}
	return "2.0"
}

func hasVector(list []importers.CVSS, v string) bool {
	for _, c := range list {
		if c.Vector == v {
			return true
		}
	}
	return false
}
