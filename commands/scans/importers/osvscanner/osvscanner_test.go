package osvscanner

import (
	"fmt"
	"slices"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// fileCase is what one OSV-Scanner report holds. Counts were computed with jq, independently of
// the parser:
//
//	findings: jq '[.results[].packages[] | (.groups|length) + ([.vulnerabilities[].id] - [.groups[]?.ids[]] | length)] | add'
//	cves:     jq '[.. | strings | select(test("^CVE-"))] | unique | length'
//	rules:    the lowest CVE of each group's ids and aliases and its records' aliases, by hand
type fileCase struct {
	findings, cves                   int
	critical, high, medium, lo, info int
	root                             string
	rules                            []string
}

var testdataFiles = map[string]fileCase{
	// Both groups have a null max_severity: GO-2021-0053 has no severity at all (info);
	// the regex group's GHSA record says database_specific.severity HIGH.
	"osv_scanner_results_gomod_cargo.json": {findings: 2, cves: 2, high: 1, info: 1, root: "/path/to",
		rules: []string{"CVE-2021-3121", "CVE-2022-24713"}},
	// Own sample: max_severity 7.2 (high), "" with MODERATE (medium), 5.3 (medium), and
	// PYSEC-2099-1 which no group names (info).
	"osv_scanner_own_npm_pypi_maxseverity.json": {findings: 4, cves: 3, high: 1, medium: 2, info: 1, root: "/work/shop",
		rules: []string{"CVE-2021-23337", "CVE-2020-28500", "CVE-2020-28493", "PYSEC-2099-1"}},
}

func checkFile(t *testing.T, rep *importers.Report, tc fileCase) {
	t.Helper()
	if len(rep.Findings) != tc.findings {
		t.Errorf("findings = %d, want %d", len(rep.Findings), tc.findings)
	}
	if len(rep.Assets) != 1 || rep.Assets[0].Name != tc.root || rep.Assets[0].Kind != importers.Repository {
		t.Errorf("assets = %+v, want one repository %s", rep.Assets, tc.root)
	}
	if rep.Target == nil || rep.Target.Name != tc.root {
		t.Errorf("target = %+v", rep.Target)
	}
	importertest.Severities(t, rep, map[importers.Severity]int{importers.Critical: tc.critical, importers.High: tc.high, importers.Medium: tc.medium, importers.Low: tc.lo, importers.Info: tc.info})
	var rules []string
	cves := map[string]bool{}
	for _, f := range rep.Findings {
		rules = append(rules, f.RuleID)
		for _, c := range f.CVEs {
			cves[c] = true
		}
		if f.Component == nil || f.Component.Name == "" || f.Component.Version == "" || f.Location.File == "" {
			t.Errorf("%s: component %+v, location %+v", f.RuleID, f.Component, f.Location)
		}
	}
	if !slices.Equal(rules, tc.rules) {
		t.Errorf("rules = %q, want %q", rules, tc.rules)
	}
	if len(cves) != tc.cves {
		t.Errorf("CVEs = %d, want %d", len(cves), tc.cves)
	}
}

// TestGroupIsOneFinding: the records of one group are one finding carrying every record's
// ratings and ids; its fingerprint follows the lowest CVE (by number: CVE-2024-9999 before
// CVE-2024-10000), so a database adding a record and an alias later changes nothing.
func TestGroupIsOneFinding(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "osv_scanner_results_gomod_cargo.json"))
	regex := rep.Findings[1]
	if regex.RuleID != "CVE-2022-24713" || !slices.Equal(regex.GHSAs, []string{"GHSA-m5pq-gvj9-9vr8"}) ||
		len(regex.CVSS) != 2 || regex.Component.FixedVersion != "1.5.5" || regex.Component.Type != "cargo" ||
		!slices.Equal(regex.CWEs, []string{"CWE-400"}) {
		t.Errorf("regex = %+v", regex)
	}
	before := `{"results": [{"source": {"path": "/a/go.mod"}, "packages": [{"package": {"name": "p", "version": "1", "ecosystem": "Go"},
		"vulnerabilities": [{"id": "GO-1", "aliases": ["CVE-2024-9999"]}], "groups": [{"ids": ["GO-1"], "aliases": ["CVE-2024-9999"]}]}]}]}`
	after := `{"results": [{"source": {"path": "/a/go.mod"}, "packages": [{"package": {"name": "p", "version": "1", "ecosystem": "Go"},
		"vulnerabilities": [{"id": "GHSA-aaaa-bbbb-cccc", "aliases": ["CVE-2024-9999", "CVE-2024-10000"]}, {"id": "GO-1", "aliases": ["CVE-2024-9999"]}],
		"groups": [{"ids": ["GHSA-aaaa-bbbb-cccc", "GO-1"], "aliases": ["CVE-2024-10000", "CVE-2024-9999"]}]}]}]}`
	a := importertest.MustParseString(t, New(), before)
	b := importertest.MustParseString(t, New(), after)
	if len(b.Findings) != 1 || b.Findings[0].RuleID != "CVE-2024-9999" || a.Findings[0].Fingerprint != b.Findings[0].Fingerprint {
		t.Errorf("before %+v, after %+v", a.Findings, b.Findings)
	}
	if got := canonicalID([]string{"GO-1", "RUSTSEC-2"}); got != "GO-1" {
		t.Errorf("no CVE: canonical %q, want the first id", got)
	}
}

