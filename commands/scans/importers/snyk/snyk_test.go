package snyk

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// fileCase is what one Snyk report holds. Counts were computed with jq, independently of the
// parser: a finding is one (project, id, packageName, version), over vulnerabilities and
// filtered.ignore / filtered.patch:
//
//	findings: jq '[if type=="array" then .[] else . end | (.vulnerabilities + (.filtered.ignore // []) + (.filtered.patch // [])) | group_by([.id,.packageName,.version]) | map(.[0])] | flatten | length'
//	severity: the same, then | group_by(.severity) | map({(.[0].severity): length}) | add
//	paths:    jq '[if type=="array" then .[] else . end | .vulnerabilities[]] | length' (the summary's "N vulnerable dependency paths")
//	cves:     the same groups, then [.[].identifiers.CVE[]?] | unique | length
type fileCase struct {
	findings, paths, cves      int
	critical, high, medium, lo int
	asset                      importers.Asset
	suppressed                 map[importers.SuppressionKind]int
}

var testdataFiles = map[string]fileCase{
	// Two projects of one image: the OS packages (3 paths of one busybox vulnerability) and the
	// npm application found in it (11 paths of 7 vulnerabilities); the application attaches to
	// the image (both have path "cli-gouping": jq '.[] | .path').
	"snyk_container_app_vulns.json": {findings: 8, paths: 14, cves: 7, high: 3, medium: 4, lo: 1,
		asset: importers.Asset{Key: "image:cli-gouping", Kind: importers.ContainerImage, Name: "cli-gouping", ImageName: "cli-gouping"}},
	"snyk_test_basic_npm_array.json": {findings: 3, paths: 3, cves: 2, high: 2, lo: 1,
		asset: importers.Asset{Key: "project:package-file-basic", Kind: importers.Repository, Name: "package-file-basic"}},
	// No projectName nor path: the project is named after the root of its dependency paths
	// (jq '.vulnerabilities[0].from[0]').
	"snyk_test_npm_more_paths_than_vulns.json": {findings: 29, paths: 44, cves: 2, high: 12, medium: 12, lo: 5,
		asset: importers.Asset{Key: "project:goof@0.0.3", Kind: importers.Repository, Name: "goof@0.0.3"}},
	// Own sample: 2 open, 2 ignored (not-vulnerable, wont-fix), 1 patched; the open jackson-databind
	// one has severity "unknown" and cvssScore 7.5, so high.
	"snyk_own_maven_ignored_patched.json": {findings: 5, paths: 2, cves: 4, critical: 1, high: 2, medium: 1, lo: 1,
		asset:      importers.Asset{Key: "project:com.example:shop", Kind: importers.Repository, Name: "com.example:shop"},
		suppressed: map[importers.SuppressionKind]int{importers.SuppressedFalsePositive: 1, importers.SuppressedAccepted: 1, importers.SuppressedResolved: 1}},
}

