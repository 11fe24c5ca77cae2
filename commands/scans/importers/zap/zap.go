// Package zap reads OWASP ZAP reports: the "traditional" JSON report (ZAP 2.8/2.9 and the newer
// traditional-json / traditional-json-plus templates: an object with site[] → alerts[] →
// instances[]) and the XML report (<OWASPZAPReport> → <site> → <alerts> → <alertitem> →
// <instances> → <instance>; ZAP before 2.7 put uri/param/attack/evidence directly in the
// alertitem, which is read as one instance). Both are read in a streaming token loop; no value
// larger than 16 MiB is buffered.
//
// Mapping:
//   - each <site> / site[] entry is a web_application asset: key "site:" + the site name (its base
//     URL, e.g. "https://example.com"), BaseURL the name, the host attribute as hostname (or IP),
//     the port as a tcp service named http or https after the ssl attribute.
//   - each alert instance is a finding: RuleID is alertRef when given (it tells apart alerts one
//     plugin raises, "10020-1"), else pluginid; title the alert name; riskcode 0..3 gives
//     info/low/medium/high (ZAP has no critical); ScannerSeverity is riskdesc as written, e.g.
//     "Low (Medium)", which keeps the confidence; confidence 0 (ZAP's "false positive") sets
//     VEXState "false_positive". cweid > 0 gives "CWE-n"; wascid > 0 is kept as the reference
//     "WASC-n"; reference (HTML <p> list or one URL per line) gives the references; desc and solution
//     lose their HTML tags (entities decoded) and become description and remediation; the location is
//     the instance's uri, method and param, with the site's host and port; evidence is the
//     instance's evidence, then "Attack: …" and "Other info: …" (instance otherinfo, else the
//     alert's), cut at 64 KiB. Request and response dumps are not kept.
//
// Target is the first site's base URL (hint "base_url").
//
// Fingerprint: lower-case hex SHA-256 of the canonical string
//
//	zap/v1|<site name>|<alertRef, else pluginid>|<METHOD>|<uri>|<param>
//
// with the method upper-cased, uri and param as written, and '|' or '\' inside a field escaped with
// '\'. Evidence and attack are left out: they vary between runs (a timestamp, a payload) while the
// weakness stays the same. ZAP reports may list the same alert twice for the same uri, method and
// param with different evidence (zap_2.8.0_juice-shop.json: Timestamp Disclosure twice on
// vendor-es2015.js): that is one finding, the evidence of the repeat appended, so fingerprints are
// unique within a Report.
//
// Limits: nesting deeper than 256, a single token over 16 MiB, invalid UTF-8, DTDs declaring
// entities, riskcode outside 0..3, confidence outside 0..4, ports outside 0..65535 and CWE/WASC ids
// that are not small positive integers are refused with a *importers.ParseError (line and column for
// XML, byte offset for JSON). Text fields are cut at 1 MiB. Cancelling ctx stops the parse; the
// context's error is returned as is.
package zap

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonwalk"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
	"github.com/socplatform/soc/commands/scans/importers/internal/readguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/xmlscan"
)

const format = "zap"

// New returns the ZAP (JSON and XML) report parser.
func New() importers.Parser {
	return &xmlscan.Format{Name: format, Root: isRoot, Other: detectJSON, Read: read, Describe: describe}
}

// isRoot reports whether se, an XML document's element, starts a ZAP XML report.
func isRoot(se xml.StartElement, _ []byte) bool { return se.Name.Local == "OWASPZAPReport" }

// detectJSON reports whether head, not an XML document, is a ZAP JSON report: a top-level
// "@programName" naming ZAP, or a top-level "site" array whose first entry has "@name", "@host"
// or "alerts".
func detectJSON(head []byte) bool {
	h := bytes.TrimLeft(readguard.TrimBOM(head), " \t\r\n")
	if len(h) == 0 || h[0] == '<' {
		return false
	}
	found := false
	jsonwalk.TopKeys(h, func(key string, dec *json.Decoder) (bool, bool) {
		switch key {
		case "@programName":
			var v string
			if dec.Decode(&v) == nil && strings.Contains(strings.ToUpper(v), "ZAP") {
				found = true
			}
			return found, true
		case "site":
			found = siteHead(dec)
			return true, true
		}
		return false, false
	})
	return found
}

