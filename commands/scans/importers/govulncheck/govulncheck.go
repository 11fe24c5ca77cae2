// Package govulncheck parses govulncheck JSON output (`govulncheck -json` / `-format json`) into
// the normalised importers.Report.
//
// # What is read
//
// The output is a stream of JSON objects, not one document: a {"config"} first, then
// {"progress"}, {"osv"} (an OSV entry) and {"finding"} objects in any order (protocol v0.1.0 and
// v1.x; an "SBOM" object or any other is skipped). A stream without a config object is refused.
// The same objects gathered into one JSON array (jq -s, or a CI step collecting the output) are
// read alike, and so is the single result object of govulncheck before v1.0 (see legacy.go).
//
// govulncheck writes one finding object per trace it found, at each level it reached: the
// vulnerable module is required (trace[0] names a module only), one of its vulnerable packages
// is imported (trace[0] names a package) or a vulnerable symbol is called (trace[0] names a
// function). The parser makes one finding per (OSV id, module, version), at the deepest level
// any of its finding objects reached; the call stacks of the symbol level become the evidence
// and the user's frame nearest to the vulnerable code (the last frame with a position) the
// location.
//
// The OSV entry of the id gives the title (summary, else the id), description (details), CVEs
// and GHSAs (aliases) and references; fixed_version of the finding is the component's fixed
// version. Modules are Go modules: PURL pkg:golang/<module>@<version> ("stdlib" for the
// standard library).
//
// Severity: the Go vulnerability database gives none, so the level reached decides it (kept as
// ScannerSeverity): symbol (the vulnerable code is called) high, package (imported, not shown to
// be called) medium, module (only required) low. The vulns context may raise it later from the
// CVE catalogue.
//
// The asset is the scanned Go module or binary, which the output does not name: one repository
// asset with no identifier and no Target, so that the findings are attached to the asset the
// user names on import (--asset / ?asset=).
//
// # Fingerprints
//
// The lower-case hex SHA-256 of the JSON array ["govulncheck/v1", osv id, module, version]:
// upgrading the module past the fix resolves the finding; calling the vulnerable symbol from
// elsewhere, or no longer calling it, keeps it (the level is the severity, not the identity).
//
// # Limits
//
// As every jsonguard parser: at most Parser.MaxBytes read, nesting deeper than Parser.MaxDepth
// and invalid UTF-8 refused with a positioned *importers.ParseError, a cancelled context returns
// ctx.Err().
package govulncheck

import (
	"context"
	"io"
	"strconv"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

const formatName = "govulncheck"

// Parser parses govulncheck JSON streams. The zero value uses the default limits.
type Parser struct{ jsonguard.Limits }

// New returns a govulncheck parser with the default limits.
func New() importers.Parser { return &Parser{} }

// Format implements importers.Parser.
func (*Parser) Format() string { return formatName }

// Detect reports whether head starts with govulncheck's config object: {"config":
// {"scanner_name": "govulncheck", …}} or, for output that does not name the scanner, a config
// with both protocol_version and scan_level; the stream may be gathered into an array (the
// config its first element). The pre-1.0 result object is known by its call graph, which comes
// first: {"Calls": {"Functions": {…}}}.
func (*Parser) Detect(head []byte) bool {
	p := jsonguard.HeadPaths(head)
	cfg := "/config"
	switch {
	case p[""] == "[":
		cfg = "/0/config"
	case p[""] != "{":
		return false
	case p["/Calls"] == "{" && p["/Calls/Functions"] == "{":
		return true
	}
	if p[cfg] != "{" {
		return false
	}
	if strings.EqualFold(p[cfg+"/scanner_name"], "govulncheck") {
		return true
	}
	_, proto := p[cfg+"/protocol_version"]
	_, level := p[cfg+"/scan_level"]
	return proto && level
}

// Info implements importers.Describer.
func (*Parser) Info() importers.FormatInfo {
	return importers.FormatInfo{
		Name:        formatName,
		Title:       "govulncheck JSON (govulncheck -json)",
		Family:      "dependencies",
		Versions:    []string{"protocol v0.1.0", "protocol v1.x", "the stream gathered into a JSON array", "pre-1.0 result object (Calls, Imports, Requires, Modules, Vulns)"},
		Detection:   `a stream of JSON objects (or an array of them) whose first is {"config": {...}} with scanner_name "govulncheck" (or protocol_version and scan_level); the pre-1.0 object starting {"Calls": {"Functions": …}}`,
		Fingerprint: []string{"osv.id", "trace[0].module", "trace[0].version"},
		Severity: map[string]importers.Severity{
			"symbol (vulnerable function called)":   importers.High,
			"package (vulnerable package imported)": importers.Medium,
			"module (vulnerable module required)":   importers.Low,
		},
		Notes: "One finding per OSV id and module version, at the deepest level reached. The output does not name the scanned module: pass --asset (or ?asset=) to attach the findings. progress and SBOM objects are skipped.",
	}
}

type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
	Receiver string `json:"receiver"`
	Position *struct {
		Filename string           `json:"filename"`
		Line     jsonguard.LineNo `json:"line"`
		Column   jsonguard.LineNo `json:"column"`
	} `json:"position"`
}

