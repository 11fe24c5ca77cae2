package inspector2

import (
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
)

// goldenFiles are the counts of each file, computed with the commands beside each row.
var goldenFiles = map[string]importertest.Expect{
	// jq '.findings|length' → 4; jq '[.findings[].resources[0].id]|unique|length' → 3;
	// jq '[.findings[].severity]' → HIGH, CRITICAL, MEDIUM, UNTRIAGED (no inspectorScore, no CVSS: info);
	// jq '[.findings[]|select(.status!="ACTIVE")]|length' → 2 (SUPPRESSED, CLOSED).
	"inspector2_own_list_findings.json": {Assets: 3, Findings: 4, Severity: map[importers.Severity]int{importers.High: 1, importers.Critical: 1, importers.Medium: 1, importers.Info: 1}, Suppressed: 2},
	// An EventBridge "Inspector2 Finding" event: jq '.detail|[.findingArn, .severity]' → one
	// finding, HIGH, on one ECR image; console-style dates ("Jul 8, 2024, 11:58:10 AM").
	"inspector2_own_eventbridge_event.json": {Assets: 1, Findings: 1, Severity: map[importers.Severity]int{importers.High: 1}, Suppressed: 0},
}

var spec = importertest.Spec{
	Format:     formatName,
	Positioned: true,
	Golden:     importertest.Golden(importertest.Table(goldenFiles, importertest.CheckExpect)),
	Detect: map[string]bool{
		`{"findings": [{"findingArn": "arn:aws:inspector2:x", "awsAccountId": "1"}]}`:                                      true,
		`{"nextToken": null, "findings": [{"awsAccountId": "1", "findingArn": "arn:aws:inspector2:x", "description": "cut`: true,
		`{"findings": []}`: false,
		`{"detail-type": "Inspector2 Finding", "detail": {"awsAccountId": "1", "findingArn": "arn:aws:inspector2:x"}}`: true,
		`{"detail": {"findings": [{"SchemaVersion": "2018-10-08"}]}}`:                                                  false,
		`{"findings": [{"title": "t", "severity": "High"}]}`:                                                           false,
		`{"Findings": [{"findingArn": "arn:x"}]}`:                                                                      false,
		`[{"findingArn": "arn:x"}]`:                                                                                    false,
		`{"Findings": [{"SchemaVersion": "2018-10-08", "Id": "arn:x"}]}`:                                               false,
		`not json`: false,
	},
	Hostile: []importertest.Hostile{
		{Name: "array", In: `[]`, Msg: "expected an object", Line: 1},
		{Name: "no findings", In: `{"nextToken": "x"}`, Msg: "no findings", Line: 1},
		{Name: "truncated", In: "{\"findings\": [\n{\"findingArn\": \"a", Msg: "end of input", Line: 2},
		{Name: "syntax", In: "{\"findings\": [\n\n{\"findingArn\" 1}]}", Msg: "invalid character", Line: 3},
		{Name: "score out of range", In: "{\"findings\": [\n{\"inspectorScore\": 11}]}", Msg: "[0, 10]", Line: 2},
		{Name: "wrong type of findingArn", In: "{\"findings\": [\n{\"findingArn\": {}}]}", Msg: "findingArn", Line: 2},
	},
	TruncateFile:  "inspector2_own_list_findings.json",
	TruncateEvery: 211,
	Nesting:       importertest.JSONNesting(`{"findings": [{"resources": `),
	Bounded: []importertest.Stream{
		{Name: "unknown member of a finding", Prefix: `{"findings": [{"findingArn": "arn:1", "x": "`, Pattern: "0123456789abcdef", Suffix: `"}]}`},
		{Name: "description", Prefix: `{"findings": [{"findingArn": "arn:1", "description": "`, Pattern: `0123456789abcd\\`, Suffix: `"}]}`, Msg: "strings longer than"},
	},
	Limits: func(l importertest.Limits) importers.Parser { return &Parser{jsonguard.Limits(l)} },
	JSON:   &importertest.JSONRecords{Key: "findings", Record: inspectorFinding, Records: 9999},
}

// inspectorFinding is one finding of a generated report.
const inspectorFinding = `{"findingArn": "arn:aws:inspector2:r:1:finding/x", "awsAccountId": "1", "type": "PACKAGE_VULNERABILITY", "severity": "LOW", "resources": [{"type": "AWS_LAMBDA_FUNCTION", "id": "arn:aws:lambda:r:1:function:f"}]}`

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, spec.FuzzParser, spec,
		`{"findings":[`+inspectorFinding+`]}`,
		`{"findings":[{"packageVulnerabilityDetails":{"vulnerabilityId":"CVE-2024-1","cvss":[{"version":"3","scoringVector":"AV:N"}],"vulnerablePackages":[{"name":"p","epoch":"1","release":"r"},{"name":"q","fixedInVersion":"NotAvailable"}]}}]}`,
		`{"findings":[{"codeVulnerabilityDetails":{"cwes":["CWE-79"],"filePath":{"startLine":"7"}}}]}`,
		`{"findings":null}`,
		`{{{{`,
	)
}

// BenchmarkParse parses the largest Inspector2 test file (inspector2_own_list_findings.json,
// 7 KB, 4 findings).
//
// Its baseline is encoding/json unmarshalling the same file into an untyped value.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Largest(b, formatName), importertest.BenchJSONBaseline)
}
