package depcheck

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
)

// ns is the namespace of a current XML report.
const ns = `xmlns="https://jeremylong.github.io/DependencyCheck/dependency-check.4.0.xsd"`

// spec is what the contract suite checks of the Dependency-Check parser, both encodings.
var spec = importertest.Spec{
	Format: formatName,
	Check:  func(tb testing.TB, rep *importers.Report) { importertest.CheckReportBasic(tb, rep, formatName) },
	Golden: importertest.Golden(importertest.Table(testdataFiles, checkFile)),
	Detect: map[string]bool{
		`<?xml version="1.0"?><analysis ` + ns + `>`:                                                         true,
		`<analysis xmlns="https://jeremylong.github.io/DependencyCheck/dependency-check.1.3.xsd"><scanInfo>`: true,
		`<dc:analysis xmlns:dc="https://jeremylong.github.io/DependencyCheck/dependency-check.2.5.xsd">`:     true,
		`<analysis xmlns="http://example.com/analysis">`:                                                     false,
		`<analysis>`:                false,
		`<dependencies ` + ns + `>`: false,
		`{"reportSchema": "1.1", "scanInfo": {"engineVersion": "9.0.0"}}`: true,
		`{"reportSchema": "1.1", "dependencies": []}`:                     true,
		`{"reportSchema": "1.1"}`:                                         false,
		`{"scanInfo": {}, "dependencies": []}`:                            false,
		`[{"reportSchema": "1.1", "scanInfo": {}}]`:                       false,
		`{"results": [{"packages": []}]}`:                                 false,
		`not a report`:                                                    false,
	},
	Hostile: []importertest.Hostile{
		{Name: "empty", In: ``, Msg: "end of input"},
		{Name: "json not an object", In: `[]`, Msg: "expected an object"},
		{Name: "json no reportSchema", In: `{"dependencies": []}`, Msg: "no reportSchema"},
		{Name: "json truncated", In: "{\"reportSchema\": \"1.1\", \"dependencies\": [\n{\"fileName\": \"a.jar\"", Msg: "end of input"},
		{Name: "json syntax", In: "{\"reportSchema\": \"1.1\",\n\"dependencies\" []}", Msg: "invalid character"},
		{Name: "json invalid UTF-8", In: "{\"reportSchema\": \"1.1\", \"dependencies\": [{\"fileName\": \"\xc3\x28\"}]}", Msg: "UTF-8"},
		{Name: "json score out of range", In: `{"reportSchema": "1.1", "dependencies": [{"vulnerabilities": [{"name": "CVE-2024-0001", "cvssv3": {"baseScore": 11}}]}]}`, Msg: "[0, 10]"},
		{Name: "json wrong type", In: `{"reportSchema": "1.1", "dependencies": [{"fileName": [1]}]}`, Msg: "fileName"},
		{Name: "json trailing data", In: "{\"reportSchema\": \"1.1\"}\n]", Msg: "after the report"},
		{Name: "xml not an analysis", In: `<analysis xmlns="http://example.com/a"/>`, Msg: "not a Dependency-Check <analysis>"},
		{Name: "xml truncated", In: `<analysis ` + ns + `><dependencies><dependency><fileName>a.jar</fileName>`, Msg: "EOF"},
		{Name: "xml malformed", In: `<analysis ` + ns + `><dependencies></dependency></analysis>`, Msg: "malformed XML"},
		{Name: "xml entity", In: `<!DOCTYPE analysis [<!ENTITY x "y">]><analysis ` + ns + `/>`, Msg: "entit"},
		{Name: "xml second root", In: `<analysis ` + ns + `/><analysis/>`, Msg: "second root"},
	},
	TruncateFile:  "dependency_check_own_json_npm.json",
	TruncateEvery: 97,
	Nesting: append(importertest.JSONNesting(`{"reportSchema": "1.1", "dependencies": [{"vulnerabilities": `),
		importertest.Stream{Name: "xml deep", Prefix: `<analysis ` + ns + `><dependencies><dependency>`, Pattern: "<a>", Msg: "nested deeper"}),
	Huge: []importertest.Stream{
		{Name: "xml text", Prefix: `<analysis ` + ns + `><dependencies><dependency><description>`, Pattern: "0123456789abcdef", Suffix: `</description></dependency></dependencies></analysis>`, Msg: "without a '<'"},
	},
	Bounded: []importertest.Stream{
		{Name: "unknown string", Prefix: `{"reportSchema": "1.1", "dependencies": [` + jsonDep + `], "x": "`, Pattern: "0123456789abcdef", Suffix: `"}`},
		{Name: "unknown array", Prefix: `{"reportSchema": "1.1", "x": [`, Pattern: `{"a":[1,-2.5e3,"s\u00e9",true]},`, Suffix: `0], "dependencies": [` + jsonDep + `]}`},
		{Name: "evidence of a dependency", Prefix: `{"reportSchema": "1.1", "dependencies": [{"fileName": "a.jar", "evidenceCollected": "`, Pattern: "0123456789abcdef", Suffix: `"}]}`},
		{Name: "description", Prefix: `{"reportSchema": "1.1", "dependencies": [{"fileName": "a.jar", "vulnerabilities": [{"name": "CVE-2024-0001", "description": "`, Pattern: `0123456789abcd\\`, Suffix: `"}]}]}`, Msg: "1 strings longer than 1048576 bytes cut"},
	},
	Limits:    func(l importertest.Limits) importers.Parser { return &Parser{jsonguard.Limits(l)} },
	OverLimit: `{"reportSchema": "1.1", "x": "` + strings.Repeat("a", 2000) + `"}`,
	Cancelled: `{"reportSchema": "1.1", "dependencies": []}`,
	CancelStreams: []importertest.Stream{
		{Name: "json dependencies", Prefix: `{"reportSchema": "1.1", "dependencies": [` + jsonDep, Pattern: "," + jsonDep, Size: 19999 * int64(len(","+jsonDep)), Suffix: `]}`},
		{Name: "xml dependencies", Prefix: `<analysis ` + ns + `><dependencies>`, Pattern: xmlDepRecord, Size: 1 << 40, CancelAfter: 64 << 10},
	},
}

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, spec.FuzzParser, spec,
		`{"reportSchema":"1.1","projectInfo":{"name":"p"},"dependencies":[`+jsonDep+`,{"fileName":"b.js","sha256":"ab","vulnerabilities":[{"source":"NSP","name":"3","severity":"Unknown","cvssv2":{"score":6.5}}],"suppressedVulnerabilities":[{"name":"CVE-2020-0001","notes":"n"}]}]}`,
		`<analysis `+ns+`><projectInfo><name>p</name></projectInfo><dependencies>`+xmlDepRecord+`</dependencies></analysis>`,
		`<analysis xmlns="https://jeremylong.github.io/DependencyCheck/dependency-check.1.6.xsd"><dependencies><dependency><fileName>a:1</fileName><identifiers><identifier type="npm"><name>(a:1)</name></identifier></identifiers><vulnerabilities><vulnerability source="NSP"><name>8</name><cvssScore>x</cvssScore><cwe>CWE-79 XSS</cwe></vulnerability></vulnerabilities></dependency></dependencies></analysis>`,
		`{"reportSchema":1,"dependencies":null}`,
		`<analysis `,
		`{{{{{{`,
		"{\"reportSchema\":\"1\",\"x\":\"\xc0\"}",
	)
}

