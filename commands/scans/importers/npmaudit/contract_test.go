package npmaudit

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
)

type want struct {
	findings int
	sev      map[importers.Severity]int
	indirect int // packages vulnerable only through a dependency
}

// Findings are the advisory objects of every via[], counted with
//
//	jq -c '[.vulnerabilities[] | .via[] | objects | .severity] | group_by(.) | map({(.[0]): length}) | add' FILE
//
// and the packages whose via[] holds only names with
//
//	jq -c '[.vulnerabilities[] | select([.via[]|objects]|length==0) | .name]' FILE
var files = map[string]want{
	// {"high":4,"moderate":1}; ["github-build"]
	"npm_audit_v2_allowlisted_path_3high.json": {5, map[importers.Severity]int{importers.High: 4, importers.Medium: 1}, 1},
	// {"critical":1}; []
	"npm_audit_v2_critical_1.json": {1, map[importers.Severity]int{importers.Critical: 1}, 0},
	// null; []
	"npm_audit_v2_none.json": {0, nil, 0},
	// {"critical":2,"low":1,"moderate":1}; ["mkdirp"]
	"npm_audit_v2_cvss_cwe_scoped.json": {4, map[importers.Severity]int{importers.Critical: 2, importers.Medium: 1, importers.Low: 1}, 1},
	// npm 6: one finding per advisory,
	// jq -c '[.advisories[] | .severity] | group_by(.) | map({(.[0]): length}) | add' FILE
	// {"critical":1,"low":1,"moderate":1}
	"npm_audit_v1_npm6.json": {3, map[importers.Severity]int{importers.Critical: 1, importers.Medium: 1, importers.Low: 1}, 0},
}

func check(t *testing.T, rep *importers.Report, w want) {
	importertest.Counts(t, rep, 1, w.findings, w.sev, "jq above")
	got := 0
	for _, m := range rep.Warnings {
		if strings.Contains(m, "only through a dependency") {
			got++
		}
	}
	if got != min(w.indirect, 1) {
		t.Errorf("warnings %q: want one about %d indirect packages", rep.Warnings, w.indirect)
	}
}

const oneVuln = `{"auditReportVersion": 2, "vulnerabilities": {"p": {"name": "p", "severity": "low", "via": [{"source": 1, "url": "https://github.com/advisories/GHSA-aaaa-bbbb-cccc", "severity": "low", "range": "<2"}]}}}`

// pkgEntry is one package of a generated report.
const pkgEntry = `, "p": {"name": "p", "severity": "low", "via": [{"source": 1, "severity": "low", "range": "<2"}]}`

