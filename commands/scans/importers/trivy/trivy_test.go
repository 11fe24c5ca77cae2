package trivy

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// Expected counts were computed independently of the parser with jq over the shared test data:
//
//	vulns:    jq '[.Results[]? | ((.Vulnerabilities // []) | length)] | add'
//	misconfs: jq '[.Results[]? | (.Misconfigurations // [])[] | select(.Status != "PASS")] | length'
//	secrets:  jq '[.Results[]? | (.Secrets // [])[]] | length'
//	severity: jq -c '[.Results[]? | ((.Vulnerabilities // [])[] | .Severity),
//	            ((.Misconfigurations // [])[] | select(.Status != "PASS") | .Severity),
//	            ((.Secrets // [])[] | .Severity)] | group_by(.) | map({(.[0]): length}) | add'
var testdataFiles = map[string]counts{
	"trivy_fs_cvssv4_catalina.json":         {3, 0, 0, 0, 0, 1, 2, importers.Repository},
	"trivy_fs_vulns_misconfig_secrets.json": {2, 1, 2, 2, 2, 1, 0, importers.Repository},
	"trivy_image_juice-shop-v12.10.2.json":  {182, 0, 3, 28, 102, 49, 6, importers.ContainerImage},
	"trivy_repo_securecodebox.json":         {42, 0, 1, 5, 16, 21, 1, importers.Repository},
}

// counts is what one report holds.
type counts struct {
	vulns, misconfs, secrets   int
	critical, high, medium, lo int
	kind                       importers.AssetKind
}

func checkCounts(t *testing.T, rep *importers.Report, tc counts) {
	if len(rep.Assets) != 1 || rep.Assets[0].Kind != tc.kind {
		t.Fatalf("assets = %+v, want one %s", rep.Assets, tc.kind)
	}
	var vulns, misconfs, secrets int
	for _, f := range rep.Findings {
		switch {
		case f.Component != nil:
			vulns++
		case strings.Contains(f.Evidence, "redacted"):
			secrets++
		default:
			misconfs++
		}
	}
	if vulns != tc.vulns || misconfs != tc.misconfs || secrets != tc.secrets {
		t.Errorf("vulns/misconfs/secrets = %d/%d/%d, want %d/%d/%d", vulns, misconfs, secrets, tc.vulns, tc.misconfs, tc.secrets)
	}
	// No info findings: Severities checks every severity, info among them.
	importertest.Severities(t, rep, map[importers.Severity]int{importers.Critical: tc.critical, importers.High: tc.high, importers.Medium: tc.medium, importers.Low: tc.lo})
}

// variantFiles are the other shapes of Trivy's JSON: schema 1 (a bare array of results) and
// `trivy k8s`. Counts with jq as above, over '.[]' (schema 1) or '.Resources[].Results[]' (k8s).
// The k8s file's secret entry (secureCodeBox's "unexpected attribute" test) has no RuleID and no
// Severity: it is kept, as info.
var variantFiles = map[string]variantCase{
	"trivy_k8s_cluster_local-path-provisioner.json": {2, 1, 0, 0, 0, 1, importers.Asset{
		Key: "k8s:/local-path-storage/Deployment/local-path-provisioner", Kind: importers.CloudResource,
		Name: "local-path-storage/Deployment/local-path-provisioner"}, ""},
	"trivy_v1_legacy_array_alpine-310.json": {8, 0, 0, 6, 2, 0, importers.Asset{
		Key: "image:testdata/fixtures/images/alpine-310.tar.gz", Kind: importers.ContainerImage,
		Name: "testdata/fixtures/images/alpine-310.tar.gz", OS: "alpine 3.10.2"}, "testdata/fixtures/images/alpine-310.tar.gz"},
	// The UNKNOWN one (Ruby, CVE-2020-8165 on activesupport) has no CVSS: info.
	"trivy_v1_legacy_array_fluentd_lockfiles.json": {6, 0, 1, 4, 0, 1, importers.Asset{
		Key: "image:testdata/fixtures/images/fluentd-multiple-lockfiles.tar.gz", Kind: importers.ContainerImage,
		Name: "testdata/fixtures/images/fluentd-multiple-lockfiles.tar.gz", OS: "debian 10.2"}, "testdata/fixtures/images/fluentd-multiple-lockfiles.tar.gz"},
	"trivy_v1_legacy_array_scb_ssh_3targets.json": {11, 0, 7, 2, 2, 0, importers.Asset{
		Key: "image:securecodebox/ssh:unstable", Kind: importers.ContainerImage,
		Name: "securecodebox/ssh:unstable", OS: "alpine 3.11.3"}, "securecodebox/ssh:unstable"},
}