// siteHead reports whether the value at dec is [ { "@name"|"@host"|"alerts": … or { "@name"….
func siteHead(dec *json.Decoder) bool {
	tok, err := dec.Token()
	if err != nil {
		return false
	}
	if d, ok := tok.(json.Delim); ok && d == '[' {
		if tok, err = dec.Token(); err != nil {
			return false
		}
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return false
	}
	tok, err = dec.Token()
	if err != nil {
		return false
	}
	k, _ := tok.(string)
	return k == "@name" || k == "@host" || k == "@port" || k == "alerts"
}

type site struct{ name, host, port, ssl string }

type alert struct {
	pluginID, alertRef, name, riskcode, confidence, riskdesc string
	desc, solution, otherinfo, reference, cweid, wascid      string
	instances                                                []instance
	flat                                                     instance // pre-2.7 XML: fields directly in the alertitem
}

type instance struct{ uri, method, param, attack, evidence, otherinfo string }

type builder struct {
	assets   parseutil.AssetSet
	fs       parseutil.FindingSet
	name     string
	version  string
	finished time.Time
}

// read parses a ZAP XML or JSON report, as its first byte says.
func read(ctx context.Context, r io.Reader) (*importers.Report, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	br := readguard.SkipBOM(r)
	var first byte
	for {
		c, err := br.ReadByte()
		if err != nil {
			return nil, &importers.ParseError{Format: format, Offset: 0, Msg: "empty input: not a ZAP report"}
		}
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			first = c
			_ = br.UnreadByte()
			break
		}
	}
	b := &builder{name: "ZAP"}
	var err error
	switch first {
	case '{':
		err = b.parseJSON(ctx, br)
	case '<':
		err = b.parseXML(ctx, br)
	default:
		return nil, &importers.ParseError{Format: format, Offset: 0, Msg: "not a ZAP report: expected a JSON object or an XML document"}
	}
	if err != nil {
		return nil, err
	}
	var target *importers.Target
	if sites := b.assets.Assets(); len(sites) > 0 {
		// The first site's base URL: what the scan was pointed at.
		target = &importers.Target{Name: sites[0].BaseURL, Hint: "base_url"}
	}
	return importers.Bounded(&importers.Report{
		Target:         target,
		Format:         format,
		ScannerName:    b.name,
		ScannerVersion: b.version,
		FinishedAt:     b.finished,
		Assets:         b.assets.Assets(),
		Findings:       b.fs.Findings(),
	}, nil)
}

// ---- JSON ----

func (b *builder) parseJSON(ctx context.Context, r io.Reader) error {
	w := jsonwalk.New(ctx, r, format)
	sawSite := false
	err := w.Document(func(key string) error {
		switch key {
		case "@programName":
			var v jsonwalk.Scalar
			if err := w.Decode(&v); err != nil {
				return err
			}
			if v != "" {
				b.name = parseutil.Truncate(string(v), parseutil.MaxShort)
			}
			return nil
		case "@version":
			var v jsonwalk.Scalar
			err := w.Decode(&v)
			b.version = parseutil.Truncate(string(v), parseutil.MaxShort)
			return err
		case "@generated":
			var v jsonwalk.Scalar
			err := w.Decode(&v)
			if t, ok := parseGenerated(string(v)); ok {
				b.finished = t
			}
			return err
		case "site":
			sawSite = true
			tok, err := w.Token()
			if err != nil {
				return err
			}
			switch d, _ := tok.(json.Delim); {
			case tok == nil:
				return nil
			case d == '[':
				return w.Elements(func() error { return b.jsonSite(w, nil) })
			case d == '{':
				return b.jsonSite(w, &d)
			}
			return w.Errorf("\"site\" is %s, want an array or object", jsonwalk.Describe(tok))
		}
		return w.Skip()
	})
	if err != nil {
		return err
	}
	if !sawSite {
		return &importers.ParseError{Format: format, Offset: w.InputOffset(), Msg: "not a ZAP JSON report: no \"site\" member"}
	}
	return nil
}

