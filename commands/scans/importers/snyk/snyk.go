// Package snyk parses Snyk CLI JSON reports (`snyk test --json`, `snyk container test --json`)
// into the normalised importers.Report.
//
// # What is read
//
// A report is one project object, or an array of them (`--all-projects`, and a container test,
// which reports the image's OS packages and each application found in it as projects). Each
// project's vulnerabilities[], filtered.ignore[] (ignored by a .snyk policy) and filtered.patch[]
// (patched by `snyk protect`) are read; licence results, remediation advice and policy text are
// not.
//
// Assets: a container project (docker.baseImage set, or projectName "docker-image|…") gives a
// container_image asset named after its path (the image the user gave); an application project
// whose path is that of a container project in the same report is in that image and attaches to
// it. Any other project gives a repository asset named after projectName, else path, else the
// first element of its dependency paths (the project itself, "goof@0.0.3"; key "project:"+name). Snyk reports no image digest and no repository URL, so Target names the
// first asset (hint "artifact") for the import service's weak identity.
//
// Snyk writes one vulnerability object per dependency path: the same id in the same
// package@version appears once for every chain of dependencies that pulls it in (the summary's
// "N vulnerable dependency paths"). Nothing is dropped: those objects make ONE finding per
// (project, id, packageName, version), each path ("a@1 > b@2 > c@3") becoming one of the
// finding's Locations (File the project's target file, Param the path: the model has no
// dependency-path field, and Param is what the finding is reached through), and a report
// warning says how many paths were folded into how many findings. Fixing the package fixes every
// path, so one finding is what a team tracks.
//
// Per finding: id is the RuleID, identifiers.CVE/CWE/GHSA give CVEs, CWEs and GHSAs, CVSSv3 (a
// vector) with cvssScore gives a CVSS rating (source "snyk"), references[].url the references,
// fixedIn (else nearestFixedInVersion) the fixed version, semver.vulnerable the evidence, and
// packageManager the component type (npm, maven, pip → pypi, alpine:3.12 → apk, debian/ubuntu
// → deb, rhel/centos/amzn/… → rpm, …). An ignored vulnerability is imported Suppressed:
// filtered.ignored[].reasonType "not-vulnerable" is false_positive, "wont-fix",
// "temporary-ignore" or any other is accepted (reason: the ignore's own reason). A patched one is
// Suppressed resolved.
//
// Severity: severity (or severityWithCritical) critical, high, medium, low map to the same;
// anything else is derived from cvssScore (>=9 critical, >=7 high, >=4 medium, >0 low), else
// info.
//
// # Fingerprints
//
// A fingerprint is the lower-case hex SHA-256 of the JSON encoding of
//
//	["snyk/v1", asset key, target file, id, packageName, version]
//
// where target file is the project's targetFile (else displayTargetFile, else ""). Dependency
// paths are left out: they change whenever an unrelated dependency moves, the vulnerable package
// does not.
//
// # Limits
//
// Parse reads at most Parser.MaxBytes (512 MiB by default), refuses nesting deeper than
// Parser.MaxDepth (128 by default) and invalid UTF-8; errors are positioned
// *importers.ParseError; a cancelled context gives ctx.Err() unwrapped. A project object with
// Snyk's own error (`{"ok": false, "error": "…"}`) and no vulnerabilities is a warning when
// other projects of the report were tested, and refuses the report, with that error's text,
// when none was.
package snyk

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

const formatName = "snyk"

// Parser parses Snyk JSON reports. The zero value uses the default limits.
type Parser struct{ jsonguard.Limits }

// New returns a Snyk parser with the default limits.
func New() importers.Parser { return &Parser{} }

// Format implements importers.Parser.
func (*Parser) Format() string { return formatName }

// Detect reports whether head is the start of a Snyk report: a project object (or an array whose
// first element is one) with a vulnerabilities array whose first element has Snyk's packageName
// or from members, or an empty vulnerabilities array beside Snyk's packageManager and ok or
// uniqueCount members.
func (*Parser) Detect(head []byte) bool {
	p := jsonguard.HeadPaths(head)
	switch p[""] {
	case "{":
		return project(p, "")
	case "[":
		return p["/0"] == "{" && project(p, "/0")
	}
	return false
}

