// Package sonarqube parses SonarQube's issues and security hotspots as its web API returns them
// (`GET /api/issues/search` and `GET /api/hotspots/search` pages) into the normalised
// importers.Report.
//
// # What is read
//
// A page is an object with issues[] (issues search) or hotspots[] (hotspots search), beside
// components[] and rules[]; a JSON array of such pages (what export scripts write when they
// concatenate the pages of one search) is read as one report. A bare array of issues (or of
// hotspots: what `jq .issues` of a page, or a client gathering the pages' issues, writes) is
// read when named with the format, but not detected: its elements alone do not say SonarQube.
//
// The JSON that sonar-report (the community exporter many pipelines run after an analysis,
// `sonar-report --save-report-json`) writes is read too: an object with sonarBaseURL,
// sonarComponent, projectName, rules as an object keyed by rule key ({name, htmlDesc,
// severity}) and issues[] of {rule, severity, status, component (the file path), line, message,
// key}. sonar-report only exports security issues (vulnerabilities and, unless told not to,
// hotspots, listed in hotspotKeys) and writes no type, so every issue of it is imported; its
// project is sonarComponent (else projectName).
//
// Which issues become findings: VULNERABILITY and SECURITY_HOTSPOT issues and every hotspot of
// the hotspots search; a BUG or CODE_SMELL only when its impacts[] (SonarQube 10.2+) name the
// SECURITY software quality, since SonarQube then rates it as a security issue. The other BUG and
// CODE_SMELL issues are reliability and maintainability work, not security findings: they are
// counted in one warning and not imported.
//
// One repository asset per project key (issue.project; the component key's part before the last
// ':' when there is none; and every TRK component, so that a page without issues names its
// project), named after the project's TRK component when components[] has it; a project whose
// issues are all left out is still an asset. SonarQube
// gives no repository URL, so when the report covers one project its key is also the Target
// (hint "project"). The location is the file path of the issue's component (components[].path,
// else the component key less "project:") and its line (line, else textRange.startLine).
//
// Severity: the severity of the SECURITY impact when the issue has one (BLOCKER critical, HIGH
// high, MEDIUM medium, LOW low, INFO info); else the issue severity (BLOCKER critical, CRITICAL
// high, MAJOR medium, MINOR low, INFO info; the impact words HIGH, MEDIUM, LOW, which newer
// sonar-report versions write there, map as for an impact); a hotspot's vulnerabilityProbability HIGH, MEDIUM,
// LOW maps to high, medium, low. ScannerSeverity keeps SonarQube's word.
//
// Suppressions: resolution FALSE-POSITIVE is false_positive, WONTFIX (and issueStatus ACCEPTED)
// accepted, FIXED and REMOVED resolved; a reviewed hotspot's resolution SAFE is not_affected,
// ACKNOWLEDGED accepted, FIXED resolved.
//
// # Fingerprints
//
// The lower-case hex SHA-256 of the JSON array ["sonarqube/v1", key]: SonarQube's issue and
// hotspot keys are stable across analyses (its issue tracking carries the key from one analysis
// to the next, matching on rule, line hash and location). An issue without a key (a hand-made
// export) is fingerprinted ["sonarqube/v1", "", rule, component, hash], with the line in place
// of hash when there is none.
//
// # Limits
//
// Parse reads at most Parser.MaxBytes (512 MiB by default), refuses nesting deeper than
// Parser.MaxDepth (128) and invalid UTF-8, and keeps strings bounded (jsonguard). Malformed input
// gives a *importers.ParseError with line, column and byte offset; a cancelled context gives
// ctx.Err() unwrapped.
package sonarqube

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

const formatName = "sonarqube"

// Parser parses SonarQube issues and hotspots search pages. The zero value uses the default
// limits.
type Parser struct{ jsonguard.Limits }

// New returns a SonarQube parser with the default limits.
func New() importers.Parser { return &Parser{} }

// Format implements importers.Parser.
func (*Parser) Format() string { return formatName }

// issueSeverity maps SonarQube's legacy issue severities.
var issueSeverity = map[string]importers.Severity{
	"BLOCKER": importers.Critical, "CRITICAL": importers.High, "MAJOR": importers.Medium,
	"MINOR": importers.Low, "INFO": importers.Info,
}

