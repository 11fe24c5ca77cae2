// Package sarif parses SARIF 2.1.0 logs (CodeQL, Semgrep, Flawfinder, Gitleaks, Trivy's SARIF
// output, …) into the normalised importers.Report.
//
// # What is read
//
// Each run gives one asset, a repository: versionControlProvenance[0].repositoryUri when present
// (Key "repo:"+uri), else a generic one named "sarif:"+tool.driver.name. Runs naming the same
// asset share it.
//
// Each result becomes a finding, except results whose kind is "pass" or "notApplicable" (the rule
// held) and results whose baselineState is "absent" (gone since the baseline). The rule is found
// through rule.index / ruleIndex (in tool.extensions[rule.toolComponent.index] when given, else in
// tool.driver), else by ruleId (or its hierarchical prefix before "/"). The finding has:
//
//   - RuleID: ruleId (or rule.id); Title: the rule's shortDescription, else its name, else the
//     ruleId, else the message's first line; Description: the message (text, else the rule's
//     messageStrings[message.id] with {n} arguments substituted, else markdown) followed by the
//     rule's fullDescription; References: the rule's helpUri.
//   - Location: locations[0].physicalLocation artifactLocation.uri (percent-decoded; resolved
//     through run.artifacts[index] when only an index is given), region startLine and
//     startColumn. A result with several locations stays one finding (the tool reported one
//     problem, e.g. a flow or a duplicated block), carrying every location in Locations; its
//     fingerprint is that of the first location, as before. Evidence: the region snippet, except for secret findings (tool named like a
//     secret scanner, or a "secret" tag, or an "offender"/"secret"/"match" property), whose
//     evidence only says a secret was found: the value is never copied.
//   - CWEs from tags on the rule and the result ("external/cwe/cwe-079", "CWE-79", "CWE-79: …" →
//     "CWE-79"), from rule relationships and result taxa whose tool component is "CWE"; CVEs and
//     GHSAs from the ruleId and tags; CVSS ratings from the properties cvssv3_vector /
//     cvssv3_baseScore, cvssv2_vector / cvssv2_score (Trivy writes them), source = tool name.
//   - Severity: the "security-severity" property (result, else rule) when it is a number in
//     [0, 10]: >=9 critical, >=7 high, >=4 medium, >0 low, 0 info; else the level (result.level,
//     else the rule's defaultConfiguration.level, else "none" when kind is set and not "fail",
//     else "warning"): error → high, warning → medium, note → low, none → info. ScannerSeverity
//     is the security-severity text when it was used, else the level.
//
// Suppressed: a result whose suppressions are all accepted (status "accepted" or none; SARIF
// 2.1.0 §3.34.4) is marked a false positive, the justifications as reason; a suppression under
// review or rejected leaves it open. Target (for runs without versionControlProvenance) is the
// first run's tool and source root: "tool:" + originalUriBaseIds %SRCROOT% (hint "tool_path").
//
// A property bag value that is not usable (a non-numeric security-severity, tags that are not
// strings) is ignored, as SARIF allows tools to put anything there.
//
// # Fingerprints (tolerant of line drift)
//
// A fingerprint is the lower-case hex SHA-256 of the JSON encoding of an array of strings. Its
// first part is chosen by what the result carries:
//
//	fingerprints present:                ["sarif/v1", asset, tool, ruleId, uri, "fingerprints", k1=v1\nk2=v2…]
//	partialFingerprints with
//	  primaryLocationLineHash:           ["sarif/v1", asset, tool, ruleId, uri, "primaryLocationLineHash", value]
//	other partialFingerprints:           ["sarif/v1", asset, tool, ruleId, uri, "partialFingerprints", k1=v1\n…]
//	none:                                ["sarif/v1", asset, tool, ruleId, uri, "content", message, snippet]
//
// asset is the asset Key, tool the driver name, uri the location's file (as in Location.File),
// k=v pairs sorted by key (a value that is not a string, as Black Duck writes, counts as its
// compact JSON text; null values are left out). In the content form, message is the message text with white space
// runs collapsed to one space and numbers after "line", "lines", "column" or "col" replaced by
// "#"; snippet is region.snippet.text, white space collapsed. No line or column number is part of
// a fingerprint, so findings keep their identity when code above them moves.
//
// When several results of a report have the same first part (identical code at two places with a
// content-only fingerprint, or Flawfinder's contextHash of two identical lines), they are numbered
// in order of (uri, startLine, startColumn, position in the log) and the k-th one (k >= 1) gets
// "#k" appended to the array, so fingerprints within a report are unique and stay stable as long
// as the identical findings keep their relative order.
//
// # Limits
//
// Parse reads at most Parser.MaxBytes (512 MiB by default) and refuses nesting deeper than
// Parser.MaxDepth (128 by default) and invalid UTF-8 before decoding. Malformed input gives a
// *importers.ParseError with line, column (bytes, 1-based) and byte offset; a cancelled context
// gives ctx.Err() unwrapped.
package sarif

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

