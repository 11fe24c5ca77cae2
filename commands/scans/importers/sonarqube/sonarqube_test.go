package sonarqube

import (
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

// TestWebshopFields checks one finding field by field, and that locations, CWE tags and rule
// names come from components[], tags and rules[].
func TestWebshopFields(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "sonarqube_issues_pages_webshop.json"))
	a := rep.Assets[0]
	if a.Key != "project:acme:webshop" || a.Kind != importers.Repository || a.Name != "Acme Webshop" {
		t.Errorf("asset %+v", a)
	}
	f := importertest.RuleFindings(t, rep, "javasecurity:S3649", 1)[0]
	if f.Severity != importers.High || f.ScannerSeverity != "HIGH" {
		t.Errorf("SECURITY impact should win over BLOCKER: %s (%s)", f.Severity, f.ScannerSeverity)
	}
	if f.Location.File != "src/main/java/acme/shop/OrderDao.java" || f.Location.Line != 57 {
		t.Errorf("location %+v", f.Location)
	}
	if f.Description != "Database queries should not be vulnerable to injection attacks" || f.Suppressed != nil {
		t.Errorf("description %q, suppressed %+v", f.Description, f.Suppressed)
	}
	importertest.Fingerprint(t, f.Fingerprint, "that of the issue key", "sonarqube/v1", "AYx1-vuln-sqli-0001")
	fp := importertest.RuleFindings(t, rep, "java:S5547", 1)[0]
	if fp.Suppressed == nil || fp.Suppressed.Kind != importers.SuppressedFalsePositive || len(fp.CWEs) != 1 || fp.CWEs[0] != "CWE-327" {
		t.Errorf("false positive: %+v, CWEs %v", fp.Suppressed, fp.CWEs)
	}
	if fp.Location.File != "src/main/java/acme/shop/Tokens.java" {
		t.Errorf("file %q", fp.Location.File)
	}
	// No component entry: the path is the component key less the project key.
	hs := importertest.RuleFindings(t, rep, "java:S2245", 1)[0]
	if hs.Location.File != "src/main/java/acme/shop/Coupons.java" || hs.Severity != importers.High {
		t.Errorf("hotspot issue %+v %s", hs.Location, hs.Severity)
	}
	// A CODE_SMELL with a SECURITY impact, line from textRange, accepted by issueStatus.
	smell := importertest.RuleFindings(t, rep, "java:S4507", 1)[0]
	if smell.Location.Line != 41 || smell.Severity != importers.Medium || smell.Suppressed == nil || smell.Suppressed.Kind != importers.SuppressedAccepted {
		t.Errorf("security code smell: line %d, %s, %+v", smell.Location.Line, smell.Severity, smell.Suppressed)
	}
	importertest.RuleFindings(t, rep, "java:S2259", 0)
	importertest.RuleFindings(t, rep, "java:S1192", 0)
}

// TestSeverityMapping checks every documented severity word.
func TestSeverityMapping(t *testing.T) {
	cases := []struct {
		issue string
		want  importers.Severity
	}{
		{`{"key":"a","type":"VULNERABILITY","severity":"BLOCKER"}`, importers.Critical},
		{`{"key":"a","type":"VULNERABILITY","severity":"CRITICAL"}`, importers.High},
		{`{"key":"a","type":"VULNERABILITY","severity":"MAJOR"}`, importers.Medium},
		{`{"key":"a","type":"VULNERABILITY","severity":"MINOR"}`, importers.Low},
		{`{"key":"a","type":"VULNERABILITY","severity":"INFO"}`, importers.Info},
		{`{"key":"a","type":"VULNERABILITY","severity":"ODD"}`, importers.Info},
		{`{"key":"a","type":"BUG","severity":"INFO","impacts":[{"softwareQuality":"SECURITY","severity":"BLOCKER"}]}`, importers.Critical},
		{`{"key":"a","type":"VULNERABILITY","severity":"BLOCKER","impacts":[{"softwareQuality":"SECURITY","severity":"LOW"}]}`, importers.Low},
		{`{"key":"a","type":"VULNERABILITY","impacts":[{"softwareQuality":"SECURITY","severity":"INFO"}]}`, importers.Info},
	}
	for _, c := range cases {
		rep := importertest.MustParseString(t, New(), `{"issues":[`+c.issue+`]}`)
		if len(rep.Findings) != 1 || rep.Findings[0].Severity != c.want {
			t.Errorf("%s: %+v, want %s", c.issue, rep.Findings, c.want)
		}
	}
	for word, want := range map[string]importers.Severity{"HIGH": importers.High, "MEDIUM": importers.Medium, "LOW": importers.Low} {
		rep := importertest.MustParseString(t, New(), `{"hotspots":[{"key":"h","component":"p:f","vulnerabilityProbability":"`+word+`"}]}`)
		if rep.Findings[0].Severity != want {
			t.Errorf("hotspot %s: %s", word, rep.Findings[0].Severity)
		}
	}
	info := New().(importers.Describer).Info()
	if info.Severity["BLOCKER"] != importers.Critical || info.Severity["impact HIGH"] != importers.High || info.Severity["hotspot LOW"] != importers.Low {
		t.Errorf("Info severity map %v", info.Severity)
	}
}

