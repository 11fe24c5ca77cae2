package grype

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// Expected counts were computed independently of the parser with jq over the shared test data:
//
//	findings: jq '.matches | length'
//	severity: jq -c '[.matches[].vulnerability.severity] | group_by(.) | map({(.[0] // "null"): length}) | add'
//
// The one match with a null severity (grype_rhel87: CVE-2024-26308 on commons-compress) has
// a single CVSS rating, 7.5 — jq '.matches[] | select(.vulnerability.severity == null) |
// [.vulnerability.cvss[]?, .relatedVulnerabilities[]?.cvss[]? | .metrics.baseScore]' — so it
// counts as high.
var testdataFiles = map[string]imageCase{
	"grype_busybox_epss_15matches.json": {15, 1, 10, 2, 2, "busybox:1.32.1",
		"sha256:ae39a6f5c07297d7ab64dbd4f82c77c874cc6a94cea29fdec309d0992574b4f7"},
	"grype_chainguard_ruby_wolfi.json": {3, 0, 3, 0, 0, "cgr.dev/chainguard/ruby:latest-3.0",
		"sha256:3c9afb4f188827ea1062ec3b8acea32893236a0d7df31e0498df93486cff0978"},
	"grype_keycloak_ubi9.json": {6, 0, 0, 0, 6,
		"docker.io/keycloak/keycloak:21.0.2@sha256:347a0d748d05a050dc64b92de2246d2240db6eb38afbc17c3c08d0acb0db1b50",
		"sha256:347a0d748d05a050dc64b92de2246d2240db6eb38afbc17c3c08d0acb0db1b50"},
	"grype_rhel87_image_35matches.json": {35, 1, 19, 13, 2, "quay.io/cloudservices/xjoin-kafka-connect-strimzi:latest",
		"sha256:97e6d5aeed19f627205b218f45b284cd01ff658dd181416ab1d3e21aeb28d68e"},
}

// imageCase is what one report on an image holds.
type imageCase struct {
	findings                   int
	critical, high, medium, lo int
	image, digest              string
}

func checkImage(t *testing.T, rep *importers.Report, tc imageCase) {
	if len(rep.Findings) != tc.findings {
		t.Errorf("findings = %d, want %d", len(rep.Findings), tc.findings)
	}
	// jq '.source.target | .userInput, .repoDigests'
	if len(rep.Assets) != 1 {
		t.Fatalf("assets = %d", len(rep.Assets))
	}
	a := rep.Assets[0]
	if a.Kind != importers.ContainerImage || a.ImageName != tc.image || a.ImageDigest != tc.digest {
		t.Errorf("asset = %+v", a)
	}
	for _, f := range rep.Findings {
		if f.Component == nil || f.Component.Name == "" || f.RuleID == "" {
			t.Errorf("finding %q lacks component or rule", f.Title)
		}
	}
	importertest.Severities(t, rep, map[importers.Severity]int{importers.Critical: tc.critical, importers.High: tc.high, importers.Medium: tc.medium, importers.Low: tc.lo})
	if rep.ScannerName != "grype" || rep.ScannerVersion == "" || rep.StartedAt.IsZero() {
		t.Errorf("scanner %q %q %v", rep.ScannerName, rep.ScannerVersion, rep.StartedAt)
	}
}

// legacyFiles are the variants written before Grype 0.12, with matchDetails as one object, and
// the asset each names (jq '.source'). Each has 3 matches: Low, Critical, High
// (jq '[.matches[].vulnerability.severity]'), matched on the constraints below
// (jq '[.matches[].matchDetails.matchedOn.constraint]').
var legacyFiles = map[string]importers.Asset{
	"grype_legacy_matchdetails_object_dir.json":   {Key: "directory:/some/path", Kind: importers.Repository, Name: "/some/path"},
	"grype_legacy_matchdetails_object_image.json": {Key: "image:user-input", Kind: importers.ContainerImage, Name: "user-input"},
}

func checkLegacy(t *testing.T, rep *importers.Report, want importers.Asset) {
	t.Helper()
	if len(rep.Assets) != 1 || rep.Assets[0].Key != want.Key || rep.Assets[0].Kind != want.Kind || rep.Assets[0].Name != want.Name {
		t.Errorf("assets = %+v, want %+v", rep.Assets, want)
	}
	if rep.Target == nil || rep.Target.Name != want.Name || rep.Target.Hint != "artifact" {
		t.Errorf("target = %+v", rep.Target)
	}
	var sev []importers.Severity
	var ev []string
	for _, f := range rep.Findings {
		sev = append(sev, f.Severity)
		ev = append(ev, f.Evidence)
	}
	if fmt.Sprint(sev) != "[low critical high]" {
		t.Errorf("severities = %v", sev)
	}
	for i, c := range []string{">= 20", "somecpe", "< 2.0.0"} {
		if i >= len(ev) || !strings.Contains(ev[i], "constraint "+c) || !strings.Contains(ev[i], "matcher") {
			t.Errorf("evidence = %q, want the constraint %q", ev, c)
		}
	}
	if len(rep.Warnings) != 0 {
		t.Errorf("warnings = %q", rep.Warnings)
	}
}