const formatName = "sarif"

// Parser parses SARIF 2.1.0 logs. The zero value uses the default limits.
type Parser struct{ jsonguard.Limits }

// New returns a SARIF parser with the default limits.
func New() importers.Parser { return &Parser{} }

// Format implements importers.Parser.
func (*Parser) Format() string { return formatName }

// Detect reports whether head is the start of a SARIF 2.x log: an object with a runs array and
// either a "2.x" version, a $schema naming SARIF, or a first run with a tool.driver.
func (*Parser) Detect(head []byte) bool {
	p := jsonguard.HeadPaths(head)
	if p[""] != "{" {
		return false
	}
	if v, ok := p["/runs"]; ok && v != "[" {
		return false
	}
	_, runs := p["/runs"]
	schema := strings.Contains(strings.ToLower(p["/$schema"]), "sarif")
	version := strings.HasPrefix(p["/version"], "2.")
	_, driver := p["/runs/0/tool/driver"]
	switch {
	case schema && (runs || version):
		return true
	case runs && version:
		return true
	case runs && driver:
		return true
	}
	return false
}

// Wire types: only the fields used.

type sText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown"`
}

type sMessage struct {
	Text      string   `json:"text"`
	Markdown  string   `json:"markdown"`
	ID        string   `json:"id"`
	Arguments []string `json:"arguments"`
}

type sRelationship struct {
	Target struct {
		ID            string `json:"id"`
		ToolComponent struct {
			Name string `json:"name"`
		} `json:"toolComponent"`
	} `json:"target"`
}

type sRule struct {
	ID                   string                     `json:"id"`
	Name                 string                     `json:"name"`
	ShortDescription     *sText                     `json:"shortDescription"`
	FullDescription      *sText                     `json:"fullDescription"`
	HelpURI              string                     `json:"helpUri"`
	MessageStrings       map[string]sText           `json:"messageStrings"`
	DefaultConfiguration *struct{ Level string }    `json:"defaultConfiguration"`
	Properties           map[string]json.RawMessage `json:"properties"`
	Relationships        []sRelationship            `json:"relationships"`
}

type sComponent struct {
	Name            string  `json:"name"`
	FullName        string  `json:"fullName"`
	Version         string  `json:"version"`
	SemanticVersion string  `json:"semanticVersion"`
	Rules           []sRule `json:"rules"`
}

type sTool struct {
	Driver     sComponent   `json:"driver"`
	Extensions []sComponent `json:"extensions"`
}

type sRegion struct {
	StartLine   jsonguard.LineNo `json:"startLine"`
	StartColumn jsonguard.LineNo `json:"startColumn"`
	Snippet     *sText           `json:"snippet"`
}

