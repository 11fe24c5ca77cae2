package veracode

import (
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

func rule(rep *importers.Report, id string) *importers.Finding {
	return importertest.First(rep, func(f *importers.Finding) bool { return f.RuleID == id })
}

func TestScrubbedFields(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, format, "veracode_detailedreport_scrubbed.xml"))
	if a := rep.Assets[0]; a.Key != "app:12345" || a.Kind != importers.Repository || a.Name != "Example-App" ||
		rep.Target.Name != "Example-App" || rep.ScannerVersion != "1.5" || rep.FinishedAt.Format(time0) != "2023-03-07T14:45:59" {
		t.Errorf("asset %+v target %+v version %q at %v", a, rep.Target, rep.ScannerVersion, rep.FinishedAt)
	}
	// grep -o '<flaw [^>]*issueid="6"[^>]*>' FILE
	f := rep.Findings[0]
	if f.RuleID != "CWE-117" || f.Title != "Improper Output Neutralization for Logs" || f.Severity != importers.Medium ||
		f.Location != (importers.Location{File: "com/veracode/security/logging/SecureLogger.java", Line: 129}) ||
		!strings.HasPrefix(f.Description, "This call to org.slf4j.Logger.debug() could result in a log forging attack.") ||
		f.Remediation == "" || f.Suppressed != nil {
		t.Errorf("flaw 6 = %+v", f)
	}
	// grep -B4 -A8 'CVE-2022-42889' FILE: High (4), CWE-94, approved "Potential False Positive"
	v := rule(rep, "CVE-2022-42889")
	if v == nil || v.Severity != importers.High || !slices.Equal(v.CVEs, []string{"CVE-2022-42889"}) || !slices.Equal(v.CWEs, []string{"CWE-94"}) ||
		v.ScannerSeverity != "4 (High), CVSS 7.5" || len(v.CVSS) != 0 ||
		*v.Component != (importers.Component{Name: "Apache Commons Text", Version: "1.9", Type: "maven", PURL: "pkg:maven/org.apache.commons/commons-text@1.9", Path: "pipeline-scan.jar:commons-text-1.9.jar"}) ||
		v.Suppressed == nil || v.Suppressed.Kind != importers.SuppressedFalsePositive || v.Suppressed.Reason != "Potential False Positive: test" {
		t.Errorf("CVE-2022-42889 = %+v", v)
	}
	// A Veracode SRCCLR id is not a CVE.
	if s := rule(rep, "SRCCLR-SID-22742"); s == nil || len(s.CVEs) != 0 || !slices.Equal(s.References, []string{"SRCCLR-SID-22742"}) {
		t.Errorf("SRCCLR-SID-22742 = %+v", s)
	}
}

const time0 = "2006-01-02T15:04:05"

func TestOwnSampleVerdictsAndDynamic(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, format, "veracode_own_static_dynamic_mitigated.xml"))
	acc := importertest.First(rep, func(f *importers.Finding) bool { return f.Location.File == "com/example/billing/InvoiceDao.java" })
	if acc == nil || acc.Severity != importers.Critical || acc.Suppressed == nil || acc.Suppressed.Kind != importers.SuppressedAccepted ||
		acc.Suppressed.Reason != "Mitigate by Design: Input is an enum name checked against a fixed list." ||
		acc.Remediation != "Use parameterized prepared statements.\n- Validate all input." {
		t.Errorf("accepted flaw = %+v", acc)
	}
	fixed := importertest.First(rep, func(f *importers.Finding) bool { return f.Location.File == "com/example/billing/ReportDao.java" })
	if fixed == nil || fixed.Suppressed == nil || fixed.Suppressed.Kind != importers.SuppressedResolved {
		t.Errorf("fixed flaw = %+v", fixed)
	}
	dyn := rule(rep, "CWE-80")
	if dyn == nil || dyn.Location != (importers.Location{URL: "https://billing.example.com/search", Param: "q"}) || dyn.Suppressed != nil {
		t.Errorf("dynamic flaw = %+v", dyn)
	}
	if l := rule(rep, "CVE-2021-44228"); l == nil || l.Severity != importers.Critical || l.Suppressed != nil {
		t.Errorf("log4j = %+v", l)
	}
}

// TestFingerprintIsIssueID: a flaw that moves (another line, another file name) keeps its
// fingerprint; the same issue id in another application does not.
func TestFingerprintIsIssueID(t *testing.T) {
	fp := func(app, line string) string {
		t.Helper()
		rep := importertest.MustParseString(t, New(), `<detailedreport app_id="`+app+`"><severity><category><cwe><staticflaws><flaw issueid="5" severity="2" sourcefile="A.java" line="`+line+`"/></staticflaws></cwe></category></severity></detailedreport>`)
		return rep.Findings[0].Fingerprint
	}
	if fp("1", "10") != fp("1", "99") {
		t.Error("the line changes the fingerprint")
	}
	if fp("1", "10") == fp("2", "10") {
		t.Error("the application does not change the fingerprint")
	}
}

func TestSeverityScale(t *testing.T) {
	want := []importers.Severity{importers.Info, importers.Info, importers.Low, importers.Medium, importers.High, importers.Critical}
	for level, w := range want {
		got, err := severity(strings.Repeat(" ", level%2) + string(rune('0'+level)))
		if err != nil || got != w {
			t.Errorf("severity %d = %q, %v; want %q", level, got, err, w)
		}
	}
	for _, bad := range []string{"", "-1", "6", "High"} {
		if _, err := severity(bad); err == nil {
			t.Errorf("severity %q accepted", bad)
		}
	}
}