func checkFile(t *testing.T, rep *importers.Report, tc fileCase) {
	t.Helper()
	if len(rep.Findings) != tc.findings {
		t.Errorf("findings = %d, want %d", len(rep.Findings), tc.findings)
	}
	if len(rep.Assets) != 1 || rep.Assets[0].Key != tc.asset.Key || rep.Assets[0].Kind != tc.asset.Kind ||
		rep.Assets[0].Name != tc.asset.Name || rep.Assets[0].ImageName != tc.asset.ImageName {
		t.Errorf("assets = %+v, want %+v", rep.Assets, tc.asset)
	}
	if rep.Target == nil || rep.Target.Name != tc.asset.Name || rep.Target.Hint != "artifact" {
		t.Errorf("target = %+v", rep.Target)
	}
	importertest.Severities(t, rep, map[importers.Severity]int{importers.Critical: tc.critical, importers.High: tc.high, importers.Medium: tc.medium, importers.Low: tc.lo})
	// Every dependency path of an open vulnerability is a location of its finding: none dropped.
	paths, cves := 0, map[string]bool{}
	suppressed := map[importers.SuppressionKind]int{}
	for _, f := range rep.Findings {
		if f.Suppressed != nil {
			suppressed[f.Suppressed.Kind]++
		} else {
			paths += max(1, len(f.Locations))
		}
		for _, c := range f.CVEs {
			cves[c] = true
		}
		if f.Component == nil || f.Component.Name == "" || f.RuleID == "" || f.Location.Param == "" {
			t.Errorf("finding %q lacks component, rule or dependency path", f.Title)
		}
	}
	if paths != tc.paths {
		t.Errorf("dependency paths = %d, want %d", paths, tc.paths)
	}
	if len(cves) != tc.cves {
		t.Errorf("CVEs = %d, want %d", len(cves), tc.cves)
	}
	for k, n := range tc.suppressed {
		if suppressed[k] != n {
			t.Errorf("suppressed %s = %d, want %d", k, suppressed[k], n)
		}
	}
	if len(tc.suppressed) == 0 && len(suppressed) > 0 {
		t.Errorf("suppressed = %v, want none", suppressed)
	}
	folded := slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, "dependency paths reported as") })
	if folded != (tc.paths > tc.findings-len(tc.suppressed)) {
		t.Errorf("warnings %q: folding of paths not explained", rep.Warnings)
	}
}

// TestPathsAreLocations: the same vulnerability in the same package version, reported once per
// dependency path, is one finding whose locations are the paths; the fingerprint leaves the
// paths out, so a report that adds or drops a path reimports as unchanged.
func TestPathsAreLocations(t *testing.T) {
	one := `{"vulnerabilities": [{"id": "SNYK-JS-A-1", "packageName": "a", "version": "1", "severity": "high", "from": ["app@1", "a@1"]}], "projectName": "app", "displayTargetFile": "package.json"}`
	two := `{"vulnerabilities": [{"id": "SNYK-JS-A-1", "packageName": "a", "version": "1", "severity": "high", "from": ["app@1", "a@1"]},
		{"id": "SNYK-JS-A-1", "packageName": "a", "version": "1", "severity": "high", "from": ["app@1", "b@2", "a@1"]},
		{"id": "SNYK-JS-A-1", "packageName": "a", "version": "2", "severity": "high", "from": ["app@1", "c@1", "a@2"]}], "projectName": "app", "displayTargetFile": "package.json"}`
	a := importertest.MustParseString(t, New(), one)
	b := importertest.MustParseString(t, New(), two)
	if len(b.Findings) != 2 {
		t.Fatalf("findings = %d, want 2 (a@1 and a@2)", len(b.Findings))
	}
	f := b.Findings[0]
	want := []importers.Location{{File: "package.json", Param: "app@1 > a@1"}, {File: "package.json", Param: "app@1 > b@2 > a@1"}}
	if !slices.Equal(f.Locations, want) || f.Location != want[0] {
		t.Errorf("locations = %+v, want %+v", f.Locations, want)
	}
	if a.Findings[0].Fingerprint != f.Fingerprint {
		t.Error("a second dependency path changed the fingerprint")
	}
	if b.Findings[1].Locations != nil {
		t.Errorf("one path: Locations = %+v, want nil", b.Findings[1].Locations)
	}
	if len(b.Warnings) != 1 || !strings.Contains(b.Warnings[0], "3 vulnerable dependency paths reported as 2 findings") {
		t.Errorf("warnings = %q", b.Warnings)
	}
}