// project reports whether the object at prefix of the head looks like a Snyk project.
func project(p map[string]string, prefix string) bool {
	if p[prefix+"/vulnerabilities"] != "[" {
		return false
	}
	v := prefix + "/vulnerabilities/0"
	if p[v] == "{" {
		return jsonguard.HasAny(p, v+"/packageName", v+"/from")
	}
	if _, ok := p[v]; ok {
		return false
	}
	_, pm := p[prefix+"/packageManager"]
	return pm && jsonguard.HasAny(p, prefix+"/ok", prefix+"/uniqueCount")
}

// sVuln is one vulnerability object: one (vulnerability, dependency path) pair.
type sVuln struct {
	ID                    string          `json:"id"`
	Title                 string          `json:"title"`
	Severity              string          `json:"severity"`
	SeverityWithCritical  string          `json:"severityWithCritical"`
	PackageName           string          `json:"packageName"`
	Version               string          `json:"version"`
	PackageManager        string          `json:"packageManager"`
	From                  []string        `json:"from"`
	IsUpgradable          bool            `json:"isUpgradable"`
	IsPatchable           bool            `json:"isPatchable"`
	CVSSv3                string          `json:"CVSSv3"`
	CVSSScore             jsonguard.Score `json:"cvssScore"`
	FixedIn               []string        `json:"fixedIn"`
	NearestFixedInVersion string          `json:"nearestFixedInVersion"`
	Description           string          `json:"description"`
	Semver                struct {
		Vulnerable json.RawMessage `json:"vulnerable"`
	} `json:"semver"`
	Identifiers struct {
		CVE  []string `json:"CVE"`
		CWE  []string `json:"CWE"`
		GHSA []string `json:"GHSA"`
	} `json:"identifiers"`
	References []struct {
		URL string `json:"url"`
	} `json:"references"`
	Filtered struct {
		Ignored []struct {
			Reason     string `json:"reason"`
			ReasonType string `json:"reasonType"`
		} `json:"ignored"`
		Patches []struct {
			ID string `json:"id"`
		} `json:"patches"`
	} `json:"filtered"`
}

// vulnRequired are the members a finding's fingerprint is made of; any other member of an
// unexpected JSON type is left out with a warning.
var vulnRequired = []string{"id", "packageName", "version"}

// status says which list of the project a vulnerability came from.
type status int

const (
	open status = iota
	ignored
	patched
)

type sProject struct {
	ProjectName, Path, TargetFile, DisplayTargetFile, PackageManager, Platform, Error string
	BaseImage                                                                         string
	vulns                                                                             []sVuln
	status                                                                            []status
	sawVulns                                                                          bool
	sawRuns                                                                           bool // a SARIF log (Snyk Code), not this format
	start                                                                             jsonguard.Pos
}

// imageName is the image a container project scanned: the name the user gave.
func (pr *sProject) imageName() string {
	return parseutil.FirstNonEmpty(pr.Path, strings.TrimPrefix(pr.ProjectName, "docker-image|"), "image")
}

// root is the project as its dependency paths start ("goof@0.0.3"), for a report that names
// it nowhere else.
func (pr *sProject) root() string {
	for _, v := range pr.vulns {
		if len(v.From) > 0 {
			return v.From[0]
		}
	}
	return ""
}

func (pr *sProject) container() bool {
	return pr.BaseImage != "" || strings.HasPrefix(pr.ProjectName, "docker-image|")
}

