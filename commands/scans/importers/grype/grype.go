// Package grype parses Grype JSON reports (`grype -o json`) into the normalised importers.Report.
//
// # What is read
//
// One asset per report, from source: an image source (source.type "image") gives a
// container_image asset named after target.userInput, with the manifest digest of the scanned
// repository from target.repoDigests (else target.manifestDigest, else target.imageID) and the
// distro as OS; a directory or file source gives a repository asset named after the path; any
// other source gives a repository asset named after what is known of it.
//
// Every element of matches[] becomes a finding: vulnerability.id is the RuleID; CVEs and GHSAs
// are gathered from vulnerability.id and relatedVulnerabilities[].id; CVSS ratings from
// vulnerability.cvss and relatedVulnerabilities[].cvss (version, vector, baseScore, source;
// duplicates dropped); the component from artifact (name, version, purl, type from the PURL else
// artifact.type, first location path, fix.versions as FixedVersion); references from dataSource,
// urls, advisories and the related records; the match details as evidence (an array, or the one
// object Grype wrote before 0.12; any other shape is ignored with a warning). A fix.state of
// "wont-fix" marks the finding Suppressed (accepted). Target is the asset name (the source's
// user input or path). ignoredMatches (set aside by ignore rules or VEX) are counted in a
// warning, not imported.
//
// Severity: Critical, High, Medium, Low map to the same importers severity, Negligible to info;
// Unknown, null or anything else is derived from the highest CVSS score given (v4, else v3, else
// v2; >=9 critical, >=7 high, >=4 medium, >0 low), else info. ScannerSeverity keeps Grype's
// word. EPSS values (vulnerability.epss), risk and KEV data are not kept: the model has no field.
//
// # Fingerprints
//
// A fingerprint is the lower-case hex SHA-256 of the JSON encoding of the array of strings
//
//	["grype/v1", asset, vulnerability.id, artifact.type, artifact.name, artifact.version, locations]
//
// where asset is the asset identity (the asset Key: "image:"+userInput for images, else
// source.type+":"+path, e.g. "directory:/src") and locations the artifact's location paths, sorted, de-duplicated and joined
// with "\n" (layer ids are left out: they change on every rebuild). The same report imported
// twice gives the same fingerprints; the same CVE in two packages, two versions of a package or
// one package at two paths gives two. Grype reports a CVE and the GHSA that aliases it as two
// matches when both databases match; they stay two findings (their ids differ).
//
// # Limits
//
// Parse reads at most Parser.MaxBytes (512 MiB by default) and refuses nesting deeper than
// Parser.MaxDepth (128 by default) and invalid UTF-8 before decoding. Malformed input gives a
// *importers.ParseError with line, column (bytes, 1-based) and byte offset; a cancelled context
// gives ctx.Err() unwrapped.
package grype

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

const formatName = "grype"

// Parser parses Grype JSON reports. The zero value uses the default limits.
type Parser struct{ jsonguard.Limits }

// New returns a Grype parser with the default limits.
func New() importers.Parser { return &Parser{} }

// Format implements importers.Parser.
func (*Parser) Format() string { return formatName }

// Detect reports whether head is the start of a Grype JSON report: an object whose matches
// member is an array of objects with vulnerability and artifact members, or an empty matches
// array next to a grype descriptor or a source.
func (*Parser) Detect(head []byte) bool {
	p := jsonguard.HeadPaths(head)
	if p[""] != "{" || p["/matches"] != "[" {
		return false
	}
	if jsonguard.HasAny(p, "/bomFormat", "/runs", "/SchemaVersion") {
		return false
	}
	if p["/matches/0"] == "{" {
		return jsonguard.HasAny(p, "/matches/0/vulnerability", "/matches/0/artifact")
	}
	if _, ok := p["/matches/0"]; ok {
		return false // the first match is not an object
	}
	_, src := p["/source"]
	return strings.EqualFold(p["/descriptor/name"], "grype") || src
}

// Wire types: only the fields used.

type gCVSS struct {
	Source  string `json:"source"`
	Type    string `json:"type"`
	Version string `json:"version"`
	Vector  string `json:"vector"`
	Metrics struct {
		BaseScore jsonguard.Score `json:"baseScore"`
	} `json:"metrics"`
}

// gVuln is a match's vulnerability: a related vulnerability's fields, and the fix and advisories
// only the match's own carries.
type gVuln struct {
	gRelated
	Fix struct {
		Versions []string `json:"versions"`
		State    string   `json:"state"`
	} `json:"fix"`
	Advisories []struct {
		ID   string `json:"id"`
		Link string `json:"link"`
	} `json:"advisories"`
}