// TestFingerprintIgnoresOtherSources: a finding keeps its fingerprint when the report scans one
// source fewer, though the asset (the directory the sources share) changes.
func TestFingerprintIgnoresOtherSources(t *testing.T) {
	pkg := `{"source": {"path": "/w/shop/%s/package-lock.json"}, "packages": [{"package": {"name": "p", "version": "1", "ecosystem": "npm"},
		"vulnerabilities": [{"id": "GHSA-aaaa-bbbb-cccc"}]}]}`
	web, api := fmt.Sprintf(pkg, "web"), fmt.Sprintf(pkg, "api")
	both := importertest.MustParseString(t, New(), `{"results": [`+web+`, `+api+`]}`)
	one := importertest.MustParseString(t, New(), `{"results": [`+api+`]}`)
	if len(both.Findings) != 2 || len(one.Findings) != 1 || both.Findings[1].Fingerprint != one.Findings[0].Fingerprint {
		t.Errorf("both sources %+v, one %+v", both.Findings, one.Findings)
	}
	if both.Findings[1].AssetKey == one.Findings[0].AssetKey {
		t.Errorf("the asset key %q did not change with the sources: the test shows nothing", one.Findings[0].AssetKey)
	}
}

// TestSeverity: max_severity (a score) first, then the records' database_specific.severity.
func TestSeverity(t *testing.T) {
	for _, tc := range []struct {
		max, db string
		want    importers.Severity
	}{
		{"9.8", "LOW", importers.Critical}, {"7.0", "", importers.High}, {"4", "", importers.Medium},
		{"0.1", "", importers.Low}, {"0", "", importers.Info}, {"", "CRITICAL", importers.Critical},
		{"", "MODERATE", importers.Medium}, {"", "medium", importers.Medium}, {"x", "LOW", importers.Low}, {"", "", importers.Info},
	} {
		in := `{"results": [{"packages": [{"package": {"name": "p", "version": "1", "ecosystem": "Go"},
			"vulnerabilities": [{"id": "GO-1", "database_specific": {"severity": "` + tc.db + `"}}], "groups": [{"ids": ["GO-1"], "max_severity": "` + tc.max + `"}]}]}]}`
		rep := importertest.MustParseString(t, New(), in)
		if got := rep.Findings[0].Severity; got != tc.want {
			t.Errorf("max %q, db %q: %s, want %s", tc.max, tc.db, got, tc.want)
		}
	}
	info := New().(importers.Describer).Info()
	if info.Name != formatName || len(info.Fingerprint) == 0 || info.Severity["MODERATE / MEDIUM"] != importers.Medium {
		t.Errorf("Info = %+v", info)
	}
}

// TestCommonDir: the asset is the directory every source is in.
func TestCommonDir(t *testing.T) {
	for _, tc := range []struct {
		dirs []string
		want string
	}{
		{nil, ""}, {[]string{"/a/b"}, "/a/b"}, {[]string{"/a/b", "/a/b/c"}, "/a/b"}, {[]string{"/a/bc", "/a/b"}, "/a"},
		{[]string{"/x", "/y"}, "/"}, {[]string{".", "web"}, "."},
	} {
		if got := commonDir(tc.dirs); got != tc.want {
			t.Errorf("commonDir(%q) = %q, want %q", tc.dirs, got, tc.want)
		}
	}
}
