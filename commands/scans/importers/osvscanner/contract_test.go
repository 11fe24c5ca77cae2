package osvscanner

import (
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
)

// spec is what the contract suite checks of the OSV-Scanner parser.
var spec = importertest.Spec{
	Format:     formatName,
	Check:      func(tb testing.TB, rep *importers.Report) { importertest.CheckReportBasic(tb, rep, formatName) },
	Positioned: true,
	Golden:     importertest.Golden(importertest.Table(testdataFiles, checkFile)),
	Detect: map[string]bool{
		`{"results": [{"source": {"path": "go.mod", "type": "lockfile"}, "packages": []}]}`: true,
		`{"results": [{"packages": [{"package": {"name": "x"`:                               true,
		`{"results": []}`: false,
		`{"results": [{"check_id": "r", "path": "a.py", "start": {}}], "errors": []}`: false,
		`{"results": [{"test_id": "B101", "filename": "a.py"}], "generated_at": "x"}`: false,
		`{"Results": [{"Target": "x"}], "SchemaVersion": 2}`:                          false,
		`{"vulnerabilities": [{"id": "SNYK-1", "packageName": "x"}]}`:                 false,
		`not json`: false,
	},
	Hostile: []importertest.Hostile{
		{Name: "not an object", In: `[]`, Msg: "expected an object", Line: 1},
		{Name: "no results", In: `{"x": 1}`, Msg: "no results", Line: 1},
		{Name: "truncated", In: "{\"results\": [\n{\"packages\": [{\"package\"", Msg: "end of input", Line: 2},
		{Name: "syntax", In: "{\"results\": [\n\n{\"packages\" []}]}", Msg: "invalid character", Line: 3},
		{Name: "invalid UTF-8", In: "{\"results\": [\n{\"source\": {\"path\": \"\xc3\x28\"}}]}", Msg: "UTF-8", Line: 2},
		{Name: "wrong type", In: "{\"results\": [{\"packages\": [\n{\"package\": {\"name\": [1]}}]}]}", Msg: "package.name", Line: 2},
		{Name: "source not an object", In: "{\"results\": [\n{\"source\": 1}]}", Line: 2},
	},
	TruncateFile:  "osv_scanner_results_gomod_cargo.json",
	TruncateEvery: 97,
	Nesting:       importertest.JSONNesting(`{"results": [{"packages": [{"vulnerabilities": `),
	Bounded: []importertest.Stream{
		{Name: "unknown array", Prefix: `{"x": [`, Pattern: `{"a":[1,-2.5e3,"s\u00e9",true]},`, Suffix: `0], "results": [` + osvResult + `]}`},
		{Name: "unknown member of a result", Prefix: `{"results": [{"source": {"path": "a/go.mod"}, "x": "`, Pattern: "0123456789abcdef", Suffix: `"}]}`},
		{Name: "details", Prefix: `{"results": [{"packages": [{"package": {"name": "p", "version": "1", "ecosystem": "Go"}, "vulnerabilities": [{"id": "GO-1", "details": "`, Pattern: `0123456789abcd\\`, Suffix: `"}]}]}]}`, Msg: "1 strings longer than 1048576 bytes cut"},
	},
	Limits: func(l importertest.Limits) importers.Parser { return &Parser{jsonguard.Limits(l)} },
	JSON:   &importertest.JSONRecords{Key: "results", Record: osvResult, Records: 9999},
}

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, spec.FuzzParser, spec,
		`{"results":[{"source":{"path":"/a/go.mod","type":"lockfile"},"packages":[{"package":{"name":"p","version":"1","ecosystem":"Go"},"vulnerabilities":[{"id":"GO-1","aliases":["CVE-2024-1","GHSA-aaaa-bbbb-cccc"],"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N"}],"database_specific":{"severity":"HIGH","cwe_ids":["CWE-79"]},"affected":[{"package":{"name":"p"},"ranges":[{"events":[{"fixed":"2"}]}]}]}],"groups":[{"ids":["GO-1"],"aliases":["CVE-2024-1"],"max_severity":"9.8"}]}]}]}`,
		`{"results":[{"source":{"path":"b/x"},"packages":[{"package":{"name":"p"},"vulnerabilities":[{"id":"X-1"}],"groups":[{"ids":[]}]}]},{"source":{"path":"c/y"}}]}`,
		`{"results":[{"packages":[{"vulnerabilities":[{"id":"A"},{"id":"A"}],"groups":[{"ids":["A"],"max_severity":"x"}]}]}]}`,
		`{"results":null}`,
		`{{{{{{`,
		"{\"results\":[],\"x\":\"\xc0\"}",
	)
}

// osvResult is one source of a generated report.
const osvResult = `{"source": {"path": "/src/go.mod", "type": "lockfile"}, "packages": [{"package": {"name": "p", "version": "1", "ecosystem": "Go"}, "vulnerabilities": [{"id": "GO-2024-0001"}], "groups": [{"ids": ["GO-2024-0001"]}]}]}`

// BenchmarkParse parses the largest OSV-Scanner test file (osv_scanner_results_gomod_cargo.json,
// 15 KB, 2 findings) and reports findings per second beside MB/s.
//
// Its baseline is the floor the parser is measured against: encoding/json
// unmarshalling the same file into an untyped value, with no checks and no normalisation.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Largest(b, formatName), importertest.BenchJSONBaseline)
}