type gRelated struct {
	ID          string   `json:"id"`
	DataSource  string   `json:"dataSource"`
	Namespace   string   `json:"namespace"`
	Severity    *string  `json:"severity"`
	URLs        []string `json:"urls"`
	Description string   `json:"description"`
	CVSS        []gCVSS  `json:"cvss"`
}

type gMatchDetail struct {
	Type    string `json:"type"`
	Matcher string `json:"matcher"`
	Found   struct {
		VersionConstraint string `json:"versionConstraint"`
	} `json:"found"`
	// MatchedOn is where Grype before 0.12 (2021, one match detail as an object) put the
	// constraint.
	MatchedOn struct {
		Constraint string `json:"constraint"`
	} `json:"matchedOn"`
}

// gMatchDetails are a match's details: an array since Grype 0.12, one object before. Any other
// shape is kept as Odd, for a warning: the details are only evidence.
type gMatchDetails struct {
	List []gMatchDetail
	Odd  bool
}

func (d *gMatchDetails) UnmarshalJSON(b []byte) error {
	switch jsonguard.Kind(b) {
	case '[':
		return json.Unmarshal(b, &d.List)
	case '{':
		var one gMatchDetail
		err := json.Unmarshal(b, &one)
		d.List = []gMatchDetail{one}
		return err
	case 'n':
		return nil
	}
	d.Odd = true
	return nil
}

type gMatch struct {
	Vulnerability          gVuln         `json:"vulnerability"`
	RelatedVulnerabilities []gRelated    `json:"relatedVulnerabilities"`
	MatchDetails           gMatchDetails `json:"matchDetails"`
	Artifact               struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Version   string `json:"version"`
		Type      string `json:"type"`
		Language  string `json:"language"`
		PURL      string `json:"purl"`
		Locations []struct {
			Path string `json:"path"`
		} `json:"locations"`
	} `json:"artifact"`
}

// share keeps one copy of the text Grype repeats for every artifact a vulnerability affects (its
// description, URLs, vectors, related vulnerabilities).
func (m *gMatch) share(in *parseutil.Interner) {
	m.Vulnerability.gRelated.share(in)
	for i := range m.RelatedVulnerabilities {
		m.RelatedVulnerabilities[i].share(in)
	}
	in.InternAll(m.Vulnerability.Fix.Versions)
	m.Vulnerability.Fix.State = in.Intern(m.Vulnerability.Fix.State)
	a := &m.Artifact
	for _, s := range []*string{&a.Name, &a.Version, &a.Type, &a.Language, &a.PURL} {
		*s = in.Intern(*s)
	}
	for i := range a.Locations {
		a.Locations[i].Path = in.Intern(a.Locations[i].Path)
	}
}

func (r *gRelated) share(in *parseutil.Interner) {
	for _, s := range []*string{&r.ID, &r.DataSource, &r.Namespace, &r.Description} {
		*s = in.Intern(*s)
	}
	in.InternAll(r.URLs)
	for i := range r.CVSS {
		c := &r.CVSS[i]
		for _, s := range []*string{&c.Source, &c.Type, &c.Version, &c.Vector} {
			*s = in.Intern(*s)
		}
	}
}

type gImageTarget struct {
	UserInput      string   `json:"userInput"`
	ImageID        string   `json:"imageID"`
	ManifestDigest string   `json:"manifestDigest"`
	RepoDigests    []string `json:"repoDigests"`
	Tags           []string `json:"tags"`
}

type gSource struct {
	Type   string          `json:"type"`
	Target json.RawMessage `json:"target"`
}

type gReport struct {
	Matches []gMatch
	Source  *gSource
	Distro  struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	Descriptor struct {
		Name      string `json:"name"`
		Version   string `json:"version"`
		Timestamp string `json:"timestamp"`
	}
	sourceOff jsonguard.Pos
}

// Parse implements importers.Parser.
func (p *Parser) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	w, err := jsonguard.Open(ctx, formatName, r, p.MaxBytes, p.MaxDepth)
	if err != nil {
		return nil, err
	}
	var rep gReport
	var warnings []string
	tolerant := jsonguard.Tolerant{Required: matchRequired, Warn: func(m string) { warnings = append(warnings, m) }}
	err = w.DocumentWith("report", "matches", "not a Grype JSON report: no matches array", func(key string) error {
		switch key {
		case "matches":
			var text parseutil.Interner
			return jsonguard.Each(w, "matches", tolerant, func(m gMatch) {
				m.share(&text)
				rep.Matches = append(rep.Matches, m)
			})
		case "source":
			off, err := w.Decode(&rep.Source)
			rep.sourceOff = off
			return err
		case "distro":
			_, err := w.Decode(&rep.Distro)
			return err
		case "descriptor":
			_, err := w.Decode(&rep.Descriptor)
			return err
		case "ignoredMatches":
			// Matches the user's ignore rules (or a VEX document given to grype) set aside. They
			// are not imported: until the import service applies Suppressed hints they would
			// open as new findings. They are counted, so that the user knows.
			n, err := w.Count("ignoredMatches")
			if n > 0 {
				warnings = append(warnings, fmt.Sprintf("%d ignored matches (grype ignore rules or VEX) not imported", n))
			}
			return err
		}
		return w.Skip()
	})
	if err != nil {
		return nil, err
	}
	out, err := build(ctx, w, &rep)
	if warnings = append(warnings, w.Warnings()...); out != nil && len(warnings) > 0 {
		out.Warnings = append(warnings, out.Warnings...)
	}
	return importers.Bounded(out, err)
}

