// Package trivy parses Trivy JSON reports (schema version 2: `trivy image|fs|repo|rootfs|vm
// --format json`) into the normalised importers.Report.
//
// # What is read
//
// One asset per report, from ArtifactName and ArtifactType: container_image → a container_image
// asset whose digest is the manifest digest from Metadata.RepoDigests (the one for the scanned
// repository when there are several), else Metadata.ImageID; repository → a repository asset with
// RepoURL (Metadata.RepoURL, else ArtifactName); filesystem, rootfs, sbom and anything else → a
// repository asset named after the scanned path; vm → a host.
//
// Every entry of Results[].Vulnerabilities, Results[].Misconfigurations (except Status "PASS")
// and Results[].Secrets becomes a finding. Vulnerability findings carry the ids (VulnerabilityID
// and VendorIDs sorted into CVEs and GHSAs; RuleID is VulnerabilityID), the component (PkgName,
// InstalledVersion, FixedVersion, PkgIdentifier.PURL, type from the PURL or the result Type,
// PkgPath or, for language packages, the result Target as path), the severity, every CVSS
// rating of the CVSS map (one per source and version, sources sorted), CweIDs, References and
// PrimaryURL. Misconfigurations carry ID (else AVDID) as rule, the Target file and
// CauseMetadata.StartLine. Secrets carry RuleID, Target and StartLine; the matched text (Match,
// Code) is never copied: the evidence names the rule and says the value was redacted.
//
// Severity: CRITICAL, HIGH, MEDIUM, LOW map to the same importers severity; UNKNOWN (or
// anything else) is derived from the highest CVSS score given (v4, else v3, else v2; >=9
// critical, >=7 high, >=4 medium, >0 low), else info. ScannerSeverity keeps Trivy's word.
//
// # Fingerprints
//
// A fingerprint is the lower-case hex SHA-256 of the JSON encoding of an array of strings:
//
//	vulnerability:    ["trivy/v1", asset, "vuln",    where, pkgPath, pkgName, installedVersion, vulnerabilityID]
//	misconfiguration: ["trivy/v1", asset, "misconf", target, id, causeResource, startLine]
//	secret:           ["trivy/v1", asset, "secret",  target, ruleID, startLine]
//
// asset is the asset identity: "image:"+ArtifactName, "repo:"+repository URL, "fs:"+ArtifactName
// or "host:"+ArtifactName. where is the result Target, except for OS packages (Class "os-pkgs"),
// where it is "os-pkgs" because the Target embeds the OS release ("img (alpine 3.11.12)") and the
// package name identifies the package. Line numbers are decimal ("0" when absent). The same report
// imported twice gives the same fingerprints; the same CVE in two packages, or in one package
// installed at two paths, gives two. Trivy's own per-vulnerability Fingerprint field (newer
// versions) is not used, because older reports lack it.
//
// # Limits
//
// Parse reads at most Parser.MaxBytes (512 MiB by default) and refuses nesting deeper than
// Parser.MaxDepth (128 by default) and invalid UTF-8 before decoding. Malformed input gives a
// *importers.ParseError with line, column (bytes, 1-based) and byte offset; a cancelled context
// gives ctx.Err() unwrapped.
//
// # Other shapes
//
// Schema version 1 reports (a bare array of results, Trivy < 0.20) are read as schema 2 without
// the artifact: a result without a Class whose Target ends in "(<os> <release>)" is an OS package
// result, and the first such Target names the artifact, a container image (else the first
// result's Target names a filesystem). `trivy k8s` reports (ClusterName, Resources[]) give one
// cloud_resource asset per resource ("k8s:"+cluster/namespace/kind/name, also its CloudID) with
// that resource's results.
//
// # Statuses and licenses
//
// A vulnerability Status of not_affected marks the finding Suppressed (not_affected);
// will_not_fix and end_of_life mark it Suppressed (accepted: the vendor ships no fix). "fixed"
// does not: Trivy writes it when a fixed version exists, the installed package still being
// vulnerable. License results (Results[].Licenses) are findings of Kind "license", RuleID the
// license name, fingerprint ["trivy/v1", asset, "license", target, pkgName, filePath, name].
// Target is the ArtifactName (the ClusterName of a k8s report). ModifiedFindings (what
// --show-suppressed lists: set aside by .trivyignore or VEX) are counted in a warning, not
// imported; a member of an unexpected JSON type outside the fingerprint's parts is left out
// with a warning.
package trivy

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

