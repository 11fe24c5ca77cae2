package acunetix

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
)

// jsonDoc is a small Acunetix 360 JSON export.
const jsonDoc = `{"Generated":"02/05/2024 09:30 AM","Target":{"ScanId":"s1","Url":"https://a.example/","Initiated":"02/05/2024 08:10 AM"},
"Vulnerabilities":[{"LookupId":"l1","Url":"https://a.example/q","Type":"XssReflected","Name":"XSS","Severity":"High","Certainty":100,"State":"Present",
"Classification":{"Cwe":"79","Cvss31":{"Vector":"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N","BaseScore":{"Value":"6.1"}}},
"HttpRequest":{"Method":"GET","Content":"GET /q HTTP/1.1"},"HttpResponse":{"Content":"HTTP/1.1 200 OK"}}]}`

func vulnJSON(fields string) string {
	return `{"Target":{"Url":"https://a/"},"Vulnerabilities":[{` + fields + `}]}`
}

var spec360 = importertest.Spec{
	Format:     format360,
	Positioned: true,
	Golden:     importertest.Golden(importertest.Table(jsonCounts, checkCounts)),
	Detect: map[string]bool{
		jsonDoc: true,
		`{"Vulnerabilities":[{"LookupId":"x","Url":"u"}]}`:   true,
		`{"Target":{"ScanId":"x"},"Vulnerabilities":[]}`:     true,
		`{"Vulnerabilities":[{"id":"x"}]}`:                   false, // someone else's list
		`{"Vulnerabilities":{}}`:                             false,
		`{"Results":[{"Vulnerabilities":[{"LookupId":1}]}]}`: false, // not top level (a Trivy report)
		`<acunetix-360/>`:                                    false,
		``:                                                   false,
	},
	Hostile: []importertest.Hostile{
		{Name: "empty", In: "", Msg: ""},
		{Name: "array", In: `[]`, Msg: ""},
		{Name: "no vulnerabilities", In: `{"Target":{"Url":"https://a/"}}`, Msg: "no Vulnerabilities array"},
		{Name: "target without url", In: `{"Target":{"ScanId":"x"},"Vulnerabilities":[]}`, Msg: "Target has no Url"},
		{Name: "no target", In: `{"Vulnerabilities":[{"Type":"T","Url":"https://a/","Severity":"Low"}]}`, Msg: "without a Target"},
		{Name: "no type", In: vulnJSON(`"Url":"https://a/","Severity":"Low"`), Msg: "has no type"},
		{Name: "no url", In: vulnJSON(`"Type":"T","Severity":"Low"`), Msg: "has no URL"},
		{Name: "severity", In: "{\"Target\":{\"Url\":\"https://a/\"},\n\"Vulnerabilities\":[{\"Type\":\"T\",\"Url\":\"https://a/\",\"Severity\":\"Severe\"}]}", Msg: "severity \"Severe\"", Line: 2},
		{Name: "type is an object", In: vulnJSON(`"Type":{},"Url":"https://a/","Severity":"Low"`), Msg: ""},
		{Name: "truncated", In: jsonDoc[:len(jsonDoc)/2], Msg: ""},
		{Name: "trailing", In: jsonDoc + `{}`, Msg: ""},
		{Name: "invalid utf-8", In: vulnJSON("\"Type\":\"\xff\",\"Url\":\"https://a/\",\"Severity\":\"Low\""), Msg: "UTF-8"},
	},
	Nesting: importertest.JSONNesting(`{"Target":{"Url":"https://a/"},"Extra":`),
	Bounded: []importertest.Stream{
		{Name: "skipped member", Prefix: `{"Target":{"Url":"https://a/"},"Extra":"`, Pattern: "0123456789abcdef", Suffix: `","Vulnerabilities":[]}`},
		{Name: "description", Prefix: `{"Target":{"Url":"https://a/"},"Vulnerabilities":[{"Type":"T","Url":"https://a/","Severity":"Low","Description":"`, Pattern: "0123456789abcdef", Suffix: `"}]}`, Msg: "cut"},
	},
	Limited:   &Parser360{jsonguard.Limits{MaxBytes: 1 << 10}},
	OverLimit: vulnJSON(`"Type":"T","Url":"https://a/","Severity":"Low","Description":"` + strings.Repeat("x", 2<<10) + `"`),
	Cancelled: jsonDoc,
	CancelStreams: []importertest.Stream{
		{Name: "vulnerabilities", Prefix: `{"Target":{"Url":"https://a/"},"Vulnerabilities":[`, Pattern: `{"Type":"T","Url":"https://a/","Severity":"Low"},`, Size: 1 << 40, CancelAfter: 64 << 10},
	},
}

// jsonCounts are the facts of the project's Acunetix 360 JSON samples, counted with
//
//	jq '.Vulnerabilities | length' FILE
//	jq '[.Vulnerabilities[].Severity] | group_by(.) | map({(.[0]): length}) | add' FILE
//	jq '[.Vulnerabilities[] | select(.State | test("FalsePositive|AcceptedRisk|Ignored|Fixed"))] | length' FILE
var jsonCounts = map[string]counts{
	"acunetix360_own_scan.json":  {1, 3, 1, map[importers.Severity]int{"high": 1, "medium": 1, "info": 1}},
	"acunetix360_own_empty.json": {1, 0, 0, nil},
}

func TestContract360(t *testing.T) { importertest.Run(t, New360JSON, spec360) }

// FuzzParse360 runs the suite's fuzz property on the JSON parser.
func FuzzParse360(f *testing.F) { importertest.Fuzz(f, New360JSON, spec360, jsonDoc) }

// BenchmarkParse360 parses the largest Acunetix 360 JSON sample.
//
// Its baseline is the floor: json.Unmarshal of the same file.
func BenchmarkParse360(b *testing.B) {
	importertest.BenchVsBaseline(b, New360JSON, importertest.Largest(b, format360), importertest.BenchJSONBaseline)
}