// Parse implements importers.Parser.
func (p *Parser) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	w, err := jsonguard.Open(ctx, formatName, r, p.MaxBytes, p.MaxDepth)
	if err != nil {
		return nil, err
	}
	var warnings []string
	tolerant := jsonguard.Tolerant{Required: vulnRequired, Warn: func(m string) { warnings = append(warnings, m) }}
	var projects []*sProject
	var text parseutil.Interner
	readProject := func(what string) error {
		pr := &sProject{start: w.Start()}
		projects = append(projects, pr)
		return readProjectMembers(w, what, pr, tolerant, &text)
	}
	start := w.Start()
	if w.Next() == '[' {
		err = w.DocumentArray("report", func(i int) error { return readProject(fmt.Sprintf("projects[%d]", i)) })
	} else {
		pr := &sProject{start: start}
		projects = append(projects, pr)
		err = w.Document("report", func(key string) error { return projectMember(w, key, "", pr, tolerant, &text) })
	}
	if err != nil {
		return nil, err
	}
	if len(projects) == 0 {
		return nil, w.ErrAt(start, "not a Snyk JSON report: an empty array of projects")
	}
	// A project Snyk could not test (`--all-projects` goes on past it) is an object with an error
	// and no results: a warning when other projects were tested, the report's refusal when none
	// was, since then nothing was scanned and nothing may be resolved.
	var tested []*sProject
	var failed *sProject
	for _, pr := range projects {
		switch {
		case pr.sawVulns:
			tested = append(tested, pr)
		case pr.Error != "":
			warnings = append(warnings, fmt.Sprintf("line %d: a project Snyk could not test: %s", pr.start.Line, pr.Error))
			failed = pr
		case pr.sawRuns:
			return nil, w.ErrAt(pr.start, "not a Snyk JSON report: a SARIF log (snyk code test --json writes SARIF); import it as sarif")
		default:
			return nil, w.ErrAt(pr.start, "not a Snyk JSON report: no vulnerabilities array")
		}
	}
	if len(tested) == 0 {
		return nil, w.ErrAt(failed.start, "Snyk reported an error instead of results: "+failed.Error)
	}
	out, err := build(ctx, tested)
	if warnings = append(warnings, w.Warnings()...); out != nil && len(warnings) > 0 {
		out.Warnings = append(warnings, out.Warnings...)
	}
	return importers.Bounded(out, err)
}

func readProjectMembers(w *jsonguard.Walker, what string, pr *sProject, t jsonguard.Tolerant, text *parseutil.Interner) error {
	return w.Object(what, func(key string) error { return projectMember(w, key, what+".", pr, t, text) })
}

// projectMember reads one member of a project object.
func projectMember(w *jsonguard.Walker, key, what string, pr *sProject, t jsonguard.Tolerant, text *parseutil.Interner) error {
	keep := func(s status) func(v sVuln) {
		return func(v sVuln) {
			v.share(text)
			pr.vulns = append(pr.vulns, v)
			pr.status = append(pr.status, s)
		}
	}
	var err error
	switch key {
	case "runs":
		pr.sawRuns = true
		return w.Skip()
	case "vulnerabilities":
		pr.sawVulns = true
		return jsonguard.Each(w, what+"vulnerabilities", t, keep(open))
	case "filtered":
		return w.Object(what+"filtered", func(key string) error {
			switch key {
			case "ignore":
				return jsonguard.Each(w, what+"filtered.ignore", t, keep(ignored))
			case "patch":
				return jsonguard.Each(w, what+"filtered.patch", t, keep(patched))
			}
			return w.Skip()
		})
	case "docker":
		var d struct {
			BaseImage string `json:"baseImage"`
		}
		_, err = w.Decode(&d)
		pr.BaseImage = d.BaseImage
	case "projectName":
		pr.ProjectName, err = w.Str()
	case "path":
		pr.Path, err = w.Str()
	case "targetFile":
		pr.TargetFile, err = w.Str()
	case "displayTargetFile":
		pr.DisplayTargetFile, err = w.Str()
	case "packageManager":
		pr.PackageManager, err = w.Str()
	case "platform":
		pr.Platform, err = w.Str()
	case "error":
		var e json.RawMessage
		if _, err = w.Decode(&e); err == nil {
			pr.Error = errorText(e)
		}
	default:
		err = w.Skip()
	}
	return err
}

// errorText is Snyk's error member: a string, or an object with a message.
func errorText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &o) == nil && o.Message != "" {
		return o.Message
	}
	return parseutil.TruncateEllipsis(string(raw), 200)
}

// share keeps one copy of the text Snyk repeats for every dependency path of a vulnerability.
func (v *sVuln) share(in *parseutil.Interner) {
	for _, s := range []*string{&v.ID, &v.Title, &v.Severity, &v.SeverityWithCritical, &v.PackageName, &v.Version, &v.PackageManager, &v.CVSSv3, &v.NearestFixedInVersion, &v.Description} {
		*s = in.Intern(*s)
	}
	in.InternAll(v.From)
	in.InternAll(v.FixedIn)
	in.InternAll(v.Identifiers.CVE)
	in.InternAll(v.Identifiers.CWE)
	in.InternAll(v.Identifiers.GHSA)
	for i := range v.References {
		v.References[i].URL = in.Intern(v.References[i].URL)
	}
	v.Semver.Vulnerable = json.RawMessage(in.Intern(string(v.Semver.Vulnerable)))
}

