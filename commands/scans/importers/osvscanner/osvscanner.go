// Package osvscanner parses OSV-Scanner JSON reports (`osv-scanner --format json`) into the
// normalised importers.Report.
//
// # What is read
//
// results[] are the scanned sources (a lockfile, an SBOM, a directory of vendored code), each
// with packages[] {package {name, version, ecosystem, purl}, vulnerabilities[] (OSV records),
// groups[] {ids, aliases, max_severity}}. Licence violations and image metadata are not read.
//
// One asset per report: OSV-Scanner names no project, so it is a repository asset named after
// the longest directory the source paths share (key "osv-scanner:"+that directory; named
// "osv-scanner" when there are no sources), and Target is that directory (hint "artifact").
//
// A group is OSV-Scanner's own de-duplication: the OSV records of one package that alias each
// other (GO-2021-0053, CVE-2021-3121 and GHSA-c3h9-896r-86jm are one problem). One finding per
// group per package per source; a vulnerability no group names (reports older than groups, or
// a group list that misses one) is a group of its own, so nothing is dropped. Per finding:
// RuleID is the group's canonical id (below); CVEs and GHSAs come from the group's ids and
// aliases and its records' ids and aliases; CVSS ratings from each record's severity[] (type
// CVSS_V2/V3/V4, score a vector; source the record's id); CWEs from database_specific.cwe_ids;
// references from references[].url; title and description from the first record's summary and
// details; the fixed versions from the "fixed" events of the records' affected ranges for the
// package; the component from the package (type from the purl, else the ecosystem); the
// location is the source path.
//
// Severity: the group's max_severity (a CVSS base score as a string: >=9 critical, >=7 high,
// >=4 medium, >0 low); when it is empty or absent, the highest of the records'
// database_specific.severity (CRITICAL, HIGH, MODERATE or MEDIUM, LOW); else info.
//
// # Fingerprints
//
// The lower-case hex SHA-256 of the JSON encoding of
//
//	["osv-scanner/v2", source path, ecosystem, package name, package version, canonical id]
//
// The asset key is left out: it is the directory every source shares, so a report scanning one
// lockfile fewer (or more) would otherwise give every other finding a new fingerprint, resolving
// and re-creating them all; the source path already places the finding. The canonical id is the lowest CVE among the group's ids and aliases (by year, then
// number), else the group's first id. The CVE is chosen when there is one because databases add
// aliases over time (a GHSA today, its GO- and PYSEC- ids later) while the CVE stays.
//
// # Limits
//
// Parse reads at most Parser.MaxBytes (512 MiB by default), refuses nesting deeper than
// Parser.MaxDepth (128 by default) and invalid UTF-8; errors are positioned
// *importers.ParseError; a cancelled context gives ctx.Err() unwrapped.
package osvscanner

import (
	"context"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

const formatName = "osv-scanner"

// Parser parses OSV-Scanner JSON reports. The zero value uses the default limits.
type Parser struct{ jsonguard.Limits }

// New returns an OSV-Scanner parser with the default limits.
func New() importers.Parser { return &Parser{} }

// Format implements importers.Parser.
func (*Parser) Format() string { return formatName }

// Detect reports whether head is the start of an OSV-Scanner report: an object whose results
// array's first element is an object with a packages array or a source object.
func (*Parser) Detect(head []byte) bool {
	p := jsonguard.HeadPaths(head)
	if p[""] != "{" || p["/results"] != "[" || p["/results/0"] != "{" {
		return false
	}
	return p["/results/0/packages"] == "[" || p["/results/0/source"] == "{"
}

type oSeverity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

type oVuln struct {
	ID               string      `json:"id"`
	Aliases          []string    `json:"aliases"`
	Summary          string      `json:"summary"`
	Details          string      `json:"details"`
	Severity         []oSeverity `json:"severity"`
	DatabaseSpecific struct {
		Severity string   `json:"severity"`
		CWEIDs   []string `json:"cwe_ids"`
	} `json:"database_specific"`
	References []struct {
		URL string `json:"url"`
	} `json:"references"`
	Affected []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
		Ranges []struct {
			Events []struct {
				Fixed string `json:"fixed"`
			} `json:"events"`
		} `json:"ranges"`
	} `json:"affected"`
}

