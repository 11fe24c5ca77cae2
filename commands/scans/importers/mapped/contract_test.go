package mapped

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/readguard"
)

// The samples under importers/testdata/mapped are each read through their own mapping in
// testdata/: acme-findings.csv with acme-csv.mapping.json, webscan-results.json with
// webscan-json.mapping.json.

func loadMapping(tb testing.TB, name string) *Mapping {
	tb.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := Load(data)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return m
}

// pair is the contract suite's parser: the CSV sample's mapping for input that does not start
// with a JSON bracket, the JSON sample's otherwise, so that one Spec covers both samples (the
// suite runs every file of the format through one parser).
type pair struct{ csv, json *Parser }

func newPair(tb testing.TB) func() importers.Parser {
	c, j := loadMapping(tb, "acme-csv.mapping.json"), loadMapping(tb, "webscan-json.mapping.json")
	return func() importers.Parser { return pair{csv: New(c), json: New(j)} }
}

func (pair) Format() string          { return Format }
func (pair) Detect(head []byte) bool { return false }

func (p pair) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	br, first := readguard.Sniff(r)
	if first == '{' || first == '[' {
		return p.json.Parse(ctx, br)
	}
	return p.csv.Parse(ctx, br)
}

const csvHeader = "Check ID,Check Name,Risk,Target IP,Package,Installed,CVE,CWE,Vector,Details,Fix\n"

func spec(tb testing.TB) importertest.Spec {
	c := loadMapping(tb, "acme-csv.mapping.json")
	return importertest.Spec{
		Format: Format,
		Golden: map[string]func(t *testing.T, rep *importers.Report){
			"acme-findings.csv":    checkCSV,
			"webscan-results.json": checkJSON,
		},
		Detect: map[string]bool{
			csvHeader:                               false,
			`{"data": {"results": []}}`:             false,
			`[{"name": "x", "risk": {"level": 1}}]`: false,
		},
		Hostile: []importertest.Hostile{
			{Name: "csv: mapped column missing", In: "Check ID,Check Name,Risk\nA,b,high\n", Msg: `"Target IP" (host)`, Line: 1},
			{Name: "csv: title column missing", In: "Check ID,Risk\nA,high\n", Msg: "Check Name", Line: 1},
			{Name: "csv: empty title", In: csvHeader + "A,b,high,h,,,,,,,\nB,,high,h,,,,,,,\n", Msg: "empty", Line: 3},
			{Name: "csv: no fingerprint value", In: csvHeader + "A,b,high,h,,,,,,,\n,c,high,,,,,,,,\n", Msg: "every fingerprint field", Line: 3},
			{Name: "csv: ragged row", In: csvHeader + "A,b,high\n", Msg: "number of fields", Line: 2},
			{Name: "csv: invalid UTF-8", In: csvHeader + "A,\xc3\x28,high,h,,,,,,,\n", Msg: "UTF-8"},
			{Name: "json: empty", In: "{", Msg: "end of input"},
			{Name: "json: no findings array", In: `{"data": {"other": []}}`, Msg: `no findings array at "data.results"`},
			{Name: "json: findings not an array", In: `{"data": {"results": {}}}`, Msg: "expected an array"},
			{Name: "json: finding not an object", In: `{"data": {"results": [{"name": "a", "id": "1"}, "b"]}}`, Msg: "finding 2 is a string"},
			{Name: "json: field is an object", In: `{"data": {"results": [{"name": {"en": "a"}, "id": "1"}]}}`, Msg: "finding 1: name is an object"},
			{Name: "json: array of objects", In: `{"data": {"results": [{"name": "a", "id": "1", "cwe": [{"id": 79}]}]}}`, Msg: "cwe holds an object"},
			{Name: "json: empty title", In: `{"data": {"results": [{"name": " ", "id": "1"}]}}`, Msg: "title (name) is empty"},
			{Name: "json: no fingerprint value", In: `{"data": {"results": [{"name": "a"}]}}`, Msg: "every fingerprint field (rule_id, url)"},
			{Name: "json: truncated", In: `{"data": {"results": [{"name": "a"`, Msg: "end of input"},
			{Name: "json: trailing data", In: `{"data": {"results": []}} []`, Msg: "after the end"},
		},
		Unterminated: ".csv",
		Nesting: []importertest.Stream{ // outside the findings: skipped token by token, to the walker's depth bound
			{Name: "deep [", Prefix: `{"x": `, Pattern: "[", Msg: "nested deeper", MaxRead: 1 << 20, MaxOffset: 2000},
			{Name: "deep {\"a\":", Prefix: `{"x": `, Pattern: `{"a":`, Msg: "nested deeper", MaxRead: 1 << 20, MaxOffset: 2000},
		},
		Huge: []importertest.Stream{
			{Name: "json: one long title", Prefix: `{"data": {"results": [{"id": "1", "name": "`, Pattern: "0123456789abcdef", Suffix: `"}]}}`},
			{Name: "csv: one long field", Prefix: csvHeader + `A,"`, Pattern: "0123456789abcdef", Suffix: `",high,h,,,,,,,` + "\n", Msg: "CSV record larger"},
		},
		Limited:   &Parser{m: c, MaxBytes: 1000},
		OverLimit: csvHeader + strings.Repeat("A,b,high,h,,,,,,,\n", 100),
		Cancelled: csvHeader + "A,b,high,h,,,,,,,\n",
		CancelStreams: []importertest.Stream{
			{Name: "csv rows", Prefix: csvHeader, Pattern: "A,b,high,h,,,,,,,\n", Size: 2 << 20, CancelAfter: 1 << 20},
			{Name: "json findings", Prefix: `{"data": {"results": [{"id": "0", "name": "a"}`, Pattern: `,{"id": "1", "name": "a"}`, Size: 2 << 20, Suffix: "]}}", CancelAfter: 1 << 20},
		},
	}
}

