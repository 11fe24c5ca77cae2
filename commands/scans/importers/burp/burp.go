// Package burp reads Burp Suite "issues" XML exports (Burp Scanner → Report issues → XML, 1.5
// to 2023.x): <issues burpVersion=…> → <issue> with serialNumber, type, name, host (its ip
// attribute), path, location, severity, confidence, issueBackground, remediationBackground,
// issueDetail, remediationDetail, references, vulnerabilityClassifications and
// requestresponse/request|response (base64="true" or plain text). The file is read in one
// streaming token loop; nothing larger than a field's bound is kept.
//
// Mapping:
//   - each distinct host (the base URL Burp writes, "https://www.example.com") is a
//     web_application asset: key "site:" + host, BaseURL host, the ip attribute as IP and the
//     host name as hostname.
//   - each issue is a finding: RuleID is the issue type (Burp's numeric issue type id, the same
//     for every instance of a kind of issue), title the name, severity High/Medium/Low/
//     Information → high/medium/low/info (Burp has no critical); "False positive" (a severity
//     the tester sets by hand) → info with Suppression false_positive. ScannerSeverity is
//     "severity (confidence)", as ZAP's riskdesc. Description is issueBackground then
//     issueDetail, remediation remediationBackground then remediationDetail, all without their
//     HTML; references are the links of references and vulnerabilityClassifications; CWEs are
//     the "CWE-n" of vulnerabilityClassifications. Evidence is the first request and response,
//     base64-decoded when marked so, each cut at 16 KiB: bodies are never kept whole.
//
// Target is the first host (hint "base_url").
//
// Fingerprint: lower-case hex SHA-256 of the canonical string
//
//	burp/v1|<host>|<type>|<path>|<location>
//	burp/v1|<host>|134217728|<path>|<location>|<name>   (issues reported by extensions)
//
// Every issue an extension reports has type 134217728 ("extension generated issue"): the name
// is then what tells two issues apart, so it is part of their fingerprint. serialNumber is left out: Burp gives the same issue a new serial number in every scan.
//
// Limits: the xmlscan ones (nesting, token size, invalid UTF-8, DTDs declaring entities), an
// issue without type or host, and a severity other than the five are refused with a
// *importers.ParseError naming line and column. Burp writes `<?xml version="1.1"?>` when
// requests are not base64-encoded; encoding/xml reads only 1.0, and the report's content is the
// same in both, so the declaration is read as 1.0 (with a warning).
package burp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
	"github.com/socplatform/soc/commands/scans/importers/internal/readguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/xmlscan"
)

const format = "burp"

// New returns the Burp Suite issues XML parser.
func New() importers.Parser {
	return &xmlscan.Format{Name: format, Root: isRoot, Other: detectXML11, Read: read, Describe: describe}
}

// describe documents the format for the format list.
func describe() importers.FormatInfo {
	return importers.FormatInfo{
		Name:        format,
		Title:       "Burp Suite issues XML (Report issues → XML)",
		Family:      "dast",
		Versions:    []string{"1.5–2023.x", "XML 1.0 and 1.1 declarations", "requests base64 or plain"},
		Detection:   "document element <issues> with a burpVersion attribute, or whose first child is <issue> with a <serialNumber>",
		Fingerprint: []string{"host", "type", "path", "location", "name (extension-generated issues, type 134217728, only)"},
		Severity: map[string]importers.Severity{
			"High": importers.High, "Medium": importers.Medium, "Low": importers.Low,
			"Information": importers.Info, "False positive": importers.Info,
		},
		Notes: "One web_application asset per host (base URL). Severity \"False positive\" is imported as a false positive. " +
			"Evidence keeps the first request and response, 16 KiB of each; serialNumber changes every scan and is not part of the fingerprint.",
	}
}

// isRoot reports whether se, the document element of head, starts a Burp issues export.
func isRoot(se xml.StartElement, head []byte) bool {
	if se.Name.Local != "issues" {
		return false
	}
	if xmlscan.Attr(se, "burpVersion") != "" {
		return true
	}
	// An export without the attribute: the first issue starts with its serialNumber.
	i := bytes.Index(head, []byte("<issue>"))
	return i >= 0 && bytes.HasPrefix(bytes.TrimLeft(head[i+len("<issue>"):], " \t\r\n"), []byte("<serialNumber>"))
}

// detectXML11 reports whether head is a Burp issues export that declares XML 1.1: the 1.0
// decoder that finds the document element refuses it, so it is looked at read as 1.0.
func detectXML11(head []byte) bool {
	head = xmlscan.As10(readguard.TrimBOM(head))
	se, ok := xmlscan.RootElement(head)
	return ok && isRoot(se, head)
}

type issue struct {
	serial, typ, name, host, ip, path, location, severity, confidence string
	background, remBackground, detail, remDetail, references, classes string
	request, response                                                 string
	requestB64, responseB64                                           bool
}

type builder struct {
	assets   parseutil.AssetSet
	fs       parseutil.FindingSet
	warnings []string
	badB64   int
}

