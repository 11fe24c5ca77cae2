package nmap

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// check holds for every report the parser returns: the shared invariants, unique fingerprints,
// hosts only and upper-case MACs.
func check(tb testing.TB, rep *importers.Report) {
	tb.Helper()
	importertest.CheckReportBasic(tb, rep, formatName)
	importertest.UniqueFingerprints(tb, rep)
	for _, a := range rep.Assets {
		if a.Kind != importers.Host {
			tb.Errorf("asset %q: kind %q", a.Key, a.Kind)
		}
		for _, m := range a.MACs {
			if m != strings.ToUpper(m) {
				tb.Errorf("MAC %q not upper-case", m)
			}
		}
	}
}

// spec is what the contract suite checks of the Nmap parser.
var spec = importertest.Spec{
	Format:     formatName,
	Check:      check,
	Positioned: true,
	Golden:     importertest.Golden(importertest.Table(testdataFiles, checkCounts)),
	Detect: map[string]bool{
		`<nmaprun scanner="nmap">`: true,
		"\xEF\xBB\xBF\n<?xml version=\"1.0\"?>\n<!DOCTYPE nmaprun>\n<!-- c -->\n<nmaprun": true,
		`<?xml version="1.0"?><NessusClientData_v2>`:                                      false,
		`<?xml version="1.0"?><report id="x"><nmaprun/></report>`:                         false,
		`{"nmaprun": 1}`:     false,
		`text <nmaprun>`:     false,
		`<nmaprunner>`:       false,
		"<!-- c --><nmaprun": true,
		``:                   false,
	},
	Hostile: []importertest.Hostile{
		{Name: "empty", In: ``, Msg: "no <nmaprun>", Line: 1},
		{Name: "other root", In: "<?xml version=\"1.0\"?>\n<report/>", Msg: "not an Nmap", Line: 2},
		{Name: "truncated", In: hostileHead + "<host><status state=\"up\"/>", Msg: "unexpected EOF", Line: 3},
		{Name: "mismatched", In: hostileHead + "<host></hosts>", Msg: "element <host> closed by </hosts>", Line: 3},
		{Name: "invalid UTF-8", In: hostileHead + "<host><hostnames><hostname name=\"\xff\"/></hostnames></host></nmaprun>", Msg: "UTF-8", Line: 3},
		{Name: "port out of range", In: hostileHead + "<host><ports>\n<port protocol=\"tcp\" portid=\"70000\"/></ports></host></nmaprun>", Msg: "portid", Line: 4},
		{Name: "port not a number", In: hostileHead + "<host><ports>\n<port protocol=\"tcp\" portid=\"1e3\"/></ports></host></nmaprun>", Msg: "portid", Line: 4},
		{Name: "accuracy", In: hostileHead + "<host><os>\n<osmatch name=\"x\" accuracy=\"101\"/></os></host></nmaprun>", Msg: "accuracy", Line: 4},
		{Name: "start", In: "<nmaprun start=\"99999999999999999999999\">", Msg: "start", Line: 1},
		{Name: "vulners score", In: hostileHead + "<host><ports><port protocol=\"tcp\" portid=\"1\"><script id=\"vulners\"><table key=\"c\"><table><elem key=\"id\">CVE-2020-1234</elem><elem key=\"cvss\">11.5</elem></table></table></script></port></ports></host>\n</nmaprun>", Msg: "[0, 10]", Line: 3},
		{Name: "entity declaration", In: "<?xml version=\"1.0\"?>\n<!DOCTYPE nmaprun [\n<!ENTITY a \"aaaaaaaaaa\">\n<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">\n]>\n<nmaprun>&b;</nmaprun>", Msg: "entity", Line: 5},
		{Name: "external entity", In: "<?xml version=\"1.0\"?>\n<!DOCTYPE nmaprun [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<nmaprun><host><hostnames><hostname name=\"&xxe;\"/></hostnames></host></nmaprun>", Msg: "entity", Line: 2},
		{Name: "undefined entity", In: hostileHead + "<host><hostnames><hostname name=\"&xxe;\"/></hostnames></host></nmaprun>", Msg: "entity", Line: 3},
		{Name: "encoding", In: "<?xml version=\"1.0\" encoding=\"EBCDIC\"?><nmaprun/>", Msg: "EBCDIC", Line: 1},
		{Name: "second root", In: "<nmaprun></nmaprun>\n<nmaprun>", Msg: "after </nmaprun>", Line: 2},
		{Name: "text after root", In: "<nmaprun></nmaprun>\nxx", Msg: "outside the root", Line: 2},
	},
	TruncateFile:  "nmap_Pn_2hosts_multihostname.xml",
	TruncateEvery: 97,
	// 50 MB of "<a><a><a>…", at the top and inside a host (where DecodeElement reads): the
	// parser must stop at the depth limit after reading little, with a positioned error.
	Nesting: []importertest.Stream{
		{Name: "top", Prefix: "<nmaprun>", Pattern: `<a>`, Msg: "nested deeper", MaxRead: 1 << 20, MaxOffset: 1000},
		{Name: "inside a host", Prefix: `<nmaprun><host><ports><port portid="1"><script id="x">`, Pattern: `<a>`, Msg: "nested deeper", MaxRead: 1 << 20, MaxOffset: 1000},
	},
	Limited:   &Parser{MaxBytes: 1000},
	OverLimit: `<nmaprun args="` + strings.Repeat("a", 200000) + `"/>`,
	Cancelled: small,
	CancelStreams: []importertest.Stream{{ // cancelled after 100,000 bytes
		Name:        "while decoding",
		Prefix:      "<nmaprun>",
		Pattern:     nmapHost,
		Size:        20000 * int64(len(nmapHost)),
		Suffix:      "</nmaprun>",
		CancelAfter: 100000,
	}},
}

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// fuzzParser has small limits, so that the fuzzer reaches them.
func fuzzParser() importers.Parser { return &Parser{MaxBytes: 1 << 20, MaxDepth: 32} }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, fuzzParser, spec, small,
		`<nmaprun start="1"><host><address addr="::1" addrtype="ipv6"/><ports><port protocol="tcp" portid="22"><state state="open"/><service name="ssh"><cpe>cpe:/a:x</cpe></service><script id="vulners"><table key="cpe:/a:x"><table><elem key="id">CVE-2020-0001</elem><elem key="cvss">9.8</elem><elem key="type">cve</elem></table></table></script></port></ports></host></nmaprun>`,
		`<nmaprun><host><hostscript><script id="smb-vuln-x" output="VULNERABLE:&#xa;T&#xa;  State: VULNERABLE&#xa;  Risk factor: LOW"><table key="NMAP-1"><elem key="title">T</elem><elem key="state">LIKELY VULNERABLE</elem><table key="scores"><elem key="CVSSv3">5.0 (MEDIUM) (CVSS:3.1/AV:N)</elem></table></table></script></hostscript></host></nmaprun>`,
		`<!DOCTYPE nmaprun [<!ENTITY a "b">]><nmaprun>&a;</nmaprun>`,
		`<nmaprun><a><a><a><a>`,
		"<nmaprun><host><hostnames><hostname name=\"\xff\"/></hostnames></host></nmaprun>",
	)
}

// hostileHead starts most hostile inputs, so that their errors are on line 3 or later.
const hostileHead = "<?xml version=\"1.0\"?>\n<nmaprun>\n"

// nmapHost is one host of a generated report.
const nmapHost = `<host><status state="up"/><address addr="10.0.0.1" addrtype="ipv4"/></host>`

// BenchmarkParse parses the largest Nmap test file (nmap_A_subnet_256hosts.xml, 72 KB, 256
// hosts of which 4 are up, no findings).
//
// Its baseline is the floor the parser is measured against: encoding/xml reading every token of
// the same file, with no checks and no decoding into structs.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Largest(b, formatName), importertest.BenchXMLBaseline)
}

// BenchmarkParseVulners parses the Nmap test file with the most findings
// (nmap_sV_vulners_1host_25ports.xml, 41 KB, 8 findings).
func BenchmarkParseVulners(b *testing.B) {
	importertest.Bench(b, New, importertest.Testdata(b, formatName, "nmap_sV_vulners_1host_25ports.xml"))
}
