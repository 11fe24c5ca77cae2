package veracode

import (
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// doc is a small detailed report: one static flaw and one SCA vulnerability.
const doc = `<?xml version="1.0" encoding="UTF-8"?>
<detailedreport xmlns="https://www.veracode.com/schema/reports/export/1.0" report_format_version="1.5" app_name="App" app_id="7" generation_date="2024-01-02 03:04:05 UTC">
<severity level="4"><category categoryid="19" categoryname="SQL Injection"><recommendations><para text="Use prepared statements."/></recommendations>
<cwe cweid="89"><staticflaws><flaw severity="4" categoryname="SQL Injection" issueid="3" cweid="89" sourcefile="A.java" sourcefilepath="com/x/" line="10" remediation_status="New" mitigation_status="none" description="d"/></staticflaws></cwe></category></severity>
<software_composition_analysis><vulnerable_components><component library="lib" version="1.0" library_id="maven:g:lib:1.0:">
<vulnerabilities><vulnerability cve_id="CVE-2024-0001" severity="3" cvss_score="5.0" mitigation="false"/></vulnerabilities></component></vulnerable_components></software_composition_analysis>
</detailedreport>`

var spec = importertest.Spec{
	Format: format,
	Golden: importertest.Golden(importertest.Table(testdataCounts, checkCounts)),
	Detect: map[string]bool{
		doc: true,
		`<detailedreport app_name="x" report_format_version="1.5">`: true,
		`<detailedreport>`: false, // another tool's detailed report
		`<detailedreport xmlns="urn:other" app_name="x">`: false,
		`<issues burpVersion="1"/>`:                       false,
		`{"detailedreport":{}}`:                           false,
		`{"_embedded": {"findings": [{"issue_id": 1, "scan_type": "STATIC", "description": "cut`: true,
		`{"findings": [{"scan_type": "SCA", "count": 1, "context_guid": "g"`:                     true,
		`[{"issue_id": 7, "scan_type": "DYNAMIC"}]`:                                              true,
		`{"findings": [{"scan_type": "sast", "issue_id": 1}]}`:                                   false,
		`{"findings": [{"scan_type": "STATIC"}]}`:                                                false,
		`[{"scan_type": "STATIC", "x": 1}]`:                                                      false,
		``:                                                                                       false,
	},
	Hostile: []importertest.Hostile{
		{Name: "empty", In: "", Msg: "no root element"},
		{Name: "text", In: "hello", Msg: "not a Veracode detailed report"},
		{Name: "wrong root", In: `<issues/>`, Msg: "not <detailedreport>"},
		{Name: "no app", In: `<detailedreport report_format_version="1.5"/>`, Msg: "names no application"},
		{Name: "entity", In: `<!DOCTYPE detailedreport [<!ENTITY x "y">]><detailedreport app_id="1">&x;</detailedreport>`, Msg: "entity"},
		{Name: "no issueid", In: `<detailedreport app_id="1"><severity level="3"><category><cwe><staticflaws><flaw severity="3"/></staticflaws></cwe></category></severity></detailedreport>`, Msg: "without an issueid"},
		{Name: "severity", In: "<detailedreport app_id=\"1\">\n<severity level=\"3\"><category><cwe><staticflaws><flaw issueid=\"1\" severity=\"6\"/></staticflaws></cwe></category></severity></detailedreport>", Msg: "not a number in 0..5", Line: 2},
		{Name: "line", In: `<detailedreport app_id="1"><severity><category><cwe><staticflaws><flaw issueid="1" severity="1" line="x"/></staticflaws></cwe></category></severity></detailedreport>`, Msg: "line \"x\""},
		{Name: "sca severity", In: `<detailedreport app_id="1"><software_composition_analysis><vulnerable_components><component library="l"><vulnerabilities><vulnerability cve_id="CVE-2020-0001" severity="High"/></vulnerabilities></component></vulnerable_components></software_composition_analysis></detailedreport>`, Msg: "severity \"High\""},
		{Name: "sca no cve", In: `<detailedreport app_id="1"><software_composition_analysis><vulnerable_components><component library="l"><vulnerabilities><vulnerability severity="3"/></vulnerabilities></component></vulnerable_components></software_composition_analysis></detailedreport>`, Msg: "without a cve_id"},
		{Name: "component no name", In: `<detailedreport app_id="1"><software_composition_analysis><vulnerable_components><component version="1"/></vulnerable_components></software_composition_analysis></detailedreport>`, Msg: "without a library"},
		{Name: "truncated", In: doc[:len(doc)/2], Msg: "unexpected EOF"},
		{Name: "invalid utf-8", In: "<detailedreport app_id=\"\xff\"/>", Msg: "UTF-8"},
		{Name: "api: no findings", In: `{"_links": {}}`, Msg: "not a Veracode findings API page"},
		{Name: "api: no issue_id", In: "{\"findings\": [\n{\"scan_type\": \"STATIC\", \"context_guid\": \"g\", \"finding_details\": {\"severity\": 3}}]}", Msg: "without an issue_id", Line: 2},
		{Name: "api: issue_id not a number", In: `{"findings": [{"issue_id": "x1", "scan_type": "STATIC", "context_guid": "g", "finding_details": {"severity": 3}}]}`, Msg: "issue_id"},
		{Name: "api: severity", In: `[{"issue_id": 1, "scan_type": "STATIC", "context_guid": "g", "finding_details": {"severity": 9}}]`, Msg: "not a number in 0..5"},
		{Name: "api: no severity", In: `[{"issue_id": 1, "scan_type": "STATIC", "context_guid": "g", "finding_details": {}}]`, Msg: "no finding_details.severity"},
		{Name: "api: no application", In: `[{"issue_id": 1, "scan_type": "STATIC", "finding_details": {"severity": 1}}]`, Msg: "context_guid"},
		{Name: "api: sca without cve", In: `[{"scan_type": "SCA", "context_guid": "g", "finding_details": {"severity": 1, "component_filename": "a.jar"}}]`, Msg: "without a cve.name"},
		{Name: "api: truncated", In: `{"findings": [{"issue_id": 1, "scan_type": "STA`, Msg: "end of input"},
		{Name: "api: trailing data", In: `{"findings": []} {}`, Msg: "after the report"},
	},
	Nesting: []importertest.Stream{
		{Name: "bare", Pattern: "<a>"},
		{Name: "in a flaw", Prefix: `<detailedreport app_id="1"><severity><category><cwe><staticflaws><flaw issueid="1" severity="1">`, Pattern: "<a>"},
	},
	Huge: []importertest.Stream{
		{Name: "attribute", Prefix: `<detailedreport app_id="1"><severity><category><cwe><staticflaws><flaw issueid="1" severity="1" description="`, Pattern: "0123456789abcdef", Suffix: `"/></staticflaws></cwe></category></severity></detailedreport>`, Msg: "without a '<'"},
	},
	Cancelled: doc,
	CancelStreams: []importertest.Stream{
		{Name: "flaws", Prefix: `<detailedreport app_id="1"><severity><category><cwe><staticflaws>`, Pattern: `<flaw issueid="1" severity="1"/>`, Size: 1 << 40, CancelAfter: 64 << 10},
	},
}

// testdataCounts are the facts of the Veracode files: findings = flaws + SCA vulnerabilities,
// counted with
//
//	grep -c '<flaw ' FILE; grep -c '<vulnerability ' FILE
//	grep -o '<flaw severity="[0-9]"\|<vulnerability [^>]*severity="[0-9]"' FILE | grep -o 'severity="[0-9]"' | sort | uniq -c
//	grep -c 'mitigation_status="accepted"\|mitigation="true"\|remediation_status="Fixed"' FILE
var testdataCounts = map[string]counts{
	// 3 flaws (severity 3, 3, 2) + 4 SCA vulnerabilities (3, 4, 3, 4), all 4 mitigated
	"veracode_detailedreport_scrubbed.xml": {7, 4, map[importers.Severity]int{"medium": 4, "high": 2, "low": 1}},
	// 3 flaws (5, 5, 3) + 1 SCA vulnerability (5); one accepted mitigation, one Fixed
	"veracode_own_static_dynamic_mitigated.xml": {4, 2, map[importers.Severity]int{"critical": 3, "medium": 1}},
	// The findings API JSON (our own page): jq -c '[(._embedded.findings|length),
	// ([._embedded.findings[].finding_details.severity]|group_by(.)|map({(.[0]|tostring):length})|add),
	// ([._embedded.findings[]|select(.finding_status.resolution_status=="APPROVED" or
	// .finding_status.status=="CLOSED")]|length)]' → [5,{"2":1,"3":2,"4":1,"5":1},3]
	"veracode_own_findings_api_page.json": {5, 3, map[importers.Severity]int{"critical": 1, "high": 1, "medium": 2, "low": 1}},
}

type counts struct {
	findings, suppressed int
	sev                  map[importers.Severity]int
}

func checkCounts(t *testing.T, rep *importers.Report, c counts) {
	importertest.Counts(t, rep, 1, c.findings, c.sev, "<flaw> + <vulnerability> elements")
	if n := len(importertest.Where(rep, func(f *importers.Finding) bool { return f.Suppressed != nil })); n != c.suppressed {
		t.Errorf("suppressed = %d, want %d", n, c.suppressed)
	}
	if rep.Target == nil || rep.Target.Hint != "artifact" || rep.FinishedAt.IsZero() {
		t.Errorf("target %+v at %v", rep.Target, rep.FinishedAt)
	}
}

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, New, spec, doc,
		`{"_embedded":{"findings":[{"issue_id":1,"scan_type":"STATIC","context_guid":"g","finding_status":{"status":"CLOSED"},"finding_details":{"severity":3,"cwe":{"id":89}}},`+
			`{"scan_type":"SCA","context_guid":"g","finding_details":{"severity":"4","component_filename":"a.jar","version":"1","cve":{"name":"CVE-2020-0001","cvss":null}}}]}}`)
}

const largest = "veracode_detailedreport_scrubbed.xml"

// BenchmarkParse parses the largest Veracode file of the shared testdata.
//
// Its baseline is the floor: encoding/xml reading every token of the same file.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Testdata(b, format, largest), importertest.BenchXMLBaseline)
}
