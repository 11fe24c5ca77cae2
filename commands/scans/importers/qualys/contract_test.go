package qualys

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// golden is what each Qualys file holds. Findings are the distinct (IP, QID, port, protocol) of
// INFO, SERVICE, VULN and PRACTICE records (or the WAS VULNERABILITY and SENSITIVE_CONTENT
// records), counted with Python's ElementTree, which does not fetch the DTD (xmllint is not
// installed here):
//
//	python3 -c "import xml.etree.ElementTree as E; r=E.parse(F).getroot(); print(len({(i.get('value'),
//	  v.get('number'),c.get('port'),c.get('protocol')) for i in r.iter('IP') for c in i.iter('CAT') for v in c}))"
//
// Assets are len(list(r.iter('IP'))), or the one web application of a WAS report; severities
// the VULN/PRACTICE levels 1–5 mapped, INFO and SERVICE records info.
type golden struct {
	findings, assets int
	sev              map[importers.Severity]int
	// cves: records with a CVE_ID_LIST or a cveid attribute.
	cves int
}

var goldenFiles = map[string]golden{
	"qualys_vm_scan_simple.xml":                 {7, 1, map[importers.Severity]int{importers.Info: 5, importers.Low: 1, importers.Medium: 1}, 2},
	"qualys_vm_scan_two_hosts_common_issue.xml": {14, 2, map[importers.Severity]int{importers.Info: 11, importers.Low: 2, importers.Medium: 1}, 3},
	"qualys_vm_scan_practices_cvss3.xml":        {3, 1, map[importers.Severity]int{importers.Critical: 2, importers.Medium: 1}, 2},
	// Asset data report and host detection list: the distinct (IP, QID, PORT, PROTOCOL) of
	// VULN_INFO (DETECTION) records, r.iter('HOST') × h.iter('VULN_INFO') with findtext.
	// QID 6 is Ig (info), 38739 glossary level 3 on two hosts, 370876 level 4 (Fixed).
	"qualys_asset_data_report_own.xml": {4, 2, map[importers.Severity]int{importers.Info: 1, importers.Medium: 2, importers.High: 1}, 1},
	// Confirmed level 2, Potential level 5, Info level 3 (info); a second host, agent-tracked
	// with no IP, whose one Info detection has no SEVERITY.
	"qualys_host_detection_own.xml": {4, 2, map[importers.Severity]int{importers.Low: 1, importers.Critical: 1, importers.Info: 2}, 0},
	// CSV: rows, python3 csv.DictReader; distinct (IP, QID, Port, Protocol). VM detections:
	// levels 3 and 5 (Fixed), and an Ig row (info); PCI: Q_SEVERITY 3 and 2.
	"qualys_vm_detections_own.csv": {3, 2, map[importers.Severity]int{importers.Medium: 1, importers.Critical: 1, importers.Info: 1}, 1},
	"qualys_pci_own.csv":           {2, 1, map[importers.Severity]int{importers.Medium: 1, importers.Low: 1}, 0},
	// One VULNERABILITY, QID 6 (glossary severity 1).
	"qualys_was_scan_report.xml": {1, 1, map[importers.Severity]int{importers.Info: 1}, 0},
}

func checkGolden(t *testing.T, rep *importers.Report, want golden) {
	importertest.Counts(t, rep, want.assets, want.findings, want.sev, "")
	cves := 0
	for _, f := range rep.Findings {
		if len(f.CVEs) > 0 {
			cves++
		}
	}
	if cves != want.cves {
		t.Errorf("%d findings with CVEs, want %d", cves, want.cves)
	}
}

