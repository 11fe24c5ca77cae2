package trivy

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
)

// spec is what the contract suite checks of the Trivy parser.
var spec = importertest.Spec{
	Format:     formatName,
	Check:      func(tb testing.TB, rep *importers.Report) { importertest.CheckReportBasic(tb, rep, formatName) },
	Positioned: true,
	Golden:     importertest.Golden(importertest.Table(testdataFiles, checkCounts), importertest.Table(variantFiles, checkVariant)),
	Detect: map[string]bool{
		`{"SchemaVersion": 2, "ArtifactName": "x", "Results": []}`:                                     true,
		"\xEF\xBB\xBF" + `{"SchemaVersion": 2, "ArtifactName": "x"`:                                    true, // cut, with a BOM
		`{"SchemaVersion": 2, "bomFormat": "CycloneDX", "ArtifactName": "x"}`:                          false,
		`{"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": []}`: false,
		`{"matches": [], "source": {}}`:                                                                false,
		`[{"Target": "x", "Vulnerabilities": []}]`:                                                     true, // schema 1
		`[{"Target": "x", "Class": "os-pkgs"`:                                                          true,
		`[{"Target": "x"}]`:                                                                            false,
		`[{"Vulnerabilities": []}]`:                                                                    false,
		`[]`:                                                                                           false,
		`{"ClusterName": "c", "Resources": []}`:                                                        true, // trivy k8s
		`{"ClusterName": "c"}`:                                                                         false,
		``:                                                                                             false,
		`<?xml version="1.0"?><nmaprun/>`:                                                              false,
	},
	Hostile: []importertest.Hostile{
		{Name: "empty", In: ``, Msg: "end of input", Line: 1},
		{Name: "not an object", In: `[]`, Msg: "expected an object", Line: 1},
		{Name: "no schema", In: `{"Results": []}`, Msg: "SchemaVersion", Line: 1},
		{Name: "schema 1", In: `{"SchemaVersion": 1}`, Msg: "not supported", Line: 1},
		{Name: "schema 1 without target", In: `[{"Vulnerabilities": []}]`, Msg: "array of results with a Target", Line: 1},
		{Name: "schema 1 not results", In: "[{\"Target\": \"x\"},\n 3]", Msg: "expected an object", Line: 2},
		{Name: "k8s resources not objects", In: "{\"ClusterName\": \"c\",\n \"Resources\": [1]}", Msg: "expected an object", Line: 2},
		{Name: "truncated", In: "{\"SchemaVersion\": 2,\n \"Results\": [{\"Target\": \"x\", \"Vulnerabilities\": [{\"VulnerabilityID\"", Msg: "end of input", Line: 2},
		{Name: "syntax", In: "{\"SchemaVersion\": 2,\n\n  \"Results\" [] }", Msg: "invalid character", Line: 3},
		{Name: "invalid UTF-8", In: "{\"SchemaVersion\": 2,\n \"ArtifactName\": \"\xff\xfe\"}", Msg: "UTF-8", Line: 2},
		{Name: "score out of range", In: "{\"SchemaVersion\": 2, \"Results\": [{\"Vulnerabilities\": [\n{\"VulnerabilityID\": \"x\", \"CVSS\": {\"nvd\": {\"V3Score\": 11}}}]}]}", Msg: "[0, 10]", Line: 2},
		{Name: "score overflow", In: "{\"SchemaVersion\": 2, \"Results\": [{\"Vulnerabilities\": [\n{\"CVSS\": {\"nvd\": {\"V3Score\": 1e400}}}]}]}", Msg: "[0, 10]", Line: 2},
		{Name: "line out of range", In: "{\"SchemaVersion\": 2, \"Results\": [{\"Secrets\": [\n{\"RuleID\": \"x\", \"StartLine\": 99999999999}]}]}", Msg: "line/column", Line: 2},
		{Name: "negative line", In: "{\"SchemaVersion\": 2, \"Results\": [{\"Secrets\": [\n{\"RuleID\": \"x\", \"StartLine\": -1}]}]}", Msg: "line/column", Line: 2},
		{Name: "schema overflow", In: "{\"SchemaVersion\": 1e99}", Msg: "cannot use", Line: 1},
		{Name: "wrong type", In: "{\"SchemaVersion\": 2, \"Results\": [{\"Vulnerabilities\": [\n{\"PkgName\": 5}]}]}", Msg: "PkgName", Line: 2},
		{Name: "trailing data", In: "{\"SchemaVersion\": 2}\n{}", Msg: "after the report", Line: 2},
	},
	TruncateFile:  "trivy_fs_vulns_misconfig_secrets.json",
	TruncateEvery: 97,
	Nesting:       importertest.JSONNesting(`{"SchemaVersion": 2, "Metadata": `),
	Bounded: []importertest.Stream{
		{Name: "unknown string", Prefix: `{"SchemaVersion": 2, "x": "`, Pattern: "0123456789abcdef", Suffix: `", "Results": [{"Target": "t", "Vulnerabilities": [` + trivyVuln + `]}]}`},
		{Name: "unknown member of a result", Prefix: `{"SchemaVersion": 2, "Results": [{"Target": "t", "Vulnerabilities": [` + trivyVuln + `], "x": [`, Pattern: `"0123456789abc",`, Suffix: `0]}]}`},
		{Name: "legacy unknown member", Prefix: `[{"Target": "t", "Vulnerabilities": [` + trivyVuln + `], "x": "`, Pattern: "0123456789abcdef", Suffix: `"}]`},
		{Name: "k8s unknown member", Prefix: `{"ClusterName": "c", "Resources": [{"Kind": "Pod", "Name": "p", "x": {"y": "`, Pattern: "0123456789abcdef", Suffix: `"}, "Results": [{"Target": "t", "Vulnerabilities": [` + trivyVuln + `]}]}]}`},
		{Name: "description", Prefix: `{"SchemaVersion": 2, "Results": [{"Target": "t", "Vulnerabilities": [{"VulnerabilityID": "CVE-1", "PkgName": "p", "Description": "`, Pattern: "0123456789abcd\u00e9", Suffix: `"}]}]}`, Msg: "finding description: 1 cut"},
	},
	Limits:    func(l importertest.Limits) importers.Parser { return &Parser{jsonguard.Limits(l)} },
	OverLimit: `{"SchemaVersion": 2, "ArtifactName": "` + strings.Repeat("a", 2000) + `"}`,
	Cancelled: `{"SchemaVersion": 2}`,
	CancelStreams: []importertest.Stream{{ // cancelled when the stream ends
		Name:    "while decoding",
		Prefix:  `{"SchemaVersion": 2, "ArtifactName": "x", "ArtifactType": "filesystem", "Results": [{"Target": "t", "Vulnerabilities": [` + trivyVuln,
		Pattern: "," + trivyVuln,
		Size:    19999 * int64(len(","+trivyVuln)),
		Suffix:  `]}]}`,
	}},
}

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, spec.FuzzParser, spec,
		`{"SchemaVersion":2,"ArtifactName":"a:1","ArtifactType":"container_image","Metadata":{"RepoDigests":["a@sha256:00"]},"Results":[{"Target":"t","Class":"os-pkgs","Type":"alpine","Vulnerabilities":[{"VulnerabilityID":"CVE-2024-0001","VendorIDs":["GHSA-aaaa-bbbb-cccc"],"PkgName":"p","InstalledVersion":"1","FixedVersion":"2","Severity":"HIGH","CweIDs":["CWE-79"],"CVSS":{"nvd":{"V3Vector":"CVSS:3.1/AV:N","V3Score":7.5,"V2Score":5}}}]}]}`,
		`{"SchemaVersion":2,"ArtifactName":".","ArtifactType":"filesystem","Results":[{"Target":"Dockerfile","Class":"config","Misconfigurations":[{"ID":"DS002","Status":"FAIL","Severity":"HIGH","CauseMetadata":{"StartLine":3}}]},{"Target":"s","Class":"secret","Secrets":[{"RuleID":"r","StartLine":1,"Match":"x=****"}]}]}`,
		`{"SchemaVersion":2,"Results":null}`,
		`[{"Target":"img (alpine 3.10.2)","Vulnerabilities":[{"VulnerabilityID":"CVE-1","PkgName":"p","InstalledVersion":"1","Status":"will_not_fix"}]}]`,
		`{"ClusterName":"c","Resources":[{"Namespace":"n","Kind":"Pod","Name":"p","Results":[{"Target":"t","Class":"license","Licenses":[{"Name":"GPL-2.0","PkgName":"x"}]}]}]}`,
		`{"SchemaVersion":2,"Results":[{"Vulnerabilities":[{"CVSS":{"x":{"V3Score":"7"}}}]}]}`,
		`[[[[[[`,
		"{\"SchemaVersion\":2,\"ArtifactName\":\"\xff\"}",
	)
}

// trivyVuln is one vulnerability of a generated report.
const trivyVuln = `{"VulnerabilityID": "CVE-2024-0001", "PkgName": "p", "InstalledVersion": "1", "Severity": "LOW"}`

// BenchmarkParse parses the largest Trivy test file (trivy_image_juice-shop-v12.10.2.json,
// 632 KB, 185 findings) and reports findings per second beside MB/s.
//
// Its baseline is the floor the parser is measured against: encoding/json
// unmarshalling the same file into an untyped value, with no checks and no normalisation.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Largest(b, formatName), importertest.BenchJSONBaseline)
}
