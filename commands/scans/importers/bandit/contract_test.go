package bandit

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
)

// golden is what each sample must give. Counts were computed with
//
//	jq -c '[(.results|length), ([.results[] | select((.test_id//"")!="" and (.filename//"")!="")]|length), ([.results[].issue_severity // "none"]|group_by(.)|map({(.[0]):length})|add), ([.results[].issue_cwe.id // empty]|length), (.errors|length)]' FILE
//
// (results, results with a test_id and a filename, severities, results with a CWE, errors).
type golden struct {
	findings, skipped int
	sev               map[importers.Severity]int
	withCWE, errors   int
}

var testdataFiles = map[string]golden{
	// [4,4,{"HIGH":2,"LOW":1,"MEDIUM":1},0,0]
	"bandit_sonar_python_4issues.json": {4, 0, map[importers.Severity]int{importers.High: 2, importers.Medium: 1, importers.Low: 1}, 0, 0},
	// [1,1,{"LOW":1},0,0]
	"bandit_sonar_python_its_project.json": {1, 0, map[importers.Severity]int{importers.Low: 1}, 0, 0},
	// [28,25,{"INVALID":1,"none":27},0,0]: deliberately malformed. Tolerated: the 3 results
	// without a test_id or a filename are skipped with a warning, the line_number "invalid" is
	// left out with a warning, the rest (no severity, or INVALID) are info findings. The three
	// B413 results of bandit/file1.py without code share an identity: occurrence-numbered.
	"bandit_sonar_python_with_errors.json": {25, 3, map[importers.Severity]int{importers.Info: 25}, 0, 0},
	// Own sample (Bandit 1.7 shape: issue_cwe, col_offset, errors[]):
	// [4,4,{"HIGH":2,"LOW":1,"MEDIUM":1},4,1]
	"bandit_1.7_cwe_errors.json": {4, 0, map[importers.Severity]int{importers.High: 2, importers.Medium: 1, importers.Low: 1}, 4, 1},
}

func checkGolden(t *testing.T, rep *importers.Report, want golden) {
	importertest.Counts(t, rep, 1, want.findings, want.sev, "jq over results[]")
	if got := len(importertest.Where(rep, func(f *importers.Finding) bool { return len(f.CWEs) > 0 })); got != want.withCWE {
		t.Errorf("%d findings with a CWE, want %d", got, want.withCWE)
	}
	count := func(sub string) int {
		n := 0
		for _, w := range rep.Warnings {
			if strings.Contains(w, sub) {
				n++
			}
		}
		return n
	}
	if got := count("no test_id or filename: skipped"); got != want.skipped {
		t.Errorf("%d results skipped, want %d: %q", got, want.skipped, rep.Warnings)
	}
	if got := count("bandit could not scan"); got != want.errors {
		t.Errorf("%d error warnings, want %d: %q", got, want.errors, rep.Warnings)
	}
	if rep.Target == nil || rep.Target.Name != "bandit" || rep.Target.Hint != "tool_path" {
		t.Errorf("Target = %+v", rep.Target)
	}
}