// jsonSite reads one site object; open is non-nil when its '{' was already read.
func (b *builder) jsonSite(w *jsonwalk.Walker, open *json.Delim) error {
	var st site
	var alerts []alert
	fn := func(key string) error {
		var v jsonwalk.Scalar
		switch key {
		case "@name", "@host", "@port", "@ssl":
			if err := w.Decode(&v); err != nil {
				return err
			}
			s := parseutil.Truncate(strings.TrimSpace(string(v)), parseutil.MaxShort)
			switch key {
			case "@name":
				st.name = s
			case "@host":
				st.host = s
			case "@port":
				st.port = s
			case "@ssl":
				st.ssl = s
			}
			return nil
		case "alerts":
			return w.Array(func() error {
				a, err := b.jsonAlert(w)
				alerts = append(alerts, a)
				return err
			})
		}
		return w.Skip()
	}
	start := w.InputOffset()
	var err error
	if open != nil {
		err = w.Members(fn)
	} else {
		err = w.Object(fn)
	}
	if err != nil {
		return err
	}
	return b.site(st, alerts, func(msg string) error {
		return &importers.ParseError{Format: format, Offset: start, Msg: msg}
	})
}

func (b *builder) jsonAlert(w *jsonwalk.Walker) (alert, error) {
	var a alert
	fields := map[string]*string{
		"pluginid": &a.pluginID, "alertRef": &a.alertRef, "alert": &a.name, "riskcode": &a.riskcode,
		"confidence": &a.confidence, "riskdesc": &a.riskdesc, "cweid": &a.cweid, "wascid": &a.wascid,
	}
	long := map[string]*string{"desc": &a.desc, "solution": &a.solution, "otherinfo": &a.otherinfo, "reference": &a.reference}
	var name string
	err := w.Object(func(key string) error {
		if dst, ok := fields[key]; ok {
			var v jsonwalk.Scalar
			err := w.Decode(&v)
			*dst = parseutil.Truncate(strings.TrimSpace(string(v)), parseutil.MaxShort)
			return err
		}
		if dst, ok := long[key]; ok {
			var v jsonwalk.Scalar
			err := w.Decode(&v)
			*dst = parseutil.Truncate(string(v), parseutil.MaxField)
			return err
		}
		switch key {
		case "name":
			var v jsonwalk.Scalar
			err := w.Decode(&v)
			name = parseutil.Truncate(strings.TrimSpace(string(v)), parseutil.MaxShort)
			return err
		case "instances":
			return w.Array(func() error {
				in, err := jsonInstance(w)
				a.instances = append(a.instances, in)
				return err
			})
		}
		return w.Skip()
	})
	if a.name == "" {
		a.name = name
	}
	return a, err
}

func jsonInstance(w *jsonwalk.Walker) (instance, error) {
	var in instance
	err := w.Object(func(key string) error {
		var dst *string
		max := parseutil.MaxShort
		switch key {
		case "uri":
			dst, max = &in.uri, parseutil.MaxField
		case "method":
			dst = &in.method
		case "param":
			dst = &in.param
		case "attack":
			dst, max = &in.attack, parseutil.MaxEvidence
		case "evidence":
			dst, max = &in.evidence, parseutil.MaxEvidence
		case "otherinfo":
			dst, max = &in.otherinfo, parseutil.MaxEvidence
		default:
			return w.Skip()
		}
		var v jsonwalk.Scalar
		err := w.Decode(&v)
		*dst = parseutil.Truncate(string(v), max)
		return err
	})
	return in, err
}

// ---- XML ----

func (b *builder) parseXML(ctx context.Context, r io.Reader) error {
	s := xmlscan.New(ctx, r, format)
	root, err := s.Root()
	if err != nil {
		return err
	}
	if root.Name.Local != "OWASPZAPReport" {
		return s.Errorf("document element is <%s>, not <OWASPZAPReport>", root.Name.Local)
	}
	if v := xmlscan.Attr(root, "programName"); v != "" {
		b.name = parseutil.Truncate(v, parseutil.MaxShort)
	}
	b.version = parseutil.Truncate(xmlscan.Attr(root, "version"), parseutil.MaxShort)
	if t, ok := parseGenerated(xmlscan.Attr(root, "generated")); ok {
		b.finished = t
	}
	err = s.Each("site", func(se xml.StartElement) error {
		line, col, off := s.Pos()
		st := site{
			name: parseutil.Truncate(strings.TrimSpace(xmlscan.Attr(se, "name")), parseutil.MaxShort),
			host: parseutil.Truncate(strings.TrimSpace(xmlscan.Attr(se, "host")), parseutil.MaxShort),
			port: parseutil.Truncate(strings.TrimSpace(xmlscan.Attr(se, "port")), parseutil.MaxShort),
			ssl:  parseutil.Truncate(strings.TrimSpace(xmlscan.Attr(se, "ssl")), parseutil.MaxShort),
		}
		var alerts []alert
		err := s.Each("alerts", func(se xml.StartElement) error {
			return s.Each("alertitem", func(se xml.StartElement) error {
				a, err := xmlAlert(s)
				alerts = append(alerts, a)
				return err
			})
		})
		if err != nil {
			return err
		}
		return b.site(st, alerts, func(msg string) error {
			return &importers.ParseError{Format: format, Offset: off, Line: line, Column: col, Msg: msg}
		})
	})
	if err != nil {
		return err
	}
	return s.Trailing()
}

