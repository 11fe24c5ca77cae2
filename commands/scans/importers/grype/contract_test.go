package grype

import (
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
)

// spec is what the contract suite checks of the Grype parser.
var spec = importertest.Spec{
	Format:     formatName,
	Check:      func(tb testing.TB, rep *importers.Report) { importertest.CheckReportBasic(tb, rep, formatName) },
	Positioned: true,
	Golden:     importertest.Golden(importertest.Table(testdataFiles, checkImage), importertest.Table(legacyFiles, checkLegacy)),
	Detect: map[string]bool{
		`{"matches": [{"vulnerability": {"id": "CVE-1"}, "artifact": {}}]}`:       true,
		`{"matches": [{"vulnerability": {"id": "CVE-1", "description": "cut here`: true,
		`{"matches": [], "source": {"type": "image"}}`:                            true,
		`{"matches": [], "descriptor": {"name": "grype"}}`:                        true,
		`{"matches": []}`:         false,
		`{"matches": [1, 2]}`:     false,
		`{"matches": [{"x": 1}]}`: false,
		`{"bomFormat": "CycloneDX", "matches": [{"vulnerability": {}}]}`: false,
		`{"SchemaVersion": 2, "Results": []}`:                            false,
		`not json`:                                                       false,
	},
	Hostile: []importertest.Hostile{
		{Name: "not an object", In: `"x"`, Msg: "expected an object", Line: 1},
		{Name: "no matches", In: `{"source": {}}`, Msg: "no matches", Line: 1},
		{Name: "truncated", In: "{\"matches\": [\n{\"vulnerability\": {\"id\": \"CVE-1\"", Msg: "end of input", Line: 2},
		{Name: "syntax", In: "{\"matches\": [\n\n{\"vulnerability\" {}}]}", Msg: "invalid character", Line: 3},
		{Name: "invalid UTF-8", In: "{\"matches\": [],\n \"source\": {\"type\": \"directory\", \"target\": \"\xc3\x28\"}}", Msg: "UTF-8", Line: 2},
		{Name: "score out of range", In: "{\"matches\": [\n{\"vulnerability\": {\"cvss\": [{\"metrics\": {\"baseScore\": -1}}]}}]}", Msg: "[0, 10]", Line: 2},
		{Name: "score overflow", In: "{\"matches\": [\n{\"vulnerability\": {\"cvss\": [{\"metrics\": {\"baseScore\": 1e400}}]}}]}", Msg: "[0, 10]", Line: 2},
		{Name: "wrong type", In: "{\"matches\": [\n{\"artifact\": {\"name\": [1]}}]}", Msg: "artifact.name", Line: 2},
		{Name: "bad image target", In: "{\"matches\": [],\n\"source\": {\"type\": \"image\", \"target\": \"x\"}}", Msg: "image target", Line: 2},
	},
	TruncateFile:  "grype_chainguard_ruby_wolfi.json",
	TruncateEvery: 97,
	Nesting:       importertest.JSONNesting(`{"matches": [{"vulnerability": `),
	Bounded: []importertest.Stream{
		{Name: "unknown array", Prefix: `{"x": [`, Pattern: `{"a":[1,-2.5e3,"s\u00e9",true]},`, Suffix: `0], "matches": [` + grypeMatch + `]}`},
		{Name: "unknown member of a match", Prefix: `{"matches": [{"vulnerability": {"id": "CVE-1"}, "artifact": {"name": "p"}, "x": "`, Pattern: "0123456789abcdef", Suffix: `"}]}`},
		{Name: "description", Prefix: `{"matches": [{"vulnerability": {"id": "CVE-1", "description": "`, Pattern: `0123456789abcd\\`, Suffix: `"}, "artifact": {"name": "p"}}]}`, Msg: "1 strings longer than 1048576 bytes cut"},
	},
	Limits: func(l importertest.Limits) importers.Parser { return &Parser{jsonguard.Limits(l)} },
	JSON:   &importertest.JSONRecords{Key: "matches", Record: grypeMatch, Records: 19999},
}

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, spec.FuzzParser, spec,
		`{"matches":[{"vulnerability":{"id":"CVE-2024-0001","severity":"High","cvss":[{"version":"3.1","vector":"CVSS:3.1/AV:N","metrics":{"baseScore":7.5}}],"fix":{"versions":["2"],"state":"fixed"}},"relatedVulnerabilities":[{"id":"GHSA-aaaa-bbbb-cccc","cvss":[]}],"artifact":{"name":"p","version":"1","type":"npm","purl":"pkg:npm/p@1","locations":[{"path":"/a"}]}}],"source":{"type":"image","target":{"userInput":"x:1","repoDigests":["x@sha256:00"]}},"distro":{"name":"alpine","version":"3"},"descriptor":{"name":"grype","version":"0.1"}}`,
		`{"matches":[],"source":{"type":"directory","target":"/src"}}`,
		`{"matches":[{"vulnerability":{"id":"CVE-1"},"artifact":{"name":"p"},"matchDetails":{"matcher":"m","matchedOn":{"constraint":"< 2"}}}]}`,
		`{"matches":[{"vulnerability":{"severity":null}}],"source":{"type":"image","target":"oops"}}`,
		`{"matches":null}`,
		`{{{{{{`,
		"{\"matches\":[],\"x\":\"\xc0\"}",
	)
}

// grypeMatch is one match of a generated report.
const grypeMatch = `{"vulnerability": {"id": "CVE-2024-0001", "severity": "Low"}, "artifact": {"name": "p", "version": "1"}}`

// BenchmarkParse parses the largest Grype test file (grype_rhel87_image_35matches.json,
// 212 KB, 35 findings) and reports findings per second beside MB/s.
//
// Its baseline is the floor the parser is measured against: encoding/json
// unmarshalling the same file into an untyped value, with no checks and no normalisation.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Largest(b, formatName), importertest.BenchJSONBaseline)
}
