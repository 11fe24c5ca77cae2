package cyclonedx

import (
	"testing"

	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// spec is what the contract suite checks of the CycloneDX parser. Trivy's and Grype's CycloneDX
// output is CycloneDX, so Detect claims those testdata files too.
var spec = importertest.Spec{
	Format: format,
	Golden: importertest.Golden(importertest.Table(testdataCounts, checkJSON), importertest.Table(xmlFiles, checkXML)),
	Detect: map[string]bool{
		`{"bomFormat":"CycloneDX","specVersion":"1.6"`:                                                       true,
		`{"$schema":"http://cyclonedx.org/schema/bom-1.5.schema.json","bomFormat":"CycloneDX"`:               true,
		"\xEF\xBB\xBF {\"bomFormat\": \"CycloneDX\"}":                                                        true,
		`{"metadata":{"bomFormat":"CycloneDX"},"x":1}`:                                                       false, // not top level
		`{"bomFormat":"SPDX"}`:                                                                               false,
		`{"SchemaVersion":2,"ArtifactName":"x","Results":[]}`:                                                false,
		`<bom xmlns="http://cyclonedx.org/schema/bom/1.5">`:                                                  true, // XML
		"\xEF\xBB\xBF<?xml version=\"1.0\"?>\r\n<cdx:bom xmlns:cdx=\"http://cyclonedx.org/schema/bom/1.4\">": true,
		`<bom xmlns="http://example.com/bom">`:                                                               false,
		`<bom>`:                                                                                              false,
		`<components xmlns="http://cyclonedx.org/schema/bom/1.5">`:                                           false,
		`[{"bomFormat":"CycloneDX"}]`:                                                                        false,
		`{"bomFormat":`:                                                                                      false,
		``:                                                                                                   false,
	},
	Hostile: hostile(),
	Nesting: []importertest.Stream{
		{Name: "bare", Pattern: "["},
		{Name: "skipped member", Prefix: `{"bomFormat":"CycloneDX","dependencies":`, Pattern: "["},
		{Name: "in a vulnerability", Prefix: `{"bomFormat":"CycloneDX","vulnerabilities":[{"id":"x","ratings":`, Pattern: "["},
		{Name: "nested components", Prefix: `{"bomFormat":"CycloneDX","components":[`, Pattern: `{"components":[`},
		{Name: "objects in metadata", Prefix: `{"bomFormat":"CycloneDX","metadata":`, Pattern: `{"a":`},
	},
	Huge: []importertest.Stream{
		{Name: "string in a vulnerability", Prefix: `{"bomFormat":"CycloneDX","vulnerabilities":[{"id":"x","description":"`, Pattern: "0123456789abcdef", Suffix: `"}]}`, Msg: "larger than"},
		{Name: "skipped string", Prefix: `{"bomFormat":"CycloneDX","signature":"`, Pattern: "0123456789abcdef", Suffix: `"}`, Msg: "larger than"},
		{Name: "component", Prefix: `{"bomFormat":"CycloneDX","components":[{"name":"`, Pattern: "0123456789abcdef", Suffix: `"}]}`, Msg: "larger than"},
	},
	Cancelled: bomDoc,
	CancelStreams: []importertest.Stream{
		{Name: "components", Prefix: `{"bomFormat":"CycloneDX","components":[`, Pattern: `{"bom-ref":"a","name":"a"},`, Size: 1 << 40, CancelAfter: 64 << 10},
	},
}

func hostile() []importertest.Hostile {
	vuln := func(body string) string {
		return `{"bomFormat":"CycloneDX","vulnerabilities":[{"id":"CVE-1",` + body + `}]}`
	}
	return []importertest.Hostile{
		{Name: "empty", In: "", Msg: "truncated"},
		{Name: "array", In: `[{"bomFormat":"CycloneDX"}]`, Msg: "expected an object"},
		{Name: "not cyclonedx", In: `{"bomFormat":"SPDX"}`, Msg: "not \"CycloneDX\""},
		{Name: "no bomFormat", In: `{"components":[]}`, Msg: "no bomFormat"},
		{Name: "bomFormat type", In: `{"bomFormat":1}`, Msg: "unexpected JSON value"},
		{Name: "truncated", In: bomDoc[:len(bomDoc)/2], Msg: "truncated"},
		{Name: "trailing", In: `{"bomFormat":"CycloneDX"}x`, Msg: "malformed JSON"},
		{Name: "trailing value", In: `{"bomFormat":"CycloneDX"}{}`, Msg: "after the end"},
		{Name: "syntax", In: `{"bomFormat":"CycloneDX",}`, Msg: "malformed JSON"},
		{Name: "invalid utf-8", In: vuln(`"description":"` + "\xed\xa0\x80" + `"`), Msg: "UTF-8"},
		{Name: "score overflow", In: vuln(`"ratings":[{"score":1e999,"method":"CVSSv31"}]`), Msg: "unexpected JSON value"},
		{Name: "score range", In: vuln(`"ratings":[{"score":11,"method":"CVSSv31"}]`), Msg: "score"},
		{Name: "cwe negative", In: vuln(`"cwes":[-1]`), Msg: "cwe"},
		{Name: "cwe float", In: vuln(`"cwes":[1.5]`), Msg: "unexpected JSON value"},
		{Name: "cwe overflow", In: vuln(`"cwes":[99999999999999999999]`), Msg: "unexpected JSON value"},
		{Name: "no id", In: `{"bomFormat":"CycloneDX","vulnerabilities":[{"affects":[{"ref":"a"}]}]}`, Msg: "no id"},
		{Name: "wrong type", In: `{"bomFormat":"CycloneDX","components":{"a":1}}`, Msg: "expected an array"},
		{Name: "xml not a bom", In: `<bom xmlns="http://example.com/bom"/>`, Msg: "not a CycloneDX <bom>"},
		{Name: "xml truncated", In: xmlBOM(`<id>CVE-1</id>`)[:120], Msg: "EOF"},
		{Name: "xml malformed", In: xmlBOM(`<id>CVE-1</ids>`), Msg: "malformed XML"},
		{Name: "xml entity", In: `<!DOCTYPE bom [<!ENTITY x "y">]>` + xmlBOM(`<id>&x;</id>`), Msg: "entity"},
		{Name: "xml score range", In: xmlBOM(`<id>CVE-1</id><ratings><rating><score>11</score><method>CVSSv31</method></rating></ratings>`), Msg: "score"},
		{Name: "xml no id", In: xmlBOM(`<affects><target><ref>a</ref></target></affects>`), Msg: "no id"},
		{Name: "xml second root", In: xmlBOM(`<id>CVE-1</id>`) + `<bom/>`, Msg: "second root"},
	}
}

// xmlBOM is an XML BOM with one vulnerability whose body is body.
func xmlBOM(body string) string {
	return `<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"><vulnerabilities><vulnerability>` +
		body + `</vulnerability></vulnerabilities></bom>`
}

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, New, spec, bomDoc,
		xmlBOM(`<id>CVE-1</id><ratings><rating><score>7.5</score><method>CVSSv31</method></rating></ratings><analysis><state>not_affected</state></analysis><affects><target><ref>r</ref></target></affects>`))
}

// BenchmarkParse parses the largest CycloneDX file of the shared testdata.
//
// Its baseline is the naive alternative: json.Unmarshal of the whole file into
// an any tree. BenchmarkParse reads as a ratio of it.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Testdata(b, format, "cdx15_trivy_sbom_102comps_10vulns.json"), importertest.BenchJSONBaseline)
}