// jsonDep and xmlDepRecord are one dependency of a generated report.
const (
	jsonDep      = `{"fileName": "a-1.jar", "filePath": "/lib/a-1.jar", "packages": [{"id": "pkg:maven/g/a@1"}], "vulnerabilities": [{"source": "NVD", "name": "CVE-2024-0001", "severity": "LOW"}]}`
	xmlDepRecord = `<dependency><fileName>a-1.jar</fileName><packages><package><id>pkg:maven/g/a@1</id></package></packages><vulnerabilities><vulnerability source="NVD"><name>CVE-2024-0001</name><severity>LOW</severity></vulnerability></vulnerabilities></dependency>`
)

// BenchmarkParse parses the largest Dependency-Check test file (the shared
// dependency_check_3.1.1_nodejs.xml, 9.7 KB, 2 findings) and reports findings per second beside
// MB/s.
//
// Its baseline is the floor the parser is measured against (the largest file is XML):
// encoding/xml reading every token of it, no checks and no decoding into structs.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Largest(b, formatName), importertest.BenchXMLBaseline)
}

// BenchmarkBaselineUnmarshal is the JSON floor: encoding/json unmarshalling the JSON sample into
// an untyped value.
func BenchmarkBaselineUnmarshal(b *testing.B) {
	importertest.BenchJSONBaseline(b, importertest.File(b, formatName, "dependency_check_own_json_npm.json"))
}