const formatName = "trivy"

// Parser parses Trivy JSON reports. The zero value uses the default limits.
type Parser struct{ jsonguard.Limits }

// New returns a Trivy parser with the default limits.
func New() importers.Parser { return &Parser{} }

// Format implements importers.Parser.
func (*Parser) Format() string { return formatName }

// Detect reports whether head is the start of a Trivy JSON report: an object with SchemaVersion
// and ArtifactName, ArtifactType or Results, and none of the top-level members of CycloneDX
// (bomFormat), SARIF (runs) or Grype (matches) documents, which Trivy can also write; a `trivy
// k8s` report (an object with ClusterName and Resources); or a schema 1 report, an array whose
// first element is a result: a Target beside Vulnerabilities, Misconfigurations, Secrets, Class
// or Type.
func (*Parser) Detect(head []byte) bool {
	p := jsonguard.HeadPaths(head)
	switch p[""] {
	case "[":
		if _, ok := p["/0/Target"]; !ok || p["/0"] != "{" {
			return false
		}
		return jsonguard.HasAny(p, "/0/Vulnerabilities", "/0/Misconfigurations", "/0/Secrets", "/0/Class", "/0/Type")
	case "{":
	default:
		return false
	}
	_, cluster := p["/ClusterName"]
	_, resources := p["/Resources"]
	if _, ok := p["/SchemaVersion"]; !ok && !(cluster && resources) {
		return false
	}
	if jsonguard.HasAny(p, "/bomFormat", "/runs", "/matches", "/spdxVersion") {
		return false
	}
	return jsonguard.HasAny(p, "/ArtifactName", "/ArtifactType", "/Results", "/Resources")
}

// Wire types: only the fields used.

type tOS struct {
	Family string `json:"Family"`
	Name   string `json:"Name"`
}

type tMetadata struct {
	OS          *tOS     `json:"OS"`
	ImageID     string   `json:"ImageID"`
	RepoDigests []string `json:"RepoDigests"`
	RepoTags    []string `json:"RepoTags"`
	RepoURL     string   `json:"RepoURL"`
	Branch      string   `json:"Branch"`
	Commit      string   `json:"Commit"`
}

type tCVSS struct {
	V2Vector  string          `json:"V2Vector"`
	V3Vector  string          `json:"V3Vector"`
	V40Vector string          `json:"V40Vector"`
	V2Score   jsonguard.Score `json:"V2Score"`
	V3Score   jsonguard.Score `json:"V3Score"`
	V40Score  jsonguard.Score `json:"V40Score"`
}

type tVuln struct {
	VulnerabilityID string   `json:"VulnerabilityID"`
	VendorIDs       []string `json:"VendorIDs"`
	PkgID           string   `json:"PkgID"`
	PkgName         string   `json:"PkgName"`
	PkgPath         string   `json:"PkgPath"`
	PkgIdentifier   struct {
		PURL string `json:"PURL"`
	} `json:"PkgIdentifier"`
	InstalledVersion string           `json:"InstalledVersion"`
	FixedVersion     string           `json:"FixedVersion"`
	Status           string           `json:"Status"`
	SeveritySource   string           `json:"SeveritySource"`
	PrimaryURL       string           `json:"PrimaryURL"`
	Title            string           `json:"Title"`
	Description      string           `json:"Description"`
	Severity         string           `json:"Severity"`
	CweIDs           []string         `json:"CweIDs"`
	CVSS             map[string]tCVSS `json:"CVSS"`
	References       []string         `json:"References"`
	// ratings are CVSS read as the report's ratings once the vulnerability is decoded (share), so
	// that the map of each of thousands of vulnerabilities does not wait for the report's end.
	ratings []importers.CVSS
}