type gFinding struct {
	OSV          string  `json:"osv"`
	FixedVersion string  `json:"fixed_version"`
	Trace        []frame `json:"trace"`
}

type gOSV struct {
	ID         string   `json:"id"`
	Summary    string   `json:"summary"`
	Details    string   `json:"details"`
	Aliases    []string `json:"aliases"`
	References []struct {
		URL string `json:"url"`
	} `json:"references"`
	DatabaseSpecific struct {
		URL string `json:"url"`
	} `json:"database_specific"`
}

type gConfig struct {
	ProtocolVersion string `json:"protocol_version"`
	ScannerName     string `json:"scanner_name"`
	ScannerVersion  string `json:"scanner_version"`
	ScanLevel       string `json:"scan_level"`
	ScanMode        string `json:"scan_mode"`
}

// Levels a finding reaches, in order of depth.
const (
	levelModule = iota + 1
	levelPackage
	levelSymbol
)

var levelWords = map[int]string{levelModule: "module", levelPackage: "package", levelSymbol: "symbol"}

var levelSeverity = map[int]importers.Severity{levelModule: importers.Low, levelPackage: importers.Medium, levelSymbol: importers.High}

// group is the finding objects of one (osv, module, version).
type group struct {
	osv, module, version, fixed string
	level                       int
	traces                      []string
	file                        string
	line, col                   int
}

var findingRequired = []string{"osv", "trace"}

// Parse implements importers.Parser.
func (p *Parser) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	w, err := jsonguard.Open(ctx, formatName, r, p.MaxBytes, p.MaxDepth)
	if err != nil {
		return nil, err
	}
	var (
		cfg      *gConfig
		osvs     = map[string]*gOSV{}
		groups   []*group
		byKey    = map[[3]string]*group{}
		warnings []string
		skipped  int
		text     parseutil.Interner
	)
	tolerant := jsonguard.Tolerant{Required: findingRequired, Warn: func(m string) { warnings = append(warnings, m) }}
	var legacy legacyResult
	sarif := false
	member := func(key string) error {
		switch key {
		case "config":
			cfg = &gConfig{}
			_, err := w.Decode(cfg)
			return err
		case "osv":
			var o gOSV
			if _, err := w.Decode(&o); err != nil {
				return err
			}
			osvs[o.ID] = &o
			return nil
		case "finding":
			var f gFinding
			start, err := w.DecodeTolerant(&f, "finding", tolerant)
			if err != nil {
				return err
			}
			if len(f.Trace) == 0 || f.OSV == "" {
				return w.ErrAt(start, "finding: no osv id or no trace")
			}
			top := f.Trace[0]
			k := [3]string{f.OSV, top.Module, top.Version}
			g := byKey[k]
			if g == nil {
				g = &group{osv: text.Intern(f.OSV), module: text.Intern(top.Module), version: text.Intern(top.Version)}
				byKey[k] = g
				groups = append(groups, g)
			}
			g.add(&f)
			return nil
		case "Vulns", "Modules":
			if cfg == nil {
				legacy.seen = true
				return legacy.decode(w, key)
			}
		case "Calls", "Imports", "Requires":
			legacy.seen = legacy.seen || cfg == nil
		case "runs":
			sarif = cfg == nil
		}
		skipped++
		return w.Skip()
	}
	object := func(n int) error {
		if err := w.Object("stream object", member); err != nil {
			return err
		}
		switch {
		case cfg == nil && sarif:
			return w.ErrAt(jsonguard.Pos{}, "not a govulncheck JSON stream: a SARIF log (govulncheck -format sarif); import it as sarif")
		case cfg == nil && !legacy.seen:
			return w.ErrAt(jsonguard.Pos{}, "not a govulncheck JSON stream: the first object is not a config")
		}
		return nil
	}
	if w.Next() == '[' {
		// The stream gathered into one array (jq -s, or tools that collect govulncheck's output):
		// the same objects in the same order.
		err = w.Array("stream", func(i int) error { return object(i) })
		if err == nil && cfg == nil && !legacy.seen {
			err = w.ErrAt(jsonguard.Pos{}, "not a govulncheck JSON stream: expected an object, the config, first")
		}
		if err != nil {
			return nil, err
		}
	} else {
		for n := 0; n == 0 || w.Next() != 0; n++ {
			if err := object(n); err != nil {
				return nil, err
			}
		}
	}
	if err := w.End(); err != nil {
		return nil, err
	}
	if cfg == nil { // the pre-1.0 result object
		cfg = &gConfig{ScannerName: "govulncheck", ScannerVersion: "v0.0.x (legacy JSON result)"}
		groups = legacy.groups(osvs, &text)
	}
	out := &importers.Report{
		Format:         formatName,
		ScannerName:    parseutil.FirstNonEmpty(cfg.ScannerName, "govulncheck"),
		ScannerVersion: cfg.ScannerVersion,
		Assets: []importers.Asset{{
			Key:  "govulncheck",
			Kind: importers.Repository,
			Name: strings.TrimSpace("Go " + parseutil.FirstNonEmpty(cfg.ScanMode, "source") + " scanned by govulncheck"),
		}},
		Findings: make([]importers.Finding, 0, len(groups)),
		Warnings: append(warnings, w.Warnings()...),
	}
	for _, g := range groups {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out.Findings = append(out.Findings, g.finding(osvs[g.osv]))
	}
	return importers.Bounded(out, nil)
}

