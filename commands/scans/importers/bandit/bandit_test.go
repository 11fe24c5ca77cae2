package bandit

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// parse parses in, failing the test unless it is a report that passes the suite's checks.
func parse(t *testing.T, in string) *importers.Report {
	t.Helper()
	return spec.MustParse(t, New(), in)
}

// res is a B605 result in file at line, with code and more members (a JSON fragment, may be
// empty).
func res(file string, line int, code, more string) string {
	if more != "" {
		more = ", " + more
	}
	return fmt.Sprintf(`{"test_id": "B605", "filename": %q, "line_number": %d, "line_range": [%d], "code": %q%s}`, file, line, line, code, more)
}

func report(results ...string) string { return `{"results": [` + strings.Join(results, ",") + `]}` }

func TestSeverityMapping(t *testing.T) {
	spec.SeverityWords(t, New, map[string]importers.Severity{
		"HIGH": importers.High, "MEDIUM": importers.Medium, "LOW": importers.Low,
		"UNDEFINED": importers.Info, "CRITICAL": importers.Info, "": importers.Info,
	}, func(word string) string {
		return report(res("a.py", 1, "1 x\n", fmt.Sprintf(`"issue_severity": %q`, word)))
	})
}

func TestFingerprintIgnoresLineNumbersAndContext(t *testing.T) {
	fp := func(r string) string { return parse(t, report(r)).Findings[0].Fingerprint }
	here := fp(res("a.py", 6, "5 def foo():\n6     os.system(cmd)\n7     return 1\n", ""))
	moved := fp(res("a.py", 16, "15 def bar(x):\n16     os.system(cmd)\n17 \n", ""))
	if here != moved {
		t.Error("moving the issue or editing the lines around it changed the fingerprint")
	}
	if here == fp(res("a.py", 6, "5 def foo():\n6     os.system(other)\n7     return 1\n", "")) {
		t.Error("different code on the issue's line, same fingerprint")
	}
	if here == fp(res("b.py", 6, "6     os.system(cmd)\n", "")) {
		t.Error("filename not part of the fingerprint")
	}
}

func TestRepeatedIssuesStayApart(t *testing.T) {
	code := func(n int) string { return fmt.Sprintf("%d os.system(cmd)\n", n) }
	rep := parse(t, report(res("a.py", 3, code(3), ""), res("a.py", 9, code(9), "")))
	if len(rep.Findings) != 2 || rep.Findings[0].Fingerprint == rep.Findings[1].Fingerprint {
		t.Fatalf("findings %+v", rep.Findings)
	}
	if alone := parse(t, report(res("a.py", 30, code(30), ""))); alone.Findings[0].Fingerprint != rep.Findings[0].Fingerprint {
		t.Error("the first of repeated issues changed fingerprint")
	}
}

func TestOwnSampleFields(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "bandit_1.7_cwe_errors.json"))
	f := rep.Findings[0]
	// jq '.results[0] | [.test_id, .test_name, .issue_cwe.id, .line_number, .col_offset]'
	if f.RuleID != "B602" || f.Title != "B602 subprocess_popen_with_shell_equals_true" || !slices.Equal(f.CWEs, []string{"CWE-78"}) {
		t.Errorf("finding %+v", f)
	}
	if f.Location != (importers.Location{File: "app/views.py", Line: 12, Column: 5}) {
		t.Errorf("location %+v", f.Location)
	}
	if !strings.HasSuffix(f.Description, "Confidence: HIGH") || !strings.Contains(f.Evidence, "subprocess.call(cmd, shell=True)") {
		t.Errorf("description %q, evidence %q", f.Description, f.Evidence)
	}
	if !slices.Contains(f.References, "https://cwe.mitre.org/data/definitions/78.html") || len(f.References) != 2 {
		t.Errorf("references %q", f.References)
	}
	if rep.StartedAt.IsZero() || !slices.Contains(rep.Warnings, "bandit could not scan app/legacy/py2_only.py: syntax error while parsing AST from file") {
		t.Errorf("started %v, warnings %q", rep.StartedAt, rep.Warnings)
	}
	// Results 0 and 3 are the same test on different code: two findings.
	if rep.Findings[0].Fingerprint == rep.Findings[3].Fingerprint {
		t.Error("two different shell calls share a fingerprint")
	}
}

func TestMalformedSampleTolerated(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "bandit_sonar_python_with_errors.json"))
	if !slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, "line_number") && strings.Contains(w, "left out") }) {
		t.Errorf("no warning for the line_number \"invalid\": %q", rep.Warnings)
	}
	last := rep.Findings[len(rep.Findings)-1]
	if last.Location.Line != 0 || last.ScannerSeverity != "INVALID" || last.Severity != importers.Info {
		t.Errorf("last finding %+v", last)
	}
}
