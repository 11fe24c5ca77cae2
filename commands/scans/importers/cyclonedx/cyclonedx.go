// Package cyclonedx reads CycloneDX BOMs, JSON (spec 1.4 to 1.7) or XML (1.4 to 1.6, see
// xml.go: both encodings map to the same findings and fingerprints), that carry vulnerabilities —
// the output of `trivy --format cyclonedx`, `grype -o cyclonedx-json`, or a VEX document. Any JSON
// object whose top-level bomFormat is "CycloneDX" is this format, whichever tool wrote it (Trivy or
// Grype CycloneDX output is never Trivy or Grype JSON). The document is walked member by member:
// each component and each vulnerability is decoded on its own, so no value larger than 16 MiB is
// ever buffered; dependencies, services, compositions, … are skipped token by token.
//
// Mapping:
//   - the asset is metadata.component: a "container" component is a container_image asset (key
//     "image:" + name; digest from a pkg:oci purl's version "sha256:…", else from Trivy's
//     aquasecurity:trivy:RepoDigest property), any other component a repository asset (key
//     "component:" + purl, else name@version; RepoURL from a "vcs" external reference). A BOM
//     without metadata.component gives one repository asset with key "bom".
//   - each vulnerability × each distinct affects[].ref is one finding (a vulnerability without
//     affects gives one finding against metadata.component). The ref is looked up among the
//     bom-refs of components (nested ones included) and of metadata.component; a ref found nowhere
//     (another BOM's, a BOM-Link) gives a component named after it (name and version read from it
//     when it is a purl). id is the rule id (and a CVE or GHSA when it is one; references[].id
//     add aliases); title "<id> in <name> <version>"; description (+ detail); recommendation
//     (+ workaround) as remediation; advisories[].url, source.url and references[].source.url as
//     references; cwes as "CWE-n"; affects[].versions with status "unaffected" give the fixed
//     version; analysis.state and analysis.justification give VEXState and VEXJustification
//     (analysis.detail and analysis.response are kept as the evidence); the states not_affected,
//     false_positive, resolved and resolved_with_pedigree also mark the finding Suppressed.
//   - Target is metadata.component's name (name@version when it has one); a BOM naming no component
//     is named by its serialNumber (hint "bom"), which the spec keeps across the BOM's versions.
//   - ratings with method CVSSv2, CVSSv3, CVSSv31, CVSSv4 (or a vector with a CVSS:x.y/ prefix) are
//     the CVSS ratings (source: the rating's source name, else the vulnerability's). Vectors without
//     a prefix get the one matching the method ("CVSS:3.0/" for CVSSv3, "CVSS:3.1/" for CVSSv31,
//     "CVSS:4.0/" for CVSSv4); a prefix present is kept and gives the version; a v2 vector is the
//     plain "AV:N/AC:L/Au:N/C:P/I:P/A:P" form.
//   - severity comes from one rating: (a) the first rating whose source name is the vulnerability's
//     source name (Trivy: the vendor rating it uses itself); else (b) the first rating that gives a
//     severity but no score (Grype's own rating); else (c) the highest severity of all ratings (a
//     rating without severity counts by its CVSS score: >= 9 critical, >= 7 high, >= 4 medium,
//     > 0 low). critical/high/medium/low map to the same importers severity; info, none and
//     unknown to info. ScannerSeverity is the chosen rating's severity as written.
//
// Fingerprint: lower-case hex SHA-256 of the canonical string
//
//	cyclonedx/v1|<asset key>|<vulnerability id>|<component identity>|<component path>
//
// where component identity is the component's purl with its qualifiers sorted (else name@version,
// else the ref), component path the file the component was found in (aquasecurity:trivy:FilePath
// or syft:location:0:path property, else empty), and '|' or '\' inside a field is escaped with '\'.
// bom-refs and serialNumber are not used in fingerprints: Trivy draws them at random on every run. The same
// vulnerability on two components, or on one package installed at two paths, gives two findings;
// a BOM that lists the same vulnerability twice for the same component gives one (merged).
//
// Limits: nesting deeper than 256, a single value (component, vulnerability, string) over 16 MiB,
// invalid UTF-8, CVSS scores outside 0..10 and CWE ids that are not positive integers below 1e6
// are refused with a *importers.ParseError giving the byte offset. Text fields are cut at 1 MiB
// (analysis detail at 64 KiB); at most 4096 affects, ratings and advisories of one vulnerability
// are read. A number where the schema wants a string (a component version written 1.0) is read as
// text rather than refused.
// Cancelling ctx stops the parse; the context's error is returned as is.
package cyclonedx

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonwalk"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
	"github.com/socplatform/soc/commands/scans/importers/internal/readguard"
)