func TestContract(t *testing.T) { importertest.Run(t, newPair(t), spec(t)) }

// checkCSV: acme-findings.csv has 5 rows (`tail -n +2 acme-findings.csv | wc -l`: no field holds
// a line break), on 4 hosts (`tail -n +2 acme-findings.csv | cut -d, -f4 | sort -u | wc -l`),
// with Risk "Sev 1" twice, "Sev 3", "Sev 4" and "high" once each
// (`tail -n +2 acme-findings.csv | cut -d, -f3 | sort | uniq -c`). Every row has its own
// (Check ID, Target IP, Package), so 5 findings.
func checkCSV(t *testing.T, rep *importers.Report) {
	importertest.Counts(t, rep, 4, 5, map[importers.Severity]int{importers.Critical: 2, importers.Medium: 1, importers.Low: 1, importers.High: 1}, "")
	if rep.ScannerName != "acme-vm" || rep.Target != nil {
		t.Errorf("scanner %q, target %+v", rep.ScannerName, rep.Target)
	}
	f := importertest.First(rep, func(f *importers.Finding) bool { return f.RuleID == "AC-1001" && f.Location.Host == "10.0.0.5" })
	if f == nil {
		t.Fatal("no AC-1001 on 10.0.0.5")
	}
	if strings.Join(f.CVEs, " ") != "CVE-2022-0778 CVE-2021-3711" || strings.Join(f.CWEs, " ") != "CWE-835" ||
		f.Component == nil || f.Component.Name != "openssl" || f.Component.Version != "1.1.1k" || f.ScannerSeverity != "Sev 1" ||
		len(f.CVSS) != 1 || f.CVSS[0].Version != "3.1" || f.Remediation != "Upgrade openssl to 1.1.1n." || f.AssetKey != "host:10.0.0.5" {
		t.Errorf("AC-1001: %+v", f)
	}
	if f := importertest.First(rep, func(f *importers.Finding) bool { return f.RuleID == "AC-1002" }); f == nil || strings.Join(f.CWEs, " ") != "CWE-327" {
		t.Errorf("AC-1002 (CWE column holds a bare number): %+v", f)
	}
	if f := importertest.First(rep, func(f *importers.Finding) bool { return f.RuleID == "AC-3001" }); f == nil || len(f.CVSS) != 1 || f.CVSS[0].Version != "2.0" {
		t.Errorf("AC-3001 (plain v2 vector): %+v", f)
	}
	for _, a := range rep.Assets {
		if a.Kind != importers.Host || (len(a.IPs) == 0) == (len(a.Hostnames) == 0) {
			t.Errorf("asset %+v", a)
		}
	}
}

// checkJSON: webscan-results.json has 4 results (`jq '.data.results | length'`) on 2 base URLs
// (`jq '[.data.results[].location.url | capture("^(?<b>https?://[^/]+)").b] | unique | length'`),
// risk levels P1, P2, p3, P5 (`jq -r '.data.results[].risk.level'`: p3 matches P3 case-
// insensitively), and 2 CVEs on WS-JQ (`jq '.data.results[2].refs.cve | length'`).
func checkJSON(t *testing.T, rep *importers.Report) {
	importertest.Counts(t, rep, 2, 4, map[importers.Severity]int{importers.Critical: 1, importers.High: 1, importers.Medium: 1, importers.Info: 1}, "")
	for _, a := range rep.Assets {
		if a.Kind != importers.WebApplication || a.BaseURL != strings.TrimPrefix(a.Key, "site:") {
			t.Errorf("asset %+v", a)
		}
	}
	if f := importertest.First(rep, func(f *importers.Finding) bool { return f.RuleID == "WS-SQLI" }); f == nil || strings.Join(f.CWEs, " ") != "CWE-89" || f.AssetKey != "site:https://shop.example.com" {
		t.Errorf("WS-SQLI (CWE as a JSON number): %+v", f)
	}
	f := importertest.First(rep, func(f *importers.Finding) bool { return f.RuleID == "WS-JQ" })
	if f == nil || strings.Join(f.CVEs, " ") != "CVE-2020-11022 CVE-2020-11023" || f.Component == nil || f.Component.Version != "1.12.4" ||
		len(f.CVSS) != 1 || f.CVSS[0].Source != "webscan" || f.Location.URL != "https://shop.example.com/static/jquery.js" {
		t.Errorf("WS-JQ: %+v", f)
	}
}

// FuzzParse runs the suite's fuzz property over both mappings.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, newPair(f), spec(f),
		csvHeader+"A,b,Sev 2,10.0.0.1,p,1,CVE-2024-0001,79,CVSS:3.1/AV:N,d,r\n",
		csvHeader+"A,b,9.8,host,,,,,,,\n",
		`{"data": {"results": [{"id": "1", "name": "a", "risk": {"level": 3}, "location": {"url": "http://x/"}, "cwe": [1, "CWE-2"], "refs": {"cve": "CVE-2024-1"}}]}}`,
		`{"data": {"results": null}}`,
		`[[[[`,
		"{\"data\":\"\xc0\"}",
	)
}

// BenchmarkParse parses the larger sample, the JSON one, beside the baseline: encoding/json
// unmarshalling the same file untyped.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, newPair(b), importertest.Largest(b, Format), importertest.BenchJSONBaseline)
}
