// Package npmaudit parses `npm audit --json` reports of npm 7 and later (auditReportVersion 2),
// and of npm 6 (an advisories map), into the normalised importers.Report.
//
// # What is read
//
// vulnerabilities is a map of package name to the package's entry. Each advisory object of an
// entry's via[] is one finding of that package: title, url (the GitHub advisory, whose id is
// the GHSA), severity, cwe[], cvss {score, vectorString} (kept with its version when the vector
// names one; a 0 score with no vector is none) and the affected range. The entry gives the
// component (name, type npm, the first of nodes[] as path; npm audit does not say which version
// is installed) and the fix (fixAvailable: an object naming the version to install, true when
// `npm audit fix` fixes it, false when nothing does).
//
// A via[] entry that is a string names another vulnerable package the entry depends on: the
// package is "vulnerable through a dependency" and its advisories are findings of that
// dependency already. Such entries are not imported again; a package whose via[] holds only
// strings is counted in a warning, so that nothing is dropped silently.
//
// npm 6 reports (no auditReportVersion, an advisories map of id to advisory; see v1.go) give one
// finding per advisory, mapped as npm 7 maps the same package and advisory so that the
// fingerprint does not change when a project moves to npm 7; the advisory's findings[] (installed
// versions and dependency paths) are its evidence. A report claiming an auditReportVersion other
// than 2 is refused with an error that says to run npm audit --json with npm 7 or later, and the
// {"error": {code, summary}} npm writes when the audit itself failed is refused with npm's words.
//
// Severity: critical, high, moderate (medium), low, info as npm writes them, the advisory's own
// first, else the package entry's.
//
// The asset is the audited project, which the report does not name: one repository asset with
// no identifier and no Target, so that the findings are attached to the asset the user names
// on import (--asset / ?asset=).
//
// # Fingerprints
//
// The lower-case hex SHA-256 of the JSON array ["npm-audit/v1", package name, advisory id,
// range], the advisory id being the GHSA of its url, else npm's numeric source id (which npm
// renumbers when the bulk advisory endpoint changes, hence the GHSA first), the range the
// advisory's vulnerable range. Upgrading the package out of the range resolves the finding.
//
// # Limits
//
// As every jsonguard parser: at most Parser.MaxBytes read, nesting deeper than Parser.MaxDepth
// and invalid UTF-8 refused with a positioned *importers.ParseError, a cancelled context returns
// ctx.Err().
package npmaudit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

const formatName = "npm-audit"

const assetKey = "npm-audit"

// Parser parses npm audit JSON reports. The zero value uses the default limits.
type Parser struct{ jsonguard.Limits }

// New returns an npm audit parser with the default limits.
func New() importers.Parser { return &Parser{} }

// Format implements importers.Parser.
func (*Parser) Format() string { return formatName }

// Detect reports whether head is an npm audit report: an object with auditReportVersion and a
// vulnerabilities object, or the npm 6 shape (advisories object and actions array).
func (*Parser) Detect(head []byte) bool {
	p := jsonguard.HeadPaths(head)
	if p[""] != "{" {
		return false
	}
	if _, ok := p["/auditReportVersion"]; ok && p["/vulnerabilities"] == "{" {
		return true
	}
	return p["/advisories"] == "{" && p["/actions"] == "["
}

// Info implements importers.Describer.
func (*Parser) Info() importers.FormatInfo {
	return importers.FormatInfo{
		Name:        formatName,
		Title:       "npm audit JSON (npm audit --json)",
		Family:      "dependencies",
		Versions:    []string{"auditReportVersion 2 (npm 7+)", "npm 6 (advisories map, no auditReportVersion)"},
		Detection:   "a JSON object with auditReportVersion and a vulnerabilities object, or an npm 6 report (advisories object and actions array)",
		Fingerprint: []string{"package name", "advisory GHSA (else npm source id)", "advisory range"},
		Severity: map[string]importers.Severity{
			"critical": importers.Critical, "high": importers.High, "moderate": importers.Medium,
			"low": importers.Low, "info": importers.Info,
		},
		Notes: "One finding per package and advisory of its via[] (npm 6: per advisory, same fingerprint). Packages vulnerable only through a dependency (via[] of package names) are counted in a warning: their advisories are the dependency's findings. The report does not name the project: pass --asset (or ?asset=) to attach the findings.",
	}
}