type sLocation struct {
	PhysicalLocation *struct {
		ArtifactLocation struct {
			URI   string `json:"uri"`
			Index *int   `json:"index"`
		} `json:"artifactLocation"`
		Region *sRegion `json:"region"`
	} `json:"physicalLocation"`
	LogicalLocations []struct {
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Name               string `json:"name"`
	} `json:"logicalLocations"`
}

type sResult struct {
	RuleID    string `json:"ruleId"`
	RuleIndex *int   `json:"ruleIndex"`
	Rule      *struct {
		ID            string `json:"id"`
		Index         *int   `json:"index"`
		ToolComponent *struct {
			Index *int   `json:"index"`
			Name  string `json:"name"`
		} `json:"toolComponent"`
	} `json:"rule"`
	Kind                string        `json:"kind"`
	Level               string        `json:"level"`
	Message             sMessage      `json:"message"`
	Locations           []sLocation   `json:"locations"`
	Fingerprints        sFingerprints `json:"fingerprints"`
	PartialFingerprints sFingerprints `json:"partialFingerprints"`
	Suppressions        []struct {
		Kind          string `json:"kind"`
		Status        string `json:"status"`
		Justification string `json:"justification"`
	} `json:"suppressions"`
	Properties map[string]json.RawMessage `json:"properties"`
	Taxa       []struct {
		ID            string `json:"id"`
		ToolComponent struct {
			Name string `json:"name"`
		} `json:"toolComponent"`
	} `json:"taxa"`
	BaselineState string `json:"baselineState"`
}

// share keeps one copy of the text a tool repeats in every result of a rule (its message, the
// file's URI, the rule id).
func (r *sResult) share(in *parseutil.Interner) {
	for _, s := range []*string{&r.RuleID, &r.Kind, &r.Level, &r.Message.Text, &r.Message.Markdown, &r.Message.ID, &r.BaselineState} {
		*s = in.Intern(*s)
	}
	in.InternAll(r.Message.Arguments)
	for i := range r.Locations {
		if p := r.Locations[i].PhysicalLocation; p != nil {
			p.ArtifactLocation.URI = in.Intern(p.ArtifactLocation.URI)
		}
	}
}

// sFingerprints is a result's fingerprints or partialFingerprints: SARIF says the values are
// strings, but some tools (Black Duck) write objects. A value that is not a string is kept as its
// compact JSON text, so that the fingerprint stays stable across reimports; null is dropped.
type sFingerprints map[string]string

func (f *sFingerprints) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if raw == nil {
		*f = nil
		return nil
	}
	*f = make(sFingerprints, len(raw))
	for k, v := range raw {
		var s string
		switch {
		case jsonguard.Kind(v) == 'n':
			continue
		case json.Unmarshal(v, &s) == nil:
		default:
			var buf bytes.Buffer
			if err := json.Compact(&buf, v); err != nil {
				return err
			}
			s = buf.String()
		}
		(*f)[k] = s
	}
	return nil
}

type sRun struct {
	Tool               sTool
	OriginalURIBaseIDs map[string]struct {
		URI string `json:"uri"`
	} `json:"originalUriBaseIds"`
	Results                  []sResult
	VersionControlProvenance []struct {
		RepositoryURI string `json:"repositoryUri"`
	}
	Invocations []struct {
		StartTimeUTC string `json:"startTimeUtc"`
		EndTimeUTC   string `json:"endTimeUtc"`
	}
	Artifacts []struct {
		Location struct {
			URI string `json:"uri"`
		} `json:"location"`
	}
}

