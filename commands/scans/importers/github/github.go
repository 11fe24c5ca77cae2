// Package github parses GitHub Dependabot alerts and code-scanning alerts, as the REST API lists
// them or as a webhook delivers one, into the normalised importers.Report.
//
// # What is read
//
// Three shapes: the array the list endpoints return (GET /repos/{owner}/{repo}/dependabot/alerts,
// …/code-scanning/alerts, and the organisation and enterprise endpoints, whose alerts carry a
// repository), and a dependabot_alert or code_scanning_alert webhook payload ({action, alert,
// repository, …}: one alert), and a GraphQL answer listing RepositoryVulnerabilityAlert nodes
// ({"data": {"repository": {vulnerabilityAlerts: {nodes}}}}, or many repositories under
// data.search.nodes or organization.repositories.nodes; see graphql.go), read as the REST
// Dependabot alert of the same number. Each alert is one finding; an element that is neither kind
// (a secret-scanning alert) is counted in a warning.
//
// A Dependabot alert gives the GHSA (RuleID), the CVE and other identifiers, summary (title),
// description, CWEs, CVSS ratings (cvss and cvss_severities; a 0 score with no vector is none),
// the package (ecosystem as PURL type, manifest path, first patched version) and references. A
// code-scanning alert gives the rule (id, description, full description, CWE tags such as
// external/cwe/cwe-089), the tool, and the location and message of most_recent_instance
// (instances[0] in older webhooks).
//
// Severity: Dependabot's advisory severity (critical, high, medium or moderate, low); for code
// scanning the rule's security_severity_level (critical, high, medium, low) when GitHub gives
// one (security queries), else the rule severity: error high, warning medium, note low, none
// info.
//
// State: "fixed" marks the finding Suppressed as resolved; "dismissed" and "auto_dismissed" as
// the dismissed reason says: false positive and inaccurate are false_positive; used in tests and
// not_used are not_affected; won't fix, tolerable_risk, no_bandwidth, fix_started (a fix is
// tracked elsewhere), an auto-triage rule's dismissal and any other reason are accepted. The
// reason and the dismissal comment are kept.
//
// The asset is the repository: the alert's repository (organisation endpoints), else the
// webhook's repository, else the owner/repo its html_url names; a repository asset keyed and
// named by full name, with the repository's web URL as RepoURL.
//
// # Fingerprints
//
// The lower-case hex SHA-256 of the JSON array ["github/v1", kind, repository full name (lower
// case), alert number], kind being "dependabot" or "code-scanning": GitHub's own identity of an
// alert, which stays the same while the alert lives. A GraphQL alert whose query did not select
// the number is ["github/v1", "dependabot", repository, "node", node id] (the id is as stable as
// the number). An alert without either falls back to ["github/v1", kind, repository, GHSA,
// manifest path, package] for Dependabot and ["github/v1",
// kind, repository, rule id, path] for code scanning.
//
// # Limits
//
// As every jsonguard parser: at most Parser.MaxBytes read, nesting deeper than Parser.MaxDepth
// and invalid UTF-8 refused with a positioned *importers.ParseError, a cancelled context returns
// ctx.Err().
package github

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

const formatName = "github"

// Parser parses GitHub alert lists and webhook payloads. The zero value uses the default limits.
type Parser struct{ jsonguard.Limits }

// New returns a GitHub alerts parser with the default limits.
func New() importers.Parser { return &Parser{} }

// Format implements importers.Parser.
func (*Parser) Format() string { return formatName }

// Detect reports whether head is a GitHub alert list (an array whose first element is an alert:
// a number with a security_advisory, or a number with a rule and a tool), a webhook payload
// with an action and such an alert, or a GraphQL answer ({"data": {…}}) that names
// vulnerabilityAlerts: the alerts sit deeper than HeadPaths looks in a search answer, so the
// member name is looked for in the head's bytes.
func (*Parser) Detect(head []byte) bool {
	p := jsonguard.HeadPaths(head)
	isAlert := func(prefix string) bool {
		if p[prefix] != "{" {
			return false
		}
		_, number := p[prefix+"/number"]
		return number && (p[prefix+"/security_advisory"] == "{" || (p[prefix+"/rule"] == "{" && p[prefix+"/tool"] == "{"))
	}
	switch p[""] {
	case "[":
		return isAlert("/0")
	case "{":
		if p["/data"] == "{" {
			return bytes.Contains(head, []byte(`"vulnerabilityAlerts"`))
		}
		_, action := p["/action"]
		return action && isAlert("/alert")
	}
	return false
}

