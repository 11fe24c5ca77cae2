package sarif

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// Expected counts were computed independently of the parser with jq over the shared test data:
//
//	results:  jq '[.runs[].results[]?] | length'
//	findings: jq '[.runs[].results[]? | select((.kind // "fail") as $k | $k != "pass" and $k != "notApplicable")
//	              | select(.baselineState != "absent")] | length'
//	severity: jq -c '[.runs[] | .tool.driver.rules as $r | .results[]?
//	              | select((.kind // "fail") as $k | $k != "pass" and $k != "notApplicable") | . as $res
//	              | (($r | map(select(.id == $res.ruleId)) | .[0]) // null) as $rule
//	              | (($res.properties."security-severity" // $rule.properties."security-severity") // null) as $ss
//	              | if $ss != null then ("ss:" + ($ss|tostring)) else ($res.level
//	                  // (if ($res.kind // "fail") != "fail" then "none" else null end)
//	                  // $rule.defaultConfiguration.level // "warning") end]
//	              | group_by(.) | map({(.[0]): length}) | add'
//
// giving codeql {error: 11, note: 57, warning: 4}, flawfinder {error: 2, note: 50, warning: 1}
// (one of its 54 results has kind "pass"), gitleaks {warning: 8}, trivy {"ss:5.3": 4}; error →
// high, warning → medium, note → low, security-severity 5.3 → medium.
var testdataFiles = map[string]toolCase{
	"codeql_2.5.4_python.sarif": {72, 72, 0, 11, 4, 57, "CodeQL", "2.5.4"},
	"flawfinder_2.0.19.sarif":   {54, 53, 0, 2, 1, 50, "Flawfinder", "2.0.19"},
	"gitleaks_7.4.0.sarif":      {8, 8, 0, 0, 8, 0, "Gitleaks", "v7.4.0"},
	"trivy_alpine-310.sarif":    {4, 4, 0, 0, 4, 0, "Trivy", "dev"},
}

// toolCase is what one tool's log holds.
type toolCase struct {
	results, findings          int
	critical, high, medium, lo int
	tool, version              string
}

func checkTool(t *testing.T, rep *importers.Report, tc toolCase) {
	if len(rep.Findings) != tc.findings {
		t.Errorf("findings = %d, want %d", len(rep.Findings), tc.findings)
	}
	if rep.ScannerName != tc.tool || rep.ScannerVersion != tc.version {
		t.Errorf("scanner %q %q", rep.ScannerName, rep.ScannerVersion)
	}
	// None of the four logs has versionControlProvenance: jq '[.runs[].versionControlProvenance] | map(select(.)) | length' → 0
	if len(rep.Assets) != 1 || rep.Assets[0].Key != "sarif:"+tc.tool || rep.Assets[0].Kind != importers.Repository {
		t.Errorf("assets = %+v", rep.Assets)
	}
	for _, f := range rep.Findings {
		if f.Location.File == "" || f.Location.Line == 0 {
			t.Errorf("finding %q has no file:line", f.Title)
		}
	}
	importertest.Severities(t, rep, map[importers.Severity]int{importers.Critical: tc.critical, importers.High: tc.high, importers.Medium: tc.medium, importers.Low: tc.lo})
}

// variantFile is what a SARIF variant must give: counts with jq as above, suppressed results
// (jq '[.runs[].results[] | select(.suppressions and all(.suppressions[]; (.status // "accepted") == "accepted"))] | length')
// and results with several locations (jq '[.runs[].results[] | select((.locations // []) | length > 1)] | length').
type variantFile struct {
	findings, suppressed, multiLocation int
	assets                              int
	target                              string
	check                               func(t *testing.T, rep *importers.Report)
}