// matchRequired are the members of a match its fingerprint is made of; any other member of an
// unexpected JSON type is left out with a warning.
var matchRequired = []string{"vulnerability.id", "artifact.name", "artifact.version", "artifact.type", "artifact.locations"}

func build(ctx context.Context, w *jsonguard.Walker, rep *gReport) (*importers.Report, error) {
	out := &importers.Report{
		Format:         formatName,
		ScannerName:    rep.Descriptor.Name,
		ScannerVersion: rep.Descriptor.Version,
		Assets:         []importers.Asset{},
		Findings:       []importers.Finding{},
	}
	if out.ScannerName == "" {
		out.ScannerName = "grype"
	}
	if t, err := time.Parse(time.RFC3339Nano, rep.Descriptor.Timestamp); err == nil {
		out.StartedAt = t
	}
	asset, err := buildAsset(w, rep)
	if err != nil {
		return nil, err
	}
	out.Assets = append(out.Assets, asset)
	image := ""
	if asset.Kind == importers.ContainerImage {
		image = asset.ImageName
	}
	for i := range rep.Matches {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out.Findings = append(out.Findings, finding(asset.Key, image, &rep.Matches[i]))
		if rep.Matches[i].MatchDetails.Odd {
			out.Warnings = append(out.Warnings, fmt.Sprintf("matches[%d].matchDetails is neither an array nor an object: ignored", i))
		}
	}
	if asset.Name != "" {
		out.Target = &importers.Target{Name: asset.Name, Hint: "artifact"}
	}
	return out, nil
}

func buildAsset(w *jsonguard.Walker, rep *gReport) (importers.Asset, error) {
	a := importers.Asset{Kind: importers.Repository}
	if rep.Distro.Name != "" {
		a.OS = strings.TrimSpace(rep.Distro.Name + " " + rep.Distro.Version)
	}
	src := rep.Source
	if src == nil {
		a.Name, a.Key = "unknown", "unknown:"
		return a, nil
	}
	typ := strings.ToLower(src.Type)
	switch typ {
	case "image":
		var t gImageTarget
		if err := json.Unmarshal(src.Target, &t); err != nil {
			return a, w.ErrAt(rep.sourceOff, "source.target: not an image target: "+err.Error())
		}
		a.Kind = importers.ContainerImage
		a.Name = t.UserInput
		if a.Name == "" && len(t.Tags) > 0 {
			a.Name = t.Tags[0]
		}
		a.ImageName = a.Name
		a.ImageDigest = imageDigest(a.Name, &t)
		a.Key = "image:" + a.Name
		return a, nil
	}
	// directory, file, sbom, purl-file…: the target is a path string or an object with a name.
	var name string
	if err := json.Unmarshal(src.Target, &name); err != nil {
		var obj struct {
			UserInput string `json:"userInput"`
			Name      string `json:"name"`
			Path      string `json:"path"`
		}
		if err := json.Unmarshal(src.Target, &obj); err == nil {
			name = parseutil.FirstNonEmpty(obj.UserInput, obj.Path, obj.Name)
		}
	}
	if typ == "" {
		typ = "source"
	}
	a.Name = name
	a.Key = typ + ":" + name
	return a, nil
}

// imageDigest picks the manifest digest of the scanned repository from repoDigests
// ("repo@sha256:…"), else the first repo digest, else manifestDigest, else imageID.
func imageDigest(name string, t *gImageTarget) string {
	return parseutil.FirstNonEmpty(parseutil.RepoDigest(name, t.RepoDigests, true), t.ManifestDigest, t.ImageID)
}

func normSeverity(raw *string, ratings []importers.CVSS) importers.Severity {
	if raw == nil {
		return parseutil.WordOrRatings("", ratings)
	}
	if strings.EqualFold(strings.TrimSpace(*raw), "negligible") {
		return importers.Info
	}
	return parseutil.WordOrRatings(*raw, ratings)
}