// TestMatchDetailsShapes: matchDetails as an array, one object, null or an unexpected scalar:
// none refuses the report; the scalar is ignored with a warning naming the match.
func TestMatchDetailsShapes(t *testing.T) {
	for details, want := range map[string]string{
		`[{"matcher": "apk-matcher", "type": "exact-direct-match", "found": {"versionConstraint": "< 2"}}]`: "Matched by apk-matcher exact-direct-match, constraint < 2",
		`{"matcher": "dpkg-matcher", "matchedOn": {"constraint": ">= 20"}}`:                                 "Matched by dpkg-matcher, constraint >= 20",
		`null`: "",
		`"x"`:  "",
	} {
		rep, err := importertest.ParseString(New(), `{"matches": [{"vulnerability": {"id": "CVE-1"}, "artifact": {"name": "p"}, "matchDetails": `+details+`}]}`)
		if err != nil {
			t.Fatalf("%s: %v", details, err)
		}
		if got := rep.Findings[0].Evidence; got != want {
			t.Errorf("%s: evidence %q, want %q", details, got, want)
		}
		if odd := details == `"x"`; odd != (len(rep.Warnings) == 1 && strings.Contains(rep.Warnings[0], "matches[0].matchDetails")) {
			t.Errorf("%s: warnings %q", details, rep.Warnings)
		}
	}
}

