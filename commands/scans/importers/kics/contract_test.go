package kics

import (
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
)

// golden is what each KICS file must give.
type golden struct {
	findings int
	sev      map[importers.Severity]int
	target   string
}

var goldenFiles = map[string]golden{
	// jq '[.queries[].files[]] | length' → 6;
	// jq -c '[.queries[] | .severity as $s | .files[] | $s] | group_by(.) | map({(.[0]): length}) | add'
	// → {"HIGH":2,"INFO":1,"LOW":1,"MEDIUM":2}; jq '.paths' → ["/src/infra"]
	"kics_1_7_terraform_docker.json": {findings: 6, target: "/src/infra",
		sev: map[importers.Severity]int{importers.High: 2, importers.Medium: 2, importers.Low: 1, importers.Info: 1}},
	// jq '[.queries[].files[]] | length' → 2; same severity command → {"HIGH":1,"MEDIUM":1};
	// no paths member: jq 'has("paths")' → false
	"kics_1_3_kubernetes.json": {findings: 2, target: ".",
		sev: map[importers.Severity]int{importers.High: 1, importers.Medium: 1}},
	// jq '.queries | length' → 0; jq -r '.paths | join(", ")' → ./charts, ./compose.yaml
	"kics_2_clean_scan.json": {findings: 0, target: "./charts, ./compose.yaml", sev: map[importers.Severity]int{}},
}

func checkGolden(t *testing.T, rep *importers.Report, want golden) {
	importertest.Counts(t, rep, 1, want.findings, want.sev, "")
	if rep.Target == nil || rep.Target.Name != want.target || rep.Target.Hint != "artifact" || rep.Assets[0].Name != want.target {
		t.Errorf("Target = %+v, asset %+v, want %q", rep.Target, rep.Assets[0], want.target)
	}
}

// spec is what the contract suite checks of the KICS parser.
var spec = importertest.Spec{
	Format:     formatName,
	Positioned: true,
	Golden:     importertest.Golden(importertest.Table(goldenFiles, checkGolden)),
	Detect: map[string]bool{
		`{"queries": [{"query_name": "q", "query_id": "id", "files": []}]}`:            true,
		`{"kics_version": "v1.7.0", "queries": [{"query_id": "id", "query_name": "cut`: true,
		`{"kics_version": "v2.0.0", "queries": []}`:                                    true,
		`{"files_scanned": 1, "queries_total": 9, "queries": []}`:                      true,
		`{"queries": []}`:                                  false,
		`{"queries": [{"query_id": "x"}]}`:                 false,
		`{"queries": ["x"]}`:                               false,
		`[{"queries": [{"query_id": "id", "files": []}]}]`: false,
		`not json`: false,
	},
	Hostile: []importertest.Hostile{
		{Name: "not an object", In: `[]`, Msg: "expected an object", Line: 1},
		{Name: "no queries", In: `{"kics_version": "v1"}`, Msg: "no queries", Line: 1},
		{Name: "truncated", In: "{\"queries\": [\n{\"query_id\": \"q", Msg: "end of input", Line: 2},
		{Name: "syntax", In: "{\"queries\": [\n\n{\"query_id\" 1}]}", Msg: "invalid character", Line: 3},
		{Name: "invalid UTF-8", In: "{\"queries\": [],\n \"paths\": [\"\xc3\x28\"]}", Msg: "UTF-8", Line: 2},
		{Name: "query id not a string", In: "{\"queries\": [\n{\"query_id\": 7, \"files\": []}]}", Msg: "query_id", Line: 2},
		{Name: "similarity id not a string", In: "{\"queries\": [\n{\"query_id\": \"q\", \"files\": [{\"similarity_id\": {}}]}]}", Msg: "similarity_id", Line: 2},
		{Name: "negative line", In: "{\"queries\": [\n{\"query_id\": \"q\", \"files\": [{\"line\": -1}]}]}", Msg: "line", Line: 2},
		{Name: "trailing data", In: "{\"queries\": []}\n}", Msg: "after the report", Line: 2},
	},
	TruncateFile:  "kics_1_3_kubernetes.json",
	TruncateEvery: 41,
	Nesting:       importertest.JSONNesting(`{"queries": [{"files": [{"value": `),
	Bounded: []importertest.Stream{
		{Name: "unknown member of a file", Prefix: `{"queries": [{"query_id": "q", "files": [{"similarity_id": "s", "x": "`, Pattern: "0123456789abcdef", Suffix: `"}]}]}`},
		{Name: "actual value", Prefix: `{"queries": [{"query_id": "q", "files": [{"similarity_id": "s", "actual_value": "`, Pattern: `0123456789abcd\\`, Suffix: `"}]}]}`, Msg: "1 strings longer than 1048576 bytes cut"},
	},
	Limits: func(l importertest.Limits) importers.Parser { return &Parser{jsonguard.Limits(l)} },
	JSON:   &importertest.JSONRecords{Key: "queries", Record: kicsQuery, Records: 19999},
}

// kicsQuery is one query of a generated report.
const kicsQuery = `{"query_name": "q", "query_id": "id", "severity": "LOW", "files": [{"file_name": "a.tf", "similarity_id": "s", "line": 1}]}`

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, spec.FuzzParser, spec,
		`{"kics_version":"v1.7.0","paths":["."],"start":"2024-01-01T00:00:00Z","queries":[{"query_name":"q","query_id":"id","severity":"HIGH","cwe":"79","query_url":"https://x","files":[{"file_name":"a.tf","similarity_id":"s","line":3,"search_key":"k","expected_value":"e","actual_value":"a"}]}]}`,
		`{"queries":[{"query_id":"id","files":[{"file_name":"a","search_key":"k"},{"file_name":"a","search_key":"k"}]}]}`,
		`{"queries":[{"query_id":"id","severity":"TRACE","cwe":"x","files":null}],"paths":null}`,
		`{"queries":null}`,
		`{{{{`,
		"{\"queries\":[],\"x\":\"\xc0\"}",
	)
}

// BenchmarkParse parses the largest KICS test file and reports findings per second beside
// MB/s.
//
// Its baseline is the floor the parser is measured against: encoding/json
// unmarshalling the same file into an untyped value.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Largest(b, formatName), importertest.BenchJSONBaseline)
}