const format = "cyclonedx"

type parser struct{}

// New returns the CycloneDX JSON parser.
func New() importers.Parser { return parser{} }

func (parser) Format() string { return format }

// Detect reports whether head is a JSON object whose top-level bomFormat is "CycloneDX", or an
// XML document whose root is a <bom> in a CycloneDX namespace.
func (parser) Detect(head []byte) bool {
	if detectXML(head) {
		return true
	}
	found := false
	jsonwalk.TopKeys(head, func(key string, dec *json.Decoder) (bool, bool) {
		if key != "bomFormat" {
			return false, false
		}
		var v string
		found = dec.Decode(&v) == nil && strings.EqualFold(v, "CycloneDX")
		return true, true
	})
	return found
}

type cdxComponent struct {
	BOMRef             jsonwalk.Scalar `json:"bom-ref"`
	Type               jsonwalk.Scalar `json:"type"`
	Name               jsonwalk.Scalar `json:"name"`
	Version            jsonwalk.Scalar `json:"version"`
	PURL               jsonwalk.Scalar `json:"purl"`
	Properties         []cdxProperty   `json:"properties"`
	ExternalReferences []cdxExtRef     `json:"externalReferences"`
	Components         []cdxComponent  `json:"components"`
}

type cdxProperty struct {
	Name  jsonwalk.Scalar `json:"name"`
	Value jsonwalk.Scalar `json:"value"`
}

type cdxExtRef struct {
	Type jsonwalk.Scalar `json:"type"`
	URL  jsonwalk.Scalar `json:"url"`
}

type cdxTool struct {
	Name    jsonwalk.Scalar `json:"name"`
	Version jsonwalk.Scalar `json:"version"`
}

type cdxMetadata struct {
	Timestamp jsonwalk.Scalar `json:"timestamp"`
	Tools     json.RawMessage `json:"tools"`
	Component *cdxComponent   `json:"component"`
}

type cdxSource struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

type cdxRating struct {
	Source   *cdxSource `json:"source"`
	Score    *float64   `json:"score"`
	Severity string     `json:"severity"`
	Method   string     `json:"method"`
	Vector   string     `json:"vector"`
}

type cdxVuln struct {
	ID         string     `json:"id"`
	Source     *cdxSource `json:"source"`
	References []struct {
		ID     string     `json:"id"`
		Source *cdxSource `json:"source"`
	} `json:"references"`
	Ratings        []cdxRating `json:"ratings"`
	CWEs           []int       `json:"cwes"`
	Description    string      `json:"description"`
	Detail         string      `json:"detail"`
	Recommendation string      `json:"recommendation"`
	Workaround     string      `json:"workaround"`
	Advisories     []struct {
		Title string `json:"title"`
		URL   string `json:"url"`
	} `json:"advisories"`
	Analysis *struct {
		State         string   `json:"state"`
		Justification string   `json:"justification"`
		Response      []string `json:"response"`
		Detail        string   `json:"detail"`
	} `json:"analysis"`
	Affects []struct {
		Ref      string `json:"ref"`
		Versions []struct {
			Version string `json:"version"`
			Status  string `json:"status"`
		} `json:"versions"`
	} `json:"affects"`
}

type vulnRec struct {
	v   cdxVuln
	off int64
}

// compInfo is what is kept of a component.
type compInfo struct {
	purl, name, version, typ, path string
}

// bom is what either encoding of a BOM gives the mapping: the metadata, the components by
// bom-ref and the vulnerabilities in document order.
type bom struct {
	meta              cdxMetadata
	serial            string // serialNumber: the BOM's identity across its versions (the spec's)
	toolName, toolVer string
	index             map[string]compInfo
	vulns             []vulnRec
	warnings          []string
}