// Info implements importers.Describer.
func (*Parser) Info() importers.FormatInfo {
	return importers.FormatInfo{
		Name:        formatName,
		Title:       "GitHub Dependabot and code-scanning alerts (REST API JSON, webhook payloads, GraphQL vulnerabilityAlerts)",
		Family:      "dependencies",
		Versions:    []string{"REST API 2022-11-28", "dependabot_alert and code_scanning_alert webhooks", "GraphQL vulnerabilityAlerts (repository, search, organization)"},
		Detection:   `a JSON array whose first element has a number and a security_advisory (Dependabot) or a rule and a tool (code scanning), an object with an action and such an alert, or a GraphQL answer {"data": …} naming vulnerabilityAlerts`,
		Fingerprint: []string{"alert kind", "repository full name", "alert number (else the GraphQL node id, else GHSA + manifest path + package, or rule id + path)"},
		Severity: map[string]importers.Severity{
			"critical": importers.Critical, "high": importers.High, "medium / moderate": importers.Medium, "low": importers.Low,
			"error (code-scanning rule without security severity)": importers.High,
			"warning": importers.Medium, "note": importers.Low, "none": importers.Info,
		},
		Notes: "state fixed: resolved. dismissed / auto_dismissed: false positive and inaccurate are false_positive; used in tests and not_used not_affected; won't fix, tolerable_risk, no_bandwidth, fix_started, auto-triage and other reasons accepted. Secret-scanning alerts are counted in a warning.",
	}
}

type repository struct {
	FullName string `json:"full_name"`
	HTMLURL  string `json:"html_url"`
}

type pkg struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
}

type cvss struct {
	VectorString string          `json:"vector_string"`
	Score        jsonguard.Score `json:"score"`
}

type instance struct {
	Ref      string `json:"ref"`
	Location struct {
		Path        string           `json:"path"`
		StartLine   jsonguard.LineNo `json:"start_line"`
		StartColumn jsonguard.LineNo `json:"start_column"`
	} `json:"location"`
	Message struct {
		Text string `json:"text"`
	} `json:"message"`
}