type tCodeLine struct {
	Number  jsonguard.LineNo `json:"Number"`
	Content string           `json:"Content"`
	IsCause bool             `json:"IsCause"`
}

type tMisconf struct {
	Type          string   `json:"Type"`
	ID            string   `json:"ID"`
	AVDID         string   `json:"AVDID"`
	Title         string   `json:"Title"`
	Description   string   `json:"Description"`
	Message       string   `json:"Message"`
	Resolution    string   `json:"Resolution"`
	Severity      string   `json:"Severity"`
	PrimaryURL    string   `json:"PrimaryURL"`
	References    []string `json:"References"`
	Status        string   `json:"Status"`
	CauseMetadata struct {
		Resource  string           `json:"Resource"`
		Provider  string           `json:"Provider"`
		Service   string           `json:"Service"`
		StartLine jsonguard.LineNo `json:"StartLine"`
		EndLine   jsonguard.LineNo `json:"EndLine"`
	} `json:"CauseMetadata"`
}

type tSecret struct {
	RuleID    string           `json:"RuleID"`
	Category  string           `json:"Category"`
	Severity  string           `json:"Severity"`
	Title     string           `json:"Title"`
	StartLine jsonguard.LineNo `json:"StartLine"`
	EndLine   jsonguard.LineNo `json:"EndLine"`
	// Match and Code are deliberately not decoded: they hold the secret.
}

// tLicense is a license result (Class "license" or "license-file").
type tLicense struct {
	Severity string `json:"Severity"`
	Category string `json:"Category"`
	PkgName  string `json:"PkgName"`
	FilePath string `json:"FilePath"`
	Name     string `json:"Name"`
	Link     string `json:"Link"`
}

type tResult struct {
	Target   string
	Class    string
	Type     string
	Vulns    []tVuln
	Misconfs []tMisconf
	Secrets  []tSecret
	Licenses []tLicense
}

// tResource is a Kubernetes resource of a `trivy k8s` report: its results belong to it.
type tResource struct {
	Namespace, Kind, Name string
	Results               []tResult
}

type tReport struct {
	SchemaVersion int
	CreatedAt     string
	ArtifactName  string
	ArtifactType  string
	TrivyVersion  string
	Metadata      tMetadata
	Results       []tResult
	// Legacy: a schema 1 report (a bare array of results, Trivy < 0.20).
	Legacy bool
	// ClusterName and Resources: a `trivy k8s` report.
	ClusterName string
	Resources   []tResource
}

// Parse implements importers.Parser.
func (p *Parser) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	w, err := jsonguard.Open(ctx, formatName, r, p.MaxBytes, p.MaxDepth)
	if err != nil {
		return nil, err
	}
	var rep tReport
	rd := &reader{w: w}
	if w.Next() == '[' {
		return rd.parseLegacy(ctx)
	}
	sawSchema, sawK8s := false, false
	err = w.Document("report", func(key string) error {
		switch key {
		case "ClusterName":
			s, err := w.Str()
			rep.ClusterName, sawK8s = s, true
			return err
		case "Resources":
			sawK8s = true
			return w.Array("Resources", func(int) error {
				res, err := rd.resource()
				rep.Resources = append(rep.Resources, res)
				return err
			})
		case "SchemaVersion":
			off := w.Start()
			var v int
			if _, err := w.Decode(&v); err != nil {
				return err
			}
			if v != 2 {
				return w.ErrAt(off, "SchemaVersion "+strconv.Itoa(v)+" is not supported (want 2)")
			}
			rep.SchemaVersion, sawSchema = v, true
			return nil
		case "CreatedAt":
			return w.StrTo(&rep.CreatedAt)
		case "ArtifactName":
			return w.StrTo(&rep.ArtifactName)
		case "ArtifactType":
			return w.StrTo(&rep.ArtifactType)
		case "Trivy":
			var t struct {
				Version string `json:"Version"`
			}
			_, err := w.Decode(&t)
			rep.TrivyVersion = t.Version
			return err
		case "Metadata":
			_, err := w.Decode(&rep.Metadata)
			return err
		case "Results":
			return w.Array("Results", func(int) error {
				res, err := rd.result()
				if err == nil {
					rep.Results = append(rep.Results, res)
				}
				return err
			})
		}
		return w.Skip()
	})
	if err != nil {
		if pe, ok := err.(*importers.ParseError); ok && pe.Offset == 0 && strings.HasSuffix(pe.Msg, "expected an object") {
			pe.Msg += " (Trivy schema 2) or an array of results (schema 1)"
		}
		return nil, err
	}
	if !sawSchema && !sawK8s {
		return nil, w.ErrAt(jsonguard.Pos{}, "not a Trivy JSON report: no SchemaVersion (nor ClusterName and Resources of a trivy k8s report)")
	}
	return rd.finish(build(ctx, &rep))
}