// spec is what the contract suite checks of the Qualys parser.
var spec = importertest.Spec{
	Format: format,
	Golden: importertest.Golden(importertest.Table(goldenFiles, checkGolden)),
	Detect: map[string]bool{
		`<?xml version="1.0"?><!DOCTYPE SCAN SYSTEM "https://qualysguard.qualys.com/scan-1.dtd"><SCAN value="x">`: true,
		`<SCAN value="scan/1.2">`:             true,
		`<SCAN>`:                              false, // some other tool's <SCAN>
		`<WAS_SCAN_REPORT><HEADER>`:           true,
		`<ASSET_DATA_REPORT>`:                 true,
		`<HOST_LIST_VM_DETECTION_OUTPUT>`:     true,
		`<KNOWLEDGE_BASE_VULN_LIST_OUTPUT>`:   false,
		`<NessusClientData_v2>`:               false,
		`{"SCAN": {}}`:                        false,
		`IP,QID,Title,Severity` + "\n1,2,3,4": true, // a Qualys VM CSV export
		`"IP","DNS","QID","Title"`:            true,
		`IP,Title,Severity` + "\n1,2,3":       false,
	},
	Hostile: []importertest.Hostile{
		{Name: "empty", In: "", Msg: "no root element"},
		{Name: "json", In: `{"a":1}`, Msg: "text before the root"},
		{Name: "csv without QID", In: "IP,Title\n10.0.0.1,t\n", Msg: "lacks the column(s) QID"},
		{Name: "csv bad ip", In: "IP,QID\nx,1\n", Msg: "not an IP address", Line: 2},
		{Name: "csv bad qid", In: "IP,QID\n10.0.0.1,x\n", Msg: "not a QID", Line: 2},
		{Name: "csv bad port", In: "IP,QID,Port\n10.0.0.1,1,http\n", Msg: "not a number in 0..65535", Line: 2},
		{Name: "other root", In: `<nmaprun/>`, Msg: "not <SCAN>"},
		{Name: "knowledge base", In: `<KNOWLEDGE_BASE_VULN_LIST_OUTPUT/>`, Msg: "KnowledgeBase"},
		{Name: "asset data: bad ip", In: `<ASSET_DATA_REPORT><HOST_LIST><HOST><IP>x</IP></HOST></HOST_LIST></ASSET_DATA_REPORT>`, Msg: "not an IP address"},
		{Name: "detection: bad qid", In: `<HOST_LIST_VM_DETECTION_OUTPUT><RESPONSE><HOST_LIST><HOST><IP>10.0.0.1</IP><DETECTION_LIST><DETECTION><QID>x</QID></DETECTION></DETECTION_LIST></HOST></HOST_LIST></RESPONSE></HOST_LIST_VM_DETECTION_OUTPUT>`, Msg: "not a QID"},
		{Name: "detection: no host name", In: `<HOST_LIST_VM_DETECTION_OUTPUT><RESPONSE><HOST_LIST><HOST><TRACKING_METHOD>IP</TRACKING_METHOD></HOST></HOST_LIST></RESPONSE></HOST_LIST_VM_DETECTION_OUTPUT>`, Msg: "names the host"},
		{Name: "asset data: bad port", In: `<ASSET_DATA_REPORT><HOST_LIST><HOST><IP>10.0.0.1</IP><VULN_INFO_LIST><VULN_INFO><QID>6</QID><PORT>http</PORT></VULN_INFO></VULN_INFO_LIST></HOST></HOST_LIST></ASSET_DATA_REPORT>`, Msg: "not a port"},
		{Name: "truncated", In: scan(vuln("80", "82054", "2"))[:120], Msg: "unexpected EOF"},
		{Name: "entity", In: `<!DOCTYPE SCAN [<!ENTITY x "y">]><SCAN value="scan/1">&x;</SCAN>`, Msg: "entity"},
		{Name: "billion laughs", In: `<!DOCTYPE SCAN [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><SCAN>&lol2;</SCAN>`, Msg: "entity"},
		{Name: "external entity", In: `<!DOCTYPE SCAN [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><SCAN>&xxe;</SCAN>`, Msg: "entity"},
		{Name: "undefined entity", In: `<SCAN>&xxe;</SCAN>`, Msg: "malformed XML"},
		{Name: "invalid utf-8", In: scan(strings.Replace(vuln("80", "82054", "2"), "TCP", "\xff", 1)), Msg: "UTF-8"},
		{Name: "bad ip", In: `<SCAN><IP value="not-an-ip"/></SCAN>`, Msg: "not an IP address"},
		{Name: "bad port", In: scan(vuln("http", "82054", "2")), Msg: "not a port"},
		{Name: "port range", In: scan(vuln("70000", "82054", "2")), Msg: "not a port"},
		{Name: "bad qid", In: scan(vuln("80", "x", "2")), Msg: "not a QID"},
		{Name: "severity range", In: scan(vuln("80", "82054", "6")), Msg: "severity"},
		{Name: "cvss range", In: scan(strings.Replace(vuln("80", "1", "2"), "</TITLE>", "</TITLE><CVSS_BASE>11</CVSS_BASE>", 1)), Msg: "CVSS score"},
		{Name: "second root", In: `<SCAN/><SCAN/>`, Msg: "second root"},
	},
	Nesting: []importertest.Stream{
		{Name: "under root", Prefix: `<SCAN value="scan/1"><IP value="10.0.0.1"><VULNS><CAT value="x"><VULN number="1" severity="2">`, Pattern: "<A>"},
		{Name: "bare", Pattern: "<SCAN>"},
	},
	Huge: []importertest.Stream{{
		Name:    "text",
		Prefix:  `<SCAN value="scan/1"><IP value="10.0.0.1"><VULNS><CAT value="x"><VULN number="1" severity="2"><RESULT>`,
		Pattern: "0123456789abcdef",
		Suffix:  `</RESULT></VULN></CAT></VULNS></IP></SCAN>`,
		Msg:     "without a '<'", MaxAlloc: 160 << 20,
	}},
	Cancelled: scan(""),
	CancelStreams: []importertest.Stream{
		{Name: "records", Prefix: `<SCAN value="scan/1"><IP value="10.0.0.1"><VULNS>`, Pattern: vuln("80", "82054", "2"), Size: 1 << 40, CancelAfter: 64 << 10},
	},
}

// scan is a VM scan report of one host holding body.
func scan(body string) string {
	return `<?xml version="1.0"?><!DOCTYPE SCAN SYSTEM "https://qualysguard.qualys.com/scan-1.dtd"><SCAN value="scan/1"><IP value="10.0.0.1" name="h.example"><VULNS>` +
		body + `</VULNS></IP></SCAN>`
}

// vuln is one CAT with one VULN.
func vuln(port, qid, severity string) string {
	return `<CAT value="TCP" port="` + port + `" protocol="tcp"><VULN number="` + qid + `" severity="` + severity + `"><TITLE>t</TITLE><RESULT>r</RESULT></VULN></CAT>`
}

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, New, spec, scan(vuln("443", "38657", "5")), scan(""),
		`<WAS_SCAN_REPORT><RESULTS><VULNERABILITY_LIST><VULNERABILITY><QID>6</QID><URL>http://a/x</URL><IGNORED>true</IGNORED><IGNORED_REASON>FALSE_POSITIVE</IGNORED_REASON></VULNERABILITY></VULNERABILITY_LIST></RESULTS><GLOSSARY><QID_LIST><QID><QID>6</QID><SEVERITY>9</SEVERITY><CVSS_BASE>x</CVSS_BASE></QID></QID_LIST></GLOSSARY></WAS_SCAN_REPORT>`)
}

// BenchmarkParse parses the largest Qualys file (qualys_vm_scan_two_hosts_common_issue.xml,
// 30 KB, 14 findings).
//
// Its baseline is the floor: encoding/xml's token loop over the same file.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Largest(b, format), importertest.BenchXMLBaseline)
}