// Parse implements importers.Parser.
func (p *Parser) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	w, err := jsonguard.Open(ctx, formatName, r, p.MaxBytes, p.MaxDepth)
	if err != nil {
		return nil, err
	}
	var runs []sRun
	var warnings []string
	tolerant := jsonguard.Tolerant{Required: resultRequired, Warn: func(m string) { warnings = append(warnings, m) }}
	err = w.DocumentWith("log", "runs", "not a SARIF log: no runs array", func(key string) error {
		switch key {
		case "version":
			off := w.Start()
			v, err := w.Str()
			if err != nil {
				return err
			}
			if !strings.HasPrefix(v, "2.1") {
				return w.ErrAt(off, "SARIF version "+strconv.Quote(parseutil.TruncateEllipsis(v, 40))+" is not supported (want 2.1.0)")
			}
			return nil
		case "runs":
			return w.Array("runs", func(int) error {
				run, err := readRun(w, tolerant)
				if err == nil {
					runs = append(runs, run)
				}
				return err
			})
		}
		return w.Skip()
	})
	if err != nil {
		return nil, err
	}
	rep, err := build(ctx, runs)
	if rep != nil {
		rep.Warnings = append(warnings, w.Warnings()...)
	}
	return importers.Bounded(rep, err)
}

// resultRequired are the members of a result its fingerprint and rule are found from; any other
// member of an unexpected JSON type is left out with a warning.
var resultRequired = []string{"ruleId", "ruleIndex", "rule", "message.text", "fingerprints", "partialFingerprints",
	"locations.physicalLocation.artifactLocation", "locations.physicalLocation.region.snippet.text"}

func readRun(w *jsonguard.Walker, tolerant jsonguard.Tolerant) (sRun, error) {
	var run sRun
	err := w.Object("runs[]", func(key string) error {
		var err error
		switch key {
		case "tool":
			_, err = w.Decode(&run.Tool)
		case "results":
			var text parseutil.Interner
			err = jsonguard.Each(w, "results", tolerant, func(r sResult) {
				r.share(&text)
				run.Results = append(run.Results, r)
			})
		case "versionControlProvenance":
			_, err = w.Decode(&run.VersionControlProvenance)
		case "invocations":
			_, err = w.Decode(&run.Invocations)
		case "artifacts":
			_, err = w.Decode(&run.Artifacts)
		case "originalUriBaseIds":
			_, err = w.Decode(&run.OriginalURIBaseIDs)
		default:
			err = w.Skip()
		}
		return err
	})
	return run, err
}

// pending is a finding whose fingerprint still needs its occurrence number.
type pending struct {
	f      importers.Finding
	base   []string
	uri    string
	line   int
	col    int
	serial int
}

func build(ctx context.Context, runs []sRun) (*importers.Report, error) {
	out := &importers.Report{Format: formatName, Assets: []importers.Asset{}, Findings: []importers.Finding{}}
	seenAsset := map[string]bool{}
	var all []pending
	for ri := range runs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		run := &runs[ri]
		drv := &run.Tool.Driver
		tool := drv.Name
		if tool == "" {
			tool = drv.FullName
		}
		if ri == 0 {
			out.ScannerName = tool
			out.ScannerVersion = drv.Version
			if out.ScannerVersion == "" {
				out.ScannerVersion = drv.SemanticVersion
			}
			if len(run.Invocations) > 0 {
				if t, err := time.Parse(time.RFC3339Nano, run.Invocations[0].StartTimeUTC); err == nil {
					out.StartedAt = t
				}
				if t, err := time.Parse(time.RFC3339Nano, run.Invocations[0].EndTimeUTC); err == nil {
					out.FinishedAt = t
				}
			}
		}
		asset := runAsset(run, tool)
		if ri == 0 && asset.RepoURL == "" {
			out.Target = &importers.Target{Name: strings.TrimSuffix(tool+":"+srcRoot(run), ":"), Hint: "tool_path"}
		}
		if !seenAsset[asset.Key] {
			seenAsset[asset.Key] = true
			out.Assets = append(out.Assets, asset)
		}
		rules := newRuleIndex(&run.Tool)
		for i := range run.Results {
			if i&1023 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			res := &run.Results[i]
			switch strings.ToLower(res.Kind) {
			case "pass", "notapplicable":
				continue
			}
			if strings.EqualFold(res.BaselineState, "absent") {
				continue
			}
			pf := convert(run, rules, res, asset.Key, tool)
			pf.serial = len(all)
			all = append(all, pf)
		}
	}
	assignFingerprints(all)
	for i := range all {
		out.Findings = append(out.Findings, all[i].f)
	}
	return out, nil
}