type alert struct {
	Number           int64       `json:"number"`
	State            string      `json:"state"`
	URL              string      `json:"url"`
	HTMLURL          string      `json:"html_url"`
	DismissedReason  string      `json:"dismissed_reason"`
	DismissedComment string      `json:"dismissed_comment"`
	Repository       *repository `json:"repository"`

	Dependency            *dependency    `json:"dependency"`
	SecurityAdvisory      *advisory      `json:"security_advisory"`
	SecurityVulnerability *vulnerability `json:"security_vulnerability"`

	Rule *struct {
		ID                    string   `json:"id"`
		Name                  string   `json:"name"`
		Severity              string   `json:"severity"`
		SecuritySeverityLevel string   `json:"security_severity_level"`
		Description           string   `json:"description"`
		FullDescription       string   `json:"full_description"`
		Tags                  []string `json:"tags"`
	} `json:"rule"`
	Tool *struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"tool"`
	MostRecentInstance *instance  `json:"most_recent_instance"`
	Instances          []instance `json:"instances"`

	// nodeID and links are what a GraphQL alert adds (see graphql.go): its global node id,
	// the identity when it has no number, and links to its advisory and Dependabot pull request.
	nodeID string
	links  []string
}

type dependency struct {
	Package      pkg    `json:"package"`
	ManifestPath string `json:"manifest_path"`
	Scope        string `json:"scope"`
}

type advisory struct {
	GHSAID      string `json:"ghsa_id"`
	CVEID       string `json:"cve_id"`
	Summary     string `json:"summary"`
	Description string `json:"description"`
	Severity    string `json:"severity"`
	Identifiers []struct {
		Value string `json:"value"`
	} `json:"identifiers"`
	References []struct {
		URL string `json:"url"`
	} `json:"references"`
	CVSS           cvss            `json:"cvss"`
	CVSSSeverities map[string]cvss `json:"cvss_severities"`
	CWEs           []struct {
		CWEID string `json:"cwe_id"`
	} `json:"cwes"`
}

type vulnerability struct {
	Package                pkg    `json:"package"`
	Severity               string `json:"severity"`
	VulnerableVersionRange string `json:"vulnerable_version_range"`
	FirstPatchedVersion    *struct {
		Identifier string `json:"identifier"`
	} `json:"first_patched_version"`
}

var alertRequired = []string{"number", "state", "rule.id", "security_advisory.ghsa_id", "dependency.manifest_path", "dependency.package.name"}

// Parse implements importers.Parser.
func (p *Parser) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	w, err := jsonguard.Open(ctx, formatName, r, p.MaxBytes, p.MaxDepth)
	if err != nil {
		return nil, err
	}
	b := builder{}
	tolerant := jsonguard.Tolerant{Required: alertRequired, Warn: func(m string) { b.warnings = append(b.warnings, m) }}
	if w.Next() == '[' {
		err = jsonguard.EachDocument(w, "alerts", tolerant, func(a alert) { b.add(&a, nil) })
		if err != nil {
			return nil, err
		}
	} else {
		var (
			one     *alert
			repo    *repository
			graphql bool
		)
		err = w.Document("webhook payload", func(key string) error {
			switch key {
			case "data":
				var err error
				graphql, err = b.readGraphQL(w, tolerant)
				return err
			case "alert":
				one = &alert{}
				_, err := w.DecodeTolerant(one, "alert", tolerant)
				return err
			case "repository":
				_, err := w.Decode(&repo)
				return err
			}
			return w.Skip()
		})
		if err != nil {
			return nil, err
		}
		if one == nil && !graphql {
			return nil, w.ErrAt(jsonguard.Pos{}, "not a GitHub alert list, alert webhook payload or GraphQL vulnerabilityAlerts answer: no alert")
		}
		if one != nil {
			b.add(one, repo)
		}
	}
	if b.other > 0 {
		b.warnings = append(b.warnings, fmt.Sprintf("%d alerts neither Dependabot nor code-scanning alerts (secret scanning?) not imported", b.other))
	}
	out := &importers.Report{
		Format:      formatName,
		ScannerName: "GitHub",
		Assets:      b.assets.Assets(),
		Findings:    b.findings.Findings(),
		Warnings:    append(b.warnings, w.Warnings()...),
	}
	return importers.Bounded(out, nil)
}

type builder struct {
	assets   parseutil.AssetSet
	findings parseutil.FindingSet
	warnings []string
	other    int
}

func (b *builder) add(a *alert, hook *repository) {
	kind := ""
	switch {
	case a.SecurityAdvisory != nil || a.Dependency != nil:
		kind = "dependabot"
	case a.Rule != nil:
		kind = "code-scanning"
	default:
		b.other++
		return
	}
	repo := repoOf(a, hook)
	if b.assets.Get(repo.key) == nil {
		b.assets.Add(importers.Asset{Key: repo.key, Kind: importers.Repository, Name: repo.name, RepoURL: repo.url})
	}
	var f importers.Finding
	if kind == "dependabot" {
		f = dependabot(a, repo.name)
	} else {
		f = codeScanning(a, repo.name)
	}
	f.AssetKey = repo.key
	f.References = parseutil.AppendUnique(parseutil.AppendUnique([]string{a.HTMLURL}, f.References...), a.links...)
	f.Suppressed = suppression(a)
	b.findings.Add(f)
}

type repoID struct{ key, name, url string }

// repoOf is the alert's repository: its own (organisation endpoints), the webhook's, else the
// owner/repo its html_url (https://github.com/o/r/security/…) or url
// (https://api.github.com/repos/o/r/…) names.
func repoOf(a *alert, hook *repository) repoID {
	r := a.Repository
	if r == nil || r.FullName == "" {
		r = hook
	}
	if r != nil && r.FullName != "" {
		return repoID{key: "github:" + strings.ToLower(r.FullName), name: r.FullName, url: r.HTMLURL}
	}
	if u, err := url.Parse(a.HTMLURL); err == nil && u.Host != "" {
		if parts := strings.Split(strings.Trim(u.Path, "/"), "/"); len(parts) >= 2 && parts[0] != "" && parts[1] != "" {
			full := parts[0] + "/" + parts[1]
			return repoID{key: "github:" + strings.ToLower(full), name: full, url: u.Scheme + "://" + u.Host + "/" + full}
		}
	}
	if u, err := url.Parse(a.URL); err == nil {
		if parts := strings.Split(strings.Trim(u.Path, "/"), "/"); len(parts) >= 3 && parts[0] == "repos" {
			full := parts[1] + "/" + parts[2]
			return repoID{key: "github:" + strings.ToLower(full), name: full}
		}
	}
	return repoID{key: "github:", name: "GitHub repository"}
}

// ecosystems maps Dependabot ecosystems to PURL types.
var ecosystems = map[string]string{
	"pip": "pypi", "rubygems": "gem", "go": "golang", "rust": "cargo", "actions": "github",
	"npm": "npm", "maven": "maven", "nuget": "nuget", "composer": "composer", "pub": "pub",
	"swift": "swift", "erlang": "hex",
}

func rating(c cvss) (importers.CVSS, bool) {
	return parseutil.AdvisoryRating(c.VectorString, c.Score.Ptr(), "ghsa")
}

func dependabot(a *alert, repo string) importers.Finding {
	f := importers.Finding{Severity: importers.Info}
	var dep pkg
	manifest, fixed, vrange, sev := "", "", "", ""
	if d := a.Dependency; d != nil {
		dep, manifest = d.Package, d.ManifestPath
	}
	if v := a.SecurityVulnerability; v != nil {
		if dep.Name == "" {
			dep = v.Package
		}
		if v.FirstPatchedVersion != nil {
			fixed = v.FirstPatchedVersion.Identifier
		}
		vrange, sev = v.VulnerableVersionRange, v.Severity
	}
	ghsa := ""
	if adv := a.SecurityAdvisory; adv != nil {
		ghsa = adv.GHSAID
		f.Title = adv.Summary
		f.Description = adv.Description
		sev = parseutil.FirstNonEmpty(adv.Severity, sev)
		parseutil.AddAdvisoryIDs(&f, adv.GHSAID, adv.CVEID)
		for _, id := range adv.Identifiers {
			parseutil.AddAdvisoryIDs(&f, id.Value)
		}
		for _, c := range adv.CWEs {
			if n, ok := parseutil.NormCWE(c.CWEID); ok {
				f.CWEs = parseutil.AppendUnique(f.CWEs, n)
			}
		}
		if r, ok := rating(adv.CVSS); ok {
			f.CVSS = parseutil.AddCVSS(f.CVSS, r)
		}
		for _, k := range []string{"cvss_v3", "cvss_v4"} {
			if r, ok := rating(adv.CVSSSeverities[k]); ok {
				f.CVSS = parseutil.AddCVSS(f.CVSS, r)
			}
		}
		for _, ref := range adv.References {
			f.References = parseutil.AppendUnique(f.References, ref.URL)
		}
	}
	f.RuleID = ghsa
	f.ScannerSeverity = sev
	if s, ok := parseutil.AdvisorySeverity(sev); ok {
		f.Severity = s
	}
	typ := ecosystems[strings.ToLower(dep.Ecosystem)]
	if typ == "" {
		typ = strings.ToLower(dep.Ecosystem)
	}
	f.Component = &importers.Component{Name: dep.Name, Type: typ, Path: manifest, FixedVersion: fixed}
	if typ != "" && dep.Name != "" {
		f.Component.PURL = "pkg:" + typ + "/" + strings.ReplaceAll(dep.Name, "@", "%40")
	}
	f.Location.File = manifest
	if f.Title == "" {
		f.Title = ghsa + " in " + dep.Name
	}
	if vrange != "" {
		f.Evidence = dep.Name + " " + vrange + " in " + parseutil.FirstNonEmpty(manifest, "the dependency graph")
	}
	if fixed != "" {
		f.Remediation = "Upgrade " + dep.Name + " to " + fixed + " or later."
	}
	switch {
	case a.Number > 0:
		f.Fingerprint = parseutil.FingerprintJSON("github/v1", "dependabot", strings.ToLower(repo), strconv.FormatInt(a.Number, 10))
	case a.nodeID != "":
		f.Fingerprint = parseutil.FingerprintJSON("github/v1", "dependabot", strings.ToLower(repo), "node", a.nodeID)
	default:
		f.Fingerprint = parseutil.FingerprintJSON("github/v1", "dependabot", strings.ToLower(repo), ghsa, manifest, dep.Name)
	}
	return f
}

// ruleSeverities are code-scanning rule severities, used when there is no security severity.
var ruleSeverities = map[string]importers.Severity{
	"error": importers.High, "warning": importers.Medium, "note": importers.Low, "none": importers.Info,
}

func codeScanning(a *alert, repo string) importers.Finding {
	r := a.Rule
	f := importers.Finding{
		RuleID:      r.ID,
		Title:       parseutil.FirstNonEmpty(r.Description, r.Name, r.ID),
		Description: r.FullDescription,
		Severity:    importers.Info,
	}
	if s, ok := parseutil.AdvisorySeverity(r.SecuritySeverityLevel); ok {
		f.Severity, f.ScannerSeverity = s, r.SecuritySeverityLevel
	} else if s, ok := ruleSeverities[strings.ToLower(r.Severity)]; ok {
		f.Severity, f.ScannerSeverity = s, r.Severity
	} else {
		f.ScannerSeverity = r.Severity
	}
	f.CWEs = parseutil.AppendUnique(f.CWEs, parseutil.NormAll(r.Tags, parseutil.NormCWE)...)
	in := a.MostRecentInstance
	if in == nil && len(a.Instances) > 0 {
		in = &a.Instances[0]
	}
	if in != nil {
		f.Location = importers.Location{File: in.Location.Path, Line: int(in.Location.StartLine), Column: int(in.Location.StartColumn)}
		f.Evidence = in.Message.Text
	}
	if t := a.Tool; t != nil && t.Name != "" {
		tool := strings.TrimSpace(t.Name + " " + t.Version)
		if f.Evidence == "" {
			f.Evidence = "Reported by " + tool
		} else {
			f.Evidence = tool + ": " + f.Evidence
		}
	}
	if a.Number > 0 {
		f.Fingerprint = parseutil.FingerprintJSON("github/v1", "code-scanning", strings.ToLower(repo), strconv.FormatInt(a.Number, 10))
	} else {
		f.Fingerprint = parseutil.FingerprintJSON("github/v1", "code-scanning", strings.ToLower(repo), r.ID, f.Location.File)
	}
	return f
}

// dismissals maps dismissed reasons (Dependabot's and code scanning's words) to suppression kinds.
var dismissals = map[string]importers.SuppressionKind{
	"false positive": importers.SuppressedFalsePositive, "inaccurate": importers.SuppressedFalsePositive,
	"used in tests": importers.SuppressedNotAffected, "not_used": importers.SuppressedNotAffected,
	"won't fix": importers.SuppressedAccepted, "tolerable_risk": importers.SuppressedAccepted,
	"no_bandwidth": importers.SuppressedAccepted, "fix_started": importers.SuppressedAccepted,
}

func suppression(a *alert) *importers.Suppression {
	switch strings.ToLower(a.State) {
	case "fixed":
		return &importers.Suppression{Kind: importers.SuppressedResolved, Reason: "fixed", Source: "github alert state"}
	case "dismissed", "auto_dismissed":
		reason := strings.ToLower(strings.TrimSpace(a.DismissedReason))
		kind, ok := dismissals[reason]
		if !ok {
			kind = importers.SuppressedAccepted
		}
		words := parseutil.FirstNonEmpty(a.DismissedReason, a.State)
		if a.DismissedComment != "" {
			words += ": " + a.DismissedComment
		}
		return &importers.Suppression{Kind: kind, Reason: words, Source: "github alert " + strings.ToLower(a.State)}
	}
	return nil
}
