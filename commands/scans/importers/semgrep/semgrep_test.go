package semgrep

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/codescan"
)

// parse parses in, failing the test unless it is a report that passes the suite's checks.
func parse(t *testing.T, in string) *importers.Report {
	t.Helper()
	return spec.MustParse(t, New(), in)
}

// res is a result of rule at path:line with extra's members (a JSON fragment, may be empty).
func res(rule, path string, line int, extra string) string {
	return fmt.Sprintf(`{"check_id": %q, "path": %q, "start": {"line": %d, "col": 1}, "extra": {%s}}`, rule, path, line, extra)
}

func report(results ...string) string {
	return `{"results": [` + strings.Join(results, ",") + `], "errors": []}`
}

func TestSeverityMapping(t *testing.T) {
	spec.SeverityWords(t, New, map[string]importers.Severity{
		"ERROR": importers.High, "WARNING": importers.Medium, "INFO": importers.Low,
		"CRITICAL": importers.Critical, "HIGH": importers.High, "MEDIUM": importers.Medium, "LOW": importers.Low,
		"EXPERIMENT": importers.Info, "INVENTORY": importers.Info, "": importers.Info,
	}, func(word string) string {
		return report(res("r", "a.py", 1, fmt.Sprintf(`"severity": %q`, word)))
	})
}

func TestFingerprintIgnoresLineNumbers(t *testing.T) {
	fp := func(r string) string { return parse(t, report(r)).Findings[0].Fingerprint }
	withID := `"fingerprint": "abc_0", "lines": "eval(x)"`
	if fp(res("r", "a.py", 3, withID)) != fp(res("r", "a.py", 30, withID)) {
		t.Error("moving a result with a Semgrep fingerprint changed ours")
	}
	noLogin := `"fingerprint": "requires login", "lines": "    eval(x)"`
	if fp(res("r", "a.py", 3, noLogin)) != fp(res("r", "a.py", 9, `"fingerprint": "requires login", "lines": "eval(x)"`)) {
		t.Error("moving or re-indenting the matched lines changed the fingerprint")
	}
	if fp(res("r", "a.py", 3, noLogin)) == fp(res("r", "a.py", 3, `"fingerprint": "requires login", "lines": "eval(y)"`)) {
		t.Error("different matched code, same fingerprint")
	}
	hidden := `"fingerprint": "requires login", "lines": "requires login", "message": "eval of %s", "metavars": {"$X": {"abstract_content": "%s"}}`
	if fp(res("r", "a.py", 3, fmt.Sprintf(hidden, "x", "x"))) == fp(res("r", "a.py", 3, fmt.Sprintf(hidden, "y", "y"))) {
		t.Error("with lines hidden, matches of different values share a fingerprint")
	}
	if fp(res("r", "a.py", 3, withID)) == fp(res("r", "b.py", 3, withID)) || fp(res("r", "a.py", 3, withID)) == fp(res("s", "a.py", 3, withID)) {
		t.Error("path or rule not part of the fingerprint")
	}
}

func TestRepeatedMatchesStayApart(t *testing.T) {
	same := `"fingerprint": "requires login", "lines": "eval(x)"`
	rep := parse(t, report(res("r", "a.py", 3, same), res("r", "a.py", 7, same), res("r", "a.py", 9, same)))
	if len(rep.Findings) != 3 {
		t.Fatalf("%d findings, want 3", len(rep.Findings))
	}
	// The first keeps the fingerprint it has alone, so that a second copy appearing later does
	// not resolve and reopen it.
	if alone := parse(t, report(res("r", "a.py", 3, same))); alone.Findings[0].Fingerprint != rep.Findings[0].Fingerprint {
		t.Error("the first of repeated matches changed fingerprint")
	}
}

func TestNosemgrepIsSuppressed(t *testing.T) {
	rep := parse(t, report(res("r", "a.py", 1, `"is_ignored": true`), res("r", "b.py", 1, `"is_ignored": false`)))
	if s := rep.Findings[0].Suppressed; s == nil || s.Kind != importers.SuppressedFalsePositive {
		t.Errorf("is_ignored: Suppressed = %+v", s)
	}
	if rep.Findings[1].Suppressed != nil {
		t.Errorf("not ignored but suppressed")
	}
}

