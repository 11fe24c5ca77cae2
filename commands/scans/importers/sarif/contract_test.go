package sarif

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
)

// check holds for every report; SARIF fingerprints are also unique.
func check(tb testing.TB, rep *importers.Report) {
	importertest.CheckReportBasic(tb, rep, formatName)
	importertest.UniqueFingerprints(tb, rep)
}

// spec is what the contract suite checks of the SARIF parser.
var spec = importertest.Spec{
	Format:     formatName,
	Check:      check,
	Positioned: true,
	Golden:     importertest.Golden(importertest.Table(testdataFiles, checkTool), importertest.Table(variantFiles, checkVariant)),
	Detect: map[string]bool{
		`{"version": "2.1.0", "runs": []}`:                                       true,
		`{"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "runs": [`: true,
		`{"runs": [{"tool": {"driver": {"name": "x", "rules": [`:                 true,
		`{"runs": [{"results": []}]}`:                                            false,
		`{"version": "2.1.0", "runs": 5}`:                                        false,
		`{"SchemaVersion": 2, "ArtifactName": "x"}`:                              false,
		`{"bomFormat": "CycloneDX", "specVersion": "1.5"}`:                       false,
		`[]`: false,
	},
	Hostile: []importertest.Hostile{
		{Name: "empty", In: ``, Msg: "end of input", Line: 1},
		{Name: "not an object", In: `42`, Msg: "expected an object", Line: 1},
		{Name: "no runs", In: `{"version": "2.1.0"}`, Msg: "no runs", Line: 1},
		{Name: "version 1", In: "{\n\"version\": \"1.0.0\", \"runs\": []}", Msg: "not supported", Line: 2},
		{Name: "runs not an array", In: `{"runs": {}}`, Msg: "expected an array", Line: 1},
		{Name: "truncated", In: "{\"runs\": [{\"results\": [\n{\"ruleId\": \"x\", \"message\": {\"text\": \"abc", Msg: "end of input", Line: 2},
		{Name: "syntax", In: "{\"runs\": [\n{\"results\": [}]}", Msg: "invalid character", Line: 2},
		{Name: "invalid UTF-8", In: "{\"runs\": [{\"results\": [\n{\"message\": {\"text\": \"a\xed\xa0\x80\"}}]}]}", Msg: "UTF-8", Line: 2},
		{Name: "negative line", In: "{\"runs\": [{\"results\": [\n{\"locations\": [{\"physicalLocation\": {\"region\": {\"startLine\": -3}}}]}]}]}", Msg: "line/column", Line: 2},
		{Name: "huge line", In: "{\"runs\": [{\"results\": [\n{\"locations\": [{\"physicalLocation\": {\"region\": {\"startLine\": 1e30}}}]}]}]}", Msg: "line/column", Line: 2},
		{Name: "index overflow", In: "{\"runs\": [{\"results\": [\n{\"ruleIndex\": 1e300}]}]}", Msg: "ruleIndex", Line: 2},
		{Name: "wrong type", In: "{\"runs\": [{\"results\": [\n{\"ruleId\": {}}]}]}", Msg: "ruleId", Line: 2},
		{Name: "trailing data", In: "{\"runs\": []} x", Msg: "after the report", Line: 1},
	},
	TruncateFile:  "trivy_alpine-310.sarif",
	TruncateEvery: 97,
	Nesting:       importertest.JSONNesting(`{"runs": [{"properties": `),
	Bounded: []importertest.Stream{
		{Name: "unknown string", Prefix: `{"version": "2.1.0", "x": "`, Pattern: "0123456789abcdef", Suffix: `", "runs": [{"tool": {"driver": {"name": "t"}}, "results": [` + sarifResult + `]}]}`},
		{Name: "run properties", Prefix: `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "t"}}, "properties": {"x": [`, Pattern: `{"k": "0123456789"},`, Suffix: `null]}, "results": [` + sarifResult + `]}]}`},
		{Name: "message", Prefix: `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "t"}}, "results": [{"ruleId": "R", "message": {"text": "`, Pattern: "0123456789abcdef", Suffix: `"}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.go"}}}]}]}]}`, Msg: "cut"},
	},
	Limits:    func(l importertest.Limits) importers.Parser { return &Parser{jsonguard.Limits(l)} },
	OverLimit: `{"runs": [], "x": "` + strings.Repeat("a", 2000) + `"}`,
	Cancelled: `{"runs": []}`,
	CancelStreams: []importertest.Stream{{ // cancelled when the stream ends
		Name:    "while decoding",
		Prefix:  `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "t"}}, "results": [` + sarifResult,
		Pattern: "," + sarifResult,
		Size:    19999 * int64(len(","+sarifResult)),
		Suffix:  `]}]}`,
	}},
}

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, spec.FuzzParser, spec,
		`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t","rules":[{"id":"R","shortDescription":{"text":"s"},"properties":{"security-severity":"7.5","tags":["external/cwe/cwe-079"]}}]}},"results":[{"ruleId":"R","ruleIndex":0,"message":{"text":"m"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a.js"},"region":{"startLine":3,"startColumn":2,"snippet":{"text":"x"}}}}],"partialFingerprints":{"primaryLocationLineHash":"abc:1"}}]}]}`,
		`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"gitleaks"}},"versionControlProvenance":[{"repositoryUri":"https://x/y"}],"results":[{"message":{"text":"s"},"properties":{"offender":"AKIA"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"k"},"region":{"startLine":1,"snippet":{"text":"AKIA"}}}}]},{"message":{"text":"s"},"properties":{"offender":"AKIA"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"k"},"region":{"startLine":1,"snippet":{"text":"AKIA"}}}}]}]}]}`,
		`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t"}},"originalUriBaseIds":{"%SRCROOT%":{"uri":"file:///s/"}},"results":[{"ruleId":"R","message":{"text":"m"},"fingerprints":{"a":{"k":1},"b":null},"suppressions":[{"kind":"inSource","justification":"j"}],"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a"}}},{"physicalLocation":{"artifactLocation":{"uri":"b"}}}]}]}]}`,
		`{"runs":[{"tool":{"driver":{"name":"t"},"extensions":[{"rules":[{"id":"E"}]}]},"results":[{"rule":{"index":0,"toolComponent":{"index":0}},"kind":"review","message":{"id":"m","arguments":["a"]},"fingerprints":{"k":"v"}}]}]}`,
		`{"runs":null}`,
		`{"runs":[{"results":[{"ruleIndex":-1,"locations":[{"physicalLocation":{"artifactLocation":{"index":99}}}]}]}]}`,
		`[{"runs":[`,
	)
}

// sarifResult is one result of a generated log.
const sarifResult = `{"ruleId": "R", "message": {"text": "m"}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a"}, "region": {"startLine": 1}}}]}`

// BenchmarkParse parses the largest SARIF test file (codeql_2.5.4_python.sarif,
// 576 KB, 72 findings) and reports findings per second beside MB/s.
//
// Its baseline is the floor the parser is measured against: encoding/json
// unmarshalling the same file into an untyped value, with no checks and no normalisation.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Largest(b, formatName), importertest.BenchJSONBaseline)
}