// read parses a Burp issues export; an XML 1.1 declaration is read as 1.0, with a warning.
func read(ctx context.Context, r io.Reader) (*importers.Report, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	br := readguard.SkipBOM(r)
	b := &builder{}
	if head, _ := br.Peek(64); xmlscan.IsXML11(head) {
		br = bufio.NewReader(io.MultiReader(bytes.NewReader(xmlscan.As10(head)), discard(br, len(head))))
		b.warnings = append(b.warnings, "the XML 1.1 declaration was read as XML 1.0")
	}
	return xmlscan.Report(ctx, br, format, xmlscan.XMLOnly(format, "a Burp issues XML report"), func(s *xmlscan.Scanner, root xml.StartElement) (*importers.Report, error) {
		if root.Name.Local != "issues" {
			return nil, s.Errorf("document element is <%s>, not <issues>", root.Name.Local)
		}
		err := s.Each("issue", func(xml.StartElement) error {
			line, col, off := s.Pos()
			is, err := readIssue(s)
			if err != nil {
				return err
			}
			if err := b.add(is); err != nil {
				return &importers.ParseError{Format: format, Offset: off, Line: line, Column: col, Msg: err.Error()}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		return b.report(root), nil
	})
}

func (b *builder) report(root xml.StartElement) *importers.Report {
	if b.badB64 > 0 {
		b.warnings = append(b.warnings, fmt.Sprintf("%d requests or responses marked base64 were not valid base64 and were kept as written", b.badB64))
	}
	var target *importers.Target
	assets := b.assets.Assets()
	if len(assets) > 0 {
		target = &importers.Target{Name: assets[0].BaseURL, Hint: "base_url"}
	}
	return &importers.Report{
		Format:         format,
		ScannerName:    "Burp Suite",
		ScannerVersion: parseutil.Truncate(xmlscan.Attr(root, "burpVersion"), parseutil.MaxShort),
		FinishedAt:     exportTime(xmlscan.Attr(root, "exportTime")),
		Assets:         assets,
		Findings:       b.fs.Findings(),
		Target:         target,
		Warnings:       b.warnings,
	}
}

// discard is br with its first n bytes skipped (they were peeked already).
func discard(br *bufio.Reader, n int) io.Reader {
	_, _ = br.Discard(n)
	return br
}

func exportTime(v string) time.Time {
	// Burp writes the JVM's Date.toString(): "Wed Nov 10 17:26:55 EDT 2014".
	if t, err := time.Parse("Mon Jan 2 15:04:05 MST 2006", strings.TrimSpace(v)); err == nil {
		return t.UTC()
	}
	return time.Time{}
}

func readIssue(s *xmlscan.Scanner) (issue, error) {
	var is issue
	short, field := parseutil.MaxShort, parseutil.MaxField
	err := s.Fields(func(se xml.StartElement) error {
		switch se.Name.Local {
		case "host":
			is.ip = parseutil.Truncate(strings.TrimSpace(xmlscan.Attr(se, "ip")), short)
			v, err := s.Text(short)
			is.host = v
			return err
		case "requestresponse":
			if is.request != "" || is.response != "" {
				return s.Skip() // the first pair is evidence enough
			}
			return s.Children(func(se xml.StartElement) error {
				var dst *string
				var enc *bool
				switch se.Name.Local {
				case "request":
					dst, enc = &is.request, &is.requestB64
				case "response":
					dst, enc = &is.response, &is.responseB64
				default:
					return s.Skip()
				}
				*enc = xmlscan.Attr(se, "base64") == "true"
				max := parseutil.MaxDump
				if *enc {
					max = base64.StdEncoding.EncodedLen(parseutil.MaxDump)
				}
				v, err := s.Text(max)
				*dst = v
				return err
			})
		}
		return s.Skip()
	},
		xmlscan.Text("serialNumber", &is.serial, short),
		xmlscan.Text("type", &is.typ, short),
		xmlscan.Text("name", &is.name, short),
		xmlscan.Text("path", &is.path, short),
		xmlscan.Text("location", &is.location, short),
		xmlscan.Text("severity", &is.severity, short),
		xmlscan.Text("confidence", &is.confidence, short),
		xmlscan.Text("issueBackground", &is.background, field),
		xmlscan.Text("remediationBackground", &is.remBackground, field),
		xmlscan.Text("issueDetail", &is.detail, field),
		xmlscan.Text("remediationDetail", &is.remDetail, field),
		xmlscan.Text("references", &is.references, field),
		xmlscan.Text("vulnerabilityClassifications", &is.classes, field))
	return is, err
}

var severities = map[string]importers.Severity{
	"high": importers.High, "medium": importers.Medium, "low": importers.Low,
	"information": importers.Info, "info": importers.Info, "false positive": importers.Info,
}

// extensionType is the issue type Burp gives every issue an extension (BApp) reports: only
// the name tells two of them apart.
const extensionType = "134217728"

// fingerprint identifies an issue across scans. Extension-generated issues share one type, so
// their name is part of it; other issues keep the fingerprint they always had.
func fingerprint(is issue) string {
	if strings.TrimSpace(is.typ) == extensionType {
		return parseutil.FingerprintCanonical("burp/v1", is.host, is.typ, is.path, is.location, strings.TrimSpace(is.name))
	}
	return parseutil.FingerprintCanonical("burp/v1", is.host, is.typ, is.path, is.location)
}

var reCWE = regexp.MustCompile(`(?i)\bCWE-(\d{1,7})\b`)

func (b *builder) add(is issue) error {
	if is.typ == "" {
		return fmt.Errorf("issue %q has no <type>", is.name)
	}
	if is.host == "" {
		return fmt.Errorf("issue %q (type %s) has no <host>", is.name, is.typ)
	}
	sevWord := strings.ToLower(strings.TrimSpace(is.severity))
	sev, ok := severities[sevWord]
	if !ok {
		return fmt.Errorf("issue %q: severity %q is none of High, Medium, Low, Information, False positive", is.name, parseutil.Truncate(is.severity, 64))
	}
	key := "site:" + is.host
	if b.assets.Get(key) == nil {
		b.assets.Add(asset(key, is.host, is.ip))
	}
	f := importers.Finding{
		AssetKey:        key,
		Fingerprint:     fingerprint(is),
		Title:           parseutil.FirstNonEmpty(is.name, "Burp issue "+is.typ),
		Severity:        sev,
		ScannerSeverity: scannerSeverity(is.severity, is.confidence),
		RuleID:          is.typ,
		Location:        importers.Location{URL: joinURL(is.host, is.path), Param: param(is.location)},
		Description:     parseutil.PlainParagraphs(is.background, is.detail),
		Remediation:     parseutil.PlainParagraphs(is.remBackground, is.remDetail),
		Evidence:        b.evidence(is),
	}
	if u, err := url.Parse(is.host); err == nil {
		f.Location.Host = u.Hostname()
	}
	for _, m := range reCWE.FindAllStringSubmatch(is.classes, -1) {
		if cwe := parseutil.CWENumber(m[1]); cwe != "" {
			f.CWEs = parseutil.AddUnique(f.CWEs, cwe)
		}
	}
	for _, html := range []string{is.references, is.classes} {
		f.References = parseutil.AddUnique(f.References, parseutil.Links(html)...)
	}
	if sevWord == "false positive" {
		f.Suppressed = &importers.Suppression{Kind: importers.SuppressedFalsePositive, Reason: "marked False positive in Burp", Source: "burp severity"}
	}
	b.fs.Add(f)
	return nil
}

func asset(key, host, ip string) importers.Asset {
	a := importers.Asset{Key: key, Kind: importers.WebApplication, Name: host, BaseURL: host}
	if addr, err := netip.ParseAddr(ip); err == nil {
		a.IPs = []string{addr.String()}
	}
	if u, err := url.Parse(host); err == nil && u.Hostname() != "" {
		if _, err := netip.ParseAddr(u.Hostname()); err != nil {
			a.Hostnames = []string{u.Hostname()}
		}
	}
	return a
}

func scannerSeverity(sev, conf string) string {
	if conf == "" {
		return sev
	}
	return sev + " (" + conf + ")"
}

// joinURL is the issue's URL: the host's base URL and the path.
func joinURL(host, path string) string {
	if path == "" {
		return host
	}
	return parseutil.Truncate(strings.TrimSuffix(host, "/")+"/"+strings.TrimPrefix(path, "/"), parseutil.MaxShort)
}

// param is the parameter a location names: Burp writes "/login [username parameter]".
func param(location string) string {
	open := strings.LastIndexByte(location, '[')
	if open < 0 || !strings.HasSuffix(location, "parameter]") {
		return ""
	}
	p := strings.TrimSpace(strings.TrimSuffix(location[open+1:], "]"))
	p = strings.TrimSpace(strings.TrimSuffix(p, "parameter"))
	// "[username parameter]", "[URL path filename]" (the latter is not a parameter)
	return p
}

// evidence is the request and response, decoded when base64 (parseutil.Exchange).
func (b *builder) evidence(is issue) string {
	req, resp := is.request, is.response
	if is.requestB64 {
		req = b.decode(req)
	}
	if is.responseB64 {
		resp = b.decode(resp)
	}
	return parseutil.Exchange("", req, resp)
}

// decode decodes a base64 request or response; when its text was cut at a bound, only its whole
// 4-byte groups are decoded. Bytes that are not UTF-8 (binary bodies) become U+FFFD.
func (b *builder) decode(text string) string {
	enc, cut := strings.CutSuffix(text, parseutil.TruncMark)
	enc = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, enc)
	if cut {
		enc = enc[:len(enc)/4*4]
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		b.badB64++
		return text
	}
	out := strings.ToValidUTF8(string(raw), "\uFFFD")
	if cut {
		out += parseutil.TruncMark
	}
	return out
}