// advisory is a via[] object.
type advisory struct {
	Source json.Number `json:"source"`
	Name   string      `json:"name"`
	Title  string      `json:"title"`
	URL    string      `json:"url"`
	Sev    string      `json:"severity"`
	CWE    []string    `json:"cwe"`
	CVSS   *struct {
		Score        jsonguard.Score `json:"score"`
		VectorString string          `json:"vectorString"`
	} `json:"cvss"`
	Range string `json:"range"`
}

// via is a via[] entry: an advisory, or the name of the vulnerable dependency it comes through.
type via struct {
	Adv *advisory
	Dep string
}

func (v *via) UnmarshalJSON(b []byte) error {
	switch jsonguard.Kind(b) {
	case '"':
		return json.Unmarshal(b, &v.Dep)
	case '{':
		v.Adv = &advisory{}
		return json.Unmarshal(b, v.Adv)
	}
	return nil // null or a shape npm never writes: nothing to import

}

// fix is fixAvailable: true, false or {name, version, isSemVerMajor}.
type fix struct {
	Any     bool
	Name    string
	Version string
	Major   bool
}

func (f *fix) UnmarshalJSON(b []byte) error {
	switch jsonguard.Kind(b) {
	case '{':
		var o struct {
			Name    string `json:"name"`
			Version string `json:"version"`
			Major   bool   `json:"isSemVerMajor"`
		}
		err := json.Unmarshal(b, &o)
		*f = fix{Any: true, Name: o.Name, Version: o.Version, Major: o.Major}
		return err
	case 't':
		f.Any = true
	}
	return nil
}

type entry struct {
	Name     string   `json:"name"`
	Severity string   `json:"severity"`
	IsDirect bool     `json:"isDirect"`
	Via      []via    `json:"via"`
	Range    string   `json:"range"`
	Nodes    []string `json:"nodes"`
	Fix      fix      `json:"fixAvailable"`
}

var entryRequired = []string{"name", "via"}

// Parse implements importers.Parser.
func (p *Parser) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	w, err := jsonguard.Open(ctx, formatName, r, p.MaxBytes, p.MaxDepth)
	if err != nil {
		return nil, err
	}
	var (
		set       parseutil.FindingSet
		warnings  []string
		indirect  []string
		version   string
		versionAt jsonguard.Pos
		sawVulns  bool
		sawV1     bool
		errAt     jsonguard.Pos
		npmErr    struct{ Code, Summary string }
	)
	tolerant := jsonguard.Tolerant{Required: entryRequired, Warn: func(m string) { warnings = append(warnings, m) }}
	err = w.Document("report", func(key string) error {
		switch key {
		case "auditReportVersion":
			versionAt = w.Start()
			var n json.Number
			if _, err := w.Decode(&n); err != nil {
				return err
			}
			if version = n.String(); version != "2" {
				return w.ErrAt(versionAt, v1Msg("auditReportVersion "+version))
			}
			return nil
		case "advisories":
			if version != "" {
				return w.ErrAt(w.Start(), "an advisories map in an auditReportVersion "+version+" report")
			}
			sawV1 = true
			v1Tolerant := jsonguard.Tolerant{Required: v1Required, Warn: tolerant.Warn}
			return w.Object("advisories", func(id string) error {
				var a v1Advisory
				start, err := w.DecodeTolerant(&a, "advisories."+id, v1Tolerant)
				if err != nil {
					return err
				}
				if a.ModuleName == "" {
					return w.ErrAt(start, "advisories."+id+": no module_name")
				}
				if a.ID == "" {
					a.ID = json.Number(id)
				}
				set.Add(v1Finding(&a))
				return nil
			})
		case "error":
			// npm writes {"error": {code, summary}} instead of a report when the audit failed.
			errAt = w.Start()
			_, err := w.Decode(&npmErr)
			return err
		case "vulnerabilities":
			sawVulns = true
			return w.Object("vulnerabilities", func(name string) error {
				var e entry
				if _, err := w.DecodeTolerant(&e, "vulnerabilities."+name, tolerant); err != nil {
					return err
				}
				e.Name = parseutil.FirstNonEmpty(e.Name, name)
				n := 0
				for _, v := range e.Via {
					if v.Adv != nil {
						set.Add(finding(&e, v.Adv))
						n++
					}
				}
				if n == 0 {
					indirect = append(indirect, e.Name)
				}
				return nil
			})
		}
		return w.Skip()
	})
	if err != nil {
		return nil, err
	}
	switch {
	case sawV1 && !sawVulns:
	case (!sawVulns || version == "") && (npmErr.Code != "" || npmErr.Summary != ""):
		return nil, w.ErrAt(errAt, "not an audit report: npm audit failed ("+strings.TrimSpace(npmErr.Code+" "+npmErr.Summary)+")")
	case !sawVulns || version == "":
		return nil, w.ErrAt(jsonguard.Pos{}, "not an npm audit v2 report: no auditReportVersion 2 with a vulnerabilities object (nor an npm 6 advisories map)")
	}
	if len(indirect) > 0 {
		sort.Strings(indirect)
		warnings = append(warnings, fmt.Sprintf("%d packages vulnerable only through a dependency not imported as findings of their own (their advisories are the dependency's findings): %s",
			len(indirect), parseutil.TruncateEllipsis(strings.Join(indirect, ", "), 500)))
	}
	out := &importers.Report{
		Format:      formatName,
		ScannerName: "npm audit",
		Assets:      []importers.Asset{{Key: assetKey, Kind: importers.Repository, Name: "npm project audited by npm audit"}},
		Findings:    set.Findings(),
		Warnings:    append(warnings, w.Warnings()...),
	}
	return importers.Bounded(out, nil)
}