func xmlAlert(s *xmlscan.Scanner) (alert, error) {
	var a alert
	var name string
	short, field, evidence := parseutil.MaxShort, parseutil.MaxField, parseutil.MaxEvidence
	err := s.Fields(func(se xml.StartElement) error {
		if se.Name.Local != "instances" {
			return s.Skip()
		}
		return s.Each("instance", func(se xml.StartElement) error {
			var in instance
			err := s.Fields(nil,
				xmlscan.Text("uri", &in.uri, field),
				xmlscan.Text("method", &in.method, short),
				xmlscan.Text("param", &in.param, short),
				xmlscan.Text("attack", &in.attack, evidence),
				xmlscan.Text("evidence", &in.evidence, evidence),
				xmlscan.Text("otherinfo", &in.otherinfo, evidence))
			a.instances = append(a.instances, in)
			return err
		})
	},
		xmlscan.Text("pluginid", &a.pluginID, short),
		xmlscan.Text("alertRef", &a.alertRef, short),
		xmlscan.Text("alert", &a.name, short),
		xmlscan.Text("name", &name, short),
		xmlscan.Text("riskcode", &a.riskcode, short),
		xmlscan.Text("confidence", &a.confidence, short),
		xmlscan.Text("riskdesc", &a.riskdesc, short),
		xmlscan.Text("desc", &a.desc, field),
		xmlscan.Text("solution", &a.solution, field),
		xmlscan.Text("otherinfo", &a.otherinfo, field),
		xmlscan.Text("reference", &a.reference, field),
		xmlscan.Text("cweid", &a.cweid, short),
		xmlscan.Text("wascid", &a.wascid, short),
		// Reports before ZAP 2.7 write their one instance's fields on the alert itself.
		xmlscan.Text("uri", &a.flat.uri, field),
		xmlscan.Text("method", &a.flat.method, short),
		xmlscan.Text("param", &a.flat.param, short),
		xmlscan.Text("attack", &a.flat.attack, evidence),
		xmlscan.Text("evidence", &a.flat.evidence, evidence))
	if a.name == "" {
		a.name = name
	}
	return a, err
}

// ---- common ----