// variantCase is what one variant file holds.
type variantCase struct {
	findings                         int
	critical, high, medium, lo, info int
	asset                            importers.Asset
	target                           string
}

func checkVariant(t *testing.T, rep *importers.Report, tc variantCase) {
	t.Helper()
	if len(rep.Assets) != 1 {
		t.Fatalf("assets = %+v", rep.Assets)
	}
	a := rep.Assets[0]
	if a.Key != tc.asset.Key || a.Kind != tc.asset.Kind || a.Name != tc.asset.Name || a.OS != tc.asset.OS {
		t.Errorf("asset = %+v, want %+v", a, tc.asset)
	}
	if (tc.target == "") != (rep.Target == nil) || (rep.Target != nil && rep.Target.Name != tc.target) {
		t.Errorf("target = %+v, want %q", rep.Target, tc.target)
	}
	if len(rep.Findings) != tc.findings {
		t.Errorf("findings = %d, want %d", len(rep.Findings), tc.findings)
	}
	importertest.Severities(t, rep, map[importers.Severity]int{importers.Critical: tc.critical, importers.High: tc.high, importers.Medium: tc.medium, importers.Low: tc.lo, importers.Info: tc.info})
}

func TestFieldsCatalina(t *testing.T) {
	rep := importertest.ParseFile(t, New(), filepath.Join(importertest.Testdata(t), "trivy", "trivy_fs_cvssv4_catalina.json"))
	if rep.ScannerVersion != "0.69.1" || rep.StartedAt.IsZero() {
		t.Errorf("scanner version %q, started %v", rep.ScannerVersion, rep.StartedAt)
	}
	fs := importertest.RuleFindings(t, rep, "CVE-2025-66614", 1)
	f := fs[0]
	c := f.Component
	if c.Name != "org.apache.tomcat:tomcat-catalina" || c.Version != "9.0.109" || c.FixedVersion != "11.0.14, 10.1.49, 9.0.112" ||
		c.PURL != "pkg:maven/org.apache.tomcat/tomcat-catalina@9.0.109" || c.Type != "maven" || c.Path != "catalina.jar" {
		t.Errorf("component = %+v", c)
	}
	if f.Severity != importers.Medium || f.ScannerSeverity != "MEDIUM" {
		t.Errorf("severity %s / %s", f.Severity, f.ScannerSeverity)
	}
	if strings.Join(f.CVEs, ",") != "CVE-2025-66614" || strings.Join(f.GHSAs, ",") != "GHSA-fpj8-gq4v-p354" {
		t.Errorf("ids %v %v", f.CVEs, f.GHSAs)
	}
	if strings.Join(f.CWEs, ",") != "CWE-20" {
		t.Errorf("CWEs %v", f.CWEs)
	}
	// jq '.Results[0].Vulnerabilities[0].CVSS': ghsa v4.0 6.3, redhat v3.1 5.3.
	if len(f.CVSS) != 2 {
		t.Fatalf("CVSS = %+v", f.CVSS)
	}
	g, r := f.CVSS[0], f.CVSS[1]
	if g.Source != "ghsa" || g.Version != "4.0" || g.Vector != "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N" || g.Score == nil || *g.Score != 6.3 {
		t.Errorf("ghsa CVSS = %+v", g)
	}
	if r.Source != "redhat" || r.Version != "3.1" || r.Score == nil || *r.Score != 5.3 {
		t.Errorf("redhat CVSS = %+v", r)
	}
	if f.References[0] != "https://avd.aquasec.com/nvd/cve-2025-66614" || len(f.References) != 15 {
		t.Errorf("references (%d) %v", len(f.References), f.References[:1])
	}
}

