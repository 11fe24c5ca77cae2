package depcheck

import (
	"slices"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// fileCase is what one Dependency-Check report holds. Counts were computed independently of the
// parser:
//
//	XML findings: xmllint --xpath 'count(//*[local-name()="vulnerability"]) + count(//*[local-name()="suppressedVulnerability"])'
//	XML severity: xmllint --xpath '//*[local-name()="vulnerability" or local-name()="suppressedVulnerability"]/*[local-name()="severity"]/text()'
//	JSON findings: jq '[.dependencies[] | (.vulnerabilities // [] | length) + (.suppressedVulnerabilities // [] | length)] | add'
//	JSON severity: jq -c '[.dependencies[] | (.vulnerabilities // []) + (.suppressedVulnerabilities // []) | .[].severity]'
type fileCase struct {
	findings, suppressed       int
	critical, high, medium, lo int
	project, engine            string
	rules                      []string
}

var testdataFiles = map[string]fileCase{
	// Schema 1.6 (engine 3.1.1): two NSP advisories, Medium, scores only (empty metric elements).
	"dependency_check_3.1.1_nodejs.xml": {findings: 2, medium: 2, project: "Test Project", engine: "3.1.1",
		rules: []string{"NSP-8", "NSP-3"}},
	// Own schema 4.0 sample: CRITICAL, Unknown with a CVSS v4 base score of 9.2 (critical), and a
	// suppressed HIGH.
	"dependency_check_own_4.0_maven.xml": {findings: 3, suppressed: 1, critical: 2, high: 1, project: "shop-service", engine: "10.0.3",
		rules: []string{"CVE-2021-44228", "CVE-2021-45046", "CVE-2017-5645"}},
	// Own JSON sample: high, MEDIUM, medium and a suppressed MEDIUM.
	"dependency_check_own_json_npm.json": {findings: 4, suppressed: 1, high: 1, medium: 3, project: "storefront", engine: "9.2.0",
		rules: []string{"GHSA-35jh-r3h4-6jhm", "CVE-2020-28500", "CVE-2015-9251", "CVE-2012-6708"}},
}

func checkFile(t *testing.T, rep *importers.Report, tc fileCase) {
	t.Helper()
	if len(rep.Findings) != tc.findings {
		t.Errorf("findings = %d, want %d", len(rep.Findings), tc.findings)
	}
	if len(rep.Assets) != 1 || rep.Assets[0].Name != tc.project || rep.Target == nil || rep.Target.Name != tc.project || rep.ScannerVersion != tc.engine {
		t.Errorf("assets %+v, target %+v, engine %q", rep.Assets, rep.Target, rep.ScannerVersion)
	}
	importertest.Severities(t, rep, map[importers.Severity]int{importers.Critical: tc.critical, importers.High: tc.high, importers.Medium: tc.medium, importers.Low: tc.lo})
	var rules []string
	suppressed := 0
	for _, f := range rep.Findings {
		rules = append(rules, f.RuleID)
		if f.Suppressed != nil {
			suppressed++
		}
		if f.Component == nil || f.Component.Name == "" || f.Location.File == "" {
			t.Errorf("%s: component %+v, location %+v", f.RuleID, f.Component, f.Location)
		}
	}
	if !slices.Equal(rules, tc.rules) {
		t.Errorf("rules = %q, want %q", rules, tc.rules)
	}
	if suppressed != tc.suppressed {
		t.Errorf("suppressed = %d, want %d", suppressed, tc.suppressed)
	}
}

// TestVectorsAssembled: the v2 and v3 metric elements become vectors (no score is computed); the
// component comes from the purl; a suppressed vulnerability carries its notes.
func TestVectorsAssembled(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "dependency_check_own_4.0_maven.xml"))
	f := rep.Findings[0]
	want := []string{"AV:N/AC:M/Au:N/C:C/I:C/A:C", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}
	if len(f.CVSS) != 2 || f.CVSS[0].Vector != want[0] || f.CVSS[1].Vector != want[1] || *f.CVSS[1].Score != 10 {
		t.Errorf("cvss = %+v", f.CVSS)
	}
	c := f.Component
	if c.PURL != "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1" || c.Name != "org.apache.logging.log4j:log4j-core" || c.Version != "2.14.1" || c.Type != "maven" {
		t.Errorf("component = %+v", c)
	}
	if !slices.Equal(f.CWEs, []string{"CWE-502", "CWE-400", "CWE-20"}) || !slices.Equal(f.CVEs, []string{"CVE-2021-44228"}) {
		t.Errorf("cwes %q, cves %q", f.CWEs, f.CVEs)
	}
	s := rep.Findings[2].Suppressed
	if s == nil || s.Kind != importers.SuppressedFalsePositive || s.Reason != "The socket server is not used by this service." {
		t.Errorf("suppression = %+v", s)
	}
	// An incomplete set of metrics gives no vector, only the score.
	if v := cvss2(nil, "NETWORK", "LOW", "", "NONE", "NONE", "PARTIAL"); v.Vector != "" {
		t.Errorf("partial metrics gave vector %q", v.Vector)
	}
}

