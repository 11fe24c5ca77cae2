package generic

import (
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

func TestJSONSampleFields(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "generic_own_findings.json"))
	if rep.Target == nil || rep.Target.Name != "InternalScanner Nightly scan" {
		t.Errorf("target = %+v", rep.Target)
	}
	sqli := importertest.Where(rep, func(f *importers.Finding) bool { return f.Title == "SQL injection in the order search" })
	if len(sqli) != 2 || sqli[0].AssetKey != "web:https://shop.example.com" || sqli[1].AssetKey != "web:https://admin.shop.example.com:8443" ||
		sqli[1].Location.URL != "https://admin.shop.example.com:8443/orders/search" || sqli[0].Location.Param != "q" {
		t.Fatalf("one finding per endpoint: %+v", sqli)
	}
	if len(sqli[0].CWEs) != 1 || sqli[0].CWEs[0] != "CWE-89" || len(sqli[0].CVSS) != 1 || *sqli[0].CVSS[0].Score != 8.1 ||
		len(sqli[0].References) != 2 || !strings.Contains(sqli[0].Evidence, "Payload: ' OR '1'='1") {
		t.Errorf("SQLi = %+v", sqli[0])
	}
	lodash := importertest.First(rep, func(f *importers.Finding) bool { return f.RuleID == "SCA-LODASH-1018905" })
	if lodash == nil || lodash.Severity != importers.Critical || !slices.Equal(lodash.CVEs, []string{"CVE-2021-23337"}) ||
		!slices.Equal(lodash.GHSAs, []string{"GHSA-35jh-r3h4-6jhm"}) || !slices.Equal(lodash.CWEs, []string{"CWE-94", "CWE-1321"}) ||
		lodash.Component == nil || lodash.Component.FixedVersion != "4.17.21" || lodash.AssetKey != reportKey {
		t.Errorf("lodash = %+v", lodash)
	}
	kinds := map[string]importers.SuppressionKind{}
	for _, f := range rep.Findings {
		if f.Suppressed != nil {
			kinds[f.Title] = f.Suppressed.Kind
		}
	}
	want := map[string]importers.SuppressionKind{
		"Hard-coded database password":    importers.SuppressedFalsePositive,
		"TLS 1.0 enabled":                 importers.SuppressedAccepted,
		"Reflected XSS in the help page":  importers.SuppressedResolved,
		"Server banner discloses version": importers.SuppressedResolved,
	}
	for title, k := range want {
		if kinds[title] != k {
			t.Errorf("%s: suppression %q, want %q", title, kinds[title], k)
		}
	}
	if tls := importertest.First(rep, func(f *importers.Finding) bool { return f.Title == "TLS 1.0 enabled" }); tls.Location.Host != "10.20.0.15" || tls.Location.Port != 465 {
		t.Errorf("host endpoint = %+v", tls.Location)
	}
}

func TestCSVSampleFields(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "generic_own_findings.csv"))
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], `"Moderate" is none of`) {
		t.Errorf("warnings = %q", rep.Warnings)
	}
	ssh := importertest.First(rep, func(f *importers.Finding) bool { return f.Title == "OpenSSH user enumeration" })
	if ssh == nil || ssh.AssetKey != "host:192.0.2.10" || !slices.Equal(ssh.CVEs, []string{"CVE-2018-15473"}) || len(ssh.CVSS) != 1 || ssh.Suppressed != nil {
		t.Errorf("ssh = %+v", ssh)
	}
	csp := importertest.Where(rep, func(f *importers.Finding) bool { return strings.HasPrefix(f.Title, "Missing Content-Security") })
	if len(csp) != 2 || csp[0].AssetKey != csp[1].AssetKey || !strings.Contains(csp[0].Description, "\n") {
		t.Errorf("csp = %+v", csp)
	}
}

func TestFingerprintRules(t *testing.T) {
	parse := func(findings string) *importers.Report {
		t.Helper()
		rep := importertest.MustParseString(t, New(), `{"findings": [`+findings+`]}`)
		return rep
	}
	// A unique id identifies a finding whatever its title or line.
	a := parse(`{"title": "a", "severity": "Low", "unique_id_from_tool": "u1", "line": 3}`)
	b := parse(`{"title": "renamed", "severity": "High", "unique_id_from_tool": "u1", "line": 9}`)
	if a.Findings[0].Fingerprint != b.Findings[0].Fingerprint {
		t.Error("unique_id_from_tool: fingerprint changed with title and line")
	}
	// A unique id two findings share is not used (DefectDojo drops it): they stay two.
	dup := parse(`{"title": "a", "severity": "Low", "unique_id_from_tool": "u"}, {"title": "b", "severity": "Low", "unique_id_from_tool": "u"}`)
	if len(dup.Findings) != 2 {
		t.Errorf("shared unique id: %d findings, want 2", len(dup.Findings))
	}
	// A rule id with a component: the line and description do not count, the version does.
	r1 := parse(`{"title": "a", "severity": "Low", "vuln_id_from_tool": "R", "component_name": "c", "component_version": "1", "line": 3, "description": "x"}`)
	r2 := parse(`{"title": "a", "severity": "Low", "vuln_id_from_tool": "R", "component_name": "c", "component_version": "1", "line": 4, "description": "y"}`)
	r3 := parse(`{"title": "a", "severity": "Low", "vuln_id_from_tool": "R", "component_name": "c", "component_version": "2"}`)
	if r1.Findings[0].Fingerprint != r2.Findings[0].Fingerprint || r1.Findings[0].Fingerprint == r3.Findings[0].Fingerprint {
		t.Error("vuln_id_from_tool rule")
	}
	// Otherwise the title and severity, per endpoint; identical findings merge.
	tt := parse(`{"title": "a", "severity": "Low", "endpoints": ["h1", "h2"]}, {"title": "a", "severity": "low", "endpoints": ["h1"]}`)
	if len(tt.Findings) != 2 {
		t.Errorf("title rule: %d findings, want 2 (one per endpoint, the repeat merged)", len(tt.Findings))
	}
}

func TestVectorWithoutPrefixIsReported(t *testing.T) {
	rep := importertest.MustParseString(t, New(), `{"findings": [{"title": "a", "severity": "Low", "cvssv3": "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}`)
	if len(rep.Findings[0].CVSS) != 0 || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "prefix") {
		t.Errorf("CVSS %+v, warnings %q", rep.Findings[0].CVSS, rep.Warnings)
	}
}