// reader walks one report, collecting the warnings of what it tolerated.
type reader struct {
	w        *jsonguard.Walker
	warnings []string
	text     parseutil.Interner
}

// share keeps one copy of the text Trivy repeats for every package a vulnerability affects.
func (rd *reader) share(v *tVuln) {
	in := &rd.text
	for _, s := range []*string{&v.VulnerabilityID, &v.PkgName, &v.PkgPath, &v.InstalledVersion, &v.FixedVersion,
		&v.Status, &v.SeveritySource, &v.PrimaryURL, &v.Title, &v.Description, &v.Severity} {
		*s = in.Intern(*s)
	}
	in.InternAll(v.VendorIDs)
	in.InternAll(v.CweIDs)
	in.InternAll(v.References)
	v.ratings = ratings(v.CVSS)
	v.CVSS = nil
	for i := range v.ratings {
		r := &v.ratings[i]
		r.Vector, r.Source = in.Intern(r.Vector), in.Intern(r.Source)
	}
}

// Required members: the parts of each kind's fingerprint. Any other member of an unexpected
// JSON type is left out with a warning.
var (
	vulnRequired    = []string{"VulnerabilityID", "PkgName", "InstalledVersion", "PkgPath"}
	misconfRequired = []string{"ID", "AVDID", "CauseMetadata.Resource", "CauseMetadata.StartLine"}
	secretRequired  = []string{"RuleID", "StartLine"}
	licenseRequired = []string{"Name", "PkgName", "FilePath"}
)

func (rd *reader) tolerant(required []string) jsonguard.Tolerant {
	return jsonguard.Tolerant{Required: required, Warn: func(m string) { rd.warnings = append(rd.warnings, m) }}
}

// finish adds the warnings to a built report.
func (rd *reader) finish(rep *importers.Report, err error) (*importers.Report, error) {
	if rep != nil {
		rep.Warnings = append(rd.warnings, rd.w.Warnings()...)
	}
	return importers.Bounded(rep, err)
}