// TestFingerprintIdentity: the purl identifies a dependency wherever its file lies; without one,
// the hash and file name do, so a moved jar keeps its findings.
func TestFingerprintIdentity(t *testing.T) {
	doc := func(path, pkg string) string {
		return `{"reportSchema": "1.1", "projectInfo": {"name": "p"}, "dependencies": [{"fileName": "a-1.jar", "filePath": "` + path +
			`", "sha256": "ab", ` + pkg + `"vulnerabilities": [{"name": "CVE-2024-0001", "severity": "LOW"}]}]}`
	}
	fp := func(in string) string {
		rep := importertest.MustParseString(t, New(), in)
		return rep.Findings[0].Fingerprint
	}
	purl := `"packages": [{"id": "pkg:maven/g/a@1"}], `
	if fp(doc("/x/a-1.jar", purl)) != fp(doc("/y/a-1.jar", purl)) {
		t.Error("purl: a moved file changed the fingerprint")
	}
	if fp(doc("/x/a-1.jar", "")) != fp(doc("/y/a-1.jar", "")) {
		t.Error("sha256: a moved file changed the fingerprint")
	}
	if fp(doc("/x/a-1.jar", purl)) == fp(doc("/x/a-1.jar", "")) {
		t.Error("purl and hash identities collide")
	}
}

// TestSeverity: the report's words first (MODERATE is medium), then the highest base score.
func TestSeverity(t *testing.T) {
	for in, want := range map[string]importers.Severity{
		`"severity": "CRITICAL"`:                               importers.Critical,
		`"severity": "moderate"`:                               importers.Medium,
		`"severity": "low"`:                                    importers.Low,
		`"severity": "Unknown", "cvssv2": {"score": 7.5}`:      importers.High,
		`"cvssv3": {"baseScore": 3.1, "baseSeverity": "HIGH"}`: importers.High,
		`"cvssv2": {"score": 4.3, "severity": "MEDIUM"}`:       importers.Medium,
		`"severity": "Unknown", "cvssv4": {"baseScore": 9.3}`:  importers.Critical,
		`"severity": "Unknown"`:                                importers.Info,
	} {
		rep := importertest.MustParseString(t, New(), `{"reportSchema": "1.1", "dependencies": [{"fileName": "a", "vulnerabilities": [{"name": "CVE-2024-0001", `+in+`}]}]}`)
		if got := rep.Findings[0].Severity; got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
	info := New().(importers.Describer).Info()
	if info.Name != formatName || len(info.Versions) != 2 || info.Severity["MEDIUM / MODERATE"] != importers.Medium {
		t.Errorf("Info = %+v", info)
	}
}