func (parser) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	br, first := readguard.Sniff(r)
	var doc *bom
	var err error
	if first == '<' {
		doc, err = readXML(ctx, br)
	} else {
		doc, err = readJSON(ctx, br)
	}
	if err != nil {
		return nil, err
	}
	return importers.Bounded(build(doc))
}

// readJSON walks a JSON BOM.
func readJSON(ctx context.Context, r io.Reader) (*bom, error) {
	w := jsonwalk.New(ctx, r, format)
	var bomFormat string
	doc := &bom{index: map[string]compInfo{}}
	err := w.Document(func(key string) error {
		switch key {
		case "bomFormat":
			if err := w.Decode(&bomFormat); err != nil {
				return err
			}
			if !strings.EqualFold(bomFormat, "CycloneDX") {
				return w.Errorf("bomFormat is %q, not \"CycloneDX\"", parseutil.Truncate(bomFormat, 64))
			}
			return nil
		case "metadata":
			return w.Decode(&doc.meta)
		case "serialNumber":
			var v any // a string by the spec; anything else is not a name to keep
			if err := w.Decode(&v); err != nil {
				return err
			}
			doc.serial, _ = v.(string)
			return nil
		case "components":
			return w.Array(func() error {
				var c cdxComponent
				if err := w.Decode(&c); err != nil {
					return err
				}
				indexComponent(doc.index, &c)
				return nil
			})
		case "vulnerabilities":
			return w.Array(func() error {
				off := w.InputOffset()
				var v cdxVuln
				if err := w.Decode(&v); err != nil {
					return err
				}
				bound(&v)
				doc.vulns = append(doc.vulns, vulnRec{v, off})
				return nil
			})
		}
		return w.Skip()
	})
	if err != nil {
		return nil, err
	}
	if bomFormat == "" {
		return nil, &importers.ParseError{Format: format, Offset: 0, Msg: "no bomFormat member: not a CycloneDX BOM"}
	}
	doc.toolName, doc.toolVer = toolOf(doc.meta.Tools)
	return doc, nil
}

func build(doc *bom) (*importers.Report, error) {
	meta, index := &doc.meta, doc.index
	rep := &importers.Report{Format: format, ScannerName: "CycloneDX", Findings: []importers.Finding{}, Warnings: doc.warnings}
	if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(meta.Timestamp))); err == nil {
		rep.FinishedAt = t.UTC()
	}
	if name, version := doc.toolName, doc.toolVer; name != "" {
		rep.ScannerName, rep.ScannerVersion = parseutil.Truncate(name, parseutil.MaxShort), parseutil.Truncate(version, parseutil.MaxShort)
	}
	var metaComp *compInfo
	if meta.Component != nil {
		indexComponent(index, meta.Component)
		c := info(meta.Component)
		metaComp = &c
	}
	asset := assetOf(meta.Component)
	rep.Assets = []importers.Asset{asset}
	if metaComp != nil && metaComp.name != "" {
		rep.Target = &importers.Target{Name: metaComp.name, Hint: "component"}
		if metaComp.version != "" {
			rep.Target.Name = metaComp.name + "@" + metaComp.version
		}
	} else if serial := strings.TrimSpace(doc.serial); serial != "" {
		// A BOM that names no component is named by its serialNumber, which the spec keeps
		// across the BOM's versions. (Generators that draw it at random on every run, such as
		// Trivy, also name their component, so they never get here; one that does not makes each
		// import its own weakly identified asset, to merge or to attach with ?asset=.)
		rep.Target = &importers.Target{Name: parseutil.Truncate(serial, parseutil.MaxShort), Hint: "bom"}
	}

	var fs parseutil.FindingSet
	for _, rec := range doc.vulns {
		tmpl, err := findingOf(&rec.v, asset)
		if err != nil {
			return nil, &importers.ParseError{Format: format, Offset: rec.off, Msg: fmt.Sprintf("vulnerability %q: %v", parseutil.Truncate(rec.v.ID, 64), err)}
		}
		refs := []string{}
		for _, a := range rec.v.Affects {
			refs = parseutil.AddUnique(refs, parseutil.Truncate(strings.TrimSpace(a.Ref), parseutil.MaxShort))
		}
		if len(refs) == 0 {
			refs = []string{""}
		}
		for _, ref := range refs {
			f := tmpl
			f.References = append([]string(nil), tmpl.References...)
			var comp *compInfo
			switch c, ok := index[ref]; {
			case ok:
				comp = &c
			case ref == "":
				comp = metaComp
			default:
				c := fromRef(ref)
				comp = &c
			}
			ident, path := "", ""
			if comp != nil {
				ident, path = comp.identity(), comp.path
				f.Component = &importers.Component{PURL: comp.purl, Name: comp.name, Version: comp.version, Type: comp.typ, Path: comp.path}
				f.Component.FixedVersion = fixedVersion(&rec.v, ref)
				f.Title = parseutil.Truncate(strings.TrimSpace(rec.v.ID+" in "+strings.TrimSpace(comp.name+" "+comp.version)), parseutil.MaxShort)
				f.Location.File = comp.path
			}
			if asset.Kind == importers.ContainerImage {
				f.Location.Image = asset.ImageName
			}
			f.Fingerprint = parseutil.FingerprintCanonical("cyclonedx/v1", asset.Key, rec.v.ID, ident, path)
			fs.Add(f)
		}
	}
	rep.Findings = fs.Findings()
	return rep, nil
}

