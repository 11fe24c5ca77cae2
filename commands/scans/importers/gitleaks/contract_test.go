package gitleaks

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
)

// golden is what each sample must give. Counts were computed with
//
//	jq -c '[length, ([.[].Fingerprint // "" | select(. != "")] | length)]' FILE
//
// (leaks, leaks with a Gitleaks fingerprint); every leak is high.
type golden struct {
	findings, withFingerprint int
	repoURL                   string
}

var testdataFiles = map[string]golden{
	// [1,0]
	"gitleaks_json_simple.json": {1, 0, ""},
	// null: no leaks (jq 'length' gives 0)
	"gitleaks_scb_null_report.json": {0, 0, ""},
	// [3,0]: the same leak three times (only the Tags differ): three findings, numbered.
	"gitleaks_scb_report_tags.json": {3, 0, ""},
	// [4,0]
	"gitleaks_scb_test_report.json": {4, 0, ""},
	// Own samples. [3,3]: Gitleaks 8.18 with Fingerprint, Link and one --redact secret.
	"gitleaks_8.18_fingerprints.json": {3, 3, ""},
	// [1,0]: Gitleaks 7 (jq -r '.[0].repoURL' gives https://example.org/acme/shop).
	"gitleaks_7_repo_url.json": {1, 0, "https://example.org/acme/shop"},
}

func checkGolden(t *testing.T, rep *importers.Report, want golden) {
	importertest.Counts(t, rep, 1, want.findings, map[importers.Severity]int{importers.High: want.findings}, "jq length")
	if got := rep.Assets[0].RepoURL; got != want.repoURL {
		t.Errorf("RepoURL %q, want %q", got, want.repoURL)
	}
	if (rep.Target == nil) != (want.repoURL != "") {
		t.Errorf("Target %+v with repoURL %q", rep.Target, want.repoURL)
	}
	for _, f := range rep.Findings {
		if f.RuleID == "" || f.Location.File == "" || f.Location.Line == 0 {
			t.Errorf("finding %+v lacks its rule or location", f)
		}
	}
	assertNoSecret(t, rep)
}

// spec is what the contract suite checks of the Gitleaks parser.
var spec = importertest.Spec{
	Format:     formatName,
	Positioned: true,
	Golden:     importertest.Golden(importertest.Table(testdataFiles, checkGolden)),
	Detect: map[string]bool{
		`[{"RuleID": "aws", "Secret": "AKIA", "Match": "AK`:     true,
		`[{"Description": "x", "StartLine": 1, "RuleID": "r"}]`: true,
		`[{"RuleID": "r", "Fingerprint": "a:b:c:1"}]`:           true,
		`[{"line": "x", "offender": "y", "rule": "Generic"}]`:   true,
		" []\n":             true,
		"null\n":            true,
		`[{"RuleID": "r"}]`: false,
		`[{"vulnerabilities": [], "projectName": "x"}]`: false,
		`[{"Target": "alpine", "Vulnerabilities": []}]`: false,
		`{"results": [{"check_id": "r"}]}`:              false,
		`[1, 2]`:                                        false,
		`not json`:                                      false,
	},
	// An empty file is what the scanner leaves when it finds nothing (see the package doc).
	EmptyIsReport: true,
	Hostile: []importertest.Hostile{
		{Name: "not an array", In: `{"RuleID": "r"}`, Msg: "expected an array", Line: 1},
		{Name: "leak not an object", In: "[\n1]", Msg: "number", Line: 2},
		{Name: "truncated", In: "[\n{\"RuleID\": \"r", Msg: "end of input", Line: 2},
		{Name: "syntax", In: "[\n\n{\"RuleID\" \"r\"}]", Msg: "invalid character", Line: 3},
		{Name: "invalid UTF-8", In: "[\n{\"File\": \"\xc3\x28\"}]", Msg: "UTF-8", Line: 2},
		{Name: "secret not a string", In: "[\n{\"RuleID\": \"r\", \"Secret\": 1}]", Msg: "Secret", Line: 2},
		{Name: "negative line", In: "[\n{\"RuleID\": \"r\", \"StartLine\": -1}]", Msg: "line", Line: 2},
		{Name: "trailing data", In: "[]\n]", Msg: "after the report", Line: 2},
	},
	TruncateFile:  "gitleaks_scb_test_report.json",
	TruncateEvery: 37,
	Nesting:       importertest.JSONNesting(`[{"Tags": `),
	Bounded: []importertest.Stream{
		{Name: "unknown string", Prefix: `[` + leak + `, {"RuleID": "r", "File": "f", "x": "`, Pattern: "0123456789abcdef", Suffix: `"}]`},
		{Name: "unknown member of a leak", Prefix: `[{"RuleID": "r", "File": "f", "x": "`, Pattern: "0123456789abcdef", Suffix: `"}]`},
		{Name: "commit message", Prefix: `[{"RuleID": "r", "File": "f", "Commit": "c", "Message": "`, Pattern: `0123456789abcd\\`, Suffix: `"}]`, Msg: "strings longer than"},
	},
	Limits:    func(l importertest.Limits) importers.Parser { return &Parser{jsonguard.Limits(l)} },
	OverLimit: `[{"x": "` + strings.Repeat("a", 2000) + `"}]`,
	Cancelled: `[]`,
	CancelStreams: []importertest.Stream{{
		Name:    "while decoding",
		Prefix:  `[` + leak,
		Pattern: "," + leak,
		Size:    19999 * int64(len(","+leak)),
		Suffix:  `]`,
	}},
}

// leak is one leak of a generated report.
const leak = `{"RuleID": "generic-api-key", "File": "a.py", "StartLine": 3, "Secret": "s3cr3t-value-0123", "Match": "key = 's3cr3t-value-0123'", "Commit": "c0ffee"}`

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, spec.FuzzParser, spec,
		`[{"RuleID":"r","Secret":"é€😀x","Match":"a=é€😀x","File":"f","StartLine":1,"Tags":7}]`,
		`[{"rule":"g","offender":"o","tags":"a,,b","lineNumber":"4"}]`,
		`[null,{}]`,
		`{{{{{{`,
		"[{\"File\":\"\xc0\"}]",
	)
}

// BenchmarkParse parses the largest Gitleaks test file.
//
// Its baseline is the floor the parser is measured against: encoding/json
// unmarshalling the same file into an untyped value.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Largest(b, formatName), importertest.BenchJSONBaseline)
}
