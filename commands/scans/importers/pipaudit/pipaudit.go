// Package pipaudit parses pip-audit JSON reports (`pip-audit -f json`) into the normalised
// importers.Report.
//
// # What is read
//
// pip-audit 2.x writes {"dependencies": [...], "fixes": [...]}; versions before 2.0 wrote the
// bare array of dependencies. Both are read. Each dependency is {name, version, vulns[]} or,
// when pip-audit could not audit it, {name, skip_reason}. Every element of vulns[] {id,
// fix_versions[], aliases[], description} is one finding of the dependency: id is the RuleID
// (PYSEC-…, GHSA-…, OSV ids), CVEs and GHSAs are gathered from the id and aliases (aliases since
// pip-audit 2.7), fix_versions are the component's fixed versions. Skipped dependencies are
// counted in a warning with their names (they were not audited, so they are no finding);
// fixes[] repeats what fix_versions says and is skipped.
//
// Severity: pip-audit gives none. Every finding is medium, with an empty ScannerSeverity: a
// known vulnerability in an installed package is worth a look, and info would hide it. The
// vulns context may raise or lower it from the CVE catalogue.
//
// The asset is the audited Python environment or requirements file, which the report does not
// name: one repository asset with no identifier and no Target, so that the findings are
// attached to the asset the user names on import (--asset / ?asset=).
//
// # Fingerprints
//
// The lower-case hex SHA-256 of the JSON array ["pip-audit/v1", name, version, vulnerability
// id], the name normalised as PyPI does (PEP 503: lower case, runs of '-', '_' and '.' as one
// '-'), so that "Flask" and "flask" are one package. Upgrading the package resolves the finding.
//
// # Limits
//
// As every jsonguard parser: at most Parser.MaxBytes read, nesting deeper than Parser.MaxDepth
// and invalid UTF-8 refused with a positioned *importers.ParseError, a cancelled context returns
// ctx.Err().
package pipaudit

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

const formatName = "pip-audit"

const assetKey = "pip-audit"

// Parser parses pip-audit JSON reports. The zero value uses the default limits.
type Parser struct{ jsonguard.Limits }

// New returns a pip-audit parser with the default limits.
func New() importers.Parser { return &Parser{} }

// Format implements importers.Parser.
func (*Parser) Format() string { return formatName }

// Detect reports whether head is a pip-audit report: an object whose dependencies array starts
// with a {name, vulns} or {name, skip_reason} object, or whose dependencies and fixes are both
// arrays; or (before 2.0) an array starting with a {name, version, vulns} object.
func (*Parser) Detect(head []byte) bool {
	p := jsonguard.HeadPaths(head)
	dep := func(prefix string) bool {
		if p[prefix] != "{" {
			return false
		}
		_, name := p[prefix+"/name"]
		_, skip := p[prefix+"/skip_reason"]
		return name && (p[prefix+"/vulns"] == "[" || skip)
	}
	switch p[""] {
	case "[":
		_, version := p["/0/version"]
		return dep("/0") && version
	case "{":
		if _, bom := p["/bomFormat"]; bom || p["/dependencies"] != "[" {
			return false
		}
		if _, first := p["/dependencies/0"]; !first {
			return p["/fixes"] == "["
		}
		return dep("/dependencies/0")
	}
	return false
}

// Info implements importers.Describer.
func (*Parser) Info() importers.FormatInfo {
	return importers.FormatInfo{
		Name:        formatName,
		Title:       "pip-audit JSON (pip-audit -f json)",
		Family:      "dependencies",
		Versions:    []string{"1.x (bare array of dependencies)", "2.x ({dependencies, fixes})"},
		Detection:   "a JSON object whose dependencies array holds {name, vulns} or {name, skip_reason} objects (or dependencies and fixes arrays), or an array of {name, version, vulns} objects",
		Fingerprint: []string{"dependency name (PEP 503 normalised)", "dependency version", "vulns[].id"},
		Severity:    map[string]importers.Severity{"(none: pip-audit gives no severity)": importers.Medium},
		Notes:       "Dependencies pip-audit skipped (skip_reason) are counted in a warning. The report does not name the environment: pass --asset (or ?asset=) to attach the findings.",
	}
}