type oGroup struct {
	IDs         []string `json:"ids"`
	Aliases     []string `json:"aliases"`
	MaxSeverity string   `json:"max_severity"`
}

type oPackage struct {
	Package struct {
		Name      string `json:"name"`
		Version   string `json:"version"`
		Ecosystem string `json:"ecosystem"`
		PURL      string `json:"purl"`
	} `json:"package"`
	Vulnerabilities []oVuln  `json:"vulnerabilities"`
	Groups          []oGroup `json:"groups"`
}

type oSource struct {
	Path string `json:"path"`
	Type string `json:"type"`
}

type oResult struct {
	Source   oSource
	Packages []oPackage
}

// packageRequired are the members the fingerprint is made of; any other member of an unexpected
// JSON type is left out with a warning.
var packageRequired = []string{"package.name", "package.version", "package.ecosystem", "vulnerabilities.id", "groups.ids", "groups.aliases"}

// Parse implements importers.Parser.
func (p *Parser) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	w, err := jsonguard.Open(ctx, formatName, r, p.MaxBytes, p.MaxDepth)
	if err != nil {
		return nil, err
	}
	var warnings []string
	tolerant := jsonguard.Tolerant{Required: packageRequired, Warn: func(m string) { warnings = append(warnings, m) }}
	var results []oResult
	err = w.DocumentWith("report", "results", "not an OSV-Scanner JSON report: no results array", func(key string) error {
		if key != "results" {
			return w.Skip()
		}
		return w.Array("results", func(i int) error {
			what := "results[" + strconv.Itoa(i) + "]"
			var res oResult
			err := w.Object(what, func(key string) error {
				switch key {
				case "source":
					_, err := w.Decode(&res.Source)
					return err
				case "packages":
					return jsonguard.Elements(w, what+".packages", &res.Packages, tolerant)
				}
				return w.Skip()
			})
			results = append(results, res)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	out, err := build(ctx, results)
	if warnings = append(warnings, w.Warnings()...); out != nil && len(warnings) > 0 {
		out.Warnings = append(warnings, out.Warnings...)
	}
	return importers.Bounded(out, err)
}

func build(ctx context.Context, results []oResult) (*importers.Report, error) {
	out := &importers.Report{Format: formatName, ScannerName: "osv-scanner", Assets: []importers.Asset{}, Findings: []importers.Finding{}}
	var dirs []string
	for _, res := range results {
		dirs = append(dirs, path.Dir(strings.ReplaceAll(res.Source.Path, `\`, "/")))
	}
	root := commonDir(dirs)
	asset := importers.Asset{Key: "osv-scanner:" + root, Kind: importers.Repository, Name: parseutil.FirstNonEmpty(root, "osv-scanner")}
	out.Assets = append(out.Assets, asset)
	if root != "" {
		out.Target = &importers.Target{Name: root, Hint: "artifact"}
	}
	var findings parseutil.FindingSet
	for _, res := range results {
		for i := range res.Packages {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			for _, f := range packageFindings(asset.Key, res.Source, &res.Packages[i]) {
				findings.Add(f)
			}
		}
	}
	out.Findings = findings.Findings()
	return out, nil
}

// commonDir is the longest directory every one of dirs is in ("" when there are none).
func commonDir(dirs []string) string {
	if len(dirs) == 0 {
		return ""
	}
	common := dirs[0]
	for _, d := range dirs[1:] {
		for common != d && !strings.HasPrefix(d, strings.TrimSuffix(common, "/")+"/") {
			parent := path.Dir(common)
			if parent == common {
				return parent
			}
			common = parent
		}
	}
	return common
}

// packageFindings is one finding per group of the package, and one per vulnerability no group
// names.
func packageFindings(assetKey string, src oSource, pkg *oPackage) []importers.Finding {
	byID := map[string]*oVuln{}
	for i := range pkg.Vulnerabilities {
		byID[pkg.Vulnerabilities[i].ID] = &pkg.Vulnerabilities[i]
	}
	grouped := map[string]bool{}
	groups := slices.Clone(pkg.Groups)
	for _, g := range groups {
		for _, id := range g.IDs {
			grouped[id] = true
		}
	}
	for _, v := range pkg.Vulnerabilities {
		if !grouped[v.ID] {
			groups = append(groups, oGroup{IDs: []string{v.ID}})
		}
	}
	var out []importers.Finding
	for _, g := range groups {
		var members []*oVuln
		for _, id := range g.IDs {
			if v := byID[id]; v != nil {
				members = append(members, v)
			}
		}
		if len(g.IDs) == 0 {
			continue // a group naming nothing holds no finding
		}
		out = append(out, finding(assetKey, src, pkg, g, members))
	}
	return out
}

// canonicalID is the lowest CVE among ids (by year, then number), else the first id.
func canonicalID(ids []string) string {
	best := ""
	for _, id := range ids {
		c, ok := parseutil.NormCVE(id)
		if ok && (best == "" || cveLess(c, best)) {
			best = c
		}
	}
	if best != "" {
		return best
	}
	return ids[0]
}

func cveLess(a, b string) bool {
	ya, na := cveParts(a)
	yb, nb := cveParts(b)
	if ya != yb {
		return ya < yb
	}
	return na < nb
}

func cveParts(c string) (year, num int) {
	parts := strings.SplitN(c, "-", 3)
	year, _ = strconv.Atoi(parts[1])
	num, _ = strconv.Atoi(parts[2])
	return year, num
}

// dbSeverity maps database_specific.severity (GHSA's words) to ours.
func dbSeverity(word string) (importers.Severity, bool) {
	word = strings.ToLower(strings.TrimSpace(word))
	if word == "moderate" {
		return importers.Medium, true
	}
	return parseutil.SeverityWord(word)
}

// ecosystems maps an OSV ecosystem (the part before ':', "Debian:12") to a package type, for
// packages without a purl.
var ecosystems = map[string]string{
	"go": "golang", "npm": "npm", "pypi": "pypi", "maven": "maven", "crates.io": "cargo",
	"rubygems": "gem", "nuget": "nuget", "packagist": "composer", "pub": "pub", "hex": "hex",
	"debian": "deb", "ubuntu": "deb", "alpine": "apk", "rocky linux": "rpm", "almalinux": "rpm",
	"red hat": "rpm", "swifturl": "swift", "cran": "cran", "hackage": "hackage", "conancenter": "conan",
}

func componentType(purl, ecosystem string) string {
	base, _, _ := strings.Cut(ecosystem, ":")
	return parseutil.PackageType(purl, base, ecosystems)
}

func cvssVersion(s oSeverity) string {
	if v := parseutil.VectorVersion(s.Score); v != "" {
		return v
	}
	switch strings.ToUpper(s.Type) {
	case "CVSS_V2":
		return "2.0"
	case "CVSS_V3":
		return "3.1"
	case "CVSS_V4":
		return "4.0"
	}
	return ""
}

func finding(assetKey string, src oSource, pkg *oPackage, g oGroup, members []*oVuln) importers.Finding {
	ids := slices.Concat(g.IDs, g.Aliases)
	for _, v := range members {
		ids = append(ids, v.Aliases...)
	}
	id := canonicalID(ids)
	p := &pkg.Package
	f := importers.Finding{AssetKey: assetKey, RuleID: id, Location: importers.Location{File: src.Path}}
	parseutil.AddAdvisoryIDs(&f, ids...)
	var fixed []string
	dbSev := importers.Severity("")
	for _, v := range members {
		if f.Title == "" {
			f.Title = v.Summary
		}
		if f.Description == "" {
			f.Description = v.Details
		}
		for _, s := range v.Severity {
			if strings.HasPrefix(strings.ToUpper(s.Type), "CVSS") {
				f.CVSS = parseutil.AddCVSS(f.CVSS, importers.CVSS{Version: cvssVersion(s), Vector: s.Score, Source: v.ID})
			}
		}
		f.CWEs = parseutil.AppendUnique(f.CWEs, parseutil.NormAll(v.DatabaseSpecific.CWEIDs, parseutil.NormCWE)...)
		for _, ref := range v.References {
			f.References = parseutil.AppendUnique(f.References, ref.URL)
		}
		for _, a := range v.Affected {
			if a.Package.Name != p.Name {
				continue
			}
			for _, rg := range a.Ranges {
				for _, e := range rg.Events {
					if e.Fixed != "" {
						fixed = parseutil.AppendUnique(fixed, e.Fixed)
					}
				}
			}
		}
		if s, ok := dbSeverity(v.DatabaseSpecific.Severity); ok && parseutil.SeverityRank(s) > parseutil.SeverityRank(dbSev) {
			dbSev, f.ScannerSeverity = s, v.DatabaseSpecific.Severity
		}
	}
	if score, err := parseutil.Number(g.MaxSeverity, 0, 10); err == nil && score != nil {
		f.Severity, f.ScannerSeverity = parseutil.SeverityFromScore(*score), g.MaxSeverity
	} else if dbSev != "" {
		f.Severity = dbSev
	} else {
		f.Severity = importers.Info
	}
	f.Title = parseutil.FirstNonEmpty(f.Title, id)
	if !strings.Contains(strings.ToLower(f.Title), strings.ToLower(p.Name)) {
		f.Title += " in " + strings.TrimSpace(p.Name+" "+p.Version)
	}
	f.Component = &importers.Component{
		PURL: p.PURL, Name: p.Name, Version: p.Version, Type: componentType(p.PURL, p.Ecosystem),
		FixedVersion: strings.Join(fixed, ", "), Path: src.Path,
	}
	if len(fixed) > 0 {
		f.Remediation = "Upgrade " + p.Name + " to " + strings.Join(fixed, " or ") + "."
	}
	if len(g.IDs) > 1 {
		f.Evidence = fmt.Sprintf("Reported by %d databases as %s", len(g.IDs), strings.Join(g.IDs, ", "))
	}
	f.Fingerprint = parseutil.FingerprintJSON("osv-scanner/v2", src.Path, p.Ecosystem, p.Name, p.Version, id)
	return f
}

// Info implements importers.Describer.
func (*Parser) Info() importers.FormatInfo {
	return importers.FormatInfo{
		Name:        formatName,
		Title:       "OSV-Scanner JSON (osv-scanner --format json)",
		Family:      "dependencies",
		Versions:    []string{"OSV-Scanner 1.x and 2.x JSON (results[].packages[] with or without groups)"},
		Detection:   "a JSON object whose results array's first element has a packages array or a source object",
		Fingerprint: []string{"source path", "ecosystem", "package name", "package version", "group canonical id (lowest CVE, else first id)"},
		Severity: map[string]importers.Severity{
			"max_severity >= 9": importers.Critical, "max_severity >= 7": importers.High,
			"max_severity >= 4": importers.Medium, "max_severity > 0": importers.Low,
			"no max_severity: database_specific.severity CRITICAL": importers.Critical,
			"HIGH": importers.High, "MODERATE / MEDIUM": importers.Medium, "LOW": importers.Low,
			"none": importers.Info,
		},
		Notes: "One finding per group (OSV-Scanner's de-duplication of aliased records) per package and source; " +
			"a vulnerability no group names is a finding of its own. Licence violations are not imported.",
	}
}
