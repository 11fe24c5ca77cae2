package burp

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/xmlscan"
)

// doc is a small Burp export: one issue per severity kind the format has, with a base64
// request and a plain response.
const doc = `<?xml version="1.0"?>
<issues burpVersion="2023.10.3" exportTime="Tue Oct 31 10:00:00 UTC 2023">
  <issue>
    <serialNumber>1</serialNumber><type>1049088</type><name>SQL injection</name>
    <host ip="192.0.2.10">https://shop.example.com</host>
    <path><![CDATA[/search]]></path><location><![CDATA[/search [q parameter]]]></location>
    <severity>High</severity><confidence>Certain</confidence>
    <issueBackground><![CDATA[<p>SQL injection <b>vulnerabilities</b> arise when &amp; …</p>]]></issueBackground>
    <remediationBackground><![CDATA[<p>Use parameterised queries.</p>]]></remediationBackground>
    <references><![CDATA[<ul><li><a href="https://portswigger.net/web-security/sql-injection">SQL injection</a></li></ul>]]></references>
    <vulnerabilityClassifications><![CDATA[<ul><li><a href="https://cwe.mitre.org/data/definitions/89.html">CWE-89: Improper Neutralization</a></li><li><a href="https://cwe.mitre.org/data/definitions/94.html">CWE-94: Code Injection</a></li></ul>]]></vulnerabilityClassifications>
    <requestresponse>
      <request base64="true" method="GET"><![CDATA[R0VUIC9zZWFyY2g/cT0nIEhUVFAvMS4xDQpIb3N0OiBzaG9wLmV4YW1wbGUuY29tDQoNCg==]]></request>
      <response base64="false"><![CDATA[HTTP/1.1 500 Internal Server Error]]></response>
    </requestresponse>
  </issue>
  <issue>
    <serialNumber>2</serialNumber><type>5245344</type><name>Frameable response (potential Clickjacking)</name>
    <host ip="192.0.2.10">https://shop.example.com</host>
    <path>/</path><location>/</location>
    <severity>False positive</severity><confidence>Firm</confidence>
  </issue>
</issues>
`

var spec = importertest.Spec{
	Format: format,
	Golden: importertest.Golden(importertest.Table(testdataCounts, checkCounts)),
	Detect: map[string]bool{
		doc: true,
		`<?xml version="1.1"?><!DOCTYPE issues [<!ELEMENT issues (issue*)>]><issues burpVersion="1.7">`: true,
		`<issues>` + "\n  " + `<issue><serialNumber>1</serialNumber>`:                                   true,
		`<issues><issue><id>1</id></issue></issues>`:                                                    false, // someone else's <issues>
		`<issues/>`:                 false,
		`<OWASPZAPReport/>`:         false,
		`{"issues":[]}`:             false,
		``:                          false,
		`<?xml version="1.1"?><a/>`: false,
	},
	Hostile: []importertest.Hostile{
		{Name: "empty", In: "", Msg: "no root element"},
		{Name: "json", In: `{"issues":[]}`, Msg: "not an XML report"},
		{Name: "text", In: `hello`, Msg: "not a Burp issues XML report"},
		{Name: "wrong root", In: `<nmaprun/>`, Msg: "not <issues>"},
		{Name: "entity", In: `<!DOCTYPE issues [<!ENTITY x "y">]><issues>&x;</issues>`, Msg: "entity"},
		{Name: "no type", In: `<issues><issue><name>n</name><host>https://a</host><severity>High</severity></issue></issues>`, Msg: "no <type>", Line: 1},
		{Name: "no host", In: `<issues><issue><type>1</type><severity>High</severity></issue></issues>`, Msg: "no <host>"},
		{Name: "severity", In: "<issues>\n<issue><type>1</type><host>https://a</host><severity>Critical</severity></issue></issues>", Msg: "severity \"Critical\"", Line: 2},
		{Name: "truncated", In: doc[:len(doc)/2], Msg: "unexpected EOF"},
		{Name: "second root", In: `<issues/><issues/>`, Msg: "second root"},
		{Name: "invalid utf-8", In: "<issues><issue><type>1</type><name>\xff</name></issue></issues>", Msg: "UTF-8"},
		{Name: "xml 1.1 still strict", In: `<?xml version="1.1"?><issues><issue>`, Msg: "unexpected EOF"},
	},
	Nesting: []importertest.Stream{
		{Name: "bare", Pattern: "<a>"},
		{Name: "in an issue", Prefix: `<issues><issue><issueDetail>`, Pattern: "<b>"},
	},
	Huge: []importertest.Stream{
		{Name: "text", Prefix: `<issues><issue><issueDetail>`, Pattern: "0123456789abcdef", Suffix: `</issueDetail></issue></issues>`, Msg: "without a '<'"},
		{Name: "base64 request", Prefix: `<issues><issue><requestresponse><request base64="true">`, Pattern: "QUJDRA==", Suffix: `</request></requestresponse></issue></issues>`, Msg: "without a '<'"},
	},
	Cancelled: doc,
	CancelStreams: []importertest.Stream{
		{Name: "issues", Prefix: `<issues>`, Pattern: `<issue><type>1</type><host>https://a</host><severity>Low</severity></issue>`, Size: 1 << 40, CancelAfter: 64 << 10},
	},
}

// testdataCounts are the facts of the shared Burp files, counted with
//
//	grep -c '<issue>' FILE; grep -o '<severity>[^<]*' FILE | sort | uniq -c; grep -o '<host [^<]*' FILE | sort -u | wc -l
//
// (every issue of these files has a distinct type + host + path + location).
var testdataCounts = map[string]counts{
	"burp_dradis_issue_severity.xml": {1, 5, map[importers.Severity]int{"high": 2, "medium": 1, "low": 1, "info": 1}},
	"burp_dradis_issues.xml":         {1, 4, map[importers.Severity]int{"info": 4}},
	"burp_dradis_without_base64.xml": {5, 12, map[importers.Severity]int{"medium": 3, "low": 4, "info": 5}},
}

type counts struct {
	hosts, issues int
	sev           map[importers.Severity]int
}

func checkCounts(t *testing.T, rep *importers.Report, c counts) {
	importertest.Counts(t, rep, c.hosts, c.issues, c.sev, "<issue> elements")
	if rep.ScannerVersion == "" || rep.Target == nil || rep.Target.Hint != "base_url" {
		t.Errorf("version %q target %+v", rep.ScannerVersion, rep.Target)
	}
}

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) { importertest.Fuzz(f, New, spec, doc) }

const largest = "burp_dradis_without_base64.xml"

// BenchmarkParseLargest parses the largest Burp file of the shared testdata.
func BenchmarkParseLargest(b *testing.B) {
	importertest.Bench(b, New, importertest.Testdata(b, format, largest))
}

// BenchmarkBaselineXMLTokens is the floor: encoding/xml reading every token of the same file
// (its XML 1.1 declaration read as 1.0, as the parser does). BenchmarkParseLargest reads as a
// ratio of it.
func BenchmarkBaselineXMLTokens(b *testing.B) {
	data, err := os.ReadFile(importertest.Testdata(b, format, largest))
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), largest)
	if err := os.WriteFile(path, xmlscan.As10(data), 0o600); err != nil {
		b.Fatal(err)
	}
	importertest.BenchXMLBaseline(b, path)
}