// impactSeverity maps the severities of a software-quality impact (SonarQube 10.2+).
var impactSeverity = map[string]importers.Severity{
	"BLOCKER": importers.Critical, "HIGH": importers.High, "MEDIUM": importers.Medium,
	"LOW": importers.Low, "INFO": importers.Info,
}

// Info implements importers.Describer.
func (*Parser) Info() importers.FormatInfo {
	sev := map[string]importers.Severity{}
	for k, v := range issueSeverity {
		sev[k] = v
	}
	for k, v := range impactSeverity {
		sev["impact "+k] = v
	}
	for _, k := range []string{"HIGH", "MEDIUM", "LOW"} {
		sev["hotspot "+k] = impactSeverity[k]
	}
	return importers.FormatInfo{
		Name:     formatName,
		Title:    "SonarQube issues and security hotspots (web API JSON: api/issues/search, api/hotspots/search)",
		Family:   "sast",
		Versions: []string{"SonarQube 7.x–10.x", "SonarCloud", "sonar-report JSON (--save-report-json)"},
		Detection: "a JSON object (or an array of them) with an issues array whose first element has key, rule " +
			"and component, or a hotspots array whose first element has key, component and vulnerabilityProbability; " +
			"or sonar-report's JSON: an object with sonarBaseURL and sonarComponent",
		Fingerprint: []string{"issue or hotspot key", "else rule + component + hash (line when no hash)"},
		Severity:    sev,
		Notes: "VULNERABILITY and SECURITY_HOTSPOT issues and all hotspots are imported; BUG and CODE_SMELL only " +
			"with a SECURITY impact, the others are counted in a warning. The SECURITY impact's severity wins over the " +
			"legacy severity. Resolution FALSE-POSITIVE maps to false_positive, WONTFIX/ACCEPTED to accepted, " +
			"FIXED/REMOVED to resolved; hotspot SAFE to not_affected, ACKNOWLEDGED to accepted. One repository asset " +
			"per project key, which is also the Target when the report covers one project. " +
			"sonar-report JSON exports only security issues and names no type: all its issues are imported, " +
			"in the project named by sonarComponent. A bare array of issues or hotspots (a page's list alone) is read when the format " +
			"is named, not detected.",
	}
}

// Detect reports whether head is an issues or hotspots search page, or an array of them.
func (*Parser) Detect(head []byte) bool {
	p := jsonguard.HeadPaths(head)
	root := ""
	switch p[""] {
	case "{":
	case "[":
		root = "/0"
		if p[root] != "{" {
			return false
		}
	default:
		return false
	}
	has := func(path string) bool { _, ok := p[root+path]; return ok }
	if root == "" && scalar(p, "/sonarBaseURL") && scalar(p, "/sonarComponent") {
		return true // sonar-report's JSON, whose issues come after its (long) rules
	}
	if p[root+"/issues"] == "[" && p[root+"/issues/0"] == "{" {
		return has("/issues/0/key") && has("/issues/0/rule") && has("/issues/0/component")
	}
	if p[root+"/hotspots"] == "[" && p[root+"/hotspots/0"] == "{" {
		return has("/hotspots/0/key") && has("/hotspots/0/component") && has("/hotspots/0/vulnerabilityProbability")
	}
	// An empty page: paging and an empty issues or hotspots array.
	empty := (p[root+"/issues"] == "[" && !has("/issues/0")) || (p[root+"/hotspots"] == "[" && !has("/hotspots/0"))
	return empty && p[root+"/paging"] == "{" && has("/paging/pageIndex")
}

// scalar reports whether p holds path with a scalar value (not an object or array).
func scalar(p map[string]string, path string) bool {
	v, ok := p[path]
	return ok && v != "{" && v != "["
}

// Wire types: only the fields used.

type sImpact struct {
	SoftwareQuality string `json:"softwareQuality"`
	Severity        string `json:"severity"`
}