// TestFindingFields: identifiers, CVSS, fix and suppression as the own sample gives them.
func TestFindingFields(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "snyk_own_maven_ignored_patched.json"))
	log4j := rep.Findings[0]
	if log4j.RuleID != "SNYK-JAVA-ORGAPACHELOGGINGLOG4J-2314720" || log4j.Severity != importers.Critical ||
		!slices.Equal(log4j.CVEs, []string{"CVE-2021-44228"}) || !slices.Equal(log4j.GHSAs, []string{"GHSA-jfh8-c2jp-5v3q"}) ||
		!slices.Equal(log4j.CWEs, []string{"CWE-502", "CWE-20"}) {
		t.Errorf("log4j = %+v", log4j)
	}
	if len(log4j.CVSS) != 1 || log4j.CVSS[0].Version != "3.1" || log4j.CVSS[0].Score == nil || *log4j.CVSS[0].Score != 10 ||
		log4j.CVSS[0].Vector != "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H/E:H" {
		t.Errorf("cvss = %+v", log4j.CVSS)
	}
	c := log4j.Component
	if c.Type != "maven" || c.FixedVersion != "2.15.0" || c.Path != "pom.xml" || log4j.Evidence != "Vulnerable versions: [2.0-beta9,2.15.0)" {
		t.Errorf("component = %+v, evidence %q", c, log4j.Evidence)
	}
	if s := rep.Findings[2].Suppressed; s == nil || s.Kind != importers.SuppressedFalsePositive || !strings.Contains(s.Reason, "only trusted YAML") {
		t.Errorf("not-vulnerable ignore = %+v", s)
	}
	if s := rep.Findings[3].Suppressed; s == nil || s.Kind != importers.SuppressedAccepted || !strings.Contains(s.Reason, "wont-fix") {
		t.Errorf("wont-fix ignore = %+v", s)
	}
	if s := rep.Findings[4].Suppressed; s == nil || s.Kind != importers.SuppressedResolved || !strings.Contains(s.Reason, "patch:npm:ms:20170412:0") {
		t.Errorf("patch = %+v", s)
	}
}

// TestSeverity: Snyk's words map to ours; anything else falls back on cvssScore, then info.
func TestSeverity(t *testing.T) {
	for in, want := range map[string]importers.Severity{
		`"severity": "critical"`:             importers.Critical,
		`"severity": "High"`:                 importers.High,
		`"severity": "medium"`:               importers.Medium,
		`"severity": "low"`:                  importers.Low,
		`"severity": "x", "cvssScore": 9.8`:  importers.Critical,
		`"severityWithCritical": "critical"`: importers.Critical,
		`"cvssScore": 5`:                     importers.Medium,
		`"severity": "unknown"`:              importers.Info,
	} {
		rep := importertest.MustParseString(t, New(), `{"vulnerabilities": [{"id": "SNYK-1", "packageName": "p", "version": "1", `+in+`}]}`)
		if got := rep.Findings[0].Severity; got != want {
			t.Errorf("%s: severity %s, want %s", in, got, want)
		}
	}
	info := New().(importers.Describer).Info()
	if info.Name != formatName || info.Severity["critical"] != importers.Critical || len(info.Fingerprint) == 0 {
		t.Errorf("Info = %+v", info)
	}
}

// TestContainerTypes: OS packages of a container project get the distribution's package type.
func TestContainerTypes(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "snyk_container_app_vulns.json"))
	types := map[string]int{}
	for _, f := range rep.Findings {
		types[f.Component.Type]++
		if f.Location.Image != "cli-gouping" {
			t.Errorf("%s: image %q", f.Title, f.Location.Image)
		}
	}
	// jq '[.[] | .vulnerabilities | unique_by([.id,.packageName,.version])[] | .packageManager] | group_by(.) | map({(.[0]): length}) | add'
	if types["apk"] != 1 || types["npm"] != 7 {
		t.Errorf("component types = %v", types)
	}
}

// TestProjectErrors: a project Snyk could not test is a warning beside the tested ones, and the
// refusal of a report where no project was tested.
func TestProjectErrors(t *testing.T) {
	rep, err := importertest.ParseString(New(), `[{"vulnerabilities": [`+snykVuln+`], "projectName": "app"},
		{"ok": false, "error": "Could not parse go.mod", "path": "svc"}]`)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "Could not parse go.mod") {
		t.Errorf("findings %d, warnings %q", len(rep.Findings), rep.Warnings)
	}
	_, err = importertest.ParseString(New(), `[{"ok": false, "error": "a"},
		{"ok": false, "error": "Could not parse go.mod"}]`)
	var pe *importers.ParseError
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "Could not parse go.mod") || pe.Line != 2 {
		t.Errorf("no project tested: err = %v", err)
	}
}
