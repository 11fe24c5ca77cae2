// Package mapped reads CSV and JSON reports that no parser knows, through a user's Mapping (see
// mapping.go): which column or JSON path holds each part of a finding, how the scanner's
// severities map to ours and which fields make the fingerprint.
//
// # What is read
//
// CSV: the header row, then one finding per record (csvscan: quoted fields, bounded records,
// positioned errors); every column the mapping names must be in the header. JSON: the document
// is walked to the findings array with internal/jsonwalk (every other member skipped token by
// token) and each element, an object of at most 16 MiB, is decoded on its own; its fields are
// found by their dot paths. A value may be a string, a number, a boolean or an array of those
// (several CVEs); an object where a field's path ends is refused.
//
// Each finding has its title (required, never empty), severity, rule id, CVEs and CWEs (any
// separator; values that are not CVE or CWE ids are skipped with a warning), a CVSS vector (the
// version from its prefix, the plain "AV:…/Au:…" form being 2.0; the score is left to the vulns
// context), component name and version, file, description and remediation.
//
// Severity: severity_map first (scanner value compared trimmed and case-insensitively), else
// our own words (critical, high, medium, low, info, informational, none), else a number on the
// CVSS scale (>= 9 critical, >= 7 high, >= 4 medium, > 0 low, 0 info); anything else is info,
// counted in a warning so a mapping that misses a value is noticed. ScannerSeverity keeps the
// value as written.
//
// # Assets
//
// A finding with a host is on a host asset ("host:"+host lower-cased; an IP address, else a
// host name); else one with a URL naming a host is on a web_application asset (its base URL,
// scheme://host[:port]); else it is on one asset named after the mapping's scanner, which
// carries no identifier: the report's Target (the scanner name, hint "scan") or ?asset= names
// what it is.
//
// # Fingerprints
//
// A fingerprint is the lower-case hex SHA-256 of the JSON encoding of the array of strings
//
//	["mapped/v1", scanner, field1 + "=" + value1, field2 + "=" + value2, …]
//
// for the mapping's fingerprint fields in their order (values as read, several joined with
// "\n"). Records with the same fingerprint are one finding (lists unioned). A record whose
// fingerprint fields are all empty is refused: it would merge with every other such record.
//
// # Limits
//
// Parse reads at most MaxBytes (DefaultMaxBytes); strings are cut to the model's bounds with a
// warning. Malformed input gives a *importers.ParseError (CSV: line and column; JSON: byte
// offset); a cancelled context gives ctx.Err() unwrapped.
package mapped

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/csvscan"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonwalk"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
	"github.com/socplatform/soc/commands/scans/importers/internal/readguard"
)

// Format is the name of the mapped format (?format=mapped, Report.Format).
const Format = "mapped"

// DefaultMaxBytes bounds a report read through a mapping, as the other parsers bound theirs.
const DefaultMaxBytes = 512 << 20

// Parser reads reports through one Mapping.
type Parser struct {
	m *Mapping
	// MaxBytes is the most Parse reads (DefaultMaxBytes when 0).
	MaxBytes int64
}

// New returns the parser of reports shaped as m says.
func New(m *Mapping) *Parser { return &Parser{m: m} }

// Format implements importers.Parser.
func (*Parser) Format() string { return Format }

// Detect never claims a file: a mapping is only used when the user names one, since any CSV or
// JSON would otherwise match.
func (*Parser) Detect([]byte) bool { return false }

// Info implements importers.Describer.
func (*Parser) Info() importers.FormatInfo { return Info() }

// Info documents the mapped format; it needs no mapping.
func Info() importers.FormatInfo {
	return importers.FormatInfo{
		Name:      Format,
		Title:     "Custom mapping of any CSV or JSON report (soc import --mapping FILE)",
		Family:    "generic",
		Versions:  []string{"mapping file: JSON object with scanner, input, findings, fields, severity_map, fingerprint"},
		Detection: "never detected: used only when a mapping is given",
		Fingerprint: []string{"the mapping's scanner name",
			"the fields the mapping lists under fingerprint, in order (" + strings.Join(fieldNames, ", ") + ")"},
		Severity: map[string]importers.Severity{
			"critical":                         importers.Critical,
			"high":                             importers.High,
			"medium":                           importers.Medium,
			"low":                              importers.Low,
			"info, informational, none":        importers.Info,
			"number >= 9.0":                    importers.Critical,
			"number >= 7.0":                    importers.High,
			"number >= 4.0":                    importers.Medium,
			"number > 0":                       importers.Low,
			"number 0, empty or unknown value": importers.Info,
		},
		Notes: "severity_map entries map to the severity they name and win over the built-in words. Findings with a host are on a host asset, else with a URL on a web application, else on one asset named after the scanner (attach it with --asset). The title is required in every finding.",
	}
}