func TestErrorsBecomeWarnings(t *testing.T) {
	var errs []string
	for i := range codescan.MaxScannerErrors + 3 {
		errs = append(errs, fmt.Sprintf(`{"level": "warn", "type": ["PartialParsing", [{"path": "x"}]], "message": "skipped part %d", "path": "f%d.py"}`, i, i))
	}
	errs = append(errs, `{"level": "error", "type": "Syntax error", "message": "late"}`)
	rep := parse(t, `{"results": [], "errors": [`+strings.Join(errs, ",")+`]}`)
	if len(rep.Warnings) != codescan.MaxScannerErrors+1 {
		t.Fatalf("%d warnings: %q", len(rep.Warnings), rep.Warnings)
	}
	if w := rep.Warnings[0]; w != "semgrep warn (PartialParsing) in f0.py: skipped part 0" {
		t.Errorf("warning %q", w)
	}
	if w := rep.Warnings[codescan.MaxScannerErrors]; w != "4 more semgrep errors not shown" {
		t.Errorf("last warning %q", w)
	}
}

func TestDataflowTraceIsEvidence(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "semgrep_cli_dataflow_traces.json"))
	ev := rep.Findings[0].Evidence
	// jq -r '.results[0].extra.dataflow_trace | .taint_source[1][1], .taint_sink[1][1], (.intermediate_vars|length)'
	// gives SOURCE(), res2 and 3.
	for _, want := range []string{
		"SINK(res2);",
		"taint source: SOURCE() at targets/taint/taint_trace.cpp:10",
		"through: curBase at targets/taint/taint_trace.cpp:15",
		"taint sink: res2 at targets/taint/taint_trace.cpp:17",
	} {
		if !strings.Contains(ev, want) {
			t.Errorf("evidence lacks %q:\n%s", want, ev)
		}
	}
	if rep.ScannerVersion != "0.42" {
		t.Errorf("ScannerVersion %q", rep.ScannerVersion)
	}
}

func TestLongTraceIsBounded(t *testing.T) {
	var vars []string
	for i := range maxTraceVars + 5 {
		vars = append(vars, fmt.Sprintf(`{"content": "v%d", "location": {"path": "a.c", "start": {"line": %d}}}`, i, i+1))
	}
	rep := parse(t, report(res("r", "a.c", 1, `"dataflow_trace": {"intermediate_vars": [`+strings.Join(vars, ",")+`]}`)))
	ev := rep.Findings[0].Evidence
	if strings.Count(ev, "through: ") != maxTraceVars || !strings.Contains(ev, "5 more intermediate variables") {
		t.Errorf("evidence:\n%s", ev)
	}
}

func TestMetadata(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "semgrep_python_injection.json"))
	f := rep.Findings[0]
	if !slices.Equal(f.CWEs, []string{"CWE-78"}) {
		t.Errorf("CWEs %q", f.CWEs)
	}
	if !strings.Contains(f.Description, "OWASP: A1: Injection") || !strings.HasPrefix(f.Description, "Request data detected in os.system.") {
		t.Errorf("description %q", f.Description)
	}
	if !slices.Contains(f.References, "https://owasp.org/www-community/attacks/Command_Injection") || !slices.Contains(f.References, "https://semgrep.dev/r/python.django.security.injection.command.command-injection-os-system.command-injection-os-system") {
		t.Errorf("references %q", f.References)
	}
	// Free-form metadata of other shapes is ignored, not refused.
	rep = parse(t, report(res("r", "a.py", 1, `"metadata": {"cwe": ["CWE-89: SQL", "CWE-20"], "owasp": ["A03:2021", 5], "confidence": {"x": 1}, "references": "https://one"}`)))
	f = rep.Findings[0]
	if !slices.Equal(f.CWEs, []string{"CWE-89", "CWE-20"}) || !slices.Equal(f.References, []string{"https://one"}) || !strings.Contains(f.Description, "OWASP: A03:2021") {
		t.Errorf("finding %+v", f)
	}
}
