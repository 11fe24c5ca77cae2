package asff

import (
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
)

// goldenFiles are the counts of each file, computed with the commands beside each row.
var goldenFiles = map[string]importertest.Expect{
	// jq '.Findings|length' → 1; jq '[.Findings[].Severity.Label]' → INFORMATIONAL;
	// jq '[.Findings[].Resources[0]|.Type+":"+.Id]|unique|length' → 1; Compliance PASSED and
	// RecordState ARCHIVED → suppressed 1.
	"asff_securityhub_get_findings_cli_example.json": {Assets: 1, Findings: 1, Severity: map[importers.Severity]int{importers.Info: 1}, Suppressed: 1},
	// jq '.Findings|length' → 4; Labels all MEDIUM; one resource (Container).
	"asff_trivy_alpine-310.json": {Assets: 1, Findings: 4, Severity: map[importers.Severity]int{importers.Medium: 4}, Suppressed: 0},
	// jq '.Findings|length' → 2 (both Id "deploy.sh", titles differ); Labels CRITICAL; one resource.
	"asff_trivy_secrets.json": {Assets: 1, Findings: 2, Severity: map[importers.Severity]int{importers.Critical: 2}, Suppressed: 0},
	// jq 'length' → 2; HIGH and Normalized 40 (medium); resources ECR image and EC2 instance;
	// Workflow SUPPRESSED and RecordState ARCHIVED → 2 suppressed.
	"asff_own_inspector_array.json": {Assets: 2, Findings: 2, Severity: map[importers.Severity]int{importers.High: 1, importers.Medium: 1}, Suppressed: 2},
	// The get-findings object with the member spelled "findings" (boto3, DefectDojo's AWS Security
	// Hub import): jq '.findings|length' → 2; Labels HIGH, CRITICAL; resources S3 bucket and
	// account; Compliance PASSED + RESOLVED + ARCHIVED → 1 suppressed.
	"asff_own_lowercase_findings.json": {Assets: 2, Findings: 2, Severity: map[importers.Severity]int{importers.High: 1, importers.Critical: 1}, Suppressed: 1},
	// An EventBridge event: jq '.detail.findings|length' → 1, Label LOW, one EC2 instance.
	"asff_own_eventbridge_event.json": {Assets: 1, Findings: 1, Severity: map[importers.Severity]int{importers.Low: 1}, Suppressed: 0},
}

var spec = importertest.Spec{
	Format:     formatName,
	Positioned: true,
	Golden:     importertest.Golden(importertest.Table(goldenFiles, importertest.CheckExpect)),
	Detect: map[string]bool{
		`{"Findings": [{"SchemaVersion": "2018-10-08", "Id": "x"}]}`:                                                     true,
		`[{"SchemaVersion": "2018-10-08", "Id": "x"}]`:                                                                   true,
		`{"Findings": [{"ProductArn": "p", "AwsAccountId": "1"}]}`:                                                       true,
		`{"Findings": [{"SchemaVersion": "2018-10-08", "Title": "cut he`:                                                 true,
		`{"findings": [{"SchemaVersion": "2018-10-08", "Id": "x"}]}`:                                                     true,
		`{"detail-type": "Security Hub Findings - Imported", "detail": {"findings": [{"SchemaVersion": "2018-10-08"}]}}`: true,
		`{"detail": {"findingArn": "arn:aws:inspector2:x", "awsAccountId": "1"}}`:                                        false,
		`{"Findings": []}`:                    false,
		`{"Findings": [{"ProductArn": "p"}]}`: false,
		`{"findings": [{"findingArn": "arn:aws:inspector2:x", "awsAccountId": "1"}]}`: false,
		`{"findings": [{"title": "t", "severity": "High"}]}`:                          false,
		`[{"title": "t"}]`: false,
		`not json`:         false,
	},
	Hostile: []importertest.Hostile{
		{Name: "not an object", In: `"x"`, Msg: "expected an object", Line: 1},
		{Name: "no Findings", In: `{"NextToken": "x"}`, Msg: "no Findings", Line: 1},
		{Name: "truncated", In: "{\"Findings\": [\n{\"Id\": \"a", Msg: "end of input", Line: 2},
		{Name: "syntax", In: "[\n\n{\"Id\" 1}]", Msg: "invalid character", Line: 3},
		{Name: "score out of range", In: "[\n{\"Vulnerabilities\": [{\"Cvss\": [{\"BaseScore\": 12}]}]}]", Msg: "[0, 10]", Line: 2},
		{Name: "wrong type of Id", In: "[\n{\"Id\": [1]}]", Msg: "Id", Line: 2},
		{Name: "both spellings of Findings", In: "{\"Findings\": [],\n\"findings\": []}", Msg: "both Findings and findings", Line: 1},
		{Name: "trailing data", In: "[]\n]", Msg: "after the report", Line: 2},
	},
	TruncateFile:  "asff_trivy_secrets.json",
	TruncateEvery: 53,
	Nesting:       importertest.JSONNesting(`{"Findings": [{"Resources": `),
	Bounded: []importertest.Stream{
		{Name: "unknown member of a finding", Prefix: `[{"Id": "arn:1", "ProductFields": {"x": "`, Pattern: "0123456789abcdef", Suffix: `"}}]`},
		{Name: "description", Prefix: `[{"Id": "arn:1", "Description": "`, Pattern: `0123456789abcd\\`, Suffix: `"}]`, Msg: "strings longer than"},
	},
	Limits: func(l importertest.Limits) importers.Parser { return &Parser{jsonguard.Limits(l)} },
	JSON:   &importertest.JSONRecords{Key: "Findings", Record: asffFinding},
	CancelStreams: []importertest.Stream{{
		Name: "while decoding", Prefix: `[` + asffFinding, Pattern: "," + asffFinding,
		Size: 9999 * int64(len(","+asffFinding)), Suffix: `]`,
	}},
}

// asffFinding is one finding of a generated report.
const asffFinding = `{"SchemaVersion": "2018-10-08", "Id": "arn:aws:x", "ProductArn": "p", "Severity": {"Label": "LOW"}, "Resources": [{"Type": "AwsAccount", "Id": "AWS::::Account:1"}]}`

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, spec.FuzzParser, spec,
		`{"Findings":[`+asffFinding+`]}`,
		`[{"Id":"f","Title":"t","Resources":[{"Type":"Container","Id":"i","Details":{"Container":{"ImageName":"i"},"Other":{"CVE ID":"CVE-2020-1","NvdCvssVectorV3":"CVSS:3.1/AV:N","NvdCvssScoreV3":"x"}}}]}]`,
		`[{"Severity":{"Original":0,"Normalized":null},"Workflow":{"Status":"RESOLVED"}}]`,
		`{"Findings":null}`,
		`[[[[`,
	)
}

// BenchmarkParse parses the largest ASFF test file (asff_trivy_alpine-310.json, 11 KB, 4
// findings).
//
// Its baseline is encoding/json unmarshalling the same file into an untyped value.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Largest(b, formatName), importertest.BenchJSONBaseline)
}