// TestSuppressions maps each resolution.
func TestSuppressions(t *testing.T) {
	for res, want := range map[string]importers.SuppressionKind{
		"FALSE-POSITIVE": importers.SuppressedFalsePositive, "WONTFIX": importers.SuppressedAccepted,
		"FIXED": importers.SuppressedResolved, "REMOVED": importers.SuppressedResolved,
	} {
		f := importertest.MustParseString(t, New(), `{"issues":[{"key":"a","type":"VULNERABILITY","resolution":"`+res+`"}]}`).Findings[0]
		if f.Suppressed == nil || f.Suppressed.Kind != want || f.Suppressed.Reason != res {
			t.Errorf("%s: %+v", res, f.Suppressed)
		}
	}
	for res, want := range map[string]importers.SuppressionKind{
		"SAFE": importers.SuppressedNotAffected, "ACKNOWLEDGED": importers.SuppressedAccepted, "FIXED": importers.SuppressedResolved,
	} {
		f := importertest.MustParseString(t, New(), `{"hotspots":[{"key":"h","status":"REVIEWED","resolution":"`+res+`"}]}`).Findings[0]
		if f.Suppressed == nil || f.Suppressed.Kind != want || f.Suppressed.Source != "sonarqube hotspot resolution" {
			t.Errorf("hotspot %s: %+v", res, f.Suppressed)
		}
	}
	if f := importertest.MustParseString(t, New(), `{"issues":[{"key":"a","type":"VULNERABILITY","status":"OPEN"}]}`).Findings[0]; f.Suppressed != nil {
		t.Errorf("open issue suppressed: %+v", f.Suppressed)
	}
}

// TestFingerprintWithoutKey: an issue without a key is fingerprinted by rule, component and
// hash, so the same issue at another line keeps its fingerprint; without a hash the line counts.
func TestFingerprintWithoutKey(t *testing.T) {
	fp := func(issue string) string {
		return importertest.MustParseString(t, New(), `{"issues":[`+issue+`]}`).Findings[0].Fingerprint
	}
	a := fp(`{"rule":"r","component":"p:f","hash":"h1","line":3,"type":"VULNERABILITY"}`)
	if b := fp(`{"rule":"r","component":"p:f","hash":"h1","line":9,"type":"VULNERABILITY"}`); a != b {
		t.Error("a moved issue changed its fingerprint")
	}
	if b := fp(`{"rule":"r","component":"p:f","hash":"h2","line":3,"type":"VULNERABILITY"}`); a == b {
		t.Error("another hash kept the fingerprint")
	}
	if fp(`{"rule":"r","component":"p:f","line":3,"type":"VULNERABILITY"}`) == fp(`{"rule":"r","component":"p:f","line":4,"type":"VULNERABILITY"}`) {
		t.Error("without a hash, two lines share a fingerprint")
	}
}

// TestProjectsAndWarnings: one asset per project, no Target for two projects, ignored types
// counted.
func TestProjectsAndWarnings(t *testing.T) {
	rep := importertest.MustParseString(t, New(), `[{"issues":[{"key":"a","component":"p1:f","type":"VULNERABILITY"},{"key":"b","component":"p2:g","type":"VULNERABILITY"},{"key":"c","type":"CODE_SMELL"},{"key":"d","type":"CODE_SMELL"},{"key":"e","type":"ODD"}]}]`)
	if len(rep.Assets) != 2 || rep.Assets[0].Key != "project:p1" || rep.Assets[1].Key != "project:p2" || rep.Target != nil {
		t.Errorf("assets %+v, target %+v", rep.Assets, rep.Target)
	}
	want := []string{"2 CODE_SMELL issues without a SECURITY impact not imported", "1 issues of type ODD not imported"}
	if len(rep.Warnings) != 2 || rep.Warnings[0] != want[0] || rep.Warnings[1] != want[1] {
		t.Errorf("warnings %q", rep.Warnings)
	}
}