func TestFieldsJuiceShop(t *testing.T) {
	rep := importertest.ParseFile(t, New(), filepath.Join(importertest.Testdata(t), "trivy", "trivy_image_juice-shop-v12.10.2.json"))
	a := rep.Assets[0]
	// jq '.Metadata.RepoDigests, .Metadata.OS'
	if a.ImageName != "bkimminich/juice-shop:v12.10.2" ||
		a.ImageDigest != "sha256:33238f8c6291415c499265629b1b82ef791f5a33dff09f25c07264204a26f89b" || a.OS != "alpine 3.11.12" {
		t.Errorf("asset = %+v", a)
	}
	// jq '.Results[0].Vulnerabilities[] | select(.VulnerabilityID=="CVE-2021-42378")': busybox 1.31.1-r10 → 1.31.1-r11
	fs := importertest.Where(rep, func(f *importers.Finding) bool {
		return f.RuleID == "CVE-2021-42378" && f.Component.Name == "busybox"
	})
	if len(fs) != 1 {
		t.Fatalf("busybox CVE-2021-42378: %d findings", len(fs))
	}
	if c := fs[0].Component; c.Version != "1.31.1-r10" || c.FixedVersion != "1.31.1-r11" || c.Type != "apk" || c.Path != "" {
		t.Errorf("component = %+v", c)
	}
	if fs[0].Location.Image != a.ImageName || fs[0].Severity != importers.High {
		t.Errorf("location %+v severity %s", fs[0].Location, fs[0].Severity)
	}
	// The same package version at two paths is two findings:
	// jq '[.Results[1].Vulnerabilities[] | select(.PkgName=="ansi-regex" and .InstalledVersion=="3.0.0")] | length' → 2
	ar := importertest.Where(rep, func(f *importers.Finding) bool {
		return f.Component != nil && f.Component.Name == "ansi-regex" && f.Component.Version == "3.0.0"
	})
	if len(ar) != 2 || ar[0].Fingerprint == ar[1].Fingerprint || ar[0].Component.Path == ar[1].Component.Path {
		t.Errorf("ansi-regex 3.0.0: %d findings, want 2 with distinct paths and fingerprints", len(ar))
	}
	for _, f := range rep.Findings {
		if strings.Contains(f.Evidence, "PRIVATE KEY") || strings.Contains(f.Description, "PRIVATE KEY-----") {
			t.Errorf("secret text leaked into finding %q", f.Title)
		}
	}
}

func TestFieldsMisconfigAndSecrets(t *testing.T) {
	rep := importertest.ParseFile(t, New(), filepath.Join(importertest.Testdata(t), "trivy", "trivy_fs_vulns_misconfig_secrets.json"))
	ds := importertest.Where(rep, func(f *importers.Finding) bool { return f.RuleID == "DS002" })
	if len(ds) != 1 || ds[0].Location.File != "Dockerfile" || ds[0].Severity != importers.High ||
		!strings.Contains(ds[0].Remediation, "USER") {
		t.Fatalf("DS002 = %+v", ds)
	}
	secrets := importertest.RuleFindings(t, rep, "github-pat", 2)
	if l := secrets[0].Location; l.File != "Dockerfile" || l.Line != 24 {
		t.Errorf("secret location %+v", l)
	}
	for _, s := range secrets {
		if strings.Contains(s.Evidence, "GITHUB_PAT") || strings.Contains(s.Evidence, "*****") || s.Severity != importers.Critical {
			t.Errorf("secret finding %+v", s)
		}
	}
	u := importertest.Where(rep, func(f *importers.Finding) bool { return f.RuleID == "CVE-2021-33503" })
	if len(u) != 1 || u[0].Component.Type != "pypi" || u[0].Component.Path != "requirements.txt" || u[0].Component.FixedVersion != "1.26.5" {
		t.Errorf("urllib3 = %+v", u)
	}
}

func TestRepositoryAsset(t *testing.T) {
	rep := importertest.ParseFile(t, New(), filepath.Join(importertest.Testdata(t), "trivy", "trivy_repo_securecodebox.json"))
	a := rep.Assets[0]
	if a.RepoURL != "https://github.com/secureCodeBox/secureCodeBox" || a.Key != "repo:https://github.com/secureCodeBox/secureCodeBox" {
		t.Errorf("asset = %+v", a)
	}
}

func TestFingerprintIdentity(t *testing.T) {
	const doc = `{"SchemaVersion":2,"ArtifactName":%q,"ArtifactType":"container_image","Results":[{"Target":"x (debian 12)","Class":"os-pkgs","Type":"debian",
	"Vulnerabilities":[{"VulnerabilityID":"CVE-2024-0001","PkgName":"a","InstalledVersion":"1","Severity":"HIGH"},
	{"VulnerabilityID":"CVE-2024-0001","PkgName":"b","InstalledVersion":"1","Severity":"HIGH"}]}]}`
	one := importertest.MustParseString(t, New(), strings.Replace(doc, "%q", `"img:1"`, 1))
	two := importertest.MustParseString(t, New(), strings.Replace(doc, "%q", `"img:2"`, 1))
	if one.Findings[0].Fingerprint == one.Findings[1].Fingerprint {
		t.Error("same CVE on two packages: same fingerprint")
	}
	if one.Findings[0].Fingerprint == two.Findings[0].Fingerprint {
		t.Error("same finding on two assets: same fingerprint")
	}
	if one.Findings[0].Component.Type != "deb" {
		t.Errorf("type %q", one.Findings[0].Component.Type)
	}
}

