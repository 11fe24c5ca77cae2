package pipaudit

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
)

type want struct {
	findings int
	skipped  int
}

// Findings are the vulns of every dependency and skipped dependencies those with a
// skip_reason, counted with
//
//	jq -c '[(.dependencies? // .)[] | .vulns[]?] | length' FILE
//	jq -c '[(.dependencies? // .)[] | select(.skip_reason) | .name]' FILE
var files = map[string]want{
	"pip_audit_1x_array.json":        {1, 0}, // 1; []
	"pip_audit_2x_requirements.json": {3, 1}, // 3; ["my-private-lib"]
}

func check(t *testing.T, rep *importers.Report, w want) {
	// pip-audit gives no severity: every finding is medium.
	importertest.Counts(t, rep, 1, w.findings, map[importers.Severity]int{importers.Medium: w.findings}, "jq above")
	got := 0
	for _, m := range rep.Warnings {
		if strings.Contains(m, "skipped by pip-audit") {
			got++
		}
	}
	if got != min(w.skipped, 1) {
		t.Errorf("warnings %q: want one about %d skipped dependencies", rep.Warnings, w.skipped)
	}
}

const oneDep = `{"name": "p", "version": "1", "vulns": [{"id": "PYSEC-2024-1", "fix_versions": ["2"]}]}`

const report = `{"dependencies": [` + oneDep + `], "fixes": []}`

var spec = importertest.Spec{
	Format:     formatName,
	Positioned: true,
	Golden:     importertest.Golden(importertest.Table(files, check)),
	Detect: map[string]bool{
		report:                              true,
		`[` + oneDep + `]`:                  true,
		`{"dependencies": [], "fixes": []}`: true,
		`{"dependencies": [{"name": "p", "skip_reason": "not on PyPI"}]}`:                         true,
		`{"dependencies": [{"name": "p", "version": "1", "vulns": [{"id": "PYSEC-2024-1", "descr`: true,
		`{"dependencies": []}`: false,
		`{"bomFormat": "CycloneDX", "dependencies": [{"ref": "a"}]}`:       false,
		`{"dependencies": [{"fileName": "a.jar", "vulnerabilities": []}]}`: false,
		`[{"name": "p", "vulns": []}]`:                                     false,
		`[{"vulnerabilities": [], "packageManager": "npm"}]`:               false,
		`not json`: false,
	},
	Hostile: []importertest.Hostile{
		{Name: "empty", In: ``, Msg: "end of input", Line: 1},
		{Name: "not an object", In: `"x"`, Msg: "expected an object", Line: 1},
		{Name: "no dependencies", In: `{"fixes": []}`, Msg: "no dependencies", Line: 1},
		{Name: "truncated", In: "{\"dependencies\": [\n{\"name\": \"p", Msg: "end of input", Line: 2},
		{Name: "truncated array", In: "[\n" + oneDep + ",", Msg: "end of input", Line: 2},
		{Name: "syntax", In: "{\"dependencies\":\n\n [{\"name\" \"p\"}]}", Msg: "invalid character", Line: 3},
		{Name: "wrong type", In: "{\"dependencies\": [\n{\"name\": \"p\", \"vulns\": [{\"id\": 1}]}]}", Msg: "id", Line: 2},
		{Name: "invalid UTF-8", In: "{\"dependencies\": [],\n \"x\": \"\xc3\x28\"}", Msg: "UTF-8", Line: 2},
		{Name: "trailing data", In: "[]\n]", Msg: "after the report", Line: 2},
	},
	TruncateFile:  "pip_audit_2x_requirements.json",
	TruncateEvery: 61,
	Nesting:       importertest.JSONNesting(`{"dependencies": [{"vulns": `),
	Bounded: []importertest.Stream{
		{Name: "unknown string", Prefix: `{"x": "`, Pattern: "0123456789abcdef", Suffix: `", "dependencies": [` + oneDep + `]}`},
		{Name: "fixes", Prefix: `{"dependencies": [], "fixes": [`, Pattern: `{"a":[1,-2.5e3,"s\u00e9",true]},`, Suffix: `0]}`},
		{Name: "description", Prefix: `{"dependencies": [{"name": "p", "version": "1", "vulns": [{"id": "PYSEC-1", "description": "`, Pattern: `0123456789abcd\\`, Suffix: `"}]}]}`, Msg: "strings longer than"},
	},
	Limits:    func(l importertest.Limits) importers.Parser { return &Parser{jsonguard.Limits(l)} },
	OverLimit: `{"dependencies": [], "x": "` + strings.Repeat("a", 2000) + `"}`,
	Cancelled: report,
	CancelStreams: []importertest.Stream{{
		Name:    "while reading dependencies",
		Prefix:  `[` + oneDep,
		Pattern: "," + oneDep,
		Size:    20000 * int64(len(","+oneDep)),
		Suffix:  `]`,
	}},
}

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, spec.FuzzParser, spec,
		report,
		`[`+oneDep+`]`,
		`{"dependencies":[{"name":"Foo.Bar","version":"1","vulns":[{"id":"GHSA-aaaa-bbbb-cccc","aliases":["CVE-2024-1"],"fix_versions":[]}]},{"name":"x","skip_reason":"r"}]}`,
		`{"dependencies":null}`,
		`[[[[`,
	)
}

// BenchmarkParse parses the largest pip-audit sample and reports findings per second
// beside MB/s.
//
// Its baseline is the floor the parser is measured against: encoding/json
// unmarshalling the same file into an untyped value.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Largest(b, formatName), importertest.BenchJSONBaseline)
}
