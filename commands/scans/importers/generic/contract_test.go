package generic

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
)

// goldenFiles are the counts of each file, computed with the commands beside each row.
var goldenFiles = map[string]importertest.Expect{
	// jq '.findings|length' → 6; jq '[.findings[]|(.endpoints//[]|length) as $n|if $n==0 then 1 else $n end]|add'
	// → 7 findings (one per endpoint); jq '[.findings[].severity]' → High (2 endpoints), critical,
	// Medium, Low, Medium, Informational; assets: https://shop.example.com,
	// https://admin.shop.example.com:8443, http://shop.example.com, host 10.20.0.15 and the report's
	// own (the two findings without endpoints); false_p, risk_accepted, is_mitigated, active false → 4.
	"generic_own_findings.json": {Assets: 5, Findings: 7, Severity: map[importers.Severity]int{importers.High: 2, importers.Critical: 1, importers.Medium: 2, importers.Low: 1, importers.Info: 1}, Suppressed: 4},
	// python3 csv.DictReader: 5 rows, Severity Low, Low, Medium, Critical, Moderate (→ info);
	// Url: portal.example.org twice (one asset), 192.0.2.10, printer.example.org, none (the
	// report's asset); FalsePositive TRUE on one row, Active FALSE on another → 2.
	"generic_own_findings.csv": {Assets: 4, Findings: 5, Severity: map[importers.Severity]int{importers.Low: 2, importers.Medium: 1, importers.Critical: 1, importers.Info: 1}, Suppressed: 2},
	// python3 csv.DictReader: 2 rows, High and medium, no Url, no Active column.
	"generic_own_minimal.csv": {Assets: 1, Findings: 2, Severity: map[importers.Severity]int{importers.High: 1, importers.Medium: 1}, Suppressed: 0},
	// python3 csv.DictReader: 2 rows, Severity "" (DefectDojo: Info) and Low; one Url.
	"generic_own_empty_severity.csv": {Assets: 1, Findings: 2, Severity: map[importers.Severity]int{importers.Info: 1, importers.Low: 1}, Suppressed: 0},
}

var spec = importertest.Spec{
	Format: formatName,
	Golden: importertest.Golden(importertest.Table(goldenFiles, importertest.CheckExpect)),
	Detect: map[string]bool{
		`{"findings": [{"title": "t", "severity": "High"}]}`:                                                                true,
		`{"type": "Tool1", "findings": []}`:                                                                                 true,
		`{"findings": [{"description": "cut here`:                                                                           false,
		`{"findings": [{"findingArn": "arn:aws:inspector2:x", "title": "t"}]}`:                                              false,
		`{"findings": [{"title": "t"}], "nextToken": null}`:                                                                 false,
		`{"title": "export", "findings": [{"title": "t", "severity": "Medium", "description": "d", "files": [{"data": "cut`: true,
		`{"title": "export", "findings": []}`:                                                                               false,
		`{"Findings": [{"SchemaVersion": "2018-10-08"}]}`:                                                                   false,
		"Date,Title,CweId,Url,Severity,Description\n":                                                                       true,
		"Title,Severity,Description\nx,High,d\n":                                                                            true,
		"Title,Severity\nx,High\n":                                                                                          false,
		"Plugin ID,CVE,Risk,Host,Protocol,Port,Name,Description\n":                                                          false,
		`not json`: false,
	},
	Hostile: []importertest.Hostile{
		{Name: "empty", In: ``, Msg: "no CSV header"},
		{Name: "no findings", In: `{"type": "x"}`, Msg: "no findings", Line: 1},
		{Name: "no title", In: "{\"findings\": [\n{\"severity\": \"High\", \"description\": \"d\"}]}", Msg: "no title", Line: 2},
		{Name: "no severity", In: "{\"findings\": [\n{\"title\": \"t\"}]}", Msg: "no severity", Line: 2},
		{Name: "unknown severity", In: "{\"findings\": [\n{\"title\": \"t\", \"severity\": \"Moderate\"}]}", Msg: "none of Critical", Line: 2},
		{Name: "truncated JSON", In: "{\"findings\": [\n{\"title\": \"t", Msg: "end of input", Line: 2},
		{Name: "title of the wrong type", In: "{\"findings\": [\n{\"title\": 1, \"severity\": \"Low\"}]}", Msg: "title", Line: 2},
		{Name: "CSV without Title and Severity", In: "Date,Name,Risk\n2024-01-01,x,High\n", Msg: "lacks the column(s) Title", Line: 1},
		{Name: "CSV without Severity", In: "Title,Risk\nx,High\n", Msg: "lacks the column(s) Severity", Line: 1},
		{Name: "CSV row without title", In: "Title,Severity\nx,High\n,Low\n", Msg: `"Title": empty`, Line: 3},
		{Name: "CSV field count", In: "Title,Severity,Url\nx,High\n", Msg: "number of fields", Line: 2},
		{Name: "CSV stray quote", In: "Title,Severity\nx \"y,High\n", Msg: "malformed CSV", Line: 2},
	},
	TruncateFile:  "generic_own_findings.json",
	TruncateEvery: 101,
	Unterminated:  ".csv",
	Nesting:       importertest.JSONNesting(`{"findings": [{"endpoints": `),
	Bounded: []importertest.Stream{
		{Name: "unknown string", Prefix: `{"findings": [` + genericFinding + `], "description": "`, Pattern: "0123456789abcdef", Suffix: `"}`},
		{Name: "unknown member of a finding", Prefix: `{"findings": [{"title": "t", "severity": "Low", "x": "`, Pattern: "0123456789abcdef", Suffix: `"}]}`},
		{Name: "description", Prefix: `{"findings": [{"title": "t", "severity": "Low", "description": "`, Pattern: `0123456789abcd\\`, Suffix: `"}]}`, Msg: "strings longer than"},
	},
	Limits:    func(l importertest.Limits) importers.Parser { return &Parser{jsonguard.Limits(l)} },
	OverLimit: `{"findings": [], "name": "` + strings.Repeat("a", 2000) + `"}`,
	Cancelled: `{"findings": []}`,
	CancelStreams: []importertest.Stream{
		{Name: "JSON", Prefix: `{"findings": [` + genericFinding, Pattern: "," + genericFinding, Size: 9999 * int64(len(","+genericFinding)), Suffix: `]}`},
		{Name: "CSV", Prefix: "Title,Severity,Url\n", Pattern: "t,Low,h.example\n", Size: 1 << 40, CancelAfter: 64 << 10},
	},
}

// genericFinding is one finding of a generated report.
const genericFinding = `{"title": "t", "severity": "Low", "description": "d", "unique_id_from_tool": "u", "endpoints": ["https://a.example/x"]}`

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, spec.FuzzParser, spec,
		`{"findings":[`+genericFinding+`]}`,
		`{"findings":[{"title":"t","severity":"info","cwes":["CWE-79",89,"x"],"vulnerability_ids":"GHSA-aaaa-bbbb-cccc","cvssv3":"AV:N","line":"N/A","active":"false"}]}`,
		"Date,Title,CweId,Url,Severity,Description\r\n2024-01-01,t,79,https://a.example:8443/x,High,\"a\r\nb\"\r\n",
		"\xEF\xBB\xBFTitle,Severity\nt,Bad\n",
		`{"findings":null}`,
		`{{{{`,
	)
}

// BenchmarkParse parses the largest generic test file (generic_own_findings.json, 3 KB,
// 7 findings).
//
// Its baseline is encoding/json unmarshalling the same file into an untyped value.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Largest(b, formatName), importertest.BenchJSONBaseline)
}
