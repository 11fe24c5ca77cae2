package nessus

import (
	"testing"

	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/readguard"
)

// spec is what the contract suite checks of the Nessus parser.
var spec = importertest.Spec{
	Format: format,
	Golden: importertest.Golden(importertest.Table(testdataCounts, checkXML), importertest.Table(csvCounts, checkCSV)),
	Detect: map[string]bool{
		`<?xml version="1.0" ?><NessusClientData_v2><Policy>`:      true,
		"\xEF\xBB\xBF\n<!-- x -->\n<NessusClientData_v2>":          true,
		`<NessusClientData_v2`:                                     false, // cut inside the tag
		`<NessusClientData>`:                                       false, // v1
		`{"NessusClientData_v2": 1}`:                               false,
		`<nmaprun scanner="nmap"><NessusClientData_v2/></nmaprun>`: false,
		`text <NessusClientData_v2>`:                               false,
		``:                                                         false,
		`<!DOCTYPE x [<!ENTITY a "b">]><NessusClientData_v2>&a;</NessusClientData_v2>`: true,
		"Plugin ID,CVE,CVSS v2.0 Base Score,Risk,Host,Protocol,Port,Name\r\n1,":        true, // CSV
		"\xEF\xBB\xBF\"Plugin ID\",\"Host\",\"Name\",\"Plugin Output\"\n":              true,
		"Plugin ID,Host,Name\n": false, // neither Risk nor Plugin Output
		"IP,Hostname,Port,Port Protocol,CVSS,Severity,NVT Name,NVT OID\n": false, // OpenVAS
		"Plugin ID,Host,Risk": false, // no whole header line
	},
	Hostile: []importertest.Hostile{
		{Name: "empty", In: "", Msg: "no root element"},
		{Name: "json", In: `{"a":1}`, Msg: "text before the root"},
		{Name: "other root", In: `<nmaprun/>`, Msg: "not <NessusClientData_v2>"},
		{Name: "truncated", In: doc("", okItem)[:200], Msg: "unexpected EOF"},
		{Name: "mismatched tags", In: `<NessusClientData_v2><Report></ReportX></NessusClientData_v2>`, Msg: "malformed XML"},
		{Name: "entity", In: `<!DOCTYPE NessusClientData_v2 [<!ENTITY x "y">]><NessusClientData_v2>&x;</NessusClientData_v2>`, Msg: "entity"},
		{Name: "billion laughs", In: `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><NessusClientData_v2>&lol2;</NessusClientData_v2>`, Msg: "entity"},
		{Name: "external entity", In: `<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><NessusClientData_v2>&xxe;</NessusClientData_v2>`, Msg: "entity"},
		{Name: "undefined entity", In: `<NessusClientData_v2>&xxe;</NessusClientData_v2>`, Msg: "malformed XML"},
		{Name: "invalid utf-8", In: doc("", `<ReportItem pluginID="1" severity="0"><description>a`+"\xff\xfe"+`b</description></ReportItem>`), Msg: "UTF-8"},
		{Name: "port range", In: doc("", `<ReportItem pluginID="1" port="70000" severity="0"/>`), Msg: "port"},
		{Name: "port junk", In: doc("", `<ReportItem pluginID="1" port="-1" severity="0"/>`), Msg: "port"},
		{Name: "severity range", In: doc("", `<ReportItem pluginID="1" port="1" severity="5"/>`), Msg: "severity"},
		{Name: "severity overflow", In: doc("", `<ReportItem pluginID="1" port="1" severity="99999999999999999999999"/>`), Msg: "severity"},
		{Name: "score overflow", In: doc("", `<ReportItem pluginID="1" severity="1"><cvss3_base_score>1e400</cvss3_base_score></ReportItem>`), Msg: "cvss3_base_score"},
		{Name: "score NaN", In: doc("", `<ReportItem pluginID="1" severity="1"><cvss_base_score>NaN</cvss_base_score></ReportItem>`), Msg: "cvss_base_score"},
		{Name: "score 11", In: doc("", `<ReportItem pluginID="1" severity="1"><cvss4_base_score>11</cvss4_base_score></ReportItem>`), Msg: "cvss4_base_score"},
		{Name: "no pluginID", In: doc("", `<ReportItem port="1" severity="1"/>`), Msg: "pluginID"},
		{Name: "no host name", In: `<NessusClientData_v2><Report><ReportHost/></Report></NessusClientData_v2>`, Msg: "name"},
		{Name: "second root", In: `<NessusClientData_v2/><NessusClientData_v2/>`, Msg: "second root"},
		{Name: "csv missing column", In: "Plugin ID,Risk,Host,Port\n1,None,h,0\n", Msg: "lacks the column(s) Name", Line: 1},
		{Name: "csv field count", In: "Plugin ID,Risk,Host,Name\n1,None,h,n\n2,None,h\n", Msg: "number of fields", Line: 3},
		{Name: "csv bare quote", In: "Plugin ID,Risk,Host,Name\n1,None,h,a \"b\" c\n", Msg: "malformed CSV", Line: 2},
		{Name: "csv unterminated quote", In: "Plugin ID,Risk,Host,Name\n1,None,h,\"abc\n", Msg: "malformed CSV", Line: 2},
		{Name: "csv port", In: "Plugin ID,Risk,Host,Name,Port\n1,None,h,n,http\n", Msg: `column "Port"`, Line: 2},
		{Name: "csv no host", In: "Plugin ID,Risk,Host,Name\n1,None,,n\n", Msg: `column "Host": empty`, Line: 2},
		{Name: "csv invalid utf-8", In: "Plugin ID,Risk,Host,Name\n1,None,h,\xff\n", Msg: "UTF-8"},
		{Name: "unsupported encoding", In: `<?xml version="1.0" encoding="EBCDIC"?><NessusClientData_v2/>`, Msg: "encoding"},
	},
	// Refused at depth 256, having read and allocated little.
	Nesting: []importertest.Stream{
		{Name: "under root", Prefix: "<NessusClientData_v2>", Pattern: "<a>"},
		{Name: "bare", Pattern: "<a>"},
	},
	// A 50 MB text node is refused once a single token passes 16 MiB.
	Huge: []importertest.Stream{{
		Name:    "csv field",
		Prefix:  "Plugin ID,Risk,Host,Name,Plugin Output\n1,None,h,n,\"",
		Pattern: "0123456789abcdef",
		Suffix:  "\"\n",
		Msg:     "larger than", MaxAlloc: 160 << 20,
	}, {
		Name:    "text",
		Prefix:  `<NessusClientData_v2><Report><ReportHost name="h"><ReportItem pluginID="1"><plugin_output>`,
		Pattern: "0123456789abcdef",
		Suffix:  `</plugin_output></ReportItem></ReportHost></Report></NessusClientData_v2>`,
		Msg:     "without a '<'", MaxAlloc: 160 << 20,
		MinOffset: readguard.MaxTokenBytes, MaxOffset: readguard.MaxTokenBytes + 1024,
	}},
	Cancelled:    doc("", okItem),
	Unterminated: ".csv",
	// An endless stream of items stops.
	CancelStreams: []importertest.Stream{
		{Name: "items", Prefix: `<NessusClientData_v2><Report><ReportHost name="h">`, Pattern: `<ReportItem pluginID="1" severity="0"/>`, Size: 1 << 40, CancelAfter: 64 << 10},
	},
}

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, New, spec, doc(`<tag name="host-ip">10.0.0.1</tag>`, okItem),
		"Plugin ID,CVE,CVSS v2.0 Base Score,Risk,Host,Protocol,Port,Name,Plugin Output\r\n1,CVE-2024-1,5.0,Medium,h,tcp,80,n,\"a\nb\"\r\n1,CVE-2024-2,5.0,Medium,h,tcp,80,n,\"a\nb\"\r\n")
}

// BenchmarkParse parses the largest Nessus file of the shared testdata.
//
// Its baseline is the floor: encoding/xml's token loop over the same file, keeping
// nothing. BenchmarkParse reads as a ratio of it.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Testdata(b, format, "dd_basic_network_cvssv3.nessus"), importertest.BenchXMLBaseline)
}
