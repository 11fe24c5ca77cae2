// Package nessus reads Nessus v2 reports (.nessus files, document element <NessusClientData_v2>)
// and Nessus CSV exports (csv.go), which map to the same findings.
//
// The file is read with a streaming encoding/xml token loop; no tree of the document is built and
// the <Policy> section (plugin sets, preferences) is skipped unread.
//
// Mapping:
//   - each <ReportHost> is one host asset. Key "host:" + the name attribute (lower-cased); IPs from
//     the host-ip tag (and the name when it is an address), hostnames from host-fqdn, hostname,
//     netbios-name and host-rdns, MACs from mac-address (several may be given, one per line),
//     OS from operating-system (several candidate lines are joined with "; "), services from the
//     ports of the host's report items. HOST_START/HOST_END give the report's start and end.
//   - each <ReportItem> is one finding: pluginID is the rule id, pluginName the title, the
//     severity attribute 0..4 gives info/low/medium/high/critical (risk_factor when the attribute is
//     missing); ScannerSeverity is risk_factor as written (the attribute when there is none).
//     port/protocol give the location, <cve> the CVEs, <cwe> and CWE xrefs the CWEs,
//     cvss3_vector/cvss3_base_score, cvss_vector/cvss_base_score and cvss4_vector/cvss4_base_score the
//     CVSS ratings (source "nessus"), description (synopsis when empty), solution, see_also (one
//     reference per line) and plugin_output as evidence (cut at 64 KiB).
//   - CVSS vectors: a v3 vector without prefix (pyTenable's example writes "AV:L/AC:H/…") gets
//     "CVSS:3.0/", the version Nessus reports; a prefixed one ("CVSS:3.0/…", "CVSS:3.1/…") is kept as
//     written and its prefix gives the version. A v2 vector loses Nessus' "CVSS2#" prefix so that it is
//     the plain NVD form "AV:N/AC:L/Au:N/C:P/I:P/A:P". A v4 vector gets "CVSS:4.0/" when it lacks it.
//   - compliance items (cm:compliance-* elements, audit scans) take their title from
//     compliance-check-name and add compliance-check-id to the fingerprint, since one plugin reports
//     many checks on the same port.
//
// Informational plugins (severity 0, risk factor None) are kept, as Info findings: they carry the
// host's inventory (open ports, OS, software, scan information) and a product shows them filtered
// rather than losing them at import.
//
// Fingerprint: lower-case hex SHA-256 of the canonical string
//
//	nessus/v1|<host>|<pluginID>|<port>|<protocol>[|<compliance-check-id>]
//
// where host is the ReportHost name attribute trimmed and lower-cased, port the decimal port
// attribute, protocol the protocol attribute lower-cased, and '|' or '\' inside a field is escaped
// with '\'. Importing the same report twice gives the same fingerprints; the same plugin on two ports
// or two hosts gives two findings. A report may repeat a plugin on the same host, port and protocol
// (dd_basic_network_cvssv3.nessus reports plugin 58987 twice on 80/tcp, once per PHP install): that
// is one finding; the plugin output of the repeat is appended to its evidence (and lists unioned),
// so fingerprints are unique within a Report.
//
// Limits: nesting deeper than 256 elements, a single text run or tag over 16 MiB, DTDs declaring
// entities, ports outside 0..65535, severities outside 0..4 and CVSS scores outside 0..10 are refused
// with a *importers.ParseError giving line and column (or byte offset). Text fields are cut at 1 MiB.
// Cancelling ctx stops the parse; the context's error is returned as is.
package nessus