func build(ctx context.Context, projects []*sProject) (*importers.Report, error) {
	out := &importers.Report{Format: formatName, ScannerName: "snyk", Assets: []importers.Asset{}, Findings: []importers.Finding{}}
	var assets parseutil.AssetSet
	images := map[string]string{} // container project path → asset key
	for _, pr := range projects {
		if pr.container() {
			name := pr.imageName()
			key := "image:" + name
			if pr.Path != "" {
				images[pr.Path] = key
			}
			if assets.Get(key) == nil {
				assets.Add(importers.Asset{Key: key, Kind: importers.ContainerImage, Name: name, ImageName: name})
			}
		}
	}
	paths, folded := 0, 0
	for _, pr := range projects {
		key, image := images[pr.Path], ""
		if pr.container() {
			key = "image:" + pr.imageName()
		}
		if key != "" {
			image = assets.Get(key).ImageName
		} else {
			name := parseutil.FirstNonEmpty(pr.ProjectName, pr.Path, pr.root(), "snyk project")
			key = "project:" + name
			if assets.Get(key) == nil {
				assets.Add(importers.Asset{Key: key, Kind: importers.Repository, Name: name})
			}
		}
		if out.Target == nil {
			out.Target = &importers.Target{Name: assets.Get(key).Name, Hint: "artifact"}
		}
		target := parseutil.FirstNonEmpty(pr.TargetFile, pr.DisplayTargetFile)
		groups := map[[3]string]int{}
		for i := range pr.vulns {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			v := &pr.vulns[i]
			loc := importers.Location{File: target, Image: image, Param: strings.Join(v.From, " > ")}
			paths++
			gk := [3]string{v.ID, v.PackageName, v.Version}
			if at, ok := groups[gk]; ok {
				f := &out.Findings[at]
				if !hasLocation(f, loc) {
					f.Locations = append(f.Locations, loc)
				}
				if f.Suppressed == nil {
					f.Suppressed = suppression(v, pr.status[i])
				}
				continue
			}
			groups[gk] = len(out.Findings)
			f := finding(key, target, pr.PackageManager, v, pr.status[i])
			f.Location = loc
			f.Locations = []importers.Location{loc}
			out.Findings = append(out.Findings, f)
		}
		folded += len(groups)
	}
	for i := range out.Findings {
		if len(out.Findings[i].Locations) == 1 {
			out.Findings[i].Locations = nil // one place: Location says it
		}
	}
	if paths > folded {
		out.Warnings = append(out.Warnings, fmt.Sprintf("%d vulnerable dependency paths reported as %d findings, one per vulnerability and package version; every path is one of its locations", paths, folded))
	}
	out.Assets = append(out.Assets, assets.Assets()...)
	return out, nil
}

func hasLocation(f *importers.Finding, l importers.Location) bool {
	for _, o := range f.Locations {
		if o == l {
			return true
		}
	}
	return false
}

func suppression(v *sVuln, s status) *importers.Suppression {
	switch s {
	case ignored:
		kind, reason := importers.SuppressedAccepted, "ignored"
		for _, ig := range v.Filtered.Ignored {
			if strings.EqualFold(ig.ReasonType, "not-vulnerable") {
				kind = importers.SuppressedFalsePositive
			}
			reason = parseutil.FirstNonEmpty(strings.TrimSpace(ig.ReasonType+": "+ig.Reason), reason)
		}
		return &importers.Suppression{Kind: kind, Reason: strings.Trim(reason, ": "), Source: "snyk ignore (filtered.ignore)"}
	case patched:
		reason := "patched"
		for _, p := range v.Filtered.Patches {
			reason = "patched with " + p.ID
		}
		return &importers.Suppression{Kind: importers.SuppressedResolved, Reason: reason, Source: "snyk patch (filtered.patch)"}
	}
	return nil
}

func severity(v *sVuln) importers.Severity {
	if s, ok := parseutil.SeverityWord(strings.ToLower(strings.TrimSpace(v.Severity))); ok {
		return s
	}
	return parseutil.WordOrScore(v.SeverityWithCritical, v.CVSSScore.Ptr())
}

