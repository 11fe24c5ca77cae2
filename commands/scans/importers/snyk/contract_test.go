package snyk

import (
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
)

// spec is what the contract suite checks of the Snyk parser.
var spec = importertest.Spec{
	Format:     formatName,
	Check:      func(tb testing.TB, rep *importers.Report) { importertest.CheckReportBasic(tb, rep, formatName) },
	Positioned: true,
	Golden:     importertest.Golden(importertest.Table(testdataFiles, checkFile)),
	Detect: map[string]bool{
		`{"vulnerabilities": [{"id": "SNYK-JS-X-1", "packageName": "x"}]}`:   true,
		`[{"vulnerabilities": [{"title": "t", "from": ["a@1", "x@1"]}]}]`:    true,
		`{"vulnerabilities": [{"description": "cut here`:                     false,
		`{"vulnerabilities": [], "ok": true, "packageManager": "npm"}`:       true,
		`{"vulnerabilities": [], "packageManager": "npm", "uniqueCount": 0}`: true,
		`{"vulnerabilities": []}`:                                            false,
		`{"vulnerabilities": [{"id": "GHSA-1", "source": "x"}]}`:             false,
		`{"vulnerabilities": {"x": {"name": "x"}}, "auditReportVersion": 2}`: false,
		`{"results": [{"packages": []}]}`:                                    false,
		`[1, 2]`:                                                             false,
		`{"matches": [{"vulnerability": {"id": "CVE-1"}, "artifact": {}}]}`:  false,
		`not json`: false,
	},
	Hostile: []importertest.Hostile{
		{Name: "not an object", In: `"x"`, Msg: "expected an object", Line: 1},
		{Name: "no projects", In: `[]`, Msg: "empty array of projects", Line: 1},
		{Name: "no vulnerabilities", In: "[\n{\"ok\": true}]", Msg: "no vulnerabilities", Line: 2},
		{Name: "Snyk Code SARIF", In: "{\"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\", \"version\": \"2.1.0\",\n\"runs\": []}", Msg: "import it as sarif", Line: 1},
		{Name: "snyk error", In: "{\"ok\": false,\n \"error\": \"Could not detect supported target files\", \"path\": \".\"}", Msg: "Could not detect supported target files", Line: 1},
		{Name: "truncated", In: "{\"vulnerabilities\": [\n{\"id\": \"SNYK-1\"", Msg: "end of input", Line: 2},
		{Name: "syntax", In: "{\"vulnerabilities\": [\n\n{\"id\" 1}]}", Msg: "invalid character", Line: 3},
		{Name: "invalid UTF-8", In: "{\"vulnerabilities\": [],\n \"path\": \"\xc3\x28\"}", Msg: "UTF-8", Line: 2},
		{Name: "score out of range", In: "{\"vulnerabilities\": [\n{\"id\": \"SNYK-1\", \"cvssScore\": 11}]}", Msg: "[0, 10]", Line: 2},
		{Name: "wrong type", In: "{\"vulnerabilities\": [\n{\"id\": \"SNYK-1\", \"packageName\": [1]}]}", Msg: "packageName", Line: 2},
		{Name: "path not a string", In: "{\"vulnerabilities\": [],\n \"path\": {}}", Line: 2},
	},
	TruncateFile:  "snyk_test_basic_npm_array.json",
	TruncateEvery: 97,
	Nesting:       importertest.JSONNesting(`{"vulnerabilities": [{"identifiers": `),
	Bounded: []importertest.Stream{
		{Name: "unknown array", Prefix: `[{"x": [`, Pattern: `{"a":[1,-2.5e3,"s\u00e9",true]},`, Suffix: `0], "vulnerabilities": [` + snykVuln + `]}]`},
		{Name: "unknown member of a vulnerability", Prefix: `{"vulnerabilities": [{"id": "SNYK-1", "packageName": "p", "x": "`, Pattern: "0123456789abcdef", Suffix: `"}]}`},
		{Name: "description", Prefix: `{"vulnerabilities": [{"id": "SNYK-1", "description": "`, Pattern: `0123456789abcd\\`, Suffix: `"}]}`, Msg: "1 strings longer than 1048576 bytes cut"},
	},
	Limits: func(l importertest.Limits) importers.Parser { return &Parser{jsonguard.Limits(l)} },
	JSON:   &importertest.JSONRecords{Key: "vulnerabilities", Record: snykVuln, Records: 19999},
}

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, spec.FuzzParser, spec,
		`{"vulnerabilities":[{"id":"SNYK-JS-A-1","severity":"high","packageName":"a","version":"1","from":["app@1","a@1"],"identifiers":{"CVE":["CVE-2024-0001"],"CWE":["CWE-79"],"GHSA":["GHSA-aaaa-bbbb-cccc"]},"CVSSv3":"CVSS:3.1/AV:N","cvssScore":7.5,"fixedIn":["2"],"semver":{"vulnerable":["<2"]}},{"id":"SNYK-JS-A-1","severity":"high","packageName":"a","version":"1","from":["app@1","b@1","a@1"]}],"packageManager":"npm","projectName":"app","filtered":{"ignore":[{"id":"SNYK-JS-B-2","packageName":"b","version":"1","filtered":{"ignored":[{"reasonType":"not-vulnerable","reason":"r"}]}}],"patch":[]}}`,
		`[{"vulnerabilities":[],"docker":{"baseImage":"alpine:3"},"path":"img:1","projectName":"docker-image|img"},{"vulnerabilities":[{"id":"x","packageName":"p","version":"1"}],"path":"img:1","targetFile":"/package.json"}]`,
		`{"ok":false,"error":{"message":"boom"}}`,
		`{"vulnerabilities":[{"semver":{"vulnerable":7},"cvssScore":"9.1"}]}`,
		`[]`,
		`{{{{{{`,
		"{\"vulnerabilities\":[],\"x\":\"\xc0\"}",
	)
}

// snykVuln is one vulnerability of a generated report.
const snykVuln = `{"id": "SNYK-JS-P-1", "severity": "low", "packageName": "p", "version": "1", "from": ["app@1", "p@1"]}`

// BenchmarkParse parses the largest Snyk test file (snyk_test_npm_more_paths_than_vulns.json,
// 172 KB, 44 dependency paths in 29 findings) and reports findings per second beside MB/s.
//
// Its baseline is the floor the parser is measured against: encoding/json
// unmarshalling the same file into an untyped value, with no checks and no normalisation.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Largest(b, formatName), importertest.BenchJSONBaseline)
}