// spec is what the contract suite checks of the Bandit parser.
var spec = importertest.Spec{
	Format:     formatName,
	Positioned: true,
	Golden:     importertest.Golden(importertest.Table(testdataFiles, checkGolden)),
	Detect: map[string]bool{
		`{"errors": [], "generated_at": "2024-01-01T00:00:00Z", "metrics": {}, "results": [{"code": "1 x"`: true,
		`{"results": [{"test_id": "B101"}]}`:                  true,
		`{"results": [{"issue_text": "x"}]}`:                  true,
		`{"results": [{}, {"test_id": "B101"}]}`:              true,
		`{"results": [], "generated_at": "x", "metrics": {}}`: true,
		`{"results": []}`:                                     false,
		// A large project: the head ends inside metrics, before results.
		`{"errors": [], "generated_at": "2021-03-30T18:23:12Z", "metrics": {"_totals": {"CONFIDENCE.HIGH": 46.0, "CONF`: true,
		`{"errors": [], "generated_at": "x", "metrics": {"a.py": {"CONFIDENCE.HIGH": 0.0}, "b`:                          true,
		`{"generated_at": "x", "metrics": {"_totals": {"loc": 1`:                                                        false,
		`{"generated_at": {}, "metrics": {"_totals": {"CONFIDENCE.HIGH": 1`:                                             false,
		`{"results": [{}]}`: false,
		`{"results": [{"check_id": "r"}, {"test_id": "B1"}]}`:                       false,
		`{"results": [{"source": {"path": "go.mod"}}], "x": "test_id"}`:             false,
		`{"results": [], "errors": [], "paths": {"scanned": []}, "version": "1.0"}`: false,
		`not json`: false,
	},
	Hostile: []importertest.Hostile{
		{Name: "not an object", In: `[]`, Msg: "expected an object", Line: 1},
		{Name: "no results", In: `{"errors": []}`, Msg: "no results", Line: 1},
		{Name: "results not an array", In: "{\n\"results\": {}}", Msg: "expected an array", Line: 2},
		{Name: "truncated", In: "{\"results\": [\n{\"test_id\": \"B1", Msg: "end of input", Line: 2},
		{Name: "syntax", In: "{\"results\": [\n\n{\"test_id\" \"B1\"}]}", Msg: "invalid character", Line: 3},
		{Name: "invalid UTF-8", In: "{\"results\": [],\n \"generated_at\": \"\xc3\x28\"}", Msg: "UTF-8", Line: 2},
		{Name: "test_id not a string", In: "{\"results\": [\n{\"test_id\": 1}]}", Msg: "test_id", Line: 2},
		{Name: "code not a string", In: "{\"results\": [\n{\"test_id\": \"B1\", \"code\": []}]}", Msg: "code", Line: 2},
		{Name: "trailing data", In: "{\"results\": []}\n}", Msg: "after the report", Line: 2},
	},
	TruncateFile:  "bandit_sonar_python_4issues.json",
	TruncateEvery: 41,
	Nesting:       importertest.JSONNesting(`{"results": [{"issue_cwe": `),
	Bounded: []importertest.Stream{
		{Name: "metrics", Prefix: `{"metrics": {"_totals": [`, Pattern: `{"a":[1,-2.5e3,"s\u00e9",true]},`, Suffix: `0]}, "results": [` + result + `]}`},
		{Name: "issue text", Prefix: `{"results": [{"test_id": "B1", "filename": "a.py", "issue_text": "`, Pattern: `0123456789abcd\\`, Suffix: `"}]}`, Msg: "strings longer than"},
	},
	Limits: func(l importertest.Limits) importers.Parser { return &Parser{jsonguard.Limits(l)} },
	JSON:   &importertest.JSONRecords{Key: "results", Record: result, Records: 19999},
}

// result is one result of a generated report.
const result = `{"test_id": "B605", "test_name": "start_process_with_a_shell", "filename": "a.py", "issue_severity": "HIGH", "line_number": 2, "line_range": [2], "code": "2 os.system(x)\n"}`

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, spec.FuzzParser, spec,
		`{"results":[{"test_id":"B1","filename":"f","code":"7 x\n8 y\n","line_range":[8,9],"issue_cwe":{"id":1}}],"errors":[{"filename":null,"reason":7}]}`,
		`{"results":null,"generated_at":7}`,
		`{{{{{{`,
		"{\"results\":[],\"x\":\"\xc0\"}",
	)
}

// BenchmarkParse parses the largest Bandit test file (bandit_sonar_python_4issues.json,
// 3.2 KB, 4 findings).
//
// Its baseline is the floor the parser is measured against: encoding/json
// unmarshalling the same file into an untyped value.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Largest(b, formatName), importertest.BenchJSONBaseline)
}
