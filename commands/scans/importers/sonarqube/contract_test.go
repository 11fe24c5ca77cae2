package sonarqube

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
)

// golden is what each SonarQube file must give.
type golden struct {
	assets, findings int
	sev              map[importers.Severity]int
	suppressed       int
	target           string
	warning          string // part of one warning, when set
}

var goldenFiles = map[string]golden{
	// jq '.issues | length' → 1; the one issue is a CODE_SMELL with a SECURITY impact (HIGH) and
	// resolution WONTFIX: jq '.issues[] | [.type, .impacts[].softwareQuality, .resolution]'
	"sonarqube_api_issues_search_example.json": {
		assets: 1, findings: 1, sev: map[importers.Severity]int{importers.High: 1}, suppressed: 1,
		target: "com.github.kevinsawicki:http-request",
	},
	// jq '.hotspots | length' → 3; jq '[.hotspots[].vulnerabilityProbability] | unique' → ["LOW"];
	// jq '[.hotspots[].project] | unique | length' → 1
	"sonarqube_api_hotspots_search_example.json": {
		assets: 1, findings: 3, sev: map[importers.Severity]int{importers.Low: 3},
		target: "com.sonarsource:test-project",
	},
	// jq '[.[].issues[]] | length' → 6; of which VULNERABILITY, SECURITY_HOTSPOT or with a SECURITY
	// impact: jq '[.[].issues[] | select(.type=="VULNERABILITY" or .type=="SECURITY_HOTSPOT" or
	// ((.impacts // []) | map(.softwareQuality) | index("SECURITY")))] | length' → 4 (one BUG and
	// one CODE_SMELL left out). Severities: SECURITY impact HIGH → high, CRITICAL → high,
	// CRITICAL hotspot → high, SECURITY impact MEDIUM → medium. Suppressed: jq
	// '[.[].issues[] | select(.resolution=="FALSE-POSITIVE" or .issueStatus=="ACCEPTED")] | length' → 2
	"sonarqube_issues_pages_webshop.json": {
		assets: 1, findings: 4, sev: map[importers.Severity]int{importers.High: 3, importers.Medium: 1}, suppressed: 2,
		target: "acme:webshop", warning: "1 BUG issues without a SECURITY impact not imported",
	},
	// sonar-report's --save-report-json shape (our own sample): rules an object, issues untyped,
	// components bare paths. jq -c '[(.issues|length), ([.issues[].severity]|group_by(.)|
	// map({(.[0]):length})|add), .sonarComponent]' → [3,{"BLOCKER":1,"HIGH":1,"MINOR":1},"acme:billing"]:
	// all three imported (sonar-report exports only security issues), HIGH (newer sonar-report's
	// impact word) → high.
	"sonarqube_sonar_report_export.json": {
		assets: 1, findings: 3, sev: map[importers.Severity]int{importers.Critical: 1, importers.High: 1, importers.Low: 1},
		target: "acme:billing",
	},
}

func checkGolden(t *testing.T, rep *importers.Report, want golden) {
	importertest.Counts(t, rep, want.assets, want.findings, want.sev, "")
	n := 0
	for _, f := range rep.Findings {
		if f.Suppressed != nil {
			n++
		}
	}
	if n != want.suppressed {
		t.Errorf("%d suppressed, want %d", n, want.suppressed)
	}
	if rep.Target == nil || rep.Target.Name != want.target || rep.Target.Hint != "project" {
		t.Errorf("Target = %+v, want %q", rep.Target, want.target)
	}
	if want.warning != "" && !strings.Contains(strings.Join(rep.Warnings, "\n"), want.warning) {
		t.Errorf("warnings %q lack %q", rep.Warnings, want.warning)
	}
}