func (b *builder) site(st site, alerts []alert, fail func(string) error) error {
	port := 0
	if st.port != "" {
		n, err := strconv.Atoi(st.port)
		if err != nil || n < 0 || n > 65535 {
			return fail(fmt.Sprintf("site %q: port %q is not a number in 0..65535", st.name, parseutil.Truncate(st.port, 64)))
		}
		port = n
	}
	ssl := strings.EqualFold(st.ssl, "true")
	if st.name == "" {
		if st.host == "" {
			return fail("site without a name or host")
		}
		scheme := "http"
		if ssl {
			scheme = "https"
		}
		st.name = scheme + "://" + st.host
		if port != 0 {
			st.name += ":" + strconv.Itoa(port)
		}
	}
	key := "site:" + st.name
	b.addAsset(st, key, port, ssl)

	for _, a := range alerts {
		risk, err := smallInt(a.riskcode, 0, 3, true)
		if err != nil {
			return fail(fmt.Sprintf("alert %q: riskcode %q is not a number in 0..3", a.pluginID, parseutil.Truncate(a.riskcode, 64)))
		}
		conf, err := smallInt(a.confidence, 0, 4, false)
		if err != nil {
			return fail(fmt.Sprintf("alert %q: confidence %q is not a number in 0..4", a.pluginID, parseutil.Truncate(a.confidence, 64)))
		}
		cweID, err := smallInt(a.cweid, -1, 999_999, false)
		if err != nil {
			return fail(fmt.Sprintf("alert %q: cweid %q is not a CWE number", a.pluginID, parseutil.Truncate(a.cweid, 64)))
		}
		wascID, err := smallInt(a.wascid, -1, 999_999, false)
		if err != nil {
			return fail(fmt.Sprintf("alert %q: wascid %q is not a WASC number", a.pluginID, parseutil.Truncate(a.wascid, 64)))
		}
		rule := firstNonEmpty(a.alertRef, a.pluginID)
		if rule == "" {
			return fail(fmt.Sprintf("alert %q without a pluginid", a.name))
		}
		tmpl := importers.Finding{
			AssetKey:        key,
			RuleID:          rule,
			Title:           firstNonEmpty(a.name, "ZAP alert "+rule),
			Severity:        []importers.Severity{importers.Info, importers.Low, importers.Medium, importers.High}[risk],
			ScannerSeverity: firstNonEmpty(a.riskdesc, a.riskcode),
			Description:     parseutil.Truncate(parseutil.PlainText(a.desc), parseutil.MaxField),
			Remediation:     parseutil.Truncate(parseutil.PlainText(a.solution), parseutil.MaxField),
			References:      splitRefs(a.reference),
		}
		if conf == 0 && strings.TrimSpace(a.confidence) != "" {
			tmpl.VEXState = "false_positive"
		}
		if cweID > 0 {
			tmpl.CWEs = []string{"CWE-" + strconv.Itoa(cweID)}
		}
		if wascID > 0 {
			tmpl.References = parseutil.AddUnique(tmpl.References, "WASC-"+strconv.Itoa(wascID))
		}
		alertOther := parseutil.Truncate(parseutil.PlainText(a.otherinfo), parseutil.MaxEvidence)
		instances := a.instances
		if len(instances) == 0 {
			instances = []instance{a.flat}
		}
		for _, in := range instances {
			f := tmpl
			f.CWEs = append([]string(nil), tmpl.CWEs...)
			f.References = append([]string(nil), tmpl.References...)
			method := strings.ToUpper(strings.TrimSpace(in.method))
			uri := strings.TrimSpace(in.uri)
			param := strings.TrimSpace(in.param)
			f.Location = importers.Location{Host: st.host, Port: port, URL: uri, Method: method, Param: param}
			f.Evidence = evidence(in, alertOther)
			f.Fingerprint = parseutil.FingerprintCanonical("zap/v1", st.name, rule, method, uri, param)
			b.fs.Add(f)
		}
	}
	return nil
}

func (b *builder) addAsset(st site, key string, port int, ssl bool) {
	if b.assets.Get(key) != nil {
		return
	}
	a := importers.Asset{Key: key, Kind: importers.WebApplication, Name: st.name, BaseURL: st.name}
	if st.host != "" {
		if addr, err := netip.ParseAddr(strings.Trim(st.host, "[]")); err == nil {
			a.IPs = []string{addr.String()}
		} else {
			a.Hostnames = []string{st.host}
		}
	}
	if port > 0 {
		name := "http"
		if ssl {
			name = "https"
		}
		a.Services = []importers.Service{{Port: port, Protocol: "tcp", State: "open", Name: name}}
	}
	b.assets.Add(a)
}

func evidence(in instance, alertOther string) string {
	var e strings.Builder
	e.WriteString(strings.TrimSpace(in.evidence))
	line := func(label, v string) {
		if v = strings.TrimSpace(v); v == "" {
			return
		}
		if e.Len() > 0 {
			e.WriteString("\n")
		}
		e.WriteString(label + v)
	}
	line("Attack: ", in.attack)
	other := alertOther
	if strings.TrimSpace(in.otherinfo) != "" {
		other = parseutil.Truncate(parseutil.PlainText(in.otherinfo), parseutil.MaxEvidence)
	}
	line("Other info: ", other)
	return parseutil.Truncate(e.String(), parseutil.MaxEvidence)
}

// smallInt parses an integer in lo..hi; empty (or, when !required, absent) is 0 for riskcode
// and -1 (none) otherwise.
func smallInt(v string, lo, hi int, required bool) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		if required {
			return 0, nil
		}
		return -1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("out of range")
	}
	return n, nil
}

// splitRefs reads ZAP's reference field: "<p>url</p><p>url</p>" or one URL per line.
func splitRefs(v string) []string {
	var out []string
	for _, f := range strings.Fields(parseutil.PlainText(v)) {
		out = parseutil.AddUnique(out, parseutil.Truncate(f, parseutil.MaxShort))
	}
	return out
}

func parseGenerated(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	for _, layout := range []string{"Mon, 2 Jan 2006 15:04:05", time.RFC3339Nano, time.RFC1123Z, time.RFC1123} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}