type sIssue struct {
	Key        string           `json:"key"`
	Rule       string           `json:"rule"`
	RuleKey    string           `json:"ruleKey"` // hotspots
	Severity   string           `json:"severity"`
	Component  string           `json:"component"`
	Project    string           `json:"project"`
	Line       jsonguard.LineNo `json:"line"`
	Hash       string           `json:"hash"`
	Message    string           `json:"message"`
	Type       string           `json:"type"`
	Status     string           `json:"status"`
	Resolution string           `json:"resolution"`
	// IssueStatus is SonarQube 10.4+'s simplified status (OPEN, CONFIRMED, ACCEPTED, FIXED,
	// FALSE_POSITIVE).
	IssueStatus string    `json:"issueStatus"`
	Tags        []string  `json:"tags"`
	Impacts     []sImpact `json:"impacts"`
	TextRange   struct {
		StartLine jsonguard.LineNo `json:"startLine"`
	} `json:"textRange"`
	// Hotspot fields.
	VulnerabilityProbability string `json:"vulnerabilityProbability"`
	SecurityCategory         string `json:"securityCategory"`
	hotspot                  bool
}

type sComponent struct {
	Key       string `json:"key"`
	Qualifier string `json:"qualifier"`
	Name      string `json:"name"`
	Path      string `json:"path"`
}

type sRule struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

// report is what the pages hold, gathered.
type report struct {
	issues     []sIssue
	components map[string]sComponent
	rules      map[string]string
	projects   []string // keys of the TRK (project) components, in report order
	sawList    bool
	// exportProject is sonar-report's sonarComponent (else projectName): the project of every
	// issue of its JSON, whose components are bare file paths.
	exportProject string
	// export is set when the report is sonar-report's JSON (rules an object, sonarComponent):
	// its issues carry no type and are all security issues.
	export bool
}

// issueRequired are the members the fingerprint is made of: a wrong type there refuses the report.
var issueRequired = []string{"key", "rule", "component", "hash", "line"}

// Parse implements importers.Parser.
func (p *Parser) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	br := bufio.NewReaderSize(r, listHead)
	head, _ := br.Peek(listHead)
	list := bareList(jsonguard.HeadPaths(head))
	w, err := jsonguard.Open(ctx, formatName, br, p.MaxBytes, p.MaxDepth)
	if err != nil {
		return nil, err
	}
	rep := report{components: map[string]sComponent{}, rules: map[string]string{}}
	var warnings []string
	tolerant := jsonguard.Tolerant{Required: issueRequired, Warn: func(m string) { warnings = append(warnings, m) }}
	var text parseutil.Interner
	page := func(what string) error {
		return w.Object(what, func(key string) error { return rep.member(w, key, tolerant, &text) })
	}
	start := w.Start()
	switch next := w.Next(); {
	case next == '[' && list != "":
		rep.sawList = true
		err = jsonguard.EachDocument(w, list, tolerant, func(is sIssue) { rep.add(is, list == "hotspots", &text) })
	case next == '[':
		pages := 0
		err = w.DocumentArray("pages", func(i int) error { pages++; return page("pages[" + strconv.Itoa(i) + "]") })
		rep.sawList = rep.sawList || pages == 0 // [] : no pages, or an empty list of issues
	case next == '<':
		return nil, w.ErrAt(start, "an HTML or XML document, not SonarQube JSON: import the issues search JSON "+
			"(api/issues/search) or sonar-report's --save-report-json output, not its HTML report")
	case next == 'P':
		return nil, w.ErrAt(start, "not JSON (a ZIP archive?): unpack the export and import the JSON inside")
	default:
		err = w.Document("page", func(key string) error { return rep.member(w, key, tolerant, &text) })
	}
	if err != nil {
		return nil, err
	}
	if !rep.sawList {
		return nil, w.ErrAt(start, "not a SonarQube issues or hotspots search page: no issues or hotspots array")
	}
	out, err := build(ctx, &rep)
	if warnings = append(warnings, w.Warnings()...); out != nil && len(warnings) > 0 {
		out.Warnings = append(warnings, out.Warnings...)
	}
	return importers.Bounded(out, err)
}

// listHead is how much of the input Parse looks at to tell a bare array of issues from an
// array of pages.
const listHead = 64 << 10

// bareList is "issues" or "hotspots" when p, the paths of the input's head, is a bare array of
// issues (key and rule) or of hotspots (key and vulnerabilityProbability), not of pages; else "".
func bareList(p map[string]string) string {
	if p[""] != "[" || p["/0"] != "{" {
		return ""
	}
	has := func(path string) bool { _, ok := p["/0/"+path]; return ok }
	switch {
	case has("issues") || has("hotspots") || has("paging") || !has("key"):
		return ""
	case has("rule"):
		return "issues"
	case has("vulnerabilityProbability"):
		return "hotspots"
	}
	return ""
}