func (g *group) add(f *gFinding) {
	top := f.Trace[0]
	level := levelModule
	switch {
	case top.Function != "":
		level = levelSymbol
	case top.Package != "":
		level = levelPackage
	}
	if level > g.level {
		g.level = level
	}
	if g.fixed == "" {
		g.fixed = f.FixedVersion
	}
	if level != levelSymbol {
		return
	}
	var calls []string
	for _, fr := range f.Trace {
		calls = append(calls, symbol(&fr))
	}
	g.traces = parseutil.AddUnique(g.traces, strings.Join(calls, " <- "))
	for i := len(f.Trace) - 1; i >= 0; i-- {
		if pos := f.Trace[i].Position; pos != nil && pos.Filename != "" {
			if g.file == "" {
				g.file, g.line, g.col = pos.Filename, int(pos.Line), int(pos.Column)
			}
			break
		}
	}
}

// symbol names a frame as Go does: package.Receiver.Function, with its position when known.
func symbol(fr *frame) string {
	name := fr.Function
	if fr.Receiver != "" {
		name = strings.TrimPrefix(fr.Receiver, "*") + "." + name
	}
	s := parseutil.FirstNonEmpty(fr.Package, fr.Module) + "." + name
	if p := fr.Position; p != nil && p.Filename != "" {
		s += " (" + p.Filename + ":" + strconv.Itoa(int(p.Line)) + ")"
	}
	return s
}

func (g *group) finding(o *gOSV) importers.Finding {
	f := importers.Finding{
		AssetKey:        "govulncheck",
		RuleID:          g.osv,
		Severity:        levelSeverity[g.level],
		ScannerSeverity: levelWords[g.level],
		Title:           g.osv + " in " + strings.TrimSpace(g.module+" "+g.version),
		Component: &importers.Component{
			Name: g.module, Version: g.version, FixedVersion: g.fixed, Type: "golang",
			PURL: "pkg:golang/" + g.module + "@" + g.version,
		},
		Location: importers.Location{File: g.file, Line: g.line, Column: g.col},
	}
	if o != nil {
		if o.Summary != "" {
			f.Title = o.Summary + " (" + f.Title + ")"
		}
		f.Description = o.Details
		parseutil.AddAdvisoryIDs(&f, o.ID)
		parseutil.AddAdvisoryIDs(&f, o.Aliases...)
		f.References = parseutil.AppendUnique(f.References, o.DatabaseSpecific.URL)
		for _, r := range o.References {
			f.References = parseutil.AppendUnique(f.References, r.URL)
		}
	}
	switch g.level {
	case levelSymbol:
		f.Evidence = "Vulnerable code called: " + strings.Join(g.traces, "; ")
	case levelPackage:
		f.Evidence = "A vulnerable package is imported; no call to its vulnerable symbols was found."
	default:
		f.Evidence = "The vulnerable module is required; none of its vulnerable packages is imported."
	}
	if g.fixed != "" {
		f.Remediation = "Upgrade " + g.module + " to " + g.fixed + " or later."
	}
	f.Fingerprint = parseutil.FingerprintJSON("govulncheck/v1", g.osv, g.module, g.version)
	return f
}
