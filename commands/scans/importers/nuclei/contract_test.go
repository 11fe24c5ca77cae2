package nuclei

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
)

// golden is what each Nuclei file holds. Findings are the distinct (template-id, matcher-name,
// matched-at) triples, counted with
// jq -s 'map([."template-id",."matcher-name",."matched-at"])|unique|length' (JSON Lines; for the
// array, jq 'map(…)|unique|length'); assets the distinct hosts, jq -s '[.[].host]|unique' (host
// and host:port are one host asset); severities
// jq -s '[.[].info.severity]|group_by(.)|map({(.[0]):length})|add', after merging.
type golden struct {
	findings, assets int
	sev              map[importers.Severity]int
	// cwes: findings with a CWE, jq -s '[.[].info.classification."cwe-id"[]?]|length'.
	cwes int
}

var goldenFiles = map[string]golden{
	// 27 results; deprecated-tls matches twice (TLS10, TLS11) at one place: 26 findings.
	"nuclei_example-com.jsonl":      {26, 1, map[importers.Severity]int{importers.Info: 26}, 4},
	"nuclei_log4shell.jsonl":        {1, 1, map[importers.Severity]int{importers.Critical: 1}, 0},
	"nuclei_securecodebox-io.jsonl": {22, 1, map[importers.Severity]int{importers.Info: 22}, 1},
	"nuclei_json_export_array.json": {3, 2, map[importers.Severity]int{importers.High: 1, importers.Info: 1, importers.Low: 1}, 2},
	// Pre-2.5 names (templateID, matched, matcher_name): jq -s 'map([.templateID,.matcher_name,.matched])|unique|length'.
	"nuclei_v2_legacy_names.jsonl": {4, 2, map[importers.Severity]int{importers.Low: 1, importers.Info: 3}, 1},
}

func checkGolden(t *testing.T, rep *importers.Report, want golden) {
	importertest.Counts(t, rep, want.assets, want.findings, want.sev, "")
	cwes := 0
	for _, f := range rep.Findings {
		if len(f.CWEs) > 0 {
			cwes++
		}
	}
	if cwes != want.cwes {
		t.Errorf("%d findings with CWEs, want %d", cwes, want.cwes)
	}
	if rep.StartedAt.IsZero() || rep.FinishedAt.Before(rep.StartedAt) {
		t.Errorf("started %v, finished %v", rep.StartedAt, rep.FinishedAt)
	}
}

// spec is what the contract suite checks of the Nuclei parser.
var spec = importertest.Spec{
	Format:     formatName,
	Positioned: true,
	Golden:     importertest.Golden(importertest.Table(goldenFiles, checkGolden)),
	Detect: map[string]bool{
		nucleiResult + "\n":                                                true,
		"[" + nucleiResult + "]":                                           true,
		`{"template-id": "x", "info": {"name": "cut`:                       false, // no host or matched-at seen yet
		`{"template-id": "x", "info": {}, "host": "h", "extra": "cut here`: true,
		`{"template-id": "x", "host": "h"}`:                                false,
		`{"templateID": "x", "info": {}, "host": "h", "matched": "h:22"}`:  true, // before Nuclei 2.5
		`{"templateID": "x", "host": "h"}`:                                 false,
		`{"template-id": ["x"], "info": {}, "host": "h"}`:                  false,
		`{"matches": []}`:                                                  false,
		`[]`:                                                               false,
		`not json`:                                                         false,
	},
	// An empty file is what the scanner leaves when it finds nothing (see the package doc).
	EmptyIsReport: true,
	Hostile: []importertest.Hostile{
		{Name: "not an object", In: "\n\"x\"", Msg: "expected an object", Line: 2},
		{Name: "no template-id", In: nucleiResult + "\n{\"host\": \"h\"}", Msg: "no template-id", Line: 2},
		{Name: "truncated line", In: nucleiResult + "\n{\"template-id\": \"x\", \"info\": {", Msg: "end of input", Line: 2},
		{Name: "syntax", In: nucleiResult + "\n\n{\"template-id\" \"x\"}", Msg: "invalid character", Line: 3},
		{Name: "invalid UTF-8", In: nucleiResult + "\n{\"template-id\": \"\xc3\x28\"}", Msg: "UTF-8", Line: 2},
		{Name: "score out of range", In: "{\"template-id\": \"x\",\n\"info\": {\"classification\": {\"cvss-score\": 11}}}", Msg: "[0, 10]", Line: 1},
		{Name: "wrong type", In: "{\"template-id\": \"x\",\n\"host\": [1]}", Msg: "host"},
		{Name: "array then data", In: "[" + nucleiResult + "]\n{}", Msg: "after the report", Line: 2},
		{Name: "empty array element", In: "[1]", Msg: "cannot use JSON number", Line: 1},
	},
	TruncateFile:  "nuclei_log4shell.jsonl",
	TruncateEvery: 41,
	// A JSON Lines file cut at a line end is a whole, shorter report.
	Unterminated: ".jsonl",
	Nesting:      importertest.JSONNesting(`{"template-id": "x", "info": `),
	Bounded: []importertest.Stream{
		{Name: "response body", Prefix: `{"template-id": "x", "host": "https://h", "response": "`, Pattern: "0123456789abcdef", Suffix: `"}`},
		{Name: "description", Prefix: `{"template-id": "x", "host": "https://h", "info": {"description": "`, Pattern: `0123456789abcd\\`, Suffix: `"}}`, Msg: "strings longer than 1048576 bytes cut"},
	},
	Limits:    func(l importertest.Limits) importers.Parser { return &Parser{jsonguard.Limits(l)} },
	OverLimit: nucleiResult + "\n" + `{"template-id": "x", "host": "h", "x": "` + strings.Repeat("a", 2000) + `"}`,
	Cancelled: nucleiResult,
	CancelStreams: []importertest.Stream{{
		Name:    "while reading lines",
		Pattern: nucleiResult + "\n",
		Size:    20000 * int64(len(nucleiResult)+1),
	}},
}

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, spec.FuzzParser, spec,
		nucleiResult+"\n"+nucleiResult,
		`[{"template-id":"t","info":{"severity":"unknown","classification":{"cve-id":"CVE-2021-1,cve-2021-2","cwe-id":["cwe-79"],"cvss-metrics":"AV:N/AC:L/Au:N/C:P/I:P/A:P","cvss-score":"7.5"}},"host":"10.0.0.1:22","matched-at":"10.0.0.1:22"}]`,
		`{"template-id":"t","host":"[::1]:80","matched-at":"[::1]:80","matched-line":"a, b","extracted-results":null}`,
		`{"template-id":"","host":"h"}`,
		`[]`,
		`{{{{`,
		"{\"template-id\":\"\xc0\"}",
	)
}

// nucleiResult is one result of a generated report.
const nucleiResult = `{"template-id": "tech-detect", "info": {"name": "Wappalyzer", "severity": "info"}, "type": "http", "host": "https://example.org", "matched-at": "https://example.org/", "matcher-name": "nginx"}`

// BenchmarkParse parses the largest Nuclei test file (nuclei_example-com.jsonl, 26 KB,
// 26 findings) and reports findings per second beside MB/s.
//
// Its baseline is the floor the parser is measured against: encoding/json
// unmarshalling the largest file's records into untyped values, with no checks and no
// normalisation (the file is JSON Lines, so it is decoded record by record).
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Largest(b, formatName), importertest.BenchJSONLinesBaseline)
}