// add keeps one issue (or hotspot) of the report.
func (rep *report) add(is sIssue, hotspot bool, text *parseutil.Interner) {
	is.hotspot = hotspot
	for _, s := range []*string{&is.Rule, &is.RuleKey, &is.Severity, &is.Component, &is.Project, &is.Type,
		&is.Status, &is.Resolution, &is.IssueStatus, &is.VulnerabilityProbability, &is.SecurityCategory} {
		*s = text.Intern(*s)
	}
	text.InternAll(is.Tags)
	rep.issues = append(rep.issues, is)
}

// member reads one member of a page.
func (rep *report) member(w *jsonguard.Walker, key string, t jsonguard.Tolerant, text *parseutil.Interner) error {
	switch key {
	case "issues", "hotspots":
		rep.sawList = true
		return jsonguard.Each(w, key, t, func(is sIssue) { rep.add(is, key == "hotspots", text) })
	case "components":
		return jsonguard.Each(w, key, t, func(c sComponent) {
			if c.Key == "" {
				return
			}
			if _, seen := rep.components[c.Key]; !seen && c.Qualifier == "TRK" {
				rep.projects = append(rep.projects, c.Key)
			}
			rep.components[c.Key] = c
		})
	case "sonarComponent", "projectName":
		rep.export = true
		v, err := w.Str()
		if key == "sonarComponent" || rep.exportProject == "" {
			rep.exportProject = parseutil.FirstNonEmpty(v, rep.exportProject)
		}
		return err
	case "rules":
		if w.Next() == '{' { // sonar-report: {"<rule key>": {"name": …}}
			rep.export = true
			return w.Object(key, func(ruleKey string) error {
				var r sRule
				_, err := w.DecodeTolerant(&r, "rules."+ruleKey, t)
				if r.Name != "" {
					rep.rules[ruleKey] = r.Name
				}
				return err
			})
		}
		return jsonguard.Each(w, key, t, func(r sRule) {
			if r.Key != "" {
				rep.rules[r.Key] = r.Name
			}
		})
	}
	return w.Skip()
}

func build(ctx context.Context, rep *report) (*importers.Report, error) {
	out := &importers.Report{Format: formatName, ScannerName: "SonarQube", Findings: []importers.Finding{}}
	var assets parseutil.AssetSet
	ignored := map[string]int{}
	for i := range rep.issues {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		is := &rep.issues[i]
		project := is.Project
		if project == "" && rep.export {
			project = rep.exportProject
		}
		project = parseutil.FirstNonEmpty(project, projectOf(is.Component))
		security := securityImpact(is)
		typ := strings.ToUpper(is.Type)
		exported := rep.export && typ == "" // sonar-report writes only security issues, untyped
		if !is.hotspot && !exported && typ != "VULNERABILITY" && typ != "SECURITY_HOTSPOT" && security == nil {
			ignored[parseutil.FirstNonEmpty(typ, "untyped")]++
			if project != "" {
				// The project is an asset of the report even when none of its issues is
				// imported: the analysis saw it, and found nothing of security in it.
				rep.addProject(&assets, project)
			}
			continue
		}
		assetKey := rep.addProject(&assets, project)
		out.Findings = append(out.Findings, rep.finding(assetKey, project, is, security))
	}
	for _, key := range rep.projects { // a page without issues names its project as a TRK component
		rep.addProject(&assets, key)
	}
	out.Assets = assets.Assets()
	if len(out.Assets) == 1 {
		out.Target = &importers.Target{Name: strings.TrimPrefix(out.Assets[0].Key, "project:"), Hint: "project"}
	}
	for _, typ := range []string{"BUG", "CODE_SMELL"} {
		if n := ignored[typ]; n > 0 {
			out.Warnings = append(out.Warnings, fmt.Sprintf("%d %s issues without a SECURITY impact not imported", n, typ))
		}
		delete(ignored, typ)
	}
	for _, typ := range slices.Sorted(maps.Keys(ignored)) { // sorted: two parses give one report
		n := ignored[typ]
		out.Warnings = append(out.Warnings, fmt.Sprintf("%d issues of type %s not imported", n, typ))
	}
	return out, nil
}

// addProject adds the repository asset of the project key unless assets has it, and returns its
// key.
func (rep *report) addProject(assets *parseutil.AssetSet, project string) string {
	key := "project:" + project
	if assets.Get(key) == nil {
		name := project
		if c, ok := rep.components[project]; ok && c.Name != "" {
			name = c.Name
		}
		assets.Add(importers.Asset{Key: key, Kind: importers.Repository, Name: name})
	}
	return key
}