var variantFiles = map[string]variantFile{
	"codeql_action_2runs_partialfp_related.sarif": {3, 0, 0, 2, "LGTM.com", nil},
	// The first result has two locations (artifacts 0 and 2) and TST0002 none.
	"sarifsdk_2runs_multilocation.sarif": {6, 0, 1, 1, "Sarif Functional Testing", func(t *testing.T, rep *importers.Report) {
		f := rep.Findings[0]
		if f.Location.File != "file1" || len(f.Locations) != 2 || f.Locations[0].File != "file1" || f.Locations[1].File != "file3" {
			t.Errorf("TST0001: location %+v, locations %+v", f.Location, f.Locations)
		}
	}},
	// One suppression, external, accepted, justified "justification".
	"sarifsdk_patternmatcher_suppression_partialfp.sarif": {5, 1, 0, 1, "Microsoft.CodeAnalysis.Sarif.PatternMatcher", func(t *testing.T, rep *importers.Report) {
		s := rep.Findings[0].Suppressed
		if s == nil || s.Kind != importers.SuppressedFalsePositive || s.Reason != "justification" || s.Source != "sarif suppression (external)" {
			t.Errorf("suppressed = %+v", s)
		}
	}},
	"sarifsdk_suppressions_3of4.sarif": {4, 3, 0, 1, "CodeScanner", func(t *testing.T, rep *importers.Report) {
		if rep.Findings[3].Suppressed != nil || rep.Findings[3].RuleID != "TST0004" {
			t.Errorf("TST0004 = %+v", rep.Findings[3])
		}
	}},
}

func checkVariant(t *testing.T, rep *importers.Report, tc variantFile) {
	t.Helper()
	check(t, rep)
	var suppressed, multi int
	for _, f := range rep.Findings {
		if f.Suppressed != nil {
			suppressed++
		}
		if len(f.Locations) > 1 {
			multi++
		}
	}
	if len(rep.Findings) != tc.findings || suppressed != tc.suppressed || multi != tc.multiLocation || len(rep.Assets) != tc.assets {
		t.Errorf("findings/suppressed/multi-location/assets = %d/%d/%d/%d, want %d/%d/%d/%d",
			len(rep.Findings), suppressed, multi, len(rep.Assets), tc.findings, tc.suppressed, tc.multiLocation, tc.assets)
	}
	if rep.Target == nil || rep.Target.Name != tc.target || rep.Target.Hint != "tool_path" {
		t.Errorf("target = %+v, want %q", rep.Target, tc.target)
	}
	if tc.check != nil {
		tc.check(t, rep)
	}
}

// TestSuppressionStatus: only suppressions that are all accepted (or say no status) suppress.
func TestSuppressionStatus(t *testing.T) {
	for supp, want := range map[string]string{
		`[{"kind": "inSource", "justification": "test code"}]`:                                                           "test code",
		`[{"kind": "inSource", "status": "accepted"}, {"kind": "external", "status": "accepted", "justification": "x"}]`: "x",
		`[{"kind": "external", "status": "underReview"}]`:                                                                "open",
		`[{"kind": "external", "status": "accepted"}, {"kind": "external", "status": "rejected"}]`:                       "open",
		`[]`: "open",
	} {
		rep := importertest.MustParseString(t, New(), `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "t"}}, "results": [{"ruleId": "R", "message": {"text": "m"}, "suppressions": `+supp+`}]}]}`)
		got := "open"
		if s := rep.Findings[0].Suppressed; s != nil {
			got = s.Reason
		}
		if got != want {
			t.Errorf("%s: %q, want %q", supp, got, want)
		}
	}
}

// TestObjectFingerprints: fingerprint values that are objects (Black Duck) or numbers do not
// refuse the log; they count in the fingerprint as their compact JSON, so two results that
// differ only there stay two findings, and a reimport gives the same fingerprint.
func TestObjectFingerprints(t *testing.T) {
	doc := func(v string) string {
		return `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Black Duck"}}, "results": [
			{"ruleId": "R", "message": {"text": "m"}, "fingerprints": {"a": ` + v + `, "b": null}, "partialFingerprints": {"c": 1}}]}]}`
	}
	a := fingerprints(t, doc(`{"id": 1, "k": "v"}`))
	b := fingerprints(t, doc(`{ "id" : 1 , "k" : "v" }`))
	c := fingerprints(t, doc(`{"id": 2, "k": "v"}`))
	if a[0] != b[0] || a[0] == c[0] {
		t.Errorf("fingerprints %v %v %v", a, b, c)
	}
}