import (
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

const format = "nessus"

// New returns the Nessus v2 parser.
func New() importers.Parser {
	return &xmlscan.Format{Name: format, Root: isRoot, Other: detectCSV, Read: read, Describe: describe}
}

// isRoot reports whether se, the document element of head, is <NessusClientData_v2>; or head is
// a Nessus CSV export (see csv.go) all the same, as a first line can read as both.
func isRoot(se xml.StartElement, head []byte) bool {
	return se.Name.Local == "NessusClientData_v2" || detectCSV(head)
}

// read parses a .nessus file, or a CSV export when the file starts with neither '<' nor a JSON
// bracket (those get the XML reader's "not an XML report").
func read(ctx context.Context, r io.Reader) (*importers.Report, error) {
	return xmlscan.Report(ctx, r, format, parseCSV, parseXML)
}

func parseXML(s *xmlscan.Scanner, root xml.StartElement) (*importers.Report, error) {
	if root.Name.Local != "NessusClientData_v2" {
		return nil, s.Errorf("document element is <%s>, not <NessusClientData_v2>", root.Name.Local)
	}
	b := &builder{}
	err := s.Each("Report", func(se xml.StartElement) error {
		if b.Scan == "" {
			b.Scan = parseutil.Truncate(strings.TrimSpace(xmlscan.Attr(se, "name")), parseutil.MaxShort)
		}
		return s.Each("ReportHost", func(se xml.StartElement) error {
			return b.host(s, se)
		})
	})
	if err != nil {
		return nil, err
	}
	return b.report(), nil
}

// builder gathers the report; its Scan is the <Report name>.
type builder struct {
	parseutil.ScanReport
	version string
}

func (b *builder) report() *importers.Report {
	return b.Report(format, "Nessus", b.version)
}

// hostTags are the HostProperties tags kept; the others (often large) are skipped.
var hostTags = map[string]bool{
	"host-ip": true, "host-fqdn": true, "hostname": true, "netbios-name": true, "host-rdns": true,
	"mac-address": true, "operating-system": true,
	"HOST_START": true, "HOST_END": true, "HOST_START_TIMESTAMP": true, "HOST_END_TIMESTAMP": true,
}

type item struct {
	f       importers.Finding
	svc     string
	complID string
}

func (b *builder) host(s *xmlscan.Scanner, se xml.StartElement) error {
	name := strings.TrimSpace(xmlscan.Attr(se, "name"))
	if name == "" {
		return s.Errorf("<ReportHost> without a name attribute")
	}
	name = parseutil.Truncate(name, parseutil.MaxShort)
	tags := map[string]string{}
	var items []item
	err := s.Children(func(c xml.StartElement) error {
		switch c.Name.Local {
		case "HostProperties":
			return s.Children(func(t xml.StartElement) error {
				n := xmlscan.Attr(t, "name")
				if t.Name.Local != "tag" || !hostTags[n] {
					return s.Skip()
				}
				v, err := s.Text(parseutil.MaxShort)
				if _, dup := tags[n]; !dup {
					tags[n] = v
				}
				return err
			})
		case "ReportItem":
			it, err := b.item(s, c)
			if err != nil {
				return err
			}
			items = append(items, it)
			return nil
		}
		return s.Skip()
	})
	if err != nil {
		return err
	}
	b.times(tags)

	key := "host:" + strings.ToLower(name)
	a := importers.Asset{Key: key, Kind: importers.Host}
	ip := ""
	if addr, err := netip.ParseAddr(tags["host-ip"]); err == nil {
		ip = addr.String()
		a.IPs = parseutil.AddUnique(a.IPs, ip)
	}
	if addr, err := netip.ParseAddr(name); err == nil {
		a.IPs = parseutil.AddUnique(a.IPs, addr.String())
		if ip == "" {
			ip = addr.String()
		}
	}
	for _, h := range []string{tags["host-fqdn"], tags["hostname"], tags["netbios-name"], tags["host-rdns"], name} {
		if _, err := netip.ParseAddr(h); err == nil || h == "" {
			continue
		}
		a.Hostnames = parseutil.AddHostname(a.Hostnames, h)
	}
	a.Name = parseutil.FirstNonEmpty(tags["host-fqdn"], tags["hostname"], tags["netbios-name"], name)
	a.MACs = parseutil.AddUnique(a.MACs, parseutil.ParseMACs(tags["mac-address"])...)
	a.OS = joinLines(tags["operating-system"])
	for _, it := range items {
		if it.f.Location.Port > 0 {
			a.Services = parseutil.AddService(a.Services, it.f.Location.Port, it.f.Location.Protocol, it.svc)
		}
	}
	b.addAsset(a)

	locHost := parseutil.FirstNonEmpty(ip, name)
	for _, it := range items {
		f := it.f
		f.AssetKey = key
		f.Location.Host = locHost
		parts := []string{"nessus/v1", strings.ToLower(name), f.RuleID, strconv.Itoa(f.Location.Port), f.Location.Protocol}
		if it.complID != "" {
			parts = append(parts, it.complID)
		}
		f.Fingerprint = parseutil.FingerprintCanonical(parts...)
		b.Findings.Add(f)
	}
	return nil
}

func (b *builder) addAsset(a importers.Asset) {
	have := b.Assets.Get(a.Key)
	if have == nil {
		b.Assets.Add(a)
		return
	}
	have.IPs = parseutil.AddUnique(have.IPs, a.IPs...)
	for _, h := range a.Hostnames {
		have.Hostnames = parseutil.AddHostname(have.Hostnames, h)
	}
	have.MACs = parseutil.AddUnique(have.MACs, a.MACs...)
	if have.OS == "" {
		have.OS = a.OS
	}
	for _, sv := range a.Services {
		have.Services = parseutil.AddService(have.Services, sv.Port, sv.Protocol, sv.Name)
	}
}

func (b *builder) times(tags map[string]string) {
	parse := func(unix, text string) time.Time {
		if n, err := strconv.ParseInt(strings.TrimSpace(unix), 10, 64); err == nil && n > 0 && n < 1<<40 {
			return time.Unix(n, 0).UTC()
		}
		if t, err := time.Parse(time.ANSIC, strings.TrimSpace(text)); err == nil {
			return t.UTC()
		}
		return time.Time{}
	}
	b.Span(parse(tags["HOST_START_TIMESTAMP"], tags["HOST_START"]), parse(tags["HOST_END_TIMESTAMP"], tags["HOST_END"]))
}

func (b *builder) item(s *xmlscan.Scanner, se xml.StartElement) (item, error) {
	line, col, off := s.Pos()
	fail := func(msg string, args ...any) error {
		return &importers.ParseError{Format: format, Offset: off, Line: line, Column: col, Msg: fmt.Sprintf(msg, args...)}
	}
	it := item{}
	f := &it.f
	f.RuleID = parseutil.Truncate(strings.TrimSpace(xmlscan.Attr(se, "pluginID")), parseutil.MaxShort)
	if f.RuleID == "" {
		return it, fail("<ReportItem> without a pluginID attribute")
	}
	if p := strings.TrimSpace(xmlscan.Attr(se, "port")); p != "" {
		port, err := strconv.Atoi(p)
		if err != nil || port < 0 || port > 65535 {
			return it, fail("<ReportItem pluginID=%q>: port %q is not a number in 0..65535", f.RuleID, parseutil.Truncate(p, 64))
		}
		f.Location.Port = port
	}
	f.Location.Protocol = strings.ToLower(strings.TrimSpace(parseutil.Truncate(xmlscan.Attr(se, "protocol"), parseutil.MaxShort)))
	it.svc = strings.TrimSuffix(strings.TrimSpace(parseutil.Truncate(xmlscan.Attr(se, "svc_name"), parseutil.MaxShort)), "?")
	f.Title = strings.TrimSpace(parseutil.Truncate(xmlscan.Attr(se, "pluginName"), parseutil.MaxShort))
	sevAttr := strings.TrimSpace(xmlscan.Attr(se, "severity"))

	var riskFactor, synopsis, pluginName, output string
	var v3vec, v3score, v2vec, v2score, v4vec, v4score string
	var complName, complResult, complActual, complInfo, complSolution string
	short, long := parseutil.MaxShort, parseutil.MaxField
	err := s.Fields(func(c xml.StartElement) error {
		var v string
		var err error
		switch c.Name.Local {
		case "cve":
			v, err = s.Text(short)
			f.CVEs = parseutil.AddUnique(f.CVEs, strings.ToUpper(v))
		case "cwe":
			v, err = s.Text(short)
			f.CWEs = parseutil.AddUnique(f.CWEs, parseutil.CWENumber(v))
		case "xref":
			v, err = s.Text(short)
			f.CWEs = parseutil.AddUnique(f.CWEs, xrefCWE(v))
		case "see_also":
			v, err = s.Text(long)
			for _, ref := range strings.Fields(v) {
				f.References = parseutil.AddUnique(f.References, parseutil.Truncate(ref, parseutil.MaxShort))
			}
		case "plugin_output":
			err = textInto(s, &output, parseutil.MaxEvidence)
		default:
			err = s.Skip()
		}
		return err
	},
		xmlscan.Text("cvss3_vector", &v3vec, short),
		xmlscan.Text("cvss3_base_score", &v3score, short),
		xmlscan.Text("cvss_vector", &v2vec, short),
		xmlscan.Text("cvss_base_score", &v2score, short),
		xmlscan.Text("cvss4_vector", &v4vec, short),
		xmlscan.Text("cvss4_base_score", &v4score, short),
		xmlscan.Text("risk_factor", &riskFactor, short),
		xmlscan.Text("plugin_name", &pluginName, short),
		xmlscan.Text("description", &f.Description, long),
		xmlscan.Text("synopsis", &synopsis, long),
		xmlscan.Text("solution", &f.Remediation, long),
		xmlscan.Text("compliance-check-name", &complName, short),
		xmlscan.Text("compliance-check-id", &it.complID, short),
		xmlscan.Text("compliance-result", &complResult, short),
		xmlscan.Text("compliance-actual-value", &complActual, long),
		xmlscan.Text("compliance-info", &complInfo, long),
		xmlscan.Text("compliance-solution", &complSolution, long))
	if err != nil {
		return it, err
	}

	switch {
	case sevAttr != "":
		n, err := strconv.Atoi(sevAttr)
		if err != nil || n < 0 || n > 4 {
			return it, fail("<ReportItem pluginID=%q>: severity %q is not a number in 0..4", f.RuleID, parseutil.Truncate(sevAttr, 64))
		}
		f.Severity = []importers.Severity{importers.Info, importers.Low, importers.Medium, importers.High, importers.Critical}[n]
	default:
		f.Severity = parseutil.SeverityWordOrInfo(riskFactor)
	}
	f.ScannerSeverity = parseutil.FirstNonEmpty(riskFactor, sevAttr)

	for _, c := range []struct{ version, vec, score, name string }{
		{"4.0", v4vec, v4score, "cvss4_base_score"},
		{"3.0", v3vec, v3score, "cvss3_base_score"},
		{"2.0", v2vec, v2score, "cvss_base_score"},
	} {
		if c.vec == "" && c.score == "" {
			continue
		}
		score, err := parseutil.Number(c.score, 0, 10)
		if err != nil {
			return it, fail("<ReportItem pluginID=%q>: %s %q: %v", f.RuleID, c.name, parseutil.Truncate(c.score, 64), err)
		}
		rating := importers.CVSS{Version: c.version, Score: score, Source: "nessus"}
		rating.Version, rating.Vector = normVector(c.version, c.vec)
		f.CVSS = parseutil.AddCVSS(f.CVSS, rating)
	}

	if f.Title == "" {
		f.Title = pluginName
	}
	if complName != "" {
		f.Title = parseutil.Truncate(complName, parseutil.MaxShort)
	}
	if f.Description == "" {
		f.Description = parseutil.FirstNonEmpty(synopsis, complInfo)
	}
	if strings.EqualFold(f.Remediation, "n/a") {
		f.Remediation = ""
	}
	if f.Remediation == "" {
		f.Remediation = complSolution
	}
	if complResult != "" || complActual != "" {
		var e strings.Builder
		if complResult != "" {
			e.WriteString("Result: " + complResult + "\n")
		}
		if complActual != "" {
			e.WriteString("Actual value: " + complActual + "\n")
		}
		output = strings.TrimSpace(e.String() + output)
	}
	f.Evidence = parseutil.Truncate(output, parseutil.MaxEvidence)
	if f.RuleID == "19506" && b.version == "" {
		b.version = scanInfoVersion(output)
	}
	return it, nil
}

// textInto is Text() for fields kept bounded below parseutil.MaxField (plugin output).
func textInto(s *xmlscan.Scanner, dst *string, max int) error {
	v, err := s.Text(max)
	*dst = v
	return err
}

// normVector returns the CVSS version and vector in the form the vulns context reads (see the
// package doc).
func normVector(version, vec string) (string, string) {
	vec = strings.TrimSpace(vec)
	switch version {
	case "2.0":
		vec = strings.TrimPrefix(vec, "CVSS2#")
		vec = strings.TrimSuffix(strings.TrimPrefix(vec, "("), ")")
		return "2.0", vec
	case "3.0":
		switch {
		case vec == "":
			return "3.0", ""
		case strings.HasPrefix(vec, "CVSS:3.1/"):
			return "3.1", vec
		case strings.HasPrefix(vec, "CVSS:3.0/"):
			return "3.0", vec
		}
		return "3.0", "CVSS:3.0/" + vec
	case "4.0":
		if vec != "" && !strings.HasPrefix(vec, "CVSS:4.0/") {
			vec = "CVSS:4.0/" + vec
		}
		return "4.0", vec
	}
	return version, vec
}

func scanInfoVersion(out string) string {
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), "Nessus version") {
			return parseutil.Truncate(strings.TrimSpace(v), 64)
		}
	}
	return ""
}

// joinLines joins the non-blank lines of v with "; ".
func joinLines(v string) string {
	var out []string
	for _, l := range strings.Split(v, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "; ")
}

// xrefCWE is the CWE of a Nessus cross-reference ("CWE:79", in a <xref> element or the CSV XREF
// column), "" for a reference of another kind.
func xrefCWE(x string) string {
	if k, id, ok := strings.Cut(x, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "CWE") {
		return parseutil.CWENumber(id)
	}
	return ""
}
