package openvas

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// spec is what the contract suite checks of the OpenVAS/GVM parser.
var spec = importertest.Spec{
	Format: format,
	Golden: importertest.Golden(importertest.Table(testdataCounts, checkXML), importertest.Table(csvCounts, checkCSV)),
	Detect: map[string]bool{
		`<get_reports_response status="200"><report`:                                                                  true,
		`<report id="x" format_id="a994b278-1f62-11e1-96ac-406186ea4fc5">`:                                            true,
		`<report id="x"><gmp><version>22.4</version></gmp>`:                                                           true,
		`<report id="x"><omp><version>7.0</version></omp>`:                                                            true,
		`<report><results><result><nvt oid="1.3.6.1.4.1.25623.1.0.1">`:                                                true,
		`<report><title>Some other tool</title><results/></report>`:                                                   false,
		`<OWASPZAPReport version="2.10.0">`:                                                                           false,
		`{"report": {"results": []}}`:                                                                                 false,
		`<reports format_id="x">`:                                                                                     false,
		"IP,Hostname,Port,Port Protocol,CVSS,Severity,QoD,Solution Type,NVT Name,Summary,Specific Result,NVT OID\r\n": true, // CSV
		"\xEF\xBB\xBFIP,NVT Name,NVT OID\n":                                                                           true,
		"IP,NVT OID\n":                                                                                                false, // no NVT Name
		"Plugin ID,CVE,Risk,Host,Protocol,Port,Name\n":                                                                false, // Nessus
		``: false,
	},
	Hostile: []importertest.Hostile{
		{Name: "empty", In: "", Msg: "no root element"},
		{Name: "json", In: `{"a":1}`, Msg: "text before the root"},
		{Name: "csv missing column", In: "IP,NVT Name\n10.0.0.1,x\n", Msg: "lacks the column(s) NVT OID", Line: 1},
		{Name: "csv field count", In: "IP,NVT OID,NVT Name\n10.0.0.1,1,x\n10.0.0.1,2\n", Msg: "number of fields", Line: 3},
		{Name: "csv bare quote", In: "IP,NVT OID,NVT Name\n10.0.0.1,1,a\"b\n", Msg: "malformed CSV", Line: 2},
		{Name: "csv port", In: "IP,NVT OID,NVT Name,Port\n10.0.0.1,1,x,http\n", Msg: `column "Port"`, Line: 2},
		{Name: "csv no ip", In: "IP,NVT OID,NVT Name\n,1,x\n", Msg: `column "IP": empty`, Line: 2},
		{Name: "other root", In: `<OWASPZAPReport/>`, Msg: "not <report>"},
		{Name: "truncated", In: doc(result("10.0.0.1", "1/tcp", "1", "1", "Low", ""), "")[:300], Msg: "unexpected EOF"},
		{Name: "entity", In: `<!DOCTYPE report [<!ENTITY x "y">]><report>&x;</report>`, Msg: "entity"},
		{Name: "billion laughs", In: `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><report>&lol2;</report>`, Msg: "entity"},
		{Name: "undefined entity", In: `<report>&xxe;</report>`, Msg: "malformed XML"},
		{Name: "invalid utf-8", In: doc(result("10.0.0.1", "1/tcp", "1", "1", "Low", "\xff"), ""), Msg: "UTF-8"},
		{Name: "port range", In: doc(result("10.0.0.1", "70000/tcp", "1", "1", "Low", ""), ""), Msg: "port"},
		{Name: "port junk", In: doc(result("10.0.0.1", "x1/tcp", "1", "1", "Low", ""), ""), Msg: "port"},
		{Name: "severity range", In: doc(result("10.0.0.1", "1/tcp", "1", "11", "High", ""), ""), Msg: "severity"},
		{Name: "severity huge", In: doc(result("10.0.0.1", "1/tcp", "1", "1e400", "High", ""), ""), Msg: "severity"},
		{Name: "severity NaN", In: doc(result("10.0.0.1", "1/tcp", "1", "NaN", "High", ""), ""), Msg: "severity"},
		{Name: "cvss out of range", In: doc(strings.Replace(result("10.0.0.1", "1/tcp", "1", "1", "Low", ""), "<cvss_base>5.0", "<cvss_base>99", 1), ""), Msg: "CVSS score"},
		{Name: "no host", In: doc(`<result><port>1/tcp</port><nvt oid="1"/></result>`, ""), Msg: "without a host"},
		{Name: "no oid", In: doc(`<result><host>10.0.0.1</host><port>1/tcp</port><nvt/></result>`, ""), Msg: "NVT oid"},
		{Name: "second root", In: `<report/><report/>`, Msg: "second root"},
	},
	Nesting: []importertest.Stream{
		{Name: "under root", Prefix: `<report format_id="x"><report>`, Pattern: "<report>"},
		{Name: "bare", Pattern: "<report>"},
	},
	Huge: []importertest.Stream{{
		Name:    "text",
		Prefix:  `<report><results><result><host>10.0.0.1</host><description>`,
		Pattern: "0123456789abcdef",
		Suffix:  `</description></result></results></report>`,
		Msg:     "without a '<'", MaxAlloc: 160 << 20,
	}},
	Cancelled:    doc("", ""),
	Unterminated: ".csv",
	CancelStreams: []importertest.Stream{
		{Name: "results", Prefix: `<report><results>`, Pattern: result("10.0.0.1", "1/tcp", "1", "1", "Low", ""), Size: 1 << 40, CancelAfter: 64 << 10},
	},
}

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, New, spec, doc(result("10.0.0.1", "443/tcp", "1.2", "5.0", "Medium", ""), ""),
		"IP,Hostname,Port,Port Protocol,CVSS,Severity,NVT Name,NVT OID,CVEs\n10.0.0.1,h,general,tcp,5.0,Medium,n,1.2,\"CVE-1,CVE-2\"\n")
}

// BenchmarkParse parses the largest OpenVAS file of the shared testdata.
//
// Its baseline is the floor: encoding/xml's token loop over the same file, keeping
// nothing. BenchmarkParse reads as a ratio of it.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Testdata(b, format, "openvas_metasploitable2_44results.xml"), importertest.BenchXMLBaseline)
}