// TestProjectWithoutSecurityIssues: a project whose issues are all left out, or a page with no
// issues that names its project, is still the report's asset and Target, so that its import is
// known to have seen the project.
func TestProjectWithoutSecurityIssues(t *testing.T) {
	for name, in := range map[string]string{
		"code smells only": `{"issues":[{"key":"a","project":"p","component":"p:f","type":"CODE_SMELL"}],"components":[{"key":"p","qualifier":"TRK","name":"P"}]}`,
		"no issues":        `{"paging":{"pageIndex":1},"issues":[],"components":[{"key":"p:f","qualifier":"FIL"},{"key":"p","qualifier":"TRK","name":"P"}]}`,
	} {
		rep := importertest.MustParseString(t, New(), in)
		if len(rep.Findings) != 0 || len(rep.Assets) != 1 || rep.Assets[0].Key != "project:p" || rep.Assets[0].Name != "P" ||
			rep.Target == nil || rep.Target.Name != "p" {
			t.Errorf("%s: assets %+v, target %+v, %d findings", name, rep.Assets, rep.Target, len(rep.Findings))
		}
	}
}

// TestSonarReportExport: sonar-report's JSON names its project once (sonarComponent), its
// components are bare file paths and its rules an object keyed by rule key.
func TestSonarReportExport(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "sonarqube_sonar_report_export.json"))
	if a := rep.Assets[0]; a.Key != "project:acme:billing" || a.Kind != importers.Repository {
		t.Errorf("asset %+v", a)
	}
	f := importertest.RuleFindings(t, rep, "python:S3649", 1)[0]
	if f.Location.File != "billing/db.py" || f.Location.Line != 41 {
		t.Errorf("location %+v", f.Location)
	}
	if f.Description != "Database queries should not be vulnerable to injection attacks" {
		t.Errorf("description %q: the rule name from the rules object", f.Description)
	}
	importertest.Fingerprint(t, f.Fingerprint, "that of the issue key", "sonarqube/v1", "AZ1-billing-0001")
}

// TestBareLists: a bare array of issues or of hotspots (a page's list on its own) is read
// as the page would be, and an empty array is an empty report; neither is detected.
func TestBareLists(t *testing.T) {
	issues := `[{"key": "i1", "rule": "java:S3649", "component": "acme:shop:src/A.java", "project": "acme:shop", "type": "VULNERABILITY", "severity": "CRITICAL", "line": 7},
		{"key": "i2", "rule": "java:S1481", "component": "acme:shop:src/B.java", "project": "acme:shop", "type": "CODE_SMELL", "severity": "MINOR"}]`
	parse := func(in string) *importers.Report {
		t.Helper()
		rep, err := importertest.ParseString(New(), in)
		if err != nil {
			t.Fatalf("%.40s: %v", in, err)
		}
		return rep
	}
	rep := parse(issues)
	if len(rep.Findings) != 1 || rep.Findings[0].Location.File != "src/A.java" || rep.Findings[0].Severity != importers.High ||
		rep.Target == nil || rep.Target.Name != "acme:shop" || len(rep.Warnings) != 1 {
		t.Errorf("issues list: %+v", rep)
	}
	hotspots := `[{"key": "h1", "component": "acme:shop:src/C.java", "project": "acme:shop", "securityCategory": "auth", "vulnerabilityProbability": "HIGH", "status": "TO_REVIEW", "line": 9}]`
	rep = parse(hotspots)
	if len(rep.Findings) != 1 || rep.Findings[0].Severity != importers.High || rep.Findings[0].Fingerprint != parseutil.FingerprintJSON("sonarqube/v1", "h1") {
		t.Errorf("hotspots list: %+v", rep)
	}
	if rep := parse(" []\n"); len(rep.Findings) != 0 {
		t.Errorf("empty array: %+v", rep)
	}
	for _, in := range []string{issues, hotspots} {
		if New().Detect([]byte(in)) {
			t.Errorf("a bare list is detected: %.40s", in)
		}
	}
}