// TestSrcRootTarget: the target is the tool and the root the URIs are relative to.
func TestSrcRootTarget(t *testing.T) {
	rep, err := importertest.ParseString(New(), `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "t"}},
		"originalUriBaseIds": {"%SRCROOT%": {"uri": "file:///home/ci/src/"}}, "results": []}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Target == nil || rep.Target.Name != "t:file:///home/ci/src/" {
		t.Errorf("target = %+v", rep.Target)
	}
}

func TestFieldsCodeQL(t *testing.T) {
	rep := importertest.ParseFile(t, New(), filepath.Join(importertest.Testdata(t), "sarif", "codeql_2.5.4_python.sarif"))
	// jq '.runs[0].results[] | select(.ruleId=="py/sql-injection") | .locations[0].physicalLocation'
	sql := importertest.RuleFindings(t, rep, "py/sql-injection", 2)
	f := sql[0]
	if l := f.Location; l.File != "bad/libuser.py" || l.Line != 12 || l.Column != 22 {
		t.Errorf("location %+v", l)
	}
	// rule tags: "security", "external/cwe/cwe-089", "external/owasp/owasp-a1"; defaultConfiguration.level error
	if strings.Join(f.CWEs, ",") != "CWE-89" || f.Severity != importers.High || f.ScannerSeverity != "error" {
		t.Errorf("CWEs %v severity %s/%s", f.CWEs, f.Severity, f.ScannerSeverity)
	}
	if f.Title != "SQL query built from user-controlled sources" || !strings.HasPrefix(f.Description, "This SQL query depends on") {
		t.Errorf("title %q description %.40q", f.Title, f.Description)
	}
	xss := importertest.Where(rep, func(f *importers.Finding) bool { return f.RuleID == "py/reflective-xss" })
	if len(xss) != 2 || strings.Join(xss[0].CWEs, ",") != "CWE-79,CWE-116" || xss[0].Location.File != "bad/mod_user.py" || xss[0].Location.Line != 33 {
		t.Errorf("py/reflective-xss = %+v", xss)
	}
	path := importertest.Where(rep, func(f *importers.Finding) bool { return f.RuleID == "py/path-injection" })
	if len(path) != 1 || strings.Join(path[0].CWEs, ",") != "CWE-22,CWE-23,CWE-36,CWE-73,CWE-99" {
		t.Errorf("py/path-injection = %+v", path)
	}
}

func TestFieldsFlawfinder(t *testing.T) {
	rep := importertest.ParseFile(t, New(), filepath.Join(importertest.Testdata(t), "sarif", "flawfinder_2.0.19.sarif"))
	// jq '.runs[0].results[] | select(.ruleId=="FF1048")': lines 29 (kind fail, no level → rule's
	// "error") and 75 (level warning), both with the same contextHash/v1.
	ff := importertest.RuleFindings(t, rep, "FF1048", 2)
	if ff[0].Location.File != "src/tree/param.cc" || ff[0].Location.Line != 29 || ff[0].Severity != importers.High ||
		ff[1].Location.Line != 75 || ff[1].Severity != importers.Medium {
		t.Errorf("FF1048 = %+v / %+v", ff[0].Location, ff[1].Location)
	}
	if strings.Join(ff[0].CWEs, ",") != "CWE-327" || ff[0].Fingerprint == ff[1].Fingerprint {
		t.Errorf("CWEs %v, fingerprints equal: %v", ff[0].CWEs, ff[0].Fingerprint == ff[1].Fingerprint)
	}
	if ff[0].Evidence != "      is.setstate(std::ios::failbit);" {
		t.Errorf("evidence %q", ff[0].Evidence)
	}
	// The "pass" result (FF1013) is not a finding.
	for _, f := range rep.Findings {
		if f.RuleID == "FF1013" && f.ScannerSeverity == "note" && f.Location.File == "" {
			t.Error("pass result imported")
		}
	}
}

func TestFieldsGitleaksRedacted(t *testing.T) {
	path := filepath.Join(importertest.Testdata(t), "sarif", "gitleaks_7.4.0.sarif")
	rep := importertest.ParseFile(t, New(), path)
	for _, f := range rep.Findings {
		all := f.Title + f.Description + f.Evidence + strings.Join(f.References, " ")
		if strings.Contains(all, "AKIAIOSFODNN7EXAMPLE") || strings.Contains(all, "PRIVATE KEY") {
			t.Errorf("secret value copied into %q: %q", f.Title, f.Evidence)
		}
		if !strings.Contains(f.Evidence, "redacted") {
			t.Errorf("evidence %q", f.Evidence)
		}
	}
	first := rep.Findings[0]
	if first.Title != "AWS Access Key secret detected" || first.Location.Line != 13 ||
		first.Location.File != "dojo/unittests/scans/gitlab_secret_detection_report/gitlab_secret_detection_report_1_vuln.json" {
		t.Errorf("first = %+v", first)
	}
}

func TestFieldsTrivySARIF(t *testing.T) {
	rep := importertest.ParseFile(t, New(), filepath.Join(importertest.Testdata(t), "sarif", "trivy_alpine-310.sarif"))
	fs := importertest.RuleFindings(t, rep, "CVE-2019-1549", 2) // libcrypto1.1 and libssl1.1
	f := fs[0]
	if strings.Join(f.CVEs, ",") != "CVE-2019-1549" || f.Severity != importers.Medium || f.ScannerSeverity != "5.3" {
		t.Errorf("finding = %+v", f)
	}
	if len(f.CVSS) != 2 || f.CVSS[0].Vector != "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N" || *f.CVSS[0].Score != 5.3 || f.CVSS[1].Version != "2.0" {
		t.Errorf("CVSS = %+v", f.CVSS)
	}
	if !strings.Contains(fs[0].Description, "libcrypto1.1") || !strings.Contains(fs[1].Description, "libssl1.1") || fs[0].Fingerprint == fs[1].Fingerprint {
		t.Error("the two packages are not told apart")
	}
}

// shift adds n to every startLine of a SARIF log.
func shift(doc string, n int) string {
	re := regexp.MustCompile(`"startLine"\s*:\s*(\d+)`)
	return re.ReplaceAllStringFunc(doc, func(m string) string {
		v, _ := strconv.Atoi(re.FindStringSubmatch(m)[1])
		return `"startLine": ` + strconv.Itoa(v+n)
	})
}

func fingerprints(t *testing.T, doc string) []string {
	t.Helper()
	rep := importertest.MustParseString(t, New(), doc)
	check(t, rep)
	var out []string
	for _, f := range rep.Findings {
		out = append(out, f.Fingerprint)
	}
	return out
}

func TestFingerprintLineDrift(t *testing.T) {
	td := filepath.Join(importertest.Testdata(t), "sarif")
	for file := range testdataFiles {
		data, err := os.ReadFile(filepath.Join(td, file))
		if err != nil {
			t.Fatal(err)
		}
		before := fingerprints(t, string(data))
		after := fingerprints(t, shift(string(data), 7))
		if strings.Join(before, ",") != strings.Join(after, ",") {
			t.Errorf("%s: fingerprints change when every line moves down by 7", file)
		}
	}
	// Content-only fingerprints, with the line number in the message.
	const doc = `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t","rules":[{"id":"R1"}]}},"results":[
	{"ruleId":"R1","message":{"text":"x assigned on line 10 is unused"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a.c"},"region":{"startLine":10,"snippet":{"text":"int x = 1;"}}}}]},
	{"ruleId":"R1","message":{"text":"x assigned on line 20 is unused"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a.c"},"region":{"startLine":20,"snippet":{"text":"int x = 1;"}}}}]},
	{"ruleId":"R1","message":{"text":"y assigned on line 30 is unused"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"b.c"},"region":{"startLine":30,"snippet":{"text":"int y = 1;"}}}}]}]}]}`
	moved := strings.NewReplacer(`line 10`, `line 15`, `"startLine":10`, `"startLine":15`, `line 20`, `line 26`, `"startLine":20`, `"startLine":26`,
		`line 30`, `line 31`, `"startLine":30`, `"startLine":31`).Replace(doc)
	a, b := fingerprints(t, doc), fingerprints(t, moved)
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Errorf("content fingerprints change with line numbers:\n%v\n%v", a, b)
	}
	if a[0] == a[1] {
		t.Error("two identical findings at two places share a fingerprint")
	}
	changed := strings.Replace(doc, `"int y = 1;"`, `"int y = 2;"`, 1)
	if c := fingerprints(t, changed); c[2] == a[2] {
		t.Error("a different snippet gives the same fingerprint")
	}
}

func TestRulesAssetsAndLevels(t *testing.T) {
	const doc = `{"version":"2.1.0","runs":[
	{"tool":{"driver":{"name":"semgrep","version":"1.0"},"extensions":[{"name":"pack","rules":[
		{"id":"X1","shortDescription":{"text":"Short X1"},"messageStrings":{"m":{"text":"found {0} in {1}"}},
		 "properties":{"security-severity":"9.1","tags":["CWE-79: Improper Neutralization","GHSA-abcd-efgh-ijkl"]},"defaultConfiguration":{"level":"note"}}]}]},
	 "versionControlProvenance":[{"repositoryUri":"https://github.com/o/r"}],
	 "invocations":[{"startTimeUtc":"2024-01-02T03:04:05Z","endTimeUtc":"2024-01-02T03:05:05Z"}],
	 "artifacts":[{"location":{"uri":"src/a%20b.js"}}],
	 "results":[
		{"rule":{"id":"X1","index":0,"toolComponent":{"index":0}},"message":{"id":"m","arguments":["eval","f()"]},"locations":[{"physicalLocation":{"artifactLocation":{"index":0},"region":{"startLine":3}}}]},
		{"ruleId":"X2","level":"none","message":{"text":"info"},"properties":{"security-severity":"high"}},
		{"ruleId":"X3","kind":"review","message":{"text":"review me"}},
		{"ruleId":"X4","kind":"pass","message":{"text":"fine"}},
		{"ruleId":"X5","baselineState":"absent","message":{"text":"gone"}}]},
	{"tool":{"driver":{"name":"semgrep"}},"versionControlProvenance":[{"repositoryUri":"https://github.com/o/r"}],
	 "results":[{"ruleId":"X6","level":"error","message":{"text":"e"},"properties":{"security-severity":3.5}}]},
	{"tool":{"driver":{"name":"other"}},"results":[{"ruleId":"X6","level":"error","message":{"text":"e"}}]}]}`
	rep := importertest.MustParseString(t, New(), doc)
	check(t, rep)
	if len(rep.Assets) != 2 || rep.Assets[0].RepoURL != "https://github.com/o/r" || rep.Assets[1].Key != "sarif:other" {
		t.Errorf("assets = %+v", rep.Assets)
	}
	if rep.StartedAt.IsZero() || rep.FinishedAt.Sub(rep.StartedAt).Seconds() != 60 || rep.ScannerVersion != "1.0" {
		t.Errorf("times %v %v", rep.StartedAt, rep.FinishedAt)
	}
	if len(rep.Findings) != 5 {
		t.Fatalf("findings = %d, want 5", len(rep.Findings))
	}
	x1 := rep.Findings[0]
	if x1.RuleID != "X1" || x1.Title != "Short X1" || x1.Description != "found eval in f()" || x1.Severity != importers.Critical ||
		x1.ScannerSeverity != "9.1" || strings.Join(x1.CWEs, ",") != "CWE-79" || strings.Join(x1.GHSAs, ",") != "GHSA-abcd-efgh-ijkl" ||
		x1.Location.File != "src/a b.js" || x1.Location.Line != 3 {
		t.Errorf("X1 = %+v", x1)
	}
	if f := rep.Findings[1]; f.Severity != importers.Info || f.ScannerSeverity != "none" {
		t.Errorf("X2 = %s/%s", f.Severity, f.ScannerSeverity)
	}
	if f := rep.Findings[2]; f.Severity != importers.Info || f.ScannerSeverity != "none" {
		t.Errorf("X3 (kind review) = %s/%s", f.Severity, f.ScannerSeverity)
	}
	if f := rep.Findings[3]; f.Severity != importers.Low || f.AssetKey != "repo:https://github.com/o/r" {
		t.Errorf("X6 = %+v", f)
	}
	if rep.Findings[3].Fingerprint == rep.Findings[4].Fingerprint {
		t.Error("same result on two assets: same fingerprint")
	}
}

// TestUnexpectedMemberTolerated: optional members of an unexpected JSON type, inside arrays
// too (a logical location that is an object where an array is expected), are left out with a
// warning.
func TestUnexpectedMemberTolerated(t *testing.T) {
	rep, err := importertest.ParseString(New(), `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "t"}}, "results": [
		{"ruleId": "R", "level": 3, "message": {"text": "m"}, "properties": [], "taxa": {},
		 "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.c"}}, "logicalLocations": {"name": "f"}}]}]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Location.File != "a.c" || rep.Findings[0].Severity != importers.Medium || len(rep.Warnings) != 4 {
		t.Errorf("findings %+v, warnings %q", rep.Findings, rep.Warnings)
	}
}