func TestUnknownSeverityFromCVSS(t *testing.T) {
	rep, err := importertest.ParseString(New(), `{"SchemaVersion":2,"ArtifactName":".","ArtifactType":"filesystem","Results":[{"Target":"go.mod","Class":"lang-pkgs","Type":"gomod",
	"Vulnerabilities":[{"VulnerabilityID":"GO-1","PkgName":"m","Severity":"UNKNOWN","CVSS":{"nvd":{"V3Vector":"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","V3Score":9.8}}},
	{"VulnerabilityID":"GO-2","PkgName":"m","Severity":"UNKNOWN"}]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if f := rep.Findings[0]; f.Severity != importers.Critical || f.ScannerSeverity != "UNKNOWN" || f.CVSS[0].Version != "3.0" || f.Component.Type != "golang" {
		t.Errorf("GO-1 = %+v", f)
	}
	if rep.Findings[1].Severity != importers.Info {
		t.Errorf("GO-2 severity %s", rep.Findings[1].Severity)
	}
}

// TestStatusHints: the vendor statuses that say no work is needed become Suppressed hints;
// "fixed" (a fixed version exists, the installed one is vulnerable) and the rest stay open.
func TestStatusHints(t *testing.T) {
	want := map[string]importers.SuppressionKind{
		"not_affected": importers.SuppressedNotAffected, "will_not_fix": importers.SuppressedAccepted,
		"end_of_life": importers.SuppressedAccepted, "fixed": "", "affected": "", "under_investigation": "",
		"fix_deferred": "", "unknown": "", "": "",
	}
	var vulns []string
	for status := range want {
		vulns = append(vulns, `{"VulnerabilityID": "CVE-1", "PkgName": "`+status+`", "InstalledVersion": "1", "Status": "`+status+`"}`)
	}
	rep := importertest.MustParseString(t, New(), `{"SchemaVersion": 2, "ArtifactName": "x", "Results": [{"Target": "t", "Vulnerabilities": [`+strings.Join(vulns, ",")+`]}]}`)
	for _, f := range rep.Findings {
		status := f.Component.Name
		got := f.Suppressed
		switch {
		case want[status] == "" && got != nil:
			t.Errorf("%q: suppressed = %+v, want open", status, got)
		case want[status] != "" && (got == nil || got.Kind != want[status] || got.Reason != status || got.Source != "trivy Status"):
			t.Errorf("%q: suppressed = %+v, want %s", status, got, want[status])
		}
	}
}

// TestLicenses: license results are findings of their own kind, with the license as rule.
func TestLicenses(t *testing.T) {
	rep, err := importertest.ParseString(New(), `{"SchemaVersion": 2, "ArtifactName": ".", "ArtifactType": "filesystem", "Results": [
		{"Target": "OS Packages", "Class": "license", "Licenses": [
			{"Severity": "HIGH", "Category": "restricted", "PkgName": "musl", "Name": "GPL-2.0", "Confidence": 1, "Link": "https://spdx.org/licenses/GPL-2.0.html"},
			{"Severity": "LOW", "Category": "notice", "PkgName": "zlib", "Name": "Zlib"}]},
		{"Target": "Loose File License(s)", "Class": "license-file", "Licenses": [
			{"Severity": "HIGH", "Category": "forbidden", "FilePath": "LICENSE", "Name": "AGPL-3.0", "Confidence": 0.9}]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	importertest.UniqueFingerprints(t, rep)
	if len(rep.Findings) != 3 {
		t.Fatalf("findings = %d, want 3", len(rep.Findings))
	}
	for _, f := range rep.Findings {
		if f.Kind != importers.KindLicense {
			t.Errorf("%s: kind %q", f.Title, f.Kind)
		}
	}
	if f := rep.Findings[0]; f.RuleID != "GPL-2.0" || f.Severity != importers.High || f.Component == nil || f.Component.Name != "musl" ||
		f.Title != "License GPL-2.0 (restricted) in musl" || len(f.References) != 1 {
		t.Errorf("musl: %+v", f)
	}
	if f := rep.Findings[2]; f.Component != nil || f.Location.File != "LICENSE" || f.Title != "License AGPL-3.0 (forbidden) in LICENSE" {
		t.Errorf("license file: %+v", f)
	}
}

// TestLegacySameFingerprints: a schema 1 report and the schema 2 report of the same image give
// the same findings the same fingerprints, so reimports after a Trivy upgrade match.
func TestLegacySameFingerprints(t *testing.T) {
	vulns := `"Vulnerabilities": [{"VulnerabilityID": "CVE-2019-1549", "PkgName": "libcrypto1.1", "InstalledVersion": "1.1.1c-r0", "Severity": "MEDIUM"}]`
	v1 := importertest.MustParseString(t, New(), `[{"Target": "alpine:3.10 (alpine 3.10.2)", `+vulns+`}]`)
	v2, err := importertest.ParseString(New(), `{"SchemaVersion": 2, "ArtifactName": "alpine:3.10", "ArtifactType": "container_image",
		"Results": [{"Target": "alpine:3.10 (alpine 3.10.2)", "Class": "os-pkgs", "Type": "alpine", `+vulns+`}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if v1.Assets[0].Key != v2.Assets[0].Key || v1.Findings[0].Fingerprint != v2.Findings[0].Fingerprint {
		t.Errorf("schema 1 %s %s, schema 2 %s %s", v1.Assets[0].Key, v1.Findings[0].Fingerprint, v2.Assets[0].Key, v2.Findings[0].Fingerprint)
	}
}

// TestOlderShapesTolerated: numbers written as strings, null where an array is expected and
// missing optional objects do not refuse a report.
func TestOlderShapesTolerated(t *testing.T) {
	rep, err := importertest.ParseString(New(), "\xEF\xBB\xBF{\"SchemaVersion\": 2, \"ArtifactName\": \"x\", \"Metadata\": null, \"Results\": [\r\n"+
		`{"Target": "t", "Vulnerabilities": null, "Secrets": [{"RuleID": "r", "StartLine": "12", "EndLine": ""}],`+
		` "Misconfigurations": [{"ID": "M", "Status": "FAIL", "CauseMetadata": {"StartLine": null}}]},`+
		`{"Target": "u", "Vulnerabilities": [{"VulnerabilityID": "CVE-1", "PkgName": "p", "CVSS": {"nvd": {"V3Score": "7.5"}}, "CweIDs": null}]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 3 || rep.Findings[1].Location.Line != 12 || rep.Findings[2].Severity != importers.High {
		t.Errorf("findings = %+v", rep.Findings)
	}
}

// TestUnexpectedMemberTolerated: an optional member of an unexpected JSON type is left out with
// a warning naming it; the finding and the report stay. (A wrong type in a fingerprint part still
// refuses the report: see the "wrong type" hostile input.)
func TestUnexpectedMemberTolerated(t *testing.T) {
	rep, err := importertest.ParseString(New(), `{"SchemaVersion": 2, "ArtifactName": "x", "Results": [{"Target": "t", "Vulnerabilities": [
		{"VulnerabilityID": "CVE-2024-0001", "PkgName": "p", "InstalledVersion": "1", "References": "https://a.example", "CVSS": [], "Severity": "HIGH"},
		{"VulnerabilityID": "CVE-2024-0002", "PkgName": "p", "InstalledVersion": "1", "CweIDs": ["CWE-79"]}]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 2 || rep.Findings[0].Severity != importers.High || rep.Findings[1].CWEs[0] != "CWE-79" {
		t.Errorf("findings = %+v", rep.Findings)
	}
	want := []string{"Vulnerabilities[0].References: JSON string where an array was expected: left out",
		"Vulnerabilities[0].CVSS: JSON array where an object was expected: left out"}
	if strings.Join(rep.Warnings, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings = %q", rep.Warnings)
	}
}

// TestSuppressedCounted: the findings --show-suppressed lists (set aside by .trivyignore or VEX)
// are not imported, but the report says how many there were.
func TestSuppressedCounted(t *testing.T) {
	rep, err := importertest.ParseString(New(), `{"SchemaVersion": 2, "ArtifactName": "x", "Results": [{"Target": "t",
		"Vulnerabilities": [{"VulnerabilityID": "CVE-1", "PkgName": "p", "InstalledVersion": "1"}],
		"ModifiedFindings": [{"Type": "vulnerability", "Status": "not_affected", "Statement": "vulnerable_code_not_in_execute_path", "Source": "OpenVEX", "Finding": {"VulnerabilityID": "CVE-2"}}]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || strings.Join(rep.Warnings, ";") != "1 findings Trivy suppressed (.trivyignore or VEX) not imported" {
		t.Errorf("findings %d, warnings %q", len(rep.Findings), rep.Warnings)
	}
}
