package zap

import (
	"testing"

	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// spec is what the contract suite checks of the ZAP parser (JSON and XML reports).
var spec = importertest.Spec{
	Format: format,
	Golden: importertest.Golden(importertest.Table(testdataCounts, checkCounts)),
	Detect: map[string]bool{
		`<?xml version="1.0"?><OWASPZAPReport version="2.10.0">`:           true,
		`{"@programName":"ZAP","@version":"2.14.0","site":[`:               true,
		`{"@version":"2.8.0","@generated":"x","site":[{"@name":"http://a"`: true,
		`{"site":{"@name":"http://a","alerts":[]}}`:                        true,
		`{"@version":"2.8.0","site":"x"}`:                                  false,
		`{"site":[1,2]}`:                                                   false,
		`{"runs":[{"site":[{"@name":"x"}]}]}`:                              false, // not top level
		`{"bomFormat":"CycloneDX","site":[]}`:                              false,
		`<nmaprun/>`:                                                       false,
		`[[[[[[`:                                                           false,
		``:                                                                 false,
	},
	Hostile: hostile(),
	Nesting: []importertest.Stream{
		{Name: "json bare", Pattern: "["},
		{Name: "json skipped member", Prefix: `{"insights":`, Pattern: "["},
		{Name: "json in a value", Prefix: `{"site":[{"@name":"http://a","alerts":[{"pluginid":"1","alert":`, Pattern: "["},
		{Name: "json objects", Prefix: `{"x":`, Pattern: `{"a":`},
		{Name: "xml", Prefix: "<OWASPZAPReport>", Pattern: "<a>"},
		{Name: "xml bare", Pattern: "<a>"},
	},
	Huge: []importertest.Stream{
		{Name: "json string", Prefix: `{"site":[{"@name":"http://a","alerts":[{"pluginid":"1","desc":"`, Pattern: "0123456789abcdef", Suffix: `"}]}]}`, Msg: "larger than"},
		{Name: "json skipped", Prefix: `{"insights":"`, Pattern: "0123456789abcdef", Suffix: `"}`, Msg: "larger than"},
		{Name: "xml text", Prefix: `<OWASPZAPReport><site name="x"><alerts><alertitem><desc>`, Pattern: "0123456789abcdef", Suffix: `</desc></alertitem></alerts></site></OWASPZAPReport>`, Msg: "without a '<'"},
	},
	Cancelled: jsonDoc,
	CancelStreams: []importertest.Stream{
		{Name: "json", Prefix: `{"site":[{"@name":"http://a","alerts":[{"pluginid":"1","instances":[`, Pattern: `{"uri":"http://a/","method":"GET"},`, Size: 1 << 40, CancelAfter: 64 << 10},
		{Name: "xml", Prefix: `<OWASPZAPReport><site name="x"><alerts><alertitem><instances>`, Pattern: `<instance><uri>u</uri></instance>`, Size: 1 << 40, CancelAfter: 64 << 10},
	},
}

func hostile() []importertest.Hostile {
	alert := func(fields string) string {
		return `{"site":[{"@name":"http://a","@host":"a","@port":"80","alerts":[{"pluginid":"1","riskcode":"1",` + fields + `}]}]}`
	}
	return []importertest.Hostile{
		{Name: "empty", In: "", Msg: "empty input"},
		{Name: "array", In: `[1,2]`, Msg: "not a ZAP report"},
		{Name: "no site", In: `{"@version":"2.9.0"}`, Msg: "no \"site\""},
		{Name: "site string", In: `{"site":"x"}`, Msg: "want an array or object"},
		{Name: "truncated json", In: jsonDoc[:len(jsonDoc)/2], Msg: "truncated"},
		{Name: "trailing data", In: `{"site":[]} {"site":[]}`, Msg: "after the end"},
		{Name: "syntax", In: `{"site":[}`, Msg: "malformed JSON"},
		{Name: "invalid utf-8", In: alert(`"alert":"a` + "\xc3\x28" + `"`), Msg: "UTF-8"},
		{Name: "riskcode range", In: alert(`"x":1,"riskcode":"7"`), Msg: "riskcode"},
		{Name: "riskcode overflow", In: alert(`"riskcode":99999999999999999999999`), Msg: "riskcode"},
		{Name: "confidence", In: alert(`"confidence":"9"`), Msg: "confidence"},
		{Name: "cweid junk", In: alert(`"cweid":"79abc"`), Msg: "cweid"},
		{Name: "cweid float", In: alert(`"cweid":1e3`), Msg: "cweid"},
		{Name: "wascid range", In: alert(`"wascid":"123456789"`), Msg: "wascid"},
		{Name: "port", In: `{"site":[{"@name":"http://a","@port":"99999","alerts":[]}]}`, Msg: "port"},
		{Name: "object as scalar", In: alert(`"alert":{"a":1}`), Msg: "string or number"},
		{Name: "no pluginid", In: `{"site":[{"@name":"http://a","alerts":[{"riskcode":"1"}]}]}`, Msg: "pluginid"},
		{Name: "no site name", In: `{"site":[{"alerts":[]}]}`, Msg: "name or host"},
		{Name: "xml entity", In: `<!DOCTYPE OWASPZAPReport [<!ENTITY x "y">]><OWASPZAPReport>&x;</OWASPZAPReport>`, Msg: "entity"},
		{Name: "xml wrong root", In: `<nmaprun/>`, Msg: "not <OWASPZAPReport>"},
		{Name: "xml truncated", In: `<OWASPZAPReport><site name="x"><alerts><alertitem><pluginid>1`, Msg: "unexpected EOF"},
		{Name: "xml riskcode", In: `<OWASPZAPReport><site name="x"><alerts><alertitem><pluginid>1</pluginid><riskcode>4</riskcode></alertitem></alerts></site></OWASPZAPReport>`, Msg: "riskcode"},
		{Name: "xml invalid utf-8", In: "<OWASPZAPReport><site name=\"x\"><alerts><alertitem><desc>\xff</desc></alertitem></alerts></site></OWASPZAPReport>", Msg: "UTF-8"},
		{Name: "text", In: `hello`, Msg: "not a ZAP report"},
	}
}

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) { importertest.Fuzz(f, New, spec, jsonDoc) }

// BenchmarkParse parses the largest ZAP file of the shared testdata.
//
// Its baseline is the naive alternative: json.Unmarshal of the whole file into
// an any tree. BenchmarkParse reads as a ratio of it.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Testdata(b, format, "zap_2.8.0_juice-shop.json"), importertest.BenchJSONBaseline)
}
