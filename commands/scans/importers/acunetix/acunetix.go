// Package acunetix reads Acunetix reports in their three shapes, as two formats:
//
//   - "acunetix" (New): the XML exports. Acunetix WVS (<ScanGroup ExportedOn=…>, the attribute
//     missing from some exports → <Scan> with
//     StartURL → <ReportItems> → <ReportItem>: Name, ModuleName, Details, Affects, Parameter,
//     IsFalsePositive, Severity, Type, Impact, Description, DetailedInformation, Recommendation,
//     TechnicalDetails/Request|Response, CWE, CVEList, CVSS and CVSS3 Descriptor and Score,
//     References), and Acunetix 360 (<acunetix-360> → <target>/url → <vulnerabilities> →
//     <vulnerability>, the Netsparker / Invicti Enterprise schema).
//   - "acunetix360" (New360JSON): the Acunetix 360 JSON export ({"Generated", "Target":
//     {"ScanId", "Url"}, "Vulnerabilities": [{"LookupId", "Url", "Type", "Name", "Severity",
//     "Certainty", "State", "Classification": {"Cwe", "Cvss", "Cvss31"}, "HttpRequest",
//     "HttpResponse", "Description", "Impact", "RemedialProcedure", …}]}).
//
// Both are read streaming (xmlscan, jsonguard); no request or response is kept beyond 16 KiB.
//
// Mapping, WVS: each <Scan> is a web_application asset whose base URL is the StartURL
// (default port and trailing slash dropped); each ReportItem a finding: RuleID the ModuleName,
// title the Name, severity high/medium/low/info(rmational) (critical, written by newer
// versions, kept); IsFalsePositive True → Suppression false_positive. Location: the Affects
// path under the base URL (Affects "Web Server" is the site itself) and the Parameter. CVSS v2
// and v3 descriptors become ratings (a score written with a decimal comma, "5,3", is read as
// 5.3); CWE and CVEs are kept; evidence is Details, then the request and response.
//
// Mapping, Acunetix 360 (XML and JSON): the target URL is the web_application asset; each
// vulnerability a finding: RuleID the Type (BlindSqlInjection, …), title the Name, severity
// Critical/High/Medium/Low/Information/BestPractice → critical/high/medium/low/info/info; the
// CVSS 3.0 and 3.1 vectors are kept; Cwe may list several ("89,564"); State (a comma list)
// FalsePositive → false_positive, AcceptedRisk and Ignored → accepted, Fixed… → resolved. The
// LookupId is kept as a reference (the page in Acunetix 360).
//
// Fingerprint: lower-case hex SHA-256 of the canonical string
//
//	acunetix/v1|<base URL>|<ModuleName>|<Name>|<Affects>|<Parameter>   (WVS)
//	acunetix360/v1|<target URL>|<Type>|<Url>                           (Acunetix 360)
//
// A WVS item without a Parameter whose Details start "Set-Cookie: NAME=" (a cookie check, which
// Acunetix reports once per cookie) takes NAME as its Parameter.
//
// Details, requests and responses are left out: they hold timings and payloads that change
// between two scans of the same issue. The Acunetix 360 LookupId is not used, so that an
// issue found again by a new scan target keeps its finding.
//
// Limits: the xmlscan and jsonguard ones, a report item without a name or module, a
// vulnerability without a type or URL and a severity not in the lists above are refused with a
// *importers.ParseError naming its position.
package acunetix

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
	"github.com/socplatform/soc/commands/scans/importers/internal/xmlscan"
)

const format = "acunetix"

// New returns the Acunetix XML parser (WVS ScanGroup and Acunetix 360 XML).
func New() importers.Parser {
	return &xmlscan.Format{Name: format, Root: isRoot, Read: read, Describe: describe}
}

// describe documents the format for the format list.
func describe() importers.FormatInfo {
	sev := wvsSeverities()
	for k, v := range severities360 {
		sev["360: "+k] = v
	}
	return importers.FormatInfo{
		Name:        format,
		Title:       "Acunetix XML (WVS ScanGroup export and Acunetix 360 XML)",
		Family:      "dast",
		Versions:    []string{"WVS 9–11 ScanGroup", "Acunetix 360 / Netsparker-style XML"},
		Detection:   "document element <ScanGroup> with an ExportedOn attribute or whose first <Scan> has a <StartURL> (WVS), or <acunetix-360>",
		Fingerprint: []string{"WVS: base URL, ModuleName, Name, Affects, Parameter (else the cookie of a Set-Cookie Details)", "360: target URL, Type, Url"},
		Severity:    sev,
		Notes: "One web_application asset per scan (StartURL, or the 360 target URL). IsFalsePositive True and the 360 states " +
			"FalsePositive / AcceptedRisk / Ignored / Fixed import as verdicts. Scores written with a decimal comma are read.",
	}
}

