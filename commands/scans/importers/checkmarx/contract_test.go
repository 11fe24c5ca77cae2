package checkmarx

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// golden is what each CxSAST file must give.
type golden struct {
	findings, suppressed int
	sev                  map[importers.Severity]int
	target               string
}

var goldenFiles = map[string]golden{
	// xmllint --xpath 'count(//Result)' → 6; xmllint --xpath '//Result/@Severity' | sort | uniq -c →
	// 2 High, 2 Medium, 1 Low, 1 Information; xmllint --xpath
	// 'count(//Result[@FalsePositive="True" or @state="1"])' → 1 (state 4 stays open);
	// xmllint --xpath 'count(//Path[@SimilarityId])' → 6, all distinct
	"checkmarx_9_java_webshop.xml": {findings: 6, suppressed: 1, target: `CxServer\SP\Acme\AppSec\acme-webshop`,
		sev: map[importers.Severity]int{importers.High: 2, importers.Medium: 2, importers.Low: 1, importers.Info: 1}},
	// xmllint --xpath 'count(//Result)' → 2, both Severity="Medium"; no SimilarityId:
	// xmllint --xpath 'count(//Path[@SimilarityId])' → 0
	"checkmarx_8_csharp_nosimilarity.xml": {findings: 2, target: `CxServer\SP\Company\Users\Billing.Api`,
		sev: map[importers.Severity]int{importers.Medium: 2}},
	// xmllint --xpath 'count(//Query)' → 0
	"checkmarx_9_empty_scan.xml": {findings: 0, target: `CxServer\SP\Acme\AppSec\acme-docs`, sev: map[importers.Severity]int{}},
}

func checkGolden(t *testing.T, rep *importers.Report, want golden) {
	importertest.Counts(t, rep, 1, want.findings, want.sev, "")
	n := len(importertest.Where(rep, func(f *importers.Finding) bool { return f.Suppressed != nil }))
	if n != want.suppressed {
		t.Errorf("%d suppressed, want %d", n, want.suppressed)
	}
	if rep.Target == nil || rep.Target.Name != want.target || rep.Target.Hint != "project" {
		t.Errorf("Target = %+v, want %q", rep.Target, want.target)
	}
}

const (
	resultOpen = `<Result NodeId="1" FileName="a.java" Line="3" Column="1" FalsePositive="False" Severity="High" state="0">`
	oneResult  = resultOpen + `<Path SimilarityId="7"><PathNode><FileName>a.java</FileName><Line>3</Line><Name>x</Name></PathNode></Path></Result>`
	report     = `<CxXMLResults ProjectName="p"><Query id="1" name="Q" Severity="High">` + oneResult + `</Query></CxXMLResults>`
)

// spec is what the contract suite checks of the Checkmarx parser.
var spec = importertest.Spec{
	Format: formatName,
	Golden: importertest.Golden(importertest.Table(goldenFiles, checkGolden)),
	Detect: map[string]bool{
		`<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<CxXMLResults ProjectName="p" ScanId="1">`: true,
		`<CxXMLResults>`:              true,
		"\xEF\xBB\xBF<CxXMLResults/>": true,
		`<CxResults>`:                 false,
		`<OWASPZAPReport>`:            false,
		`{"CxXMLResults": {}}`:        false,
		``:                            false,
	},
	Hostile: []importertest.Hostile{
		{Name: "empty", In: ``, Msg: "no root element"},
		{Name: "json", In: `{"queries": []}`, Msg: "a JSON document, not a CxSAST XML report"},
		{Name: "Checkmarx One JSON", In: "\ufeff{\n \"reportId\": \"\", \"scanResults\": {}}", Msg: "Checkmarx One", Line: 1},
		{Name: "wrong root", In: `<OWASPZAPReport/>`, Msg: "not <CxXMLResults>"},
		{Name: "truncated", In: "<CxXMLResults>\n<Query id=\"1\">\n" + resultOpen, Msg: "unexpected EOF"},
		{Name: "syntax", In: "<CxXMLResults>\n<Query id=\"1\"></Result></CxXMLResults>", Msg: "malformed XML", Line: 2},
		{Name: "entity", In: `<!DOCTYPE CxXMLResults [<!ENTITY x "y">]><CxXMLResults>&x;</CxXMLResults>`, Msg: "entit"},
		{Name: "invalid UTF-8", In: "<CxXMLResults ProjectName=\"\xff\"></CxXMLResults>", Msg: "UTF-8"},
		{Name: "line not a number", In: "<CxXMLResults><Query id=\"1\">\n<Result FileName=\"a\" Line=\"x3\"/></Query></CxXMLResults>", Msg: "Line", Line: 2},
		{Name: "negative column", In: "<CxXMLResults><Query id=\"1\">\n<Result FileName=\"a\" Line=\"3\" Column=\"-1\"/></Query></CxXMLResults>", Msg: "Column", Line: 2},
		{Name: "second root", In: `<CxXMLResults/><CxXMLResults/>`, Msg: "second root"},
	},
	TruncateFile:  "checkmarx_8_csharp_nosimilarity.xml",
	TruncateEvery: 61,
	Nesting: []importertest.Stream{
		{Name: "in a result", Prefix: `<CxXMLResults><Query id="1">` + resultOpen, Pattern: "<a>"},
		{Name: "skipped", Prefix: `<CxXMLResults>`, Pattern: "<a>"},
	},
	Huge: []importertest.Stream{
		{Name: "code", Prefix: `<CxXMLResults><Query id="1">` + resultOpen + `<Path><PathNode><Snippet><Line><Code>`, Pattern: "0123456789abcdef", Suffix: `</Code></Line></Snippet></PathNode></Path></Result></Query></CxXMLResults>`, Msg: "without a '<'"},
		{Name: "attribute", Prefix: `<CxXMLResults ProjectName="`, Pattern: "0123456789abcdef", Suffix: `"/>`, Msg: "without a '<'"},
	},
	Cancelled: report,
	CancelStreams: []importertest.Stream{
		{Name: "results", Prefix: `<CxXMLResults><Query id="1">`, Pattern: oneResult, Size: 1 << 40, CancelAfter: 64 << 10},
	},
}

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, New, spec,
		report,
		`<CxXMLResults><Query id="2" cweId="79" Severity="Information"><Result FileName="b" FalsePositive="True" Remark="r"/><Result FileName="b"/></Query></CxXMLResults>`,
		`<CxXMLResults><Query><Result Line=""><Path><PathNode><Snippet><Line><Code>c</Code></Line></Snippet></PathNode></Path></Result></Query></CxXMLResults>`,
		`<CxXMLResults><Query id="1">`+strings.Repeat("<a>", 40),
		`<x/>`,
	)
}

// BenchmarkParse parses the largest Checkmarx test file and reports findings per second
// beside MB/s.
//
// Its baseline is the floor the parser is measured against: encoding/xml reading the
// same file's tokens, with no checks and no normalisation.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Largest(b, formatName), importertest.BenchXMLBaseline)
}