// spec is what the contract suite checks of the SonarQube parser.
var spec = importertest.Spec{
	Format:     formatName,
	Positioned: true,
	Golden:     importertest.Golden(importertest.Table(goldenFiles, checkGolden)),
	Detect: map[string]bool{
		`{"issues": [{"key": "k", "rule": "java:S1", "component": "p:f"}]}`:                                                          true,
		`[{"paging": {"pageIndex": 1}, "issues": [{"key": "k", "rule": "r", "component": "c", "message": "cut`:                       true,
		`{"hotspots": [{"key": "k", "component": "c", "vulnerabilityProbability": "HIGH"}]}`:                                         true,
		`{"paging": {"pageIndex": 1, "pageSize": 100, "total": 0}, "issues": []}`:                                                    true,
		`{"date": "x", "projectName": "p", "sonarBaseURL": "https://s", "sonarComponent": "p", "rules": {"py:S1": {"htmlDesc": "cut`: true,
		`{"sonarBaseURL": "https://s", "sonarComponent": {}}`:                                                                        false,
		`{"issues": []}`:                                false,
		`{"issues": [{"key": "k"}]}`:                    false,
		`{"hotspots": [{"key": "k"}]}`:                  false,
		`[{"key": "k", "rule": "r", "component": "c"}]`: false,
		`[1]`:      false,
		`not json`: false,
	},
	Hostile: []importertest.Hostile{
		{Name: "not an object", In: `"x"`, Msg: "expected an object", Line: 1},
		{Name: "no issues", In: `{"paging": {}}`, Msg: "no issues or hotspots", Line: 1},
		{Name: "sonar-report HTML", In: "<!DOCTYPE html>\n<html><body>", Msg: "not its HTML report", Line: 1},
		{Name: "zip archive", In: "PK\x03\x04\x14\x00", Msg: "ZIP archive", Line: 1},
		{Name: "array of strings", In: `["x"]`, Msg: "expected an object", Line: 1},
		{Name: "truncated", In: "{\"issues\": [\n{\"key\": \"k", Msg: "end of input", Line: 2},
		{Name: "syntax", In: "{\"issues\": [\n\n{\"key\" 1}]}", Msg: "invalid character", Line: 3},
		{Name: "invalid UTF-8", In: "{\"issues\": [],\n \"x\": \"\xc3\x28\"}", Msg: "UTF-8", Line: 2},
		{Name: "key not a string", In: "{\"issues\": [\n{\"key\": 1, \"type\": \"VULNERABILITY\"}]}", Msg: "key", Line: 2},
		{Name: "negative line", In: "{\"issues\": [\n{\"key\": \"k\", \"line\": -3}]}", Msg: "line", Line: 2},
	},
	TruncateFile:  "sonarqube_api_issues_search_example.json",
	TruncateEvery: 53,
	Nesting:       importertest.JSONNesting(`{"issues": [{"flows": `),
	Bounded: []importertest.Stream{
		{Name: "unknown member of an issue", Prefix: `{"issues": [{"key": "k", "type": "VULNERABILITY", "x": "`, Pattern: "0123456789abcdef", Suffix: `"}]}`},
		{Name: "message", Prefix: `{"issues": [{"key": "k", "type": "VULNERABILITY", "message": "`, Pattern: `0123456789abcd\\`, Suffix: `"}]}`, Msg: "1 strings longer than 1048576 bytes cut"},
	},
	Limits: func(l importertest.Limits) importers.Parser { return &Parser{jsonguard.Limits(l)} },
	JSON:   &importertest.JSONRecords{Key: "issues", Record: sonarIssue, Records: 19999},
}

// sonarIssue is one issue of a generated report.
const sonarIssue = `{"key": "k", "rule": "java:S1", "component": "p:f", "severity": "MAJOR", "type": "VULNERABILITY"}`

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, spec.FuzzParser, spec,
		`{"issues":[{"key":"k","rule":"r","component":"p:f","project":"p","type":"VULNERABILITY","severity":"BLOCKER","line":3,"tags":["cwe-89"],"resolution":"FALSE-POSITIVE"}],"components":[{"key":"p","name":"P"}],"rules":[{"key":"r","name":"R"}]}`,
		`[{"hotspots":[{"key":"h","component":"p:f","vulnerabilityProbability":"HIGH","resolution":"SAFE"}]},{"issues":[]}]`,
		`{"issues":[{"type":"CODE_SMELL","impacts":[{"softwareQuality":"SECURITY","severity":"BLOCKER"}]},{"type":"BUG"}]}`,
		`{"issues":null}`,
		`[[[[`,
		"{\"issues\":[],\"x\":\"\xc0\"}",
	)
}

// BenchmarkParse parses the largest SonarQube test file and reports findings per second
// beside MB/s.
//
// Its baseline is the floor the parser is measured against: encoding/json
// unmarshalling the same file into an untyped value.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Largest(b, formatName), importertest.BenchJSONBaseline)
}
