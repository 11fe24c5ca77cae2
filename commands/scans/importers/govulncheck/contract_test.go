package govulncheck

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
)

// want is what one sample gives.
type want struct {
	findings int
	sev      map[importers.Severity]int
	counted  string
}

// Counts computed with jq over the stream: findings grouped by (osv, module, version), the
// level the deepest trace[0] reached (function: symbol/high, package: medium, else low):
//
//	jq -s -c '[.[]|select(.finding)|.finding|{k:(.osv+" "+.trace[0].module+" "+.trace[0].version),
//	  l:(if .trace[0].function then 3 elif .trace[0].package then 2 else 1 end)}]
//	  | group_by(.k) | map({k:.[0].k, l:(map(.l)|max)})' FILE
var files = map[string]want{
	// 10 finding objects, 4 groups: GO-2020-0015 module, GO-2021-0054 symbol, GO-2021-0113
	// package, GO-2021-0265 symbol.
	"govulncheck_binary_scan.json": {4, map[importers.Severity]int{importers.High: 2, importers.Medium: 1, importers.Low: 1}, "jq above"},
	// 3 finding objects, 3 groups: GO-2021-0054 package, GO-2021-0113 symbol, GO-2021-0265 symbol.
	"govulncheck_json_protocol_v0.1.0.json": {3, map[importers.Severity]int{importers.High: 2, importers.Medium: 1}, "jq above"},
	// 9 finding objects, 4 groups as in the binary scan.
	"govulncheck_source_symbol_scan.json": {4, map[importers.Severity]int{importers.High: 2, importers.Medium: 1, importers.Low: 1}, "jq above"},
	// The stream as one array (the jq above with .[] instead of -s): 4 finding objects, 2 groups:
	// GO-2099-0001 symbol, GO-2099-0002 package.
	"govulncheck_stream_as_array.json": {2, map[importers.Severity]int{importers.High: 1, importers.Medium: 1}, "jq above"},
	// Pre-1.0 result: jq -c '[.Vulns[]|{k:(.OSV.id+" "+.ModPath), l:(if .CallSink!=0 then 3
	//   elif .ImportSink!=0 then 2 else 1 end)}]|group_by(.k)|map({k:.[0].k,l:(map(.l)|max)})'
	// 4 entries, 3 groups: GO-2099-0003 symbol, GO-2099-0004 package, GO-2099-0005 module.
	"govulncheck_legacy_result.json": {3, map[importers.Severity]int{importers.High: 1, importers.Medium: 1, importers.Low: 1}, "jq above"},
}

func check(t *testing.T, rep *importers.Report, w want) {
	importertest.Counts(t, rep, 1, w.findings, w.sev, w.counted)
	if rep.Target != nil || rep.Assets[0].Kind != importers.Repository {
		t.Errorf("asset %+v, target %+v: want one repository asset and no target", rep.Assets[0], rep.Target)
	}
}

const config = `{"config": {"protocol_version": "v1.0.0", "scanner_name": "govulncheck", "scan_level": "symbol"}}`

const oneFinding = `{"finding": {"osv": "GO-1", "trace": [{"module": "m", "version": "v1"}]}}`