var spec = importertest.Spec{
	Format:     formatName,
	Positioned: true,
	Golden:     importertest.Golden(importertest.Table(files, check)),
	Detect: map[string]bool{
		oneVuln: true,
		`{"auditReportVersion": 2, "vulnerabilities": {}}`:               true,
		`{"advisories": {}, "actions": [], "muted": []}`:                 true, // npm 6
		`{"auditReportVersion": 2}`:                                      false,
		`{"vulnerabilities": {}}`:                                        false,
		`{"dependencies": [{"name": "p", "version": "1", "vulns": []}]}`: false,
		`[{"auditReportVersion": 2, "vulnerabilities": {}}]`:             false,
		`not json`: false,
	},
	Hostile: []importertest.Hostile{
		{Name: "empty", In: ``, Msg: "end of input", Line: 1},
		{Name: "not an object", In: `[]`, Msg: "expected an object", Line: 1},
		{Name: "npm 6 advisory without a package", In: "{\"actions\": [],\n \"advisories\": {\"118\": {}}, \"muted\": []}", Msg: "no module_name", Line: 2},
		{Name: "npm 6 advisories in a v2 report", In: "{\"auditReportVersion\": 2,\n \"advisories\": {}, \"vulnerabilities\": {}}", Msg: "advisories map in an auditReportVersion 2 report", Line: 2},
		{Name: "npm error", In: "{\n\"error\": {\"code\": \"ENOAUDIT\", \"summary\": \"registry down\"}}", Msg: "npm audit failed (ENOAUDIT registry down)", Line: 2},
		{Name: "version 1", In: "{\n\"auditReportVersion\": 1, \"vulnerabilities\": {}}", Msg: "npm 7 or later", Line: 2},
		{Name: "no version", In: `{"vulnerabilities": {}}`, Msg: "not an npm audit v2 report", Line: 1},
		{Name: "truncated", In: "{\"auditReportVersion\": 2, \"vulnerabilities\": {\n\"p\": {\"name\": \"p", Msg: "end of input", Line: 2},
		{Name: "syntax", In: "{\"auditReportVersion\": 2,\n\n \"vulnerabilities\" {}}", Msg: "invalid character", Line: 3},
		{Name: "wrong type", In: "{\"auditReportVersion\": 2, \"vulnerabilities\": {\n\"p\": {\"via\": {}}}}", Msg: "via", Line: 2},
		{Name: "score out of range", In: "{\"auditReportVersion\": 2, \"vulnerabilities\": {\n\"p\": {\"via\": [{\"cvss\": {\"score\": 11}}]}}}", Msg: "[0, 10]", Line: 2},
		{Name: "invalid UTF-8", In: "{\"auditReportVersion\": 2,\n \"x\": \"\xc3\x28\", \"vulnerabilities\": {}}", Msg: "UTF-8", Line: 2},
		{Name: "trailing data", In: "{\"auditReportVersion\": 2, \"vulnerabilities\": {}}\n]", Msg: "after the report", Line: 2},
	},
	TruncateFile:  "npm_audit_v2_allowlisted_path_3high.json",
	TruncateEvery: 53,
	Nesting:       importertest.JSONNesting(`{"auditReportVersion": 2, "vulnerabilities": {"p": {"via": [`),
	Bounded: []importertest.Stream{
		{Name: "unknown string", Prefix: `{"auditReportVersion": 2, "x": "`, Pattern: "0123456789abcdef", Suffix: `", "vulnerabilities": {}}`},
		{Name: "metadata", Prefix: `{"auditReportVersion": 2, "vulnerabilities": {}, "metadata": [`, Pattern: `{"a":[1,-2.5e3,"s\u00e9",true]},`, Suffix: `0]}`},
		{Name: "advisory title", Prefix: `{"auditReportVersion": 2, "vulnerabilities": {"p": {"via": [{"source": 1, "title": "`, Pattern: `0123456789abcd\\`, Suffix: `"}]}}}`, Msg: "strings longer than"},
	},
	Limits:    func(l importertest.Limits) importers.Parser { return &Parser{jsonguard.Limits(l)} },
	OverLimit: `{"auditReportVersion": 2, "x": "` + strings.Repeat("a", 2000) + `", "vulnerabilities": {}}`,
	Cancelled: oneVuln,
	CancelStreams: []importertest.Stream{{
		Name:    "while reading packages",
		Prefix:  `{"auditReportVersion": 2, "vulnerabilities": {"p": {"via": []}`,
		Pattern: pkgEntry,
		Size:    20000 * int64(len(pkgEntry)),
		Suffix:  `}}`,
	}},
}

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, spec.FuzzParser, spec,
		oneVuln,
		`{"auditReportVersion":2,"vulnerabilities":{"@s/p":{"name":"@s/p","severity":"high","isDirect":true,"via":[{"source":2,"title":"t","cwe":["CWE-79"],"cvss":{"score":7.5,"vectorString":"CVSS:3.1/AV:N"},"range":"<1"},"q",null,3],"nodes":["node_modules/@s/p"],"fixAvailable":{"name":"@s/p","version":"1.0.0","isSemVerMajor":true}}}}`,
		`{"auditReportVersion":2,"vulnerabilities":{"q":{"via":["p"],"fixAvailable":true}}}`,
		`{"advisories":{},"actions":[]}`,
		`{{{{`,
	)
}

// BenchmarkParse parses the largest npm audit test file and reports findings per second
// beside MB/s.
//
// Its baseline is the floor the parser is measured against: encoding/json
// unmarshalling the same file into an untyped value.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Largest(b, formatName), importertest.BenchJSONBaseline)
}