// bound cuts the text of a decoded vulnerability to the field limits.
func bound(v *cdxVuln) {
	v.ID = parseutil.Truncate(strings.TrimSpace(v.ID), parseutil.MaxShort)
	v.Description = parseutil.Truncate(v.Description, parseutil.MaxField)
	v.Detail = parseutil.Truncate(v.Detail, parseutil.MaxField)
	v.Recommendation = parseutil.Truncate(v.Recommendation, parseutil.MaxField)
	v.Workaround = parseutil.Truncate(v.Workaround, parseutil.MaxField)
	if v.Analysis != nil {
		v.Analysis.Detail = parseutil.Truncate(v.Analysis.Detail, parseutil.MaxEvidence)
		v.Analysis.State = parseutil.Truncate(v.Analysis.State, parseutil.MaxShort)
		v.Analysis.Justification = parseutil.Truncate(v.Analysis.Justification, parseutil.MaxShort)
	}
	if len(v.Affects) > parseutil.MaxList {
		v.Affects = v.Affects[:parseutil.MaxList]
	}
	if len(v.Advisories) > parseutil.MaxList {
		v.Advisories = v.Advisories[:parseutil.MaxList]
	}
	if len(v.Ratings) > parseutil.MaxList {
		v.Ratings = v.Ratings[:parseutil.MaxList]
	}
}