func v1Msg(what string) string {
	return "an npm 6 audit report (" + what + "): version 1 reports are not accepted; run npm audit --json with npm 7 or later (auditReportVersion 2)"
}

// severity maps npm's words: the advisory database's, and info.
func severity(word string) (importers.Severity, bool) {
	if strings.EqualFold(strings.TrimSpace(word), "info") {
		return importers.Info, true
	}
	return parseutil.AdvisorySeverity(word)
}

func finding(e *entry, a *advisory) importers.Finding {
	f := importers.Finding{
		AssetKey:   assetKey,
		Title:      parseutil.FirstNonEmpty(a.Title, "Vulnerability in "+e.Name),
		References: parseutil.AppendUnique(nil, a.URL),
	}
	f.ScannerSeverity = parseutil.FirstNonEmpty(a.Sev, e.Severity)
	if s, ok := severity(a.Sev); ok {
		f.Severity = s
	} else if s, ok := severity(e.Severity); ok {
		f.Severity = s
	} else {
		f.Severity = importers.Info
	}
	id := a.Source.String()
	if g, ok := parseutil.NormGHSA(a.URL[strings.LastIndex(a.URL, "/")+1:]); ok {
		f.GHSAs = []string{g}
		id = g
	}
	f.RuleID = id
	f.CWEs = parseutil.AppendUnique(f.CWEs, parseutil.NormAll(a.CWE, parseutil.NormCWE)...)
	if c := a.CVSS; c != nil {
		// npm audit's advisories are GitHub's, rated as GitHub rates them.
		if r, ok := parseutil.AdvisoryRating(c.VectorString, c.Score.Ptr(), "ghsa"); ok {
			f.CVSS = []importers.CVSS{r}
		}
	}
	comp := &importers.Component{Name: e.Name, Type: "npm", PURL: purl(e.Name)}
	if len(e.Nodes) > 0 {
		comp.Path = e.Nodes[0]
		f.Location.File = e.Nodes[0]
	}
	switch {
	case e.Fix.Version != "" && (e.Fix.Name == "" || e.Fix.Name == e.Name):
		comp.FixedVersion = e.Fix.Version
		f.Remediation = "Upgrade " + e.Name + " to " + e.Fix.Version + " (npm audit fix" + map[bool]string{true: " --force: a semver-major change", false: ""}[e.Fix.Major] + ")."
	case e.Fix.Version != "":
		f.Remediation = "Upgrade " + e.Fix.Name + " to " + e.Fix.Version + ", which no longer depends on a vulnerable " + e.Name + "."
	case e.Fix.Any:
		f.Remediation = "npm audit fix updates " + e.Name + " out of the vulnerable range."
	default:
		f.Remediation = "No fix is available through npm audit fix."
	}
	f.Component = comp
	f.Evidence = "Vulnerable range " + parseutil.FirstNonEmpty(a.Range, e.Range, "unknown")
	if len(e.Nodes) > 0 {
		f.Evidence += "; installed at " + strings.Join(e.Nodes, ", ")
	}
	if e.IsDirect {
		f.Evidence += "; a direct dependency"
	}
	if f.Title == a.Title && !strings.Contains(f.Title, e.Name) {
		f.Title += " (" + e.Name + ")"
	}
	f.Fingerprint = parseutil.FingerprintJSON("npm-audit/v1", e.Name, id, a.Range)
	return f
}

// purl is the package URL of an npm package name, the scope's @ escaped as the PURL spec says.
func purl(name string) string {
	if strings.HasPrefix(name, "@") {
		name = "%40" + name[1:]
	}
	return "pkg:npm/" + name
}