func runAsset(run *sRun, tool string) importers.Asset {
	for _, v := range run.VersionControlProvenance {
		if v.RepositoryURI != "" {
			return importers.Asset{Key: "repo:" + v.RepositoryURI, Kind: importers.Repository,
				Name: v.RepositoryURI, RepoURL: v.RepositoryURI}
		}
	}
	name := "sarif:" + tool
	return importers.Asset{Key: name, Kind: importers.Repository, Name: name}
}

// srcRoot is the root the run's URIs are relative to: the uri of %SRCROOT% (the name the SARIF
// SDK and CodeQL use), else of the only base id, else "".
func srcRoot(run *sRun) string {
	if r, ok := run.OriginalURIBaseIDs["%SRCROOT%"]; ok {
		return r.URI
	}
	if r, ok := run.OriginalURIBaseIDs["SRCROOT"]; ok {
		return r.URI
	}
	if len(run.OriginalURIBaseIDs) == 1 {
		for _, r := range run.OriginalURIBaseIDs {
			return r.URI
		}
	}
	return ""
}

// ruleIndex finds a result's rule.
type ruleIndex struct {
	tool *sTool
	byID []map[string]*sRule // [0] driver, [1+i] extensions[i]
}

func newRuleIndex(t *sTool) *ruleIndex {
	ri := &ruleIndex{tool: t}
	comps := []*sComponent{&t.Driver}
	for i := range t.Extensions {
		comps = append(comps, &t.Extensions[i])
	}
	for _, c := range comps {
		m := make(map[string]*sRule, len(c.Rules))
		for j := range c.Rules {
			if _, dup := m[c.Rules[j].ID]; !dup {
				m[c.Rules[j].ID] = &c.Rules[j]
			}
		}
		ri.byID = append(ri.byID, m)
	}
	return ri
}

func (ri *ruleIndex) find(res *sResult) *sRule {
	comp, compIdx := &ri.tool.Driver, 0
	if res.Rule != nil && res.Rule.ToolComponent != nil && res.Rule.ToolComponent.Index != nil {
		if i := *res.Rule.ToolComponent.Index; i >= 0 && i < len(ri.tool.Extensions) {
			comp, compIdx = &ri.tool.Extensions[i], i+1
		}
	}
	idx := res.RuleIndex
	if res.Rule != nil && res.Rule.Index != nil {
		idx = res.Rule.Index
	}
	id := res.RuleID
	if id == "" && res.Rule != nil {
		id = res.Rule.ID
	}
	if idx != nil && *idx >= 0 && *idx < len(comp.Rules) {
		if r := &comp.Rules[*idx]; id == "" || r.ID == id || strings.HasPrefix(id, r.ID+"/") {
			return r
		}
	}
	if id == "" {
		return nil
	}
	order := []int{compIdx} // the named component first, then the driver and every extension
	for i := range ri.byID {
		if i != compIdx {
			order = append(order, i)
		}
	}
	for _, try := range []string{id, strings.SplitN(id, "/", 2)[0]} {
		for _, ci := range order {
			if r, ok := ri.byID[ci][try]; ok {
				return r
			}
		}
	}
	return nil
}

var (
	reWS       = regexp.MustCompile(`\s+`)
	reLineNums = regexp.MustCompile(`(?i)\b(lines?|columns?|col)(\s*:?\s*)\d+`)
	reArg      = regexp.MustCompile(`\{(\d+)\}`)
	reSecret   = regexp.MustCompile(`(?i)gitleaks|trufflehog|detect-secrets|secret`)
)

func collapse(s string) string { return strings.TrimSpace(reWS.ReplaceAllString(s, " ")) }

func normMessage(s string) string { return reLineNums.ReplaceAllString(collapse(s), "$1$2#") }