// managers maps Snyk's packageManager (the part before ':' for OS packages, "alpine:3.12") to a
// package type.
var managers = map[string]string{
	"npm": "npm", "yarn": "npm", "pnpm": "npm", "maven": "maven", "gradle": "maven", "sbt": "maven",
	"pip": "pypi", "poetry": "pypi", "pipenv": "pypi", "rubygems": "gem", "gomodules": "golang",
	"golangdep": "golang", "govendor": "golang", "nuget": "nuget", "paket": "nuget",
	"composer": "composer", "cocoapods": "cocoapods", "hex": "hex", "swift": "swift",
	"cargo": "cargo", "apk": "apk", "alpine": "apk", "deb": "deb", "debian": "deb",
	"ubuntu": "deb", "rpm": "rpm", "rhel": "rpm", "centos": "rpm", "amzn": "rpm",
	"oracle": "rpm", "sles": "rpm", "rockylinux": "rpm", "almalinux": "rpm", "linux": "generic",
}

func componentType(vulnManager, projectManager string) string {
	m := strings.ToLower(parseutil.FirstNonEmpty(vulnManager, projectManager))
	base, _, _ := strings.Cut(m, ":")
	if t, ok := managers[base]; ok {
		return t
	}
	return base
}

// vulnerableRange is semver.vulnerable: a string or an array of strings.
func vulnerableRange(raw json.RawMessage) string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return strings.Join(list, ", ")
	}
	return ""
}

func finding(assetKey, target, projectManager string, v *sVuln, s status) importers.Finding {
	f := importers.Finding{
		AssetKey:        assetKey,
		RuleID:          v.ID,
		Title:           strings.TrimSpace(parseutil.FirstNonEmpty(v.Title, v.ID) + " in " + strings.TrimSpace(v.PackageName+" "+v.Version)),
		Severity:        severity(v),
		ScannerSeverity: v.Severity,
		Description:     v.Description,
		Suppressed:      suppression(v, s),
	}
	if v.CVSSv3 != "" {
		version := "3.0"
		if strings.HasPrefix(v.CVSSv3, "CVSS:3.1/") {
			version = "3.1"
		}
		f.CVSS = []importers.CVSS{{Version: version, Vector: v.CVSSv3, Score: v.CVSSScore.Ptr(), Source: "snyk"}}
	}
	f.CVEs = parseutil.NormAll(v.Identifiers.CVE, parseutil.NormCVE)
	f.GHSAs = parseutil.NormAll(v.Identifiers.GHSA, parseutil.NormGHSA)
	f.CWEs = parseutil.NormAll(v.Identifiers.CWE, parseutil.NormCWE)
	for _, ref := range v.References {
		f.References = parseutil.AppendUnique(f.References, ref.URL)
	}
	fixed := strings.Join(v.FixedIn, ", ")
	if fixed == "" {
		fixed = v.NearestFixedInVersion
	}
	f.Component = &importers.Component{
		Name:         v.PackageName,
		Version:      v.Version,
		FixedVersion: fixed,
		Type:         componentType(v.PackageManager, projectManager),
		Path:         target,
	}
	switch {
	case fixed != "":
		f.Remediation = "Upgrade " + v.PackageName + " to " + fixed + "."
	case v.IsPatchable:
		f.Remediation = "A Snyk patch is available for " + v.PackageName + "."
	}
	if r := vulnerableRange(v.Semver.Vulnerable); r != "" {
		f.Evidence = "Vulnerable versions: " + r
	}
	f.Fingerprint = parseutil.FingerprintJSON("snyk/v1", assetKey, target, v.ID, v.PackageName, v.Version)
	return f
}

// Info implements importers.Describer.
func (*Parser) Info() importers.FormatInfo {
	return importers.FormatInfo{
		Name:     formatName,
		Title:    "Snyk JSON (snyk test --json, snyk container test --json)",
		Family:   "dependencies",
		Versions: []string{"Snyk CLI 1.x JSON: one project object or an array of projects"},
		Detection: "a JSON object (or an array whose first element is one) with a vulnerabilities array " +
			"whose first element has packageName or from, or an empty one beside packageManager and ok or uniqueCount",
		Fingerprint: []string{"asset (image or project)", "targetFile", "id", "packageName", "version"},
		Severity: map[string]importers.Severity{
			"critical": importers.Critical, "high": importers.High, "medium": importers.Medium, "low": importers.Low,
			"other (from cvssScore, else)": importers.Info,
		},
		Notes: "One finding per vulnerability id and package version in a project: every dependency path (from[]) " +
			"is one of its locations (Location.Param). filtered.ignore → suppressed (not-vulnerable: false positive, " +
			"otherwise accepted); filtered.patch → suppressed resolved. Container projects give a container_image asset " +
			"(no digest in Snyk's output); applications found in the image attach to it.",
	}
}