func findingOf(v *cdxVuln, asset importers.Asset) (importers.Finding, error) {
	f := importers.Finding{AssetKey: asset.Key, RuleID: v.ID, Title: v.ID}
	if v.ID == "" {
		return f, fmt.Errorf("no id")
	}
	srcName := ""
	if v.Source != nil {
		srcName = strings.TrimSpace(v.Source.Name)
		f.References = parseutil.AddUnique(f.References, parseutil.Truncate(strings.TrimSpace(v.Source.URL), parseutil.MaxShort))
	}
	classify := func(id string) {
		id = strings.TrimSpace(id)
		switch u := strings.ToUpper(id); {
		case strings.HasPrefix(u, "CVE-"):
			f.CVEs = parseutil.AddUnique(f.CVEs, parseutil.Truncate(u, parseutil.MaxShort))
		case strings.HasPrefix(u, "GHSA-"):
			f.GHSAs = parseutil.AddUnique(f.GHSAs, parseutil.Truncate("GHSA-"+strings.ToLower(id[5:]), parseutil.MaxShort))
		}
	}
	classify(v.ID)
	for _, ref := range v.References {
		classify(ref.ID)
		if ref.Source != nil {
			f.References = parseutil.AddUnique(f.References, parseutil.Truncate(strings.TrimSpace(ref.Source.URL), parseutil.MaxShort))
		}
	}
	for _, a := range v.Advisories {
		f.References = parseutil.AddUnique(f.References, parseutil.Truncate(strings.TrimSpace(a.URL), parseutil.MaxShort))
	}
	for _, n := range v.CWEs {
		if n <= 0 || n >= 1_000_000 {
			return f, fmt.Errorf("cwe %d is not a CWE number", n)
		}
		f.CWEs = parseutil.AddUnique(f.CWEs, "CWE-"+strconv.Itoa(n))
	}

	// CVSS ratings.
	for _, r := range v.Ratings {
		version, vector, ok := cvssOf(r.Method, r.Vector)
		if !ok {
			continue
		}
		if r.Score != nil && (math.IsNaN(*r.Score) || *r.Score < 0 || *r.Score > 10) {
			return f, fmt.Errorf("%s score %v is not in 0..10", r.Method, *r.Score)
		}
		src := srcName
		if r.Source != nil && strings.TrimSpace(r.Source.Name) != "" {
			src = strings.TrimSpace(r.Source.Name)
		}
		var score *float64
		if r.Score != nil {
			s := *r.Score
			score = &s
		}
		f.CVSS = parseutil.AddCVSS(f.CVSS, importers.CVSS{Version: version, Vector: parseutil.Truncate(vector, parseutil.MaxShort), Score: score, Source: parseutil.Truncate(src, parseutil.MaxShort)})
	}
	f.Severity, f.ScannerSeverity = severityOf(v.Ratings, srcName)

	f.Description = strings.TrimSpace(v.Description)
	if d := strings.TrimSpace(v.Detail); d != "" && d != f.Description {
		f.Description = parseutil.Truncate(strings.TrimSpace(f.Description+"\n\n"+d), parseutil.MaxField)
	}
	f.Remediation = strings.TrimSpace(v.Recommendation)
	if wa := strings.TrimSpace(v.Workaround); wa != "" {
		f.Remediation = parseutil.Truncate(strings.TrimSpace(f.Remediation+"\n\nWorkaround: "+wa), parseutil.MaxField)
	}
	if a := v.Analysis; a != nil {
		f.VEXState = strings.TrimSpace(a.State)
		f.VEXJustification = strings.TrimSpace(a.Justification)
		f.Suppressed = analysisHint(f.VEXState, f.VEXJustification, strings.TrimSpace(a.Detail))
		var e []string
		if d := strings.TrimSpace(a.Detail); d != "" {
			e = append(e, "Analysis detail: "+d)
		}
		if len(a.Response) > 0 {
			resp := a.Response
			if len(resp) > 64 {
				resp = resp[:64]
			}
			e = append(e, "Response: "+strings.Join(resp, ", "))
		}
		f.Evidence = parseutil.Truncate(strings.Join(e, "\n"), parseutil.MaxEvidence)
	}
	return f, nil
}

// analysisHint maps the analysis states that say no work is needed: not_affected,
// false_positive, resolved and resolved_with_pedigree. exploitable and in_triage leave the
// finding open. The reason is the justification, else the detail.
func analysisHint(state, justification, detail string) *importers.Suppression {
	var kind importers.SuppressionKind
	switch strings.ToLower(state) {
	case "not_affected":
		kind = importers.SuppressedNotAffected
	case "false_positive":
		kind = importers.SuppressedFalsePositive
	case "resolved", "resolved_with_pedigree":
		kind = importers.SuppressedResolved
	default:
		return nil
	}
	return &importers.Suppression{Kind: kind, Reason: parseutil.FirstNonEmpty(justification, parseutil.TruncateEllipsis(detail, 200)), Source: "cyclonedx analysis"}
}

// cvssOf gives the CVSS version and normalised vector of a rating, or false when the rating is
// not a CVSS one (OWASP, SSVC, other without a CVSS vector).
func cvssOf(method, vector string) (string, string, bool) {
	vector = strings.TrimSpace(vector)
	prefixed := func(def string) (string, string) {
		for _, v := range []string{"3.0", "3.1", "4.0"} {
			if strings.HasPrefix(vector, "CVSS:"+v+"/") {
				return v, vector
			}
		}
		if vector == "" {
			return def, ""
		}
		return def, "CVSS:" + def + "/" + vector
	}
	switch strings.ToUpper(strings.TrimSpace(method)) {
	case "CVSSV2":
		vector = strings.TrimPrefix(vector, "CVSS2#")
		vector = strings.TrimSuffix(strings.TrimPrefix(vector, "("), ")")
		return "2.0", vector, true
	case "CVSSV3", "CVSSV30":
		v, vec := prefixed("3.0")
		return v, vec, true
	case "CVSSV31":
		v, vec := prefixed("3.1")
		return v, vec, true
	case "CVSSV4", "CVSSV40":
		v, vec := prefixed("4.0")
		return v, vec, true
	}
	for _, v := range []string{"3.0", "3.1", "4.0"} {
		if strings.HasPrefix(vector, "CVSS:"+v+"/") {
			return v, vector, true
		}
	}
	return "", "", false
}