// projectOf is the project key of a component key ("project:path") when an issue names no
// project; a key without ':' is a project.
func projectOf(component string) string {
	// The last ':' so that Maven-style project keys ("group:artifact:path") stay whole.
	if i := strings.LastIndexByte(component, ':'); i > 0 {
		return component[:i]
	}
	return component
}

// securityImpact is the issue's SECURITY impact, or nil.
func securityImpact(is *sIssue) *sImpact {
	for i := range is.Impacts {
		if strings.EqualFold(is.Impacts[i].SoftwareQuality, "SECURITY") {
			return &is.Impacts[i]
		}
	}
	return nil
}

func (rep *report) finding(assetKey, project string, is *sIssue, security *sImpact) importers.Finding {
	rule := parseutil.FirstNonEmpty(is.Rule, is.RuleKey)
	f := importers.Finding{
		AssetKey: assetKey,
		RuleID:   rule,
		Title:    parseutil.FirstNonEmpty(is.Message, rep.rules[rule], rule, "SonarQube issue"),
	}
	if name := rep.rules[rule]; name != "" && name != f.Title {
		f.Description = name
	}
	switch {
	case is.hotspot && is.VulnerabilityProbability != "":
		f.ScannerSeverity = is.VulnerabilityProbability
		f.Severity = parseutil.SeverityWordOrInfo(is.VulnerabilityProbability)
	case security != nil:
		f.ScannerSeverity = security.Severity
		f.Severity = mapOr(impactSeverity, security.Severity)
	default:
		f.ScannerSeverity = is.Severity
		f.Severity = mapOr(issueSeverity, is.Severity)
		if _, legacy := issueSeverity[strings.ToUpper(strings.TrimSpace(is.Severity))]; !legacy {
			f.Severity = mapOr(impactSeverity, is.Severity) // newer sonar-report: HIGH, MEDIUM, LOW
		}
	}
	file := strings.TrimPrefix(is.Component, project+":")
	if c, ok := rep.components[is.Component]; ok && c.Path != "" {
		file = c.Path
	}
	line := int(is.Line)
	if line == 0 {
		line = int(is.TextRange.StartLine)
	}
	f.Location = importers.Location{File: file, Line: line}
	f.CWEs = parseutil.AppendUnique(f.CWEs, parseutil.NormAll(is.Tags, parseutil.NormCWE)...)
	if is.SecurityCategory != "" {
		f.Evidence = "Security category: " + is.SecurityCategory
	}
	f.Suppressed = suppression(is)
	if is.Key != "" {
		f.Fingerprint = parseutil.FingerprintJSON("sonarqube/v1", is.Key)
	} else {
		f.Fingerprint = parseutil.FingerprintJSON("sonarqube/v1", "", rule, is.Component, parseutil.FirstNonEmpty(is.Hash, strconv.Itoa(line)))
	}
	return f
}

// mapOr maps word (upper-cased) through m, info when m lacks it.
func mapOr(m map[string]importers.Severity, word string) importers.Severity {
	if s, ok := m[strings.ToUpper(strings.TrimSpace(word))]; ok {
		return s
	}
	return importers.Info
}

// suppression is the issue's resolution as a lifecycle hint, or nil when it is open.
func suppression(is *sIssue) *importers.Suppression {
	res := strings.ToUpper(is.Resolution)
	kind := importers.SuppressionKind("")
	switch res {
	case "FALSE-POSITIVE":
		kind = importers.SuppressedFalsePositive
	case "WONTFIX", "ACKNOWLEDGED":
		kind = importers.SuppressedAccepted
	case "FIXED", "REMOVED":
		kind = importers.SuppressedResolved
	case "SAFE":
		kind = importers.SuppressedNotAffected
	}
	if kind == "" && strings.EqualFold(is.IssueStatus, "ACCEPTED") {
		kind, res = importers.SuppressedAccepted, "ACCEPTED"
	}
	if kind == "" {
		return nil
	}
	source := "sonarqube resolution"
	if is.hotspot {
		source = "sonarqube hotspot resolution"
	}
	return &importers.Suppression{Kind: kind, Reason: res, Source: source}
}