type vuln struct {
	ID          string   `json:"id"`
	FixVersions []string `json:"fix_versions"`
	Aliases     []string `json:"aliases"`
	Description string   `json:"description"`
}

type dependency struct {
	Name       string `json:"name"`
	Version    string `json:"version"`
	Vulns      []vuln `json:"vulns"`
	SkipReason string `json:"skip_reason"`
}

var dependencyRequired = []string{"name", "version", "vulns", "vulns.id"}

// Parse implements importers.Parser.
func (p *Parser) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	w, err := jsonguard.Open(ctx, formatName, r, p.MaxBytes, p.MaxDepth)
	if err != nil {
		return nil, err
	}
	var (
		set      parseutil.FindingSet
		warnings []string
		skipped  []string
	)
	tolerant := jsonguard.Tolerant{Required: dependencyRequired, Warn: func(m string) { warnings = append(warnings, m) }}
	keep := func(d dependency) {
		if d.SkipReason != "" {
			skipped = append(skipped, d.Name)
		}
		for i := range d.Vulns {
			set.Add(finding(&d, &d.Vulns[i]))
		}
	}
	if w.Next() == '[' {
		err = jsonguard.EachDocument(w, "report", tolerant, keep)
	} else {
		err = w.DocumentWith("report", "dependencies", "not a pip-audit JSON report: no dependencies array", func(key string) error {
			if key == "dependencies" {
				return jsonguard.Each(w, "dependencies", tolerant, keep)
			}
			return w.Skip()
		})
	}
	if err != nil {
		return nil, err
	}
	if len(skipped) > 0 {
		warnings = append(warnings, fmt.Sprintf("%d dependencies skipped by pip-audit (not audited): %s",
			len(skipped), parseutil.TruncateEllipsis(strings.Join(skipped, ", "), 500)))
	}
	out := &importers.Report{
		Format:      formatName,
		ScannerName: "pip-audit",
		Assets:      []importers.Asset{{Key: assetKey, Kind: importers.Repository, Name: "Python environment audited by pip-audit"}},
		Findings:    set.Findings(),
		Warnings:    append(warnings, w.Warnings()...),
	}
	return importers.Bounded(out, nil)
}

var separators = regexp.MustCompile(`[-_.]+`)

// normName is a PyPI project name as PEP 503 compares them.
func normName(name string) string {
	return separators.ReplaceAllString(strings.ToLower(strings.TrimSpace(name)), "-")
}

func finding(d *dependency, v *vuln) importers.Finding {
	name := normName(d.Name)
	f := importers.Finding{
		AssetKey:    assetKey,
		RuleID:      v.ID,
		Title:       v.ID + " in " + strings.TrimSpace(d.Name+" "+d.Version),
		Severity:    importers.Medium,
		Description: v.Description,
		Component: &importers.Component{
			Name: d.Name, Version: d.Version, Type: "pypi",
			FixedVersion: strings.Join(v.FixVersions, ", "),
			PURL:         "pkg:pypi/" + name + "@" + d.Version,
		},
	}
	parseutil.AddAdvisoryIDs(&f, v.ID)
	parseutil.AddAdvisoryIDs(&f, v.Aliases...)
	if strings.HasPrefix(v.ID, "PYSEC-") {
		f.References = []string{"https://osv.dev/vulnerability/" + v.ID}
	}
	if len(v.FixVersions) > 0 {
		f.Remediation = "Upgrade " + d.Name + " to " + strings.Join(v.FixVersions, " or ") + "."
	} else {
		f.Remediation = "No fixed version of " + d.Name + " is known."
	}
	f.Fingerprint = parseutil.FingerprintJSON("pip-audit/v1", name, d.Version, v.ID)
	return f
}