// Parse implements importers.Parser.
func (p *Parser) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	max := p.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	r = &limited{r: r, max: max}
	b := newBuilder(p.m)
	var err error
	if p.m.Input == CSV {
		err = b.csv(ctx, r)
	} else {
		err = b.json(ctx, r)
	}
	if err != nil {
		return nil, err
	}
	return importers.Bounded(b.report(), nil)
}

// limited refuses input past max bytes with a LimitError, which the CSV and JSON readers turn
// into a ParseError at that offset.
type limited struct {
	r   io.Reader
	n   int64
	max int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.n >= l.max {
		return 0, &readguard.LimitError{Off: l.n, Msg: fmt.Sprintf("the report is over the %d-byte limit", l.max)}
	}
	if int64(len(p)) > l.max-l.n+1 {
		p = p[:l.max-l.n+1]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		return n, &readguard.LimitError{Off: l.max, Msg: fmt.Sprintf("the report is over the %d-byte limit", l.max)}
	}
	return n, err
}

func (b *builder) csv(ctx context.Context, r io.Reader) error {
	c, err := csvscan.Open(ctx, r, Format, b.m.Fields["title"])
	if err != nil {
		return err
	}
	var missing []string
	for _, f := range fieldNames {
		if col, ok := b.m.Fields[f]; ok && !c.Has(col) {
			missing = append(missing, fmt.Sprintf("%q (%s)", col, f))
		}
	}
	if len(missing) > 0 {
		return &importers.ParseError{Format: Format, Offset: 0, Line: 1, Column: 1,
			Msg: "CSV header lacks the column(s) the mapping names: " + strings.Join(missing, ", ")}
	}
	err = c.Each(func(row csvscan.Row) error {
		return b.add(func(field string) ([]string, error) {
			if v := row.Get(b.m.Fields[field]); v != "" {
				return []string{v}, nil
			}
			return nil, nil
		}, func(msg string) error { return c.Errorf(row, b.m.Fields["title"], "%s", msg) })
	})
	if err != nil {
		return err
	}
	b.warnings = append(b.warnings, c.Warnings()...)
	return nil
}

func (b *builder) json(ctx context.Context, r io.Reader) error {
	w := jsonwalk.New(ctx, r, Format)
	found := false
	var walk func(path []string) error
	walk = func(path []string) error {
		if len(path) == 0 {
			found = true
			n := 0
			return w.Array(func() error {
				n++
				var v any
				if err := w.Decode(&v); err != nil {
					return err
				}
				obj, ok := v.(map[string]any)
				if !ok {
					return w.Errorf("finding %d is %s, not an object", n, kind(v))
				}
				return b.add(func(field string) ([]string, error) {
					return lookup(obj, b.paths[field], b.m.Fields[field])
				}, func(msg string) error { return w.Errorf("finding %d: %s", n, msg) })
			})
		}
		return w.Object(func(key string) error {
			if key == path[0] && !found {
				return walk(path[1:])
			}
			return w.Skip()
		})
	}
	if err := walk(b.m.Findings); err != nil {
		return err
	}
	if err := w.End(); err != nil {
		return err
	}
	if !found {
		return &importers.ParseError{Format: Format, Offset: w.InputOffset(), Msg: fmt.Sprintf("no findings array at %q", strings.Join(b.m.Findings, "."))}
	}
	return nil
}