// grypeTypes maps artifact.type to a package type when the PURL gives none.
var grypeTypes = map[string]string{
	"apk": "apk", "deb": "deb", "rpm": "rpm", "java-archive": "maven", "jenkins-plugin": "maven",
	"npm": "npm", "python": "pypi", "go-module": "golang", "gem": "gem", "rust-crate": "cargo",
	"php-composer": "composer", "dotnet": "nuget", "hex": "hex", "pub": "pub", "conan": "conan",
	"binary": "generic", "alpm": "alpm", "portage": "ebuild", "cocoapods": "cocoapods",
	"swift": "swift", "hackage": "hackage", "nix": "nix",
}

func addRatings(out []importers.CVSS, list []gCVSS, fallbackSource string) []importers.CVSS {
	for _, c := range list {
		src := c.Source
		if src == "" {
			src = fallbackSource
		}
		version := c.Version
		if version == "" {
			version = parseutil.VectorVersion(c.Vector)
		}
		r := importers.CVSS{Version: version, Vector: c.Vector, Score: c.Metrics.BaseScore.Ptr(), Source: src}
		dup := false
		for _, o := range out {
			if o.Version == r.Version && o.Vector == r.Vector && o.Source == r.Source {
				dup = true
				break
			}
		}
		if !dup && (r.Vector != "" || r.Score != nil) {
			out = append(out, r)
		}
	}
	return out
}

func finding(assetKey, image string, m *gMatch) importers.Finding {
	v := &m.Vulnerability
	art := &m.Artifact
	f := importers.Finding{
		AssetKey:    assetKey,
		RuleID:      v.ID,
		Description: v.Description,
	}
	if v.Severity != nil {
		f.ScannerSeverity = *v.Severity
	}
	f.CVSS = addRatings(nil, v.CVSS, v.Namespace)
	for i := range m.RelatedVulnerabilities {
		rv := &m.RelatedVulnerabilities[i]
		f.CVSS = addRatings(f.CVSS, rv.CVSS, rv.Namespace)
		if f.Description == "" {
			f.Description = rv.Description
		}
	}
	f.Severity = normSeverity(v.Severity, f.CVSS)
	ids := []string{v.ID}
	for _, rv := range m.RelatedVulnerabilities {
		ids = append(ids, rv.ID)
	}
	parseutil.AddAdvisoryIDs(&f, ids...)
	f.References = parseutil.AppendUnique(f.References, v.DataSource)
	f.References = parseutil.AppendUnique(f.References, v.URLs...)
	for _, adv := range v.Advisories {
		f.References = parseutil.AppendUnique(f.References, adv.Link)
	}
	for _, rv := range m.RelatedVulnerabilities {
		f.References = parseutil.AppendUnique(f.References, rv.DataSource)
		f.References = parseutil.AppendUnique(f.References, rv.URLs...)
	}

	var paths []string
	for _, l := range art.Locations {
		paths = parseutil.AppendUnique(paths, l.Path)
	}
	firstPath := ""
	if len(paths) > 0 {
		firstPath = paths[0]
	}
	sort.Strings(paths)
	f.Component = &importers.Component{
		PURL:         art.PURL,
		Name:         art.Name,
		Version:      art.Version,
		FixedVersion: strings.Join(v.Fix.Versions, ", "),
		Type:         parseutil.PackageType(art.PURL, art.Type, grypeTypes),
		Path:         firstPath,
	}
	f.Location = importers.Location{File: firstPath, Image: image}
	f.Title = v.ID + " in " + strings.TrimSpace(art.Name+" "+art.Version)
	switch strings.ToLower(v.Fix.State) {
	case "fixed":
		if len(v.Fix.Versions) > 0 {
			f.Remediation = "Upgrade " + art.Name + " to " + strings.Join(v.Fix.Versions, " or ") + "."
		}
	case "wont-fix":
		f.Remediation = "The vendor will not fix this vulnerability in " + art.Name + "."
		f.Suppressed = &importers.Suppression{Kind: importers.SuppressedAccepted, Reason: "wont-fix", Source: "grype fix.state"}
	case "not-fixed":
		f.Remediation = "No fix is available yet for " + art.Name + "."
	}
	var ev []string
	for _, d := range m.MatchDetails.List {
		s := strings.TrimSpace(d.Matcher + " " + d.Type)
		if c := parseutil.FirstNonEmpty(d.Found.VersionConstraint, d.MatchedOn.Constraint); c != "" {
			s += ", constraint " + c
		}
		ev = parseutil.AppendUnique(ev, s)
	}
	if len(ev) > 0 {
		f.Evidence = "Matched by " + strings.Join(ev, "; ")
	}
	f.Fingerprint = parseutil.FingerprintJSON("grype/v1", assetKey, v.ID, art.Type, art.Name, art.Version, strings.Join(paths, "\n"))
	return f
}