func messageText(m *sMessage, rule *sRule) string {
	t := m.Text
	if t == "" && m.ID != "" && rule != nil {
		t = rule.MessageStrings[m.ID].Text
	}
	if t == "" {
		t = m.Markdown
	}
	if len(m.Arguments) > 0 {
		t = reArg.ReplaceAllStringFunc(t, func(s string) string {
			n, err := strconv.Atoi(s[1 : len(s)-1])
			if err != nil || n >= len(m.Arguments) {
				return s
			}
			return m.Arguments[n]
		})
	}
	return t
}

// propString reads a property as a string (a JSON string, or a number's text).
func propString(props map[string]json.RawMessage, key string) (string, bool) {
	raw, ok := props[key]
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String(), true
	}
	return "", false
}

func propTags(props map[string]json.RawMessage) []string {
	var tags []string
	if raw, ok := props["tags"]; ok {
		var list []any
		if json.Unmarshal(raw, &list) == nil {
			for _, t := range list {
				if s, ok := t.(string); ok {
					tags = append(tags, s)
				}
			}
		}
	}
	return tags
}

// securitySeverity reads a "security-severity" property; ok is false when absent or not a number
// in [0, 10].
func securitySeverity(props map[string]json.RawMessage) (float64, string, bool) {
	s, ok := propString(props, "security-severity")
	if !ok {
		return 0, "", false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 10 {
		return 0, "", false
	}
	return f, s, true
}

// levelSeverity maps a SARIF level; the severity words some non-conforming tools write there are
// taken at their word, anything else counts as the default level, warning.
func levelSeverity(level string) importers.Severity {
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "error", "high":
		return importers.High
	case "warning", "medium", "moderate":
		return importers.Medium
	case "note", "low":
		return importers.Low
	case "none", "info", "informational":
		return importers.Info
	case "critical":
		return importers.Critical
	}
	return importers.Medium
}