func sevWord(s string) (importers.Severity, bool) {
	word := strings.ToLower(strings.TrimSpace(s))
	if sev, ok := parseutil.SeverityWord(word); ok {
		return sev, true
	}
	switch word {
	case "moderate":
		return importers.Medium, true
	case "info", "informational", "none", "negligible":
		return importers.Info, true
	}
	return "", false
}

// ratingSeverity is the severity a rating gives: its severity word, else (for CVSS ratings) its
// score.
func ratingSeverity(r cdxRating) (importers.Severity, string, bool) {
	if s, ok := sevWord(r.Severity); ok {
		return s, strings.TrimSpace(r.Severity), true
	}
	if _, _, isCVSS := cvssOf(r.Method, r.Vector); isCVSS && r.Score != nil {
		return parseutil.SeverityFromScore(*r.Score), strconv.FormatFloat(*r.Score, 'f', -1, 64), true
	}
	return "", "", false
}

func severityOf(ratings []cdxRating, source string) (importers.Severity, string) {
	if source != "" {
		for _, r := range ratings {
			if r.Source != nil && strings.EqualFold(strings.TrimSpace(r.Source.Name), source) {
				if s, raw, ok := ratingSeverity(r); ok {
					return s, raw
				}
			}
		}
	}
	for _, r := range ratings {
		if r.Score == nil && strings.TrimSpace(r.Vector) == "" {
			if s, ok := sevWord(r.Severity); ok {
				return s, strings.TrimSpace(r.Severity)
			}
		}
	}
	best, bestRaw := importers.Severity(""), ""
	for _, r := range ratings {
		if s, raw, ok := ratingSeverity(r); ok && (best == "" || parseutil.SeverityRank(s) > parseutil.SeverityRank(best)) {
			best, bestRaw = s, raw
		}
	}
	if best == "" {
		return importers.Info, ""
	}
	return best, bestRaw
}

func fixedVersion(v *cdxVuln, ref string) string {
	for _, a := range v.Affects {
		if strings.TrimSpace(a.Ref) != ref {
			continue
		}
		for _, ver := range a.Versions {
			if strings.EqualFold(ver.Status, "unaffected") && strings.TrimSpace(ver.Version) != "" {
				return parseutil.Truncate(strings.TrimSpace(ver.Version), parseutil.MaxShort)
			}
		}
	}
	return ""
}

func indexComponent(index map[string]compInfo, c *cdxComponent) {
	if ref := strings.TrimSpace(string(c.BOMRef)); ref != "" {
		if _, dup := index[ref]; !dup {
			index[parseutil.Truncate(ref, parseutil.MaxShort)] = info(c)
		}
	}
	for i := range c.Components {
		indexComponent(index, &c.Components[i])
	}
}

func info(c *cdxComponent) compInfo {
	ci := compInfo{
		purl:    parseutil.Truncate(strings.TrimSpace(string(c.PURL)), parseutil.MaxShort),
		name:    parseutil.Truncate(strings.TrimSpace(string(c.Name)), parseutil.MaxShort),
		version: parseutil.Truncate(strings.TrimSpace(string(c.Version)), parseutil.MaxShort),
	}
	if p, ok := parsePURL(ci.purl); ok {
		ci.typ = p.typ
	}
	for _, p := range c.Properties {
		switch p.Name {
		case "aquasecurity:trivy:FilePath", "syft:location:0:path":
			if ci.path == "" {
				ci.path = parseutil.Truncate(strings.TrimSpace(string(p.Value)), parseutil.MaxShort)
			}
		}
	}
	return ci
}

// fromRef makes a component of a ref that no component of the BOM has.
func fromRef(ref string) compInfo {
	if p, ok := parsePURL(ref); ok {
		return compInfo{purl: ref, name: p.name, version: p.version, typ: p.typ}
	}
	return compInfo{name: ref}
}