// parseLegacy reads a schema 1 report: the Results array alone, which must hold at least one
// result naming its Target (an empty array says nothing of being a Trivy report).
func (rd *reader) parseLegacy(ctx context.Context) (*importers.Report, error) {
	w := rd.w
	rep := tReport{Legacy: true}
	err := w.DocumentArray("report", func(i int) error {
		res, err := rd.result()
		rep.Results = append(rep.Results, res)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(rep.Results) == 0 || rep.Results[0].Target == "" {
		return nil, w.ErrAt(jsonguard.Pos{}, "not a Trivy JSON report: expected an object (schema 2) or an array of results with a Target (schema 1)")
	}
	return rd.finish(build(ctx, &rep))
}

// resource reads one element of a `trivy k8s` report's Resources.
func (rd *reader) resource() (tResource, error) {
	w := rd.w
	var r tResource
	err := w.Object("Resources[]", func(key string) error {
		var err error
		switch key {
		case "Namespace":
			r.Namespace, err = w.Str()
		case "Kind":
			r.Kind, err = w.Str()
		case "Name":
			r.Name, err = w.Str()
		case "Results":
			err = w.Array("Results", func(int) error {
				res, err := rd.result()
				r.Results = append(r.Results, res)
				return err
			})
		default:
			err = w.Skip()
		}
		return err
	})
	return r, err
}

func (rd *reader) result() (tResult, error) {
	w := rd.w
	var res tResult
	err := w.Object("Results[]", func(key string) error {
		var err error
		switch key {
		case "Target":
			res.Target, err = w.Str()
		case "Class":
			res.Class, err = w.Str()
		case "Type":
			res.Type, err = w.Str()
		case "Vulnerabilities":
			err = jsonguard.Each(w, "Vulnerabilities", rd.tolerant(vulnRequired), func(v tVuln) {
				rd.share(&v)
				res.Vulns = append(res.Vulns, v)
			})
		case "Misconfigurations":
			err = jsonguard.Elements(w, "Misconfigurations", &res.Misconfs, rd.tolerant(misconfRequired))
		case "Secrets":
			err = jsonguard.Elements(w, "Secrets", &res.Secrets, rd.tolerant(secretRequired))
		case "Licenses":
			err = jsonguard.Elements(w, "Licenses", &res.Licenses, rd.tolerant(licenseRequired))
		case "ModifiedFindings", "ExperimentalModifiedFindings":
			// What --show-suppressed lists: findings a .trivyignore or VEX statement set aside.
			// Not imported (they would open as new findings until the import service applies
			// Suppressed hints), but counted, so that the user knows.
			var n int
			n, err = w.Count(key)
			if n > 0 {
				rd.warnings = append(rd.warnings, fmt.Sprintf("%d findings Trivy suppressed (.trivyignore or VEX) not imported", n))
			}
		default:
			err = w.Skip()
		}
		return err
	})
	return res, err
}

func build(ctx context.Context, rep *tReport) (*importers.Report, error) {
	out := &importers.Report{
		Format:         formatName,
		ScannerName:    "trivy",
		ScannerVersion: rep.TrivyVersion,
		Assets:         []importers.Asset{},
		Findings:       []importers.Finding{},
	}
	if t, err := time.Parse(time.RFC3339Nano, rep.CreatedAt); err == nil {
		out.StartedAt = t
	}
	if rep.ClusterName != "" || len(rep.Resources) > 0 {
		if rep.ClusterName != "" {
			out.Target = &importers.Target{Name: rep.ClusterName, Hint: "artifact"}
		}
		seen := map[string]bool{}
		for i := range rep.Resources {
			asset := k8sAsset(rep.ClusterName, &rep.Resources[i])
			if !seen[asset.Key] {
				seen[asset.Key] = true
				out.Assets = append(out.Assets, asset)
			}
			if err := addFindings(ctx, out, asset, asset.Key, rep.Resources[i].Results); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	if rep.Legacy {
		legacyClasses(rep)
	}
	asset, identity := buildAsset(rep)
	out.Assets = append(out.Assets, asset)
	if asset.Name != "" {
		out.Target = &importers.Target{Name: asset.Name, Hint: "artifact"}
	}
	if err := addFindings(ctx, out, asset, identity, rep.Results); err != nil {
		return nil, err
	}
	return out, nil
}

// addFindings appends the findings of results, which belong to asset.
func addFindings(ctx context.Context, out *importers.Report, asset importers.Asset, identity string, results []tResult) error {
	image := ""
	if asset.Kind == importers.ContainerImage {
		image = asset.ImageName
	}
	n := len(out.Findings)
	for i := range results {
		n += len(results[i].Vulns) + len(results[i].Misconfs) + len(results[i].Secrets) + len(results[i].Licenses)
	}
	out.Findings = slices.Grow(out.Findings, n-len(out.Findings)) // no copies of a growing list
	for i := range results {
		if err := ctx.Err(); err != nil {
			return err
		}
		res := &results[i]
		for j := range res.Vulns {
			out.Findings = append(out.Findings, vulnFinding(asset.Key, identity, image, res, &res.Vulns[j]))
		}
		for j := range res.Misconfs {
			m := &res.Misconfs[j]
			if strings.EqualFold(m.Status, "PASS") {
				continue
			}
			out.Findings = append(out.Findings, misconfFinding(asset.Key, identity, image, res, m))
		}
		for j := range res.Secrets {
			out.Findings = append(out.Findings, secretFinding(asset.Key, identity, image, res, &res.Secrets[j]))
		}
		for j := range res.Licenses {
			out.Findings = append(out.Findings, licenseFinding(asset.Key, identity, image, res, &res.Licenses[j]))
		}
		// What the findings took from the result is theirs now: let the rest go.
		res.Vulns, res.Misconfs, res.Secrets, res.Licenses = nil, nil, nil, nil
	}
	return nil
}

// osTarget is the Target of an OS package result: "<artifact> (<os> <release>)".
var osTarget = regexp.MustCompile(`^(.+) \(([a-z][^()]*)\)$`)

// legacyClasses gives a schema 1 report what schema 2 states and it lacks: results without a
// Class whose Target names an OS are OS package results, and the artifact (for an image, the
// Target of its OS result) and its type.
func legacyClasses(rep *tReport) {
	for i := range rep.Results {
		res := &rep.Results[i]
		m := osTarget.FindStringSubmatch(res.Target)
		if m == nil || (res.Class != "" && res.Class != "os-pkgs") {
			continue
		}
		res.Class = "os-pkgs"
		if rep.ArtifactName == "" {
			rep.ArtifactName, rep.ArtifactType = m[1], "container_image"
			if rep.Metadata.OS == nil {
				rep.Metadata.OS = &tOS{Family: m[2]}
			}
		}
	}
	if rep.ArtifactName == "" {
		rep.ArtifactName = rep.Results[0].Target
	}
}

// k8sAsset is the Kubernetes resource of a `trivy k8s` report, identified by cluster, namespace,
// kind and name.
func k8sAsset(cluster string, r *tResource) importers.Asset {
	id := "k8s:" + cluster + "/" + r.Namespace + "/" + r.Kind + "/" + r.Name
	return importers.Asset{Key: id, Kind: importers.CloudResource, Name: r.Namespace + "/" + r.Kind + "/" + r.Name, CloudID: id}
}

func buildAsset(rep *tReport) (importers.Asset, string) {
	name := rep.ArtifactName
	md := &rep.Metadata
	a := importers.Asset{Name: name}
	if md.OS != nil && md.OS.Family != "" {
		a.OS = strings.TrimSpace(md.OS.Family + " " + md.OS.Name)
	}
	var identity string
	switch strings.ToLower(rep.ArtifactType) {
	case "container_image", "container-image", "image":
		a.Kind = importers.ContainerImage
		a.ImageName = name
		a.ImageDigest = imageDigest(name, md)
		identity = "image:" + name
	case "repository", "repo":
		a.Kind = importers.Repository
		a.RepoURL = md.RepoURL
		if a.RepoURL == "" && looksLikeURL(name) {
			a.RepoURL = name
		}
		if a.RepoURL != "" {
			identity = "repo:" + a.RepoURL
		} else {
			identity = "fs:" + name
		}
	case "vm":
		a.Kind = importers.Host
		identity = "host:" + name
	default: // filesystem, rootfs, cyclonedx, spdx, …
		a.Kind = importers.Repository
		a.RepoURL = md.RepoURL
		identity = "fs:" + name
	}
	a.Key = identity
	return a, identity
}

func looksLikeURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && u.Host != ""
}

// imageDigest picks the manifest digest of the scanned repository from RepoDigests
// ("repo@sha256:…"), else the first repo digest, else the image ID.
func imageDigest(name string, md *tMetadata) string {
	if d := parseutil.RepoDigest(name, md.RepoDigests, false); d != "" {
		return d
	}
	return md.ImageID
}

// ecosystem maps a Trivy result Type to a package type when the PURL gives none.
var ecosystem = map[string]string{
	"alpine": "apk", "wolfi": "apk", "chainguard": "apk",
	"debian": "deb", "ubuntu": "deb",
	"redhat": "rpm", "centos": "rpm", "rocky": "rpm", "alma": "rpm", "oracle": "rpm", "amazon": "rpm",
	"fedora": "rpm", "opensuse": "rpm", "opensuse.leap": "rpm", "opensuse.tumbleweed": "rpm",
	"suse linux enterprise server": "rpm", "photon": "rpm", "cbl-mariner": "rpm", "azurelinux": "rpm",
	"npm": "npm", "node-pkg": "npm", "yarn": "npm", "pnpm": "npm", "bun": "npm",
	"jar": "maven", "pom": "maven", "gradle": "maven", "sbt": "maven",
	"pip": "pypi", "pipenv": "pypi", "poetry": "pypi", "uv": "pypi", "python-pkg": "pypi",
	"gomod": "golang", "gobinary": "golang",
	"bundler": "gem", "gemspec": "gem",
	"cargo": "cargo", "rustbinary": "cargo",
	"composer": "composer", "composer-vendor": "composer",
	"nuget": "nuget", "dotnet-core": "nuget", "packages-props": "nuget",
	"conan": "conan", "hex": "hex", "pub": "pub", "swift": "swift", "cocoapods": "cocoapods",
}

func cvssVersion(vector, fallback string) string {
	if v := parseutil.VectorVersion(vector); v != "" {
		return v
	}
	return fallback
}

func ratings(m map[string]tCVSS) []importers.CVSS {
	sources := make([]string, 0, len(m))
	for s := range m {
		sources = append(sources, s)
	}
	sort.Strings(sources)
	var out []importers.CVSS
	for _, src := range sources {
		c := m[src]
		if c.V40Vector != "" || c.V40Score.OK {
			out = append(out, importers.CVSS{Version: "4.0", Vector: c.V40Vector, Score: c.V40Score.Ptr(), Source: src})
		}
		if c.V3Vector != "" || c.V3Score.OK {
			// A score without a vector does not say 3.0 or 3.1; Trivy's feeds are 3.1 today.
			out = append(out, importers.CVSS{Version: cvssVersion(c.V3Vector, "3.1"), Vector: c.V3Vector, Score: c.V3Score.Ptr(), Source: src})
		}
		if c.V2Vector != "" || c.V2Score.OK {
			out = append(out, importers.CVSS{Version: "2.0", Vector: c.V2Vector, Score: c.V2Score.Ptr(), Source: src})
		}
	}
	return out
}

func vulnFinding(assetKey, identity, image string, res *tResult, v *tVuln) importers.Finding {
	f := importers.Finding{
		AssetKey:        assetKey,
		Title:           v.Title,
		ScannerSeverity: v.Severity,
		RuleID:          v.VulnerabilityID,
		Description:     v.Description,
		CVSS:            v.ratings,
	}
	if f.Title == "" {
		f.Title = v.VulnerabilityID
	}
	f.Severity = parseutil.WordOrRatings(v.Severity, f.CVSS)
	parseutil.AddAdvisoryIDs(&f, v.VulnerabilityID)
	parseutil.AddAdvisoryIDs(&f, v.VendorIDs...)
	f.CWEs = parseutil.NormAll(v.CweIDs, parseutil.NormCWE)
	f.References = parseutil.AppendUnique(f.References, v.PrimaryURL)
	f.References = parseutil.AppendUnique(f.References, v.References...)
	path := v.PkgPath
	if path == "" && res.Class != "os-pkgs" {
		path = res.Target
	}
	f.Component = &importers.Component{
		PURL:         v.PkgIdentifier.PURL,
		Name:         v.PkgName,
		Version:      v.InstalledVersion,
		FixedVersion: v.FixedVersion,
		Type:         parseutil.PackageType(v.PkgIdentifier.PURL, res.Type, ecosystem),
		Path:         path,
	}
	f.Location = importers.Location{File: path, Image: image}
	if v.FixedVersion != "" {
		f.Remediation = "Upgrade " + v.PkgName + " to " + v.FixedVersion + "."
	}
	if v.Status != "" {
		f.Evidence = "Installed " + v.PkgName + " " + v.InstalledVersion + "; Trivy status: " + v.Status
	}
	f.Suppressed = statusHint(v.Status)
	where := res.Target
	if res.Class == "os-pkgs" {
		where = "os-pkgs"
	}
	f.Fingerprint = parseutil.FingerprintJSON("trivy/v1", identity, "vuln", where, v.PkgPath, v.PkgName, v.InstalledVersion, v.VulnerabilityID)
	return f
}

// statusHint maps the vendor statuses that say the installed package needs no work. "fixed"
// is not one: Trivy writes it when a fixed version exists, while the installed one is still
// vulnerable (206 of the 227 statuses of the test reports). affected, under_investigation,
// fix_deferred and unknown leave the finding open.
func statusHint(status string) *importers.Suppression {
	var kind importers.SuppressionKind
	switch strings.ToLower(strings.TrimSpace(status)) {
	case "not_affected":
		kind = importers.SuppressedNotAffected
	case "will_not_fix", "end_of_life":
		kind = importers.SuppressedAccepted
	default:
		return nil
	}
	return &importers.Suppression{Kind: kind, Reason: status, Source: "trivy Status"}
}

// licenseFinding is a license result: a package (or file) under a license Trivy's policy
// classifies (Category: forbidden, restricted, reciprocal, notice, permissive, unencumbered,
// unknown).
func licenseFinding(assetKey, identity, image string, res *tResult, l *tLicense) importers.Finding {
	subject := parseutil.FirstNonEmpty(l.PkgName, l.FilePath, res.Target)
	f := importers.Finding{
		AssetKey:        assetKey,
		Kind:            importers.KindLicense,
		Title:           "License " + l.Name + " (" + l.Category + ") in " + subject,
		ScannerSeverity: l.Severity,
		Severity:        parseutil.WordOrRatings(l.Severity, nil),
		RuleID:          l.Name,
		Component:       &importers.Component{Name: l.PkgName, Path: l.FilePath},
		Location:        importers.Location{File: parseutil.FirstNonEmpty(l.FilePath, res.Target), Image: image},
	}
	if l.PkgName == "" {
		f.Component = nil
	}
	f.References = parseutil.AppendUnique(f.References, l.Link)
	f.Fingerprint = parseutil.FingerprintJSON("trivy/v1", identity, "license", res.Target, l.PkgName, l.FilePath, l.Name)
	return f
}

func misconfFinding(assetKey, identity, image string, res *tResult, m *tMisconf) importers.Finding {
	rule := m.ID
	if rule == "" {
		rule = m.AVDID
	}
	f := importers.Finding{
		AssetKey:        assetKey,
		Title:           m.Title,
		ScannerSeverity: m.Severity,
		Severity:        parseutil.WordOrRatings(m.Severity, nil),
		RuleID:          rule,
		Description:     m.Description,
		Remediation:     m.Resolution,
		Evidence:        m.Message,
		Location:        importers.Location{File: res.Target, Line: int(m.CauseMetadata.StartLine), Image: image},
	}
	if f.Title == "" {
		f.Title = rule
	}
	f.References = parseutil.AppendUnique(f.References, m.PrimaryURL)
	f.References = parseutil.AppendUnique(f.References, m.References...)
	f.Fingerprint = parseutil.FingerprintJSON("trivy/v1", identity, "misconf", res.Target, rule, m.CauseMetadata.Resource,
		strconv.Itoa(int(m.CauseMetadata.StartLine)))
	return f
}

func secretFinding(assetKey, identity, image string, res *tResult, s *tSecret) importers.Finding {
	f := importers.Finding{
		AssetKey:        assetKey,
		Title:           s.Title,
		ScannerSeverity: s.Severity,
		Severity:        parseutil.WordOrRatings(s.Severity, nil),
		RuleID:          s.RuleID,
		Location:        importers.Location{File: res.Target, Line: int(s.StartLine), Image: image},
	}
	if f.Title == "" {
		f.Title = "Secret: " + s.RuleID
	}
	where := res.Target
	if s.StartLine > 0 {
		where += ":" + strconv.Itoa(int(s.StartLine))
	}
	f.Evidence = "Secret matched by rule " + s.RuleID
	if s.Category != "" {
		f.Evidence += " (" + s.Category + ")"
	}
	f.Evidence += " at " + where + "; the matched value is redacted."
	f.Remediation = "Remove the secret from " + res.Target + " and rotate it."
	f.Fingerprint = parseutil.FingerprintJSON("trivy/v1", identity, "secret", res.Target, s.RuleID, strconv.Itoa(int(s.StartLine)))
	return f
}