func convert(run *sRun, rules *ruleIndex, res *sResult, assetKey, tool string) pending {
	rule := rules.find(res)
	ruleID := res.RuleID
	if ruleID == "" && res.Rule != nil {
		ruleID = res.Rule.ID
	}
	if ruleID == "" && rule != nil {
		ruleID = rule.ID
	}
	var ruleProps map[string]json.RawMessage
	if rule != nil {
		ruleProps = rule.Properties
	}
	msg := messageText(&res.Message, rule)
	f := importers.Finding{AssetKey: assetKey, RuleID: ruleID}

	// Severity.
	if v, raw, ok := securitySeverity(res.Properties); ok {
		f.Severity, f.ScannerSeverity = parseutil.SeverityFromScore(v), raw
	} else if v, raw, ok := securitySeverity(ruleProps); ok {
		f.Severity, f.ScannerSeverity = parseutil.SeverityFromScore(v), raw
	} else {
		level := res.Level
		if level == "" {
			switch {
			case res.Kind != "" && !strings.EqualFold(res.Kind, "fail"):
				level = "none"
			case rule != nil && rule.DefaultConfiguration != nil && rule.DefaultConfiguration.Level != "":
				level = rule.DefaultConfiguration.Level
			default:
				level = "warning"
			}
		}
		f.Severity, f.ScannerSeverity = levelSeverity(level), level
	}

	// Title and text.
	switch {
	case rule != nil && rule.ShortDescription != nil && rule.ShortDescription.Text != "":
		f.Title = rule.ShortDescription.Text
	case rule != nil && rule.Name != "" && rule.Name != rule.ID:
		f.Title = rule.Name
	case ruleID != "":
		f.Title = ruleID
	default:
		first, _, _ := strings.Cut(strings.TrimSpace(msg), "\n")
		f.Title = parseutil.TruncateEllipsis(first, 200)
	}
	f.Description = msg
	if rule != nil && rule.FullDescription != nil && rule.FullDescription.Text != "" &&
		collapse(rule.FullDescription.Text) != collapse(msg) {
		if f.Description != "" {
			f.Description += "\n\n"
		}
		f.Description += rule.FullDescription.Text
	}
	if rule != nil {
		f.References = parseutil.AppendUnique(f.References, rule.HelpURI)
	}

	// Taxonomy.
	tags := append(propTags(ruleProps), propTags(res.Properties)...)
	f.CWEs = parseutil.AppendUnique(f.CWEs, parseutil.NormAll(tags, parseutil.NormCWE)...)
	addTaxon := func(comp, id string) {
		if !strings.EqualFold(comp, "CWE") {
			return
		}
		if c, ok := parseutil.NormCWE(id); ok {
			f.CWEs = parseutil.AppendUnique(f.CWEs, c)
		} else if n, err := strconv.Atoi(strings.TrimSpace(id)); err == nil && n >= 0 {
			f.CWEs = parseutil.AppendUnique(f.CWEs, "CWE-"+strconv.Itoa(n))
		}
	}
	if rule != nil {
		for _, rel := range rule.Relationships {
			addTaxon(rel.Target.ToolComponent.Name, rel.Target.ID)
		}
	}
	for _, tx := range res.Taxa {
		addTaxon(tx.ToolComponent.Name, tx.ID)
	}
	parseutil.AddAdvisoryIDs(&f, ruleID)
	parseutil.AddAdvisoryIDs(&f, tags...)
	f.CVSS = propRatings(ruleProps, res.Properties, strings.ToLower(tool))

	// Locations: the first names the finding; all of them are kept when there are several.
	var uri, snippet string
	var line, col int
	for i := range res.Locations {
		u, l, c, snip := location(run, &res.Locations[i])
		if i == 0 {
			uri, line, col, snippet = u, l, c, snip
		}
		if len(res.Locations) > 1 {
			f.Locations = append(f.Locations, importers.Location{File: u, Line: l, Column: c})
		}
	}
	f.Location = importers.Location{File: uri, Line: line, Column: col}
	f.Suppressed = suppression(res)

	secret := reSecret.MatchString(tool)
	for _, t := range tags {
		if strings.EqualFold(t, "secret") || strings.EqualFold(t, "secrets") {
			secret = true
		}
	}
	for _, k := range []string{"offender", "secret", "match"} {
		if _, ok := res.Properties[k]; ok {
			secret = true
		}
	}
	switch {
	case secret:
		where := uri
		if line > 0 {
			where += ":" + strconv.Itoa(line)
		}
		f.Evidence = "Secret detected at " + where + "; the matched value is redacted."
	case snippet != "":
		f.Evidence = parseutil.TruncateEllipsis(snippet, 4096)
	}

	// Fingerprint (first part; the occurrence number is added later).
	base := []string{"sarif/v1", assetKey, tool, ruleID, uri}
	switch {
	case len(res.Fingerprints) > 0:
		base = append(base, "fingerprints", sortedPairs(res.Fingerprints))
	case res.PartialFingerprints["primaryLocationLineHash"] != "":
		base = append(base, "primaryLocationLineHash", res.PartialFingerprints["primaryLocationLineHash"])
	case len(res.PartialFingerprints) > 0:
		base = append(base, "partialFingerprints", sortedPairs(res.PartialFingerprints))
	default:
		base = append(base, "content", normMessage(msg), collapse(snippet))
	}
	return pending{f: f, base: base, uri: uri, line: line, col: col}
}