// TestWontFix: a fix the vendor will not ship marks the finding accepted, not open.
func TestWontFix(t *testing.T) {
	rep, err := importertest.ParseString(New(), `{"matches": [{"vulnerability": {"id": "CVE-1", "fix": {"state": "wont-fix"}}, "artifact": {"name": "p"}},
		{"vulnerability": {"id": "CVE-2", "fix": {"state": "fixed", "versions": ["2"]}}, "artifact": {"name": "p"}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if s := rep.Findings[0].Suppressed; s == nil || s.Kind != importers.SuppressedAccepted || s.Source != "grype fix.state" {
		t.Errorf("wont-fix: suppressed = %+v", s)
	}
	if s := rep.Findings[1].Suppressed; s != nil {
		t.Errorf("fixed upstream, still present here: suppressed = %+v", s)
	}
}

func TestFieldsRHEL(t *testing.T) {
	rep := importertest.ParseFile(t, New(), filepath.Join(importertest.Testdata(t), "grype", "grype_rhel87_image_35matches.json"))
	if rep.Assets[0].OS != "redhat 8.7" {
		t.Errorf("OS %q", rep.Assets[0].OS)
	}
	// jq '.matches[] | select(.vulnerability.id=="CVE-2023-38473")'
	fs := importertest.RuleFindings(t, rep, "CVE-2023-38473", 1)
	f := fs[0]
	c := f.Component
	if c.Name != "avahi-libs" || c.Version != "0.7-20.el8" || c.FixedVersion != "0:0.7-21.el8_9.1" || c.Type != "rpm" ||
		c.Path != "/var/lib/rpm/Packages" || !strings.HasPrefix(c.PURL, "pkg:rpm/rhel/avahi-libs@0.7-20.el8") {
		t.Errorf("component = %+v", c)
	}
	if f.Severity != importers.Medium || f.ScannerSeverity != "Medium" || strings.Join(f.CVEs, ",") != "CVE-2023-38473" {
		t.Errorf("finding = %+v", f)
	}
	// vulnerability.cvss (redhat 6.2) + relatedVulnerabilities[0].cvss (nvd 5.5, redhat 6.2 as secalert@redhat.com)
	if len(f.CVSS) != 3 || f.CVSS[0].Source != "redhat:distro:redhat:8" || f.CVSS[1].Source != "nvd@nist.gov" || *f.CVSS[1].Score != 5.5 {
		t.Errorf("CVSS = %+v", f.CVSS)
	}
	if !strings.Contains(strings.Join(f.References, " "), "https://access.redhat.com/errata/RHSA-2023:7836") {
		t.Errorf("references %v", f.References)
	}
	// The same CVE on two versions of avro is two findings.
	avro := importertest.Where(rep, func(f *importers.Finding) bool { return f.RuleID == "CVE-2023-39410" })
	if len(avro) != 2 || avro[0].Fingerprint == avro[1].Fingerprint {
		t.Fatalf("avro: %d findings", len(avro))
	}
	if avro[0].Component.Type != "maven" || avro[0].Component.Path != "/opt/kafka/plugins/apicurio/avro-1.11.1.jar" ||
		avro[0].Component.FixedVersion != "1.11.3" || strings.Join(avro[0].GHSAs, ",") != "GHSA-rhrv-645h-fjfh" {
		t.Errorf("avro[0] = %+v %v", avro[0].Component, avro[0].GHSAs)
	}
	// The same CVE on the bind-libs, bind-libs-lite, bind-license and bind-utils packages: four findings.
	if n := len(importertest.Where(rep, func(f *importers.Finding) bool { return f.RuleID == "CVE-2023-50868" })); n != 4 {
		t.Errorf("CVE-2023-50868: %d findings, want 4", n)
	}
	// Null severity: from the CVSS score.
	null := importertest.Where(rep, func(f *importers.Finding) bool { return f.RuleID == "CVE-2024-26308" })
	if len(null) != 1 || null[0].Severity != importers.High || null[0].ScannerSeverity != "" {
		t.Errorf("null severity: %+v", null)
	}
}

func TestFieldsChainguard(t *testing.T) {
	rep := importertest.ParseFile(t, New(), filepath.Join(importertest.Testdata(t), "grype", "grype_chainguard_ruby_wolfi.json"))
	// jq '.matches[] | select(.vulnerability.id=="GHSA-hv5j-3h9f-99c2")': uri 0.10.1, fix 0.10.2, related CVE-2023-28755
	fs := importertest.RuleFindings(t, rep, "GHSA-hv5j-3h9f-99c2", 1)
	f := fs[0]
	if strings.Join(f.CVEs, ",") != "CVE-2023-28755" || strings.Join(f.GHSAs, ",") != "GHSA-hv5j-3h9f-99c2" ||
		f.Component.Name != "uri" || f.Component.Type != "gem" || f.Component.FixedVersion != "0.10.2" {
		t.Errorf("finding = %+v %+v", f, f.Component)
	}
}

func TestDirectorySourceAndIdentity(t *testing.T) {
	const doc = `{"matches":[{"vulnerability":{"id":"CVE-2024-0001","severity":"Negligible"},"artifact":{"name":"a","version":"1","type":"npm","locations":[{"path":"/p/package-lock.json"}]}},
	{"vulnerability":{"id":"CVE-2024-0001","severity":"Unknown","cvss":[{"version":"3.1","vector":"CVSS:3.1/AV:N","metrics":{"baseScore":4.2}}]},"artifact":{"name":"b","version":"1","type":"npm"}}],
	"source":{"type":"directory","target":"%s"},"descriptor":{"name":"grype","version":"0.1"}}`
	one := importertest.MustParseString(t, New(), strings.Replace(doc, "%s", "/src/one", 1))
	two := importertest.MustParseString(t, New(), strings.Replace(doc, "%s", "/src/two", 1))
	importertest.CheckReportBasic(t, one, formatName)
	if a := one.Assets[0]; a.Kind != importers.Repository || a.Name != "/src/one" || a.Key != "directory:/src/one" {
		t.Errorf("asset = %+v", a)
	}
	if one.Findings[0].Fingerprint == one.Findings[1].Fingerprint {
		t.Error("same CVE on two packages: same fingerprint")
	}
	if one.Findings[0].Fingerprint == two.Findings[0].Fingerprint {
		t.Error("two assets: same fingerprint")
	}
	if one.Findings[0].Severity != importers.Info || one.Findings[1].Severity != importers.Medium {
		t.Errorf("severities %s %s", one.Findings[0].Severity, one.Findings[1].Severity)
	}
}

// TestUnexpectedMemberTolerated: optional members of an unexpected JSON type are left out with a
// warning; nested ones (inside the vulnerability) only lose themselves.
func TestUnexpectedMemberTolerated(t *testing.T) {
	rep, err := importertest.ParseString(New(), `{"matches": [{"vulnerability": {"id": "CVE-1", "severity": "High", "cvss": {"x": 1}, "urls": "https://a.example"},
		"artifact": {"name": "p", "version": "1", "licenses": "MIT"}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].RuleID != "CVE-1" || rep.Findings[0].Severity != importers.High || len(rep.Warnings) != 2 ||
		!strings.HasPrefix(rep.Warnings[0], "matches[0].vulnerability.") {
		t.Errorf("findings %+v, warnings %q", rep.Findings, rep.Warnings)
	}
	// A fingerprint part is required: its wrong type refuses the report, inside the embedded
	// related-vulnerability fields too.
	for _, in := range []string{`{"matches": [{"vulnerability": {"id": 5}, "artifact": {"name": "p"}}]}`,
		`{"matches": [{"vulnerability": {"id": "CVE-1"}, "artifact": {"name": "p", "locations": [{"path": 1}]}}]}`,
		`{"matches": [{"vulnerability": "CVE-1", "artifact": {"name": "p"}}]}`} {
		if _, err := importertest.ParseString(New(), in); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
}

// TestIgnoredMatchesCounted: matches grype's ignore rules set aside are not imported, but the
// report says how many there were.
func TestIgnoredMatchesCounted(t *testing.T) {
	rep, err := importertest.ParseString(New(), `{"matches": [{"vulnerability": {"id": "CVE-1"}, "artifact": {"name": "p"}}],
		"ignoredMatches": [{"vulnerability": {"id": "CVE-2"}, "artifact": {"name": "p"}, "appliedIgnoreRules": [{"vex-status": "not_affected"}]},
		{"vulnerability": {"id": "CVE-3"}, "artifact": {"name": "q"}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || strings.Join(rep.Warnings, ";") != "2 ignored matches (grype ignore rules or VEX) not imported" {
		t.Errorf("findings %d, warnings %q", len(rep.Findings), rep.Warnings)
	}
}