var spec = importertest.Spec{
	Format:     formatName,
	Positioned: true,
	Golden:     importertest.Golden(importertest.Table(files, check)),
	// A stream cut between two objects is a whole, shorter stream.
	Unterminated: ".json",
	Detect: map[string]bool{
		config: true,
		`{"config": {"protocol_version": "v1.0.0", "scan_level": "module", "db": "x`: true,
		`{"config": {"scanner_name": "other"}}`:                                      false,
		`{"config": {"protocol_version": "v1.0.0"}}`:                                 false,
		`{"osv": {"id": "GO-1"}}`:                                                    false,
		`[{"config": {"scanner_name": "govulncheck"}}]`:                              true,
		`[{"config": {"scanner_name": "other"}}]`:                                    false,
		`{"Calls": {"Functions": {"1": {"ID": 1, "Name": "main"}}}, "Vulns": null}`:  true,
		`{"Calls": {"total": 3}}`:                                                    false,
		`not json`:                                                                   false,
	},
	Hostile: []importertest.Hostile{
		{Name: "empty", In: ``, Msg: "end of input", Line: 1},
		{Name: "not an object", In: `[]`, Msg: "expected an object", Line: 1},
		{Name: "SARIF", In: "{\"version\": \"2.1.0\", \"runs\": []}", Msg: "import it as sarif", Line: 1},
		{Name: "array without a config", In: "[\n" + oneFinding + "]", Msg: "not a govulncheck JSON stream", Line: 1},
		{Name: "array of non-objects", In: "[\n\"x\"]", Msg: "expected an object", Line: 2},
		{Name: "no config", In: oneFinding, Msg: "not a govulncheck JSON stream", Line: 1},
		{Name: "truncated", In: config + "\n{\"finding\": {\"osv\": \"GO-1\", \"tr", Msg: "end of input", Line: 2},
		{Name: "syntax", In: config + "\n\n{\"finding\" {}}", Msg: "invalid character", Line: 3},
		{Name: "no trace", In: config + "\n{\"finding\": {\"osv\": \"GO-1\", \"trace\": []}}", Msg: "no trace", Line: 2},
		{Name: "wrong type", In: config + "\n{\"finding\": {\"osv\": [1]}}", Msg: "osv", Line: 2},
		{Name: "invalid UTF-8", In: config + "\n{\"progress\": {\"message\": \"\xc3\x28\"}}", Msg: "UTF-8", Line: 2},
		{Name: "not an object later", In: config + "\n\"x\"", Msg: "expected an object", Line: 2},
	},
	TruncateFile:  "govulncheck_source_symbol_scan.json",
	TruncateEvery: 89,
	Nesting:       importertest.JSONNesting(config + `{"finding": `),
	Bounded: []importertest.Stream{
		{Name: "progress message", Prefix: config + `{"progress": {"message": "`, Pattern: "0123456789abcdef", Suffix: `"}}` + oneFinding},
		{Name: "unknown object", Prefix: config + `{"SBOM": [`, Pattern: `{"a":[1,-2.5e3,"s\u00e9",true]},`, Suffix: `0]}` + oneFinding},
		{Name: "osv details", Prefix: config + `{"osv": {"id": "GO-1", "details": "`, Pattern: `0123456789abcd\\`, Suffix: `"}}` + oneFinding, Msg: "strings longer than"},
	},
	Limits:    func(l importertest.Limits) importers.Parser { return &Parser{jsonguard.Limits(l)} },
	OverLimit: config + `{"progress": {"message": "` + strings.Repeat("a", 2000) + `"}}`,
	Cancelled: config,
	CancelStreams: []importertest.Stream{{
		Name:    "while reading findings",
		Prefix:  config,
		Pattern: oneFinding,
		Size:    20000 * int64(len(oneFinding)),
	}},
}

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, spec.FuzzParser, spec,
		config+`{"osv":{"id":"GO-1","summary":"s","aliases":["CVE-2024-1","GHSA-aaaa-bbbb-cccc"]}}{"finding":{"osv":"GO-1","fixed_version":"v2","trace":[{"module":"m","version":"v1","package":"m/p","function":"F","receiver":"*T","position":{"filename":"a.go","line":3,"column":1}},{"module":"me","package":"me","function":"main","position":{"filename":"main.go","line":9}}]}}`,
		config+oneFinding,
		config+`{"finding":{"osv":"GO-1","trace":null}}`,
		`{"config":{}}{"progress":{}}`,
		`{{{{`,
		"{\"config\":{\"db\":\"\xc0\"}}",
	)
}

// BenchmarkParse parses the largest govulncheck test file (govulncheck_source_symbol_scan.json,
// 13 KB, 4 findings) and reports findings per second beside MB/s.
//
// Its baseline is the floor the parser is measured against: encoding/json unmarshalling the
// same file into untyped values, with no checks and no normalisation. The file is a stream of
// objects, so the baseline decodes them one after another (BenchJSONLinesBaseline).
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Largest(b, formatName), importertest.BenchJSONLinesBaseline)
}