// location reads one of a result's locations: the file (percent-decoded; through
// run.artifacts[index] when only an index is given) or, without a physical location, the
// logical one's name.
func location(run *sRun, loc *sLocation) (uri string, line, col int, snippet string) {
	if pl := loc.PhysicalLocation; pl != nil {
		uri = pl.ArtifactLocation.URI
		if uri == "" && pl.ArtifactLocation.Index != nil {
			if i := *pl.ArtifactLocation.Index; i >= 0 && i < len(run.Artifacts) {
				uri = run.Artifacts[i].Location.URI
			}
		}
		if u, err := url.PathUnescape(uri); err == nil {
			uri = u
		}
		if pl.Region != nil {
			line, col = int(pl.Region.StartLine), int(pl.Region.StartColumn)
			if pl.Region.Snippet != nil {
				snippet = pl.Region.Snippet.Text
			}
		}
	} else if len(loc.LogicalLocations) > 0 {
		uri = loc.LogicalLocations[0].FullyQualifiedName
		if uri == "" {
			uri = loc.LogicalLocations[0].Name
		}
	}
	return uri, line, col, snippet
}

// suppression is the hint of a suppressed result: one with suppressions, all of them accepted
// (a missing status means accepted; one under review or rejected leaves the result open, as
// SARIF 2.1.0 §3.34.4 says). Someone marked the result as not a problem where it is: a false
// positive, with the justifications as reason.
func suppression(res *sResult) *importers.Suppression {
	if len(res.Suppressions) == 0 {
		return nil
	}
	var kinds, reasons []string
	for _, s := range res.Suppressions {
		if st := strings.TrimSpace(s.Status); st != "" && !strings.EqualFold(st, "accepted") {
			return nil
		}
		kinds = parseutil.AppendUnique(kinds, s.Kind)
		reasons = parseutil.AppendUnique(reasons, strings.TrimSpace(s.Justification))
	}
	src := "sarif suppression"
	if len(kinds) > 0 {
		src += " (" + strings.Join(kinds, ", ") + ")"
	}
	return &importers.Suppression{Kind: importers.SuppressedFalsePositive, Reason: strings.Join(reasons, "; "), Source: src}
}

func sortedPairs(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(k + "=" + m[k])
	}
	return b.String()
}

func propRatings(ruleProps, resProps map[string]json.RawMessage, source string) []importers.CVSS {
	var out []importers.CVSS
	for _, props := range []map[string]json.RawMessage{resProps, ruleProps} {
		if len(out) > 0 || props == nil {
			continue
		}
		for _, k := range []struct{ vec, score, version string }{
			{"cvssv4_vector", "cvssv4_score", "4.0"},
			{"cvssv3_vector", "cvssv3_baseScore", ""},
			{"cvssv2_vector", "cvssv2_score", "2.0"},
		} {
			vec, _ := propString(props, k.vec)
			sc, hasScore := propString(props, k.score)
			c := importers.CVSS{Version: k.version, Vector: vec, Source: source}
			if hasScore {
				if f, err := strconv.ParseFloat(sc, 64); err == nil && f >= 0 && f <= 10 {
					c.Score = &f
				}
			}
			if c.Vector == "" && c.Score == nil {
				continue
			}
			if c.Version == "" {
				c.Version = "3.1"
				if strings.HasPrefix(vec, "CVSS:3.0/") {
					c.Version = "3.0"
				}
			}
			out = append(out, c)
		}
	}
	return out
}

// assignFingerprints hashes each finding's first part, numbering results that share one.
func assignFingerprints(all []pending) {
	groups := map[string][]int{}
	var order []string
	for i := range all {
		k, _ := json.Marshal(all[i].base)
		key := string(k)
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], i)
	}
	for _, key := range order {
		idx := groups[key]
		sort.SliceStable(idx, func(a, b int) bool {
			pa, pb := &all[idx[a]], &all[idx[b]]
			if pa.uri != pb.uri {
				return pa.uri < pb.uri
			}
			if pa.line != pb.line {
				return pa.line < pb.line
			}
			if pa.col != pb.col {
				return pa.col < pb.col
			}
			return pa.serial < pb.serial
		})
		for k, i := range idx {
			parts := all[i].base
			if k > 0 {
				parts = append(append([]string(nil), parts...), "#"+strconv.Itoa(k))
			}
			all[i].f.Fingerprint = parseutil.FingerprintJSON(parts...)
		}
	}
}