// lookup is the value at path in obj: nil when a member is missing or null; an error naming
// the mapping's path when the value is an object or an array of non-scalars.
func lookup(obj map[string]any, path []string, name string) ([]string, error) {
	if path == nil {
		return nil, nil
	}
	var v any = obj
	for _, k := range path {
		o, ok := v.(map[string]any)
		if !ok {
			return nil, nil
		}
		v = o[k]
	}
	if a, ok := v.([]any); ok {
		out := make([]string, 0, len(a))
		for _, e := range a {
			s, ok := scalar(e)
			if !ok {
				return nil, fmt.Errorf("%s holds %s in its array, not a string or number", name, kind(e))
			}
			if s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	}
	s, ok := scalar(v)
	if !ok {
		return nil, fmt.Errorf("%s is %s, not a string, number or array of them", name, kind(v))
	}
	if s == "" {
		return nil, nil
	}
	return []string{s}, nil
}

func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return strings.TrimSpace(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

func kind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// builder turns records into the report.
type builder struct {
	m        *Mapping
	paths    map[string][]string
	assets   parseutil.AssetSet
	findings parseutil.FindingSet
	fallback bool
	// unknownSeverity counts findings whose severity value mapped to nothing, by value.
	unknownSeverity map[string]int
	badIDs          int
	badVectors      int
	warnings        []string
}

func newBuilder(m *Mapping) *builder {
	b := &builder{m: m, paths: map[string][]string{}, unknownSeverity: map[string]int{}}
	if m.Input == JSON {
		for f, p := range m.Fields {
			b.paths[f], _ = splitPath(p) // Load checked every path
		}
	}
	return b
}

// add reads one finding through get (the values of a mapped field) and fail (a positioned
// ParseError with the message).
func (b *builder) add(get func(field string) ([]string, error), fail func(msg string) error) error {
	vals := map[string][]string{}
	for _, f := range fieldNames {
		if _, ok := b.m.Fields[f]; !ok {
			continue
		}
		v, err := get(f)
		if err != nil {
			return fail(err.Error())
		}
		vals[f] = v
	}
	one := func(f string) string { return strings.Join(vals[f], ", ") }
	if one("title") == "" {
		return fail("the title (" + b.m.Fields["title"] + ") is empty")
	}
	parts := []string{"mapped/v1", b.m.Scanner}
	empty := true
	for _, f := range b.m.Fingerprint {
		v := strings.Join(vals[f], "\n")
		empty = empty && v == ""
		parts = append(parts, f+"="+v)
	}
	if empty {
		return fail("every fingerprint field (" + strings.Join(b.m.Fingerprint, ", ") + ") is empty")
	}
	f := importers.Finding{
		Fingerprint:     parseutil.FingerprintJSON(parts...),
		Title:           parseutil.Truncate(one("title"), parseutil.MaxShort),
		ScannerSeverity: parseutil.Truncate(one("severity"), parseutil.MaxShort),
		RuleID:          parseutil.Truncate(one("rule_id"), parseutil.MaxShort),
		Description:     parseutil.Truncate(one("description"), parseutil.MaxField),
		Remediation:     parseutil.Truncate(one("remediation"), parseutil.MaxField),
	}
	f.Severity = b.severity(one("severity"))
	for _, v := range splitIDs(vals["cve"]) {
		if id, ok := parseutil.NormCVE(v); ok {
			f.CVEs = parseutil.AddUnique(f.CVEs, id)
		} else {
			b.badIDs++
		}
	}
	for _, v := range splitIDs(vals["cwe"]) {
		if id, ok := parseutil.NormCWE(v); ok {
			f.CWEs = parseutil.AddUnique(f.CWEs, id)
		} else if id := parseutil.CWENumber(v); id != "" {
			f.CWEs = parseutil.AddUnique(f.CWEs, id)
		} else {
			b.badIDs++
		}
	}
	for _, v := range vals["cvss_vector"] {
		if c, ok := cvssOf(v, b.m.Scanner); ok {
			f.CVSS = parseutil.AddCVSS(f.CVSS, c)
		} else {
			b.badVectors++
		}
	}
	if name := one("component_name"); name != "" {
		f.Component = &importers.Component{Name: parseutil.Truncate(name, parseutil.MaxShort),
			Version: parseutil.Truncate(one("component_version"), parseutil.MaxShort)}
	}
	f.Location.File = parseutil.Truncate(one("file"), parseutil.MaxShort)
	f.AssetKey = b.asset(one("host"), one("url"), &f.Location)
	b.findings.Add(f)
	return nil
}

// severity maps a scanner value: severity_map, our words, a CVSS-scale number, else info.
func (b *builder) severity(raw string) importers.Severity {
	v := normValue(raw)
	if s, ok := b.m.SeverityMap[v]; ok {
		return s
	}
	if s, ok := parseutil.SeverityWord(v); ok {
		return s
	}
	switch v {
	case "info", "informational", "none":
		return importers.Info
	}
	if x, err := parseutil.Number(v, 0, 10); err == nil && x != nil {
		return parseutil.SeverityFromScore(*x)
	}
	if len(b.unknownSeverity) < 100 || b.unknownSeverity[v] > 0 {
		b.unknownSeverity[v]++
	}
	return importers.Info
}

// asset returns the key of the finding's asset, adding it on first sight, and fills loc.
func (b *builder) asset(host, rawURL string, loc *importers.Location) string {
	host = strings.ToLower(strings.TrimSpace(host))
	if rawURL != "" {
		loc.URL = parseutil.Truncate(rawURL, parseutil.MaxShort)
	}
	if host != "" {
		loc.Host = parseutil.Truncate(host, parseutil.MaxShort)
		key := "host:" + loc.Host
		if b.assets.Get(key) == nil {
			a := importers.Asset{Key: key, Kind: importers.Host, Name: loc.Host}
			if ip, err := netip.ParseAddr(host); err == nil {
				a.IPs = []string{ip.String()}
			} else {
				a.Hostnames = []string{loc.Host}
			}
			b.assets.Add(a)
		}
		return key
	}
	if u, err := url.Parse(rawURL); err == nil && u.Scheme != "" && u.Host != "" {
		base := parseutil.Truncate(strings.ToLower(u.Scheme)+"://"+strings.ToLower(u.Host), parseutil.MaxShort)
		key := "site:" + base
		if b.assets.Get(key) == nil {
			b.assets.Add(importers.Asset{Key: key, Kind: importers.WebApplication, Name: base, BaseURL: base})
		}
		return key
	}
	key := "scanner:" + b.m.Scanner
	if b.assets.Get(key) == nil {
		b.fallback = true
		b.assets.Add(importers.Asset{Key: key, Kind: importers.Repository, Name: b.m.Scanner})
	}
	return key
}

func (b *builder) report() *importers.Report {
	rep := &importers.Report{Format: Format, ScannerName: b.m.Scanner, Assets: b.assets.Assets(), Findings: b.findings.Findings()}
	if b.fallback {
		rep.Target = &importers.Target{Name: b.m.Scanner, Hint: "scan"}
	}
	rep.Warnings = b.warnings
	for _, v := range slices.Sorted(maps.Keys(b.unknownSeverity)) {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d findings have the severity %q, which the mapping does not map: read as info", b.unknownSeverity[v], v))
	}
	if b.badIDs > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d CVE or CWE values are not CVE or CWE ids: skipped", b.badIDs))
	}
	if b.badVectors > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d CVSS vectors are not CVSS vectors: skipped", b.badVectors))
	}
	return rep
}

// splitIDs splits values that may each hold several ids ("CVE-1, CVE-2", "79;89").
func splitIDs(vals []string) []string {
	var out []string
	for _, v := range vals {
		out = append(out, strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '|' })...)
	}
	return out
}

// cvssOf reads a vector: "CVSS:3.0/", "CVSS:3.1/", "CVSS:4.0/" give their version; the plain
// "AV:N/AC:L/Au:N/…" form is 2.0.
func cvssOf(v, source string) (importers.CVSS, bool) {
	v = strings.TrimSpace(v)
	for _, ver := range []string{"3.0", "3.1", "4.0"} {
		if strings.HasPrefix(v, "CVSS:"+ver+"/") {
			return importers.CVSS{Version: ver, Vector: parseutil.Truncate(v, parseutil.MaxShort), Source: source}, true
		}
	}
	if strings.HasPrefix(v, "AV:") && strings.Contains(v, "/Au:") {
		return importers.CVSS{Version: "2.0", Vector: parseutil.Truncate(v, parseutil.MaxShort), Source: source}, true
	}
	return importers.CVSS{}, false
}

var _ importers.Describer = (*Parser)(nil)