func (c compInfo) identity() string {
	if c.purl != "" {
		return canonicalPURL(c.purl)
	}
	if c.version != "" {
		return c.name + "@" + c.version
	}
	return c.name
}

type purl struct{ typ, name, version, qualifiers string }

// parsePURL reads pkg:type/namespace/name@version?qualifiers#subpath, loosely.
func parsePURL(s string) (purl, bool) {
	rest, ok := strings.CutPrefix(s, "pkg:")
	if !ok {
		return purl{}, false
	}
	rest, _, _ = strings.Cut(rest, "#")
	rest, q, _ := strings.Cut(rest, "?")
	typ, path, ok := strings.Cut(rest, "/")
	if !ok || typ == "" {
		return purl{}, false
	}
	p := purl{typ: strings.ToLower(typ), qualifiers: q}
	if i := strings.LastIndex(path, "@"); i >= 0 {
		p.version = unescape(path[i+1:])
		path = path[:i]
	}
	if i := strings.LastIndex(path, "/"); i >= 0 {
		path = path[i+1:]
	}
	p.name = unescape(path)
	return p, p.name != ""
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// canonicalPURL sorts a purl's qualifiers so that their order does not change identities.
func canonicalPURL(s string) string {
	base, sub, hasSub := strings.Cut(s, "#")
	base, q, hasQ := strings.Cut(base, "?")
	if hasQ {
		parts := strings.Split(q, "&")
		sort.Strings(parts)
		base += "?" + strings.Join(parts, "&")
	}
	if hasSub {
		base += "#" + sub
	}
	return base
}

func toolOf(raw json.RawMessage) (string, string) {
	if len(raw) == 0 {
		return "", ""
	}
	var list []cdxTool
	if json.Unmarshal(raw, &list) == nil {
		for _, t := range list {
			if strings.TrimSpace(string(t.Name)) != "" {
				return strings.TrimSpace(string(t.Name)), strings.TrimSpace(string(t.Version))
			}
		}
		return "", ""
	}
	var obj struct {
		Components []cdxTool `json:"components"`
		Services   []cdxTool `json:"services"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		for _, t := range append(obj.Components, obj.Services...) {
			if strings.TrimSpace(string(t.Name)) != "" {
				return strings.TrimSpace(string(t.Name)), strings.TrimSpace(string(t.Version))
			}
		}
	}
	return "", ""
}

func assetOf(c *cdxComponent) importers.Asset {
	if c == nil {
		return importers.Asset{Key: "bom", Kind: importers.Repository, Name: "CycloneDX BOM"}
	}
	ci := info(c)
	if strings.EqualFold(string(c.Type), "container") {
		a := importers.Asset{Kind: importers.ContainerImage, Name: ci.name, ImageName: ci.name, PURL: ci.purl}
		if p, ok := parsePURL(ci.purl); ok && p.typ == "oci" && strings.HasPrefix(p.version, "sha256:") {
			a.ImageDigest = p.version
		}
		if a.ImageDigest == "" {
			for _, p := range c.Properties {
				if p.Name == "aquasecurity:trivy:RepoDigest" {
					if _, d, ok := strings.Cut(string(p.Value), "@"); ok && strings.HasPrefix(d, "sha256:") {
						a.ImageDigest = parseutil.Truncate(d, parseutil.MaxShort)
						break
					}
				}
			}
		}
		switch {
		case a.Name != "":
			a.Key = "image:" + a.Name
		case a.PURL != "":
			a.Key = "image:" + canonicalPURL(a.PURL)
			a.Name = a.PURL
		default:
			a.Key, a.Name = "image:unnamed", "unnamed image"
		}
		return a
	}
	a := importers.Asset{Kind: importers.Repository, Name: ci.name, PURL: ci.purl}
	for _, r := range c.ExternalReferences {
		if r.Type == "vcs" && a.RepoURL == "" {
			a.RepoURL = parseutil.Truncate(strings.TrimSpace(string(r.URL)), parseutil.MaxShort)
		}
	}
	switch {
	case ci.purl != "":
		a.Key = "component:" + canonicalPURL(ci.purl)
	case ci.name != "":
		a.Key = "component:" + ci.identity()
	default:
		a.Key = "bom"
	}
	if a.Name == "" {
		a.Name = firstNonEmpty(ci.purl, "CycloneDX BOM")
	}
	return a
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}
