package semgrep

import (
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
)

// golden is what each sample must give. Counts were computed with
//
//	jq -c '[(.results|length), ([.results[].extra.severity]|group_by(.)|map({(.[0]):length})|add), ([.results[].extra.metadata.cwe // empty]|length), (.errors|length)]' FILE
//
// (results, severities, results with a CWE, errors).
type golden struct {
	findings int
	sev      map[importers.Severity]int
	withCWE  int
}

var testdataFiles = map[string]golden{
	// [1,{"WARNING":1},0,0]
	"semgrep_cli_dataflow_traces.json": {1, map[importers.Severity]int{importers.Medium: 1}, 0},
	// [8,{"ERROR":8},0,0]: two rules matching the same two lines of two files; Semgrep's
	// match-based fingerprints (…_0, …_1) keep all eight apart.
	"semgrep_cli_duplicate_matches_8results.json": {8, map[importers.Severity]int{importers.High: 8}, 0},
	// [1,{"ERROR":1},0,0]
	"semgrep_minimal_metadata.json": {1, map[importers.Severity]int{importers.High: 1}, 0},
	// [1,{"WARNING":1},1,0]
	"semgrep_python_injection.json": {1, map[importers.Severity]int{importers.Medium: 1}, 1},
	// [2,{"WARNING":2},2,0]
	"semgrep_python_injection_multiresult.json": {2, map[importers.Severity]int{importers.Medium: 2}, 2},
}

func checkGolden(t *testing.T, rep *importers.Report, want golden) {
	importertest.Counts(t, rep, 1, want.findings, want.sev, "jq over results[]")
	if got := len(importertest.Where(rep, func(f *importers.Finding) bool { return len(f.CWEs) > 0 })); got != want.withCWE {
		t.Errorf("%d findings with a CWE, want %d", got, want.withCWE)
	}
	if rep.Target == nil || rep.Target.Name != "semgrep" || rep.Target.Hint != "tool_path" {
		t.Errorf("Target = %+v", rep.Target)
	}
	for _, f := range rep.Findings {
		if f.RuleID == "" || f.Location.File == "" || f.Location.Line == 0 {
			t.Errorf("finding %+v lacks its rule or location", f)
		}
	}
}

// spec is what the contract suite checks of the Semgrep parser.
var spec = importertest.Spec{
	Format:     formatName,
	Positioned: true,
	Golden:     importertest.Golden(importertest.Table(testdataFiles, checkGolden)),
	Detect: map[string]bool{
		`{"results": [{"check_id": "r", "path": "a.py"`:           true,
		`{"errors": [], "results": [], "paths": {"scanned": []}}`: true,
		`{"results": [], "errors": [], "version": "1.2.3"}`:       true,
		`{"results": []}`: false,
		"{\n  \"results\": [],\n  \"errors\": []\n}\n":                      true, // Semgrep 0.x, an empty scan
		`{"results": [], "errors": [{}]}`:                                   false,
		`{"results": [], "errors": [], "x": 1}`:                             false,
		`{"results": [], "errors": []`:                                      false,
		`{"results": [{"test_id": "B101"}]}`:                                false,
		`{"results": [], "errors": [], "generated_at": "x", "metrics": {}}`: false,
		`{"results": [{"source": {"path": "go.mod"}, "packages": []}]}`:     false,
		`[{"RuleID": "x", "Secret": "y"}]`:                                  false,
		`not json`:                                                          false,
	},
	Hostile: []importertest.Hostile{
		{Name: "not an object", In: `[]`, Msg: "expected an object", Line: 1},
		{Name: "no results", In: `{"errors": []}`, Msg: "no results", Line: 1},
		{Name: "supply chain export", In: `{"vulns": [{"title": "t", "advisory": {}}], "cursor": "c"}`, Msg: "Supply Chain", Line: 1},
		{Name: "results not an array", In: "{\n\"results\": {}}", Msg: "expected an array", Line: 2},
		{Name: "truncated", In: "{\"results\": [\n{\"check_id\": \"r", Msg: "end of input", Line: 2},
		{Name: "syntax", In: "{\"results\": [\n\n{\"check_id\" \"r\"}]}", Msg: "invalid character", Line: 3},
		{Name: "invalid UTF-8", In: "{\"results\": [],\n \"version\": \"\xc3\x28\"}", Msg: "UTF-8", Line: 2},
		{Name: "check_id not a string", In: "{\"results\": [\n{\"check_id\": 1}]}", Msg: "check_id", Line: 2},
		{Name: "negative line", In: "{\"results\": [\n{\"check_id\": \"r\", \"start\": {\"line\": -3}}]}", Msg: "line", Line: 2},
		{Name: "trailing data", In: "{\"results\": []}\n}", Msg: "after the report", Line: 2},
	},
	TruncateFile:  "semgrep_cli_dataflow_traces.json",
	TruncateEvery: 53,
	Nesting:       importertest.JSONNesting(`{"results": [{"extra": {"metadata": `),
	Bounded: []importertest.Stream{
		{Name: "unknown array", Prefix: `{"skipped_rules": [`, Pattern: `{"a":[1,-2.5e3,"s\u00e9",true]},`, Suffix: `0], "results": [` + result + `]}`},
		{Name: "message", Prefix: `{"results": [{"check_id": "r", "path": "a", "extra": {"message": "`, Pattern: `0123456789abcd\\`, Suffix: `"}}]}`, Msg: "strings longer than"},
	},
	Limits: func(l importertest.Limits) importers.Parser { return &Parser{jsonguard.Limits(l)} },
	JSON:   &importertest.JSONRecords{Key: "results", Record: result, Records: 19999},
}

// result is one result of a generated report.
const result = `{"check_id": "r.x", "path": "a.py", "start": {"line": 1, "col": 1}, "extra": {"message": "m", "severity": "INFO", "lines": "x = 1"}}`

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, spec.FuzzParser, spec,
		`{"results":[{"check_id":"r","path":"p","start":{"line":1,"col":2},"extra":{"severity":"HIGH","fingerprint":"abc","lines":"x"}}],"errors":[{"message":"e"}]}`,
		`{"results":[],"errors":[{"type":7,"level":null}],"version":null}`,
		`{"results":null}`,
		`{{{{{{`,
		"{\"results\":[],\"x\":\"\xc0\"}",
	)
}

// BenchmarkParse parses the largest Semgrep test file
// (semgrep_cli_duplicate_matches_8results.json, 8.5 KB, 8 findings).
//
// Its baseline is the floor the parser is measured against: encoding/json
// unmarshalling the same file into an untyped value.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Largest(b, formatName), importertest.BenchJSONBaseline)
}