// isRoot reports whether se, the document element of head, starts an Acunetix XML export.
func isRoot(se xml.StartElement, head []byte) bool {
	switch se.Name.Local {
	case "ScanGroup":
		return xmlscan.Attr(se, "ExportedOn") != "" || startsWithScanURL(head)
	case "acunetix-360":
		return true
	}
	return false
}

// startsWithScanURL reports whether the ScanGroup in head opens with <Scan> holding a
// <StartURL>: Acunetix writes some exports without the ExportedOn attribute, and no other
// ScanGroup is known to have that shape.
func startsWithScanURL(head []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(head))
	depth := 0
	for i := 0; i < 512; i++ {
		tok, err := d.RawToken()
		if err != nil {
			return false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case depth == 2 && t.Name.Local != "Scan":
				return false
			case depth == 3 && t.Name.Local == "StartURL":
				return true
			}
		case xml.EndElement:
			if depth--; depth < 2 {
				return false // the first Scan ended without a StartURL
			}
		}
	}
	return false
}

// read parses a WVS ScanGroup or Acunetix 360 XML export.
func read(ctx context.Context, r io.Reader) (*importers.Report, error) {
	return xmlscan.Report(ctx, r, format, xmlscan.XMLOnly(format, "an Acunetix XML report"), func(s *xmlscan.Scanner, root xml.StartElement) (*importers.Report, error) {
		switch root.Name.Local {
		case "ScanGroup":
			return readScanGroup(s, root)
		case "acunetix-360":
			return read360XML(s)
		}
		return nil, s.Errorf("document element is <%s>, not <ScanGroup> or <acunetix-360>", root.Name.Local)
	})
}

// site is a scanned web application: its asset and the report's Target.
type site struct {
	assets parseutil.AssetSet
	target *importers.Target
}

// add registers the web application at raw (a start or target URL) and returns its asset key
// and base URL.
func (s *site) add(raw string) (key, base string) {
	base = baseURL(raw)
	key = "site:" + base
	if s.assets.Get(key) == nil {
		a := importers.Asset{Key: key, Kind: importers.WebApplication, Name: base, BaseURL: base}
		if u, err := url.Parse(base); err == nil && u.Hostname() != "" {
			a.Hostnames = parseutil.AddHostname(nil, u.Hostname())
		}
		s.assets.Add(a)
	}
	if s.target == nil {
		s.target = &importers.Target{Name: base, Hint: "base_url"}
	}
	return key, base
}

// baseURL is raw without its default port, query and trailing slash: Acunetix writes
// "http://testphp.vulnweb.com:80/" where other scanners write "http://testphp.vulnweb.com".
func baseURL(raw string) string {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return parseutil.Truncate(strings.TrimSuffix(raw, "/"), parseutil.MaxShort)
	}
	host := strings.ToLower(u.Host)
	if p := u.Port(); (u.Scheme == "http" && p == "80") || (u.Scheme == "https" && p == "443") {
		host = strings.TrimSuffix(host, ":"+p)
	}
	return parseutil.Truncate(strings.ToLower(u.Scheme)+"://"+host+strings.TrimSuffix(u.EscapedPath(), "/"), parseutil.MaxShort)
}

// under is path (an Affects value, a URL) as a URL of the site at base.
func under(base, path string) string {
	switch {
	case path == "" || !strings.HasPrefix(path, "/"):
		if strings.Contains(path, "://") {
			return path
		}
		return base
	}
	return parseutil.Truncate(base+path, parseutil.MaxShort)
}

// reportTime reads the day-first dates Acunetix writes ("7/10/2014, 11:56:03",
// "20/9/2016, 16:37:38", "16/06/2020 09:47 AM"); zero when it is none of them.
func reportTime(v string) time.Time {
	for _, layout := range []string{"2/1/2006, 15:04:05", "2/1/2006, 15:04", "2-1-2006, 15:04", "2/1/2006 3:04 PM", time.RFC3339} {
		if t, err := time.Parse(layout, strings.TrimSpace(v)); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
