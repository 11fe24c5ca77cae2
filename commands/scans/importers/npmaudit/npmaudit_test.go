package npmaudit

import (
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

func TestAdvisoryFields(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "npm_audit_v2_cvss_cwe_scoped.json"))
	f := importertest.Rule(t, rep, "GHSA-67hx-6x53-jw92")
	if f.Severity != importers.Critical || !slices.Equal(f.CWEs, []string{"CWE-184", "CWE-697"}) || !slices.Equal(f.GHSAs, []string{"GHSA-67hx-6x53-jw92"}) {
		t.Errorf("%+v", f)
	}
	if len(f.CVSS) != 1 || f.CVSS[0].Version != "3.1" || f.CVSS[0].Vector != "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:H" || *f.CVSS[0].Score != 9.3 {
		t.Errorf("cvss %+v", f.CVSS)
	}
	if c := f.Component; c.PURL != "pkg:npm/%40babel/traverse" || c.Path != "node_modules/@babel/traverse" || c.Type != "npm" {
		t.Errorf("component %+v", c)
	}
	importertest.Fingerprint(t, f.Fingerprint, "", "npm-audit/v1", "@babel/traverse", "GHSA-67hx-6x53-jw92", "<7.23.2")

	// moderate is medium; a fix through the parent names the parent.
	m := importertest.First(rep, func(f *importers.Finding) bool { return f.RuleID == "GHSA-vh95-rmgr-6w4m" })
	if m == nil || m.Severity != importers.Medium || m.ScannerSeverity != "moderate" || m.Component.FixedVersion != "" {
		t.Errorf("%+v", m)
	}
	// {score: 0, vectorString: null} is no rating.
	s := importertest.First(rep, func(f *importers.Finding) bool { return f.RuleID == "GHSA-c2qf-rxjj-qqgw" })
	if s == nil || len(s.CVSS) != 0 || s.Severity != importers.Low {
		t.Errorf("%+v", s)
	}
}

func TestOwnFixVersion(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "npm_audit_v2_critical_1.json"))
	if c := rep.Findings[0].Component; c.FixedVersion != "8.4.0" || c.Name != "open" {
		t.Errorf("component %+v", c)
	}
}

// The numeric source id is the rule when the url names no GHSA.
func TestSourceIDWithoutGHSA(t *testing.T) {
	rep := importertest.MustParseString(t, New(), `{"auditReportVersion": 2, "vulnerabilities": {"p": {"via": [{"source": 118, "severity": "info", "url": "https://npmjs.com/advisories/118"}]}}}`)
	if f := rep.Findings[0]; f.RuleID != "118" || f.Severity != importers.Info || len(f.GHSAs) != 0 || f.Component.Name != "p" {
		t.Errorf("%+v", f)
	}
}

func TestInfo(t *testing.T) {
	info := New().(importers.Describer).Info()
	if info.Name != formatName || info.Severity["moderate"] != importers.Medium || len(info.Fingerprint) != 3 {
		t.Errorf("%+v", info)
	}
}

// TestNpm6Advisories: an npm 6 advisory is the finding npm 7 would give the same package and
// advisory (same fingerprint: package, GHSA else npm id, vulnerable range), with its CWEs
// whichever way npm 6 wrote them and the installed versions and paths as evidence.
func TestNpm6Advisories(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "npm_audit_v1_npm6.json"))
	f := importertest.First(rep, func(f *importers.Finding) bool { return f.Component.Name == "color-parse" })
	if f == nil || f.RuleID != "GHSA-9999-8888-7777" || !slices.Equal(f.CWEs, []string{"CWE-400", "CWE-1333"}) || len(f.CVSS) != 1 ||
		!strings.Contains(f.Evidence, "0.3.0, 0.2.1") || !strings.Contains(f.Evidence, "legacy>color-parse") {
		t.Fatalf("%+v", f)
	}
	importertest.Fingerprint(t, f.Fingerprint, "the npm 7 identity", "npm-audit/v1", "color-parse", "GHSA-9999-8888-7777", "<0.4.0")
	g := importertest.First(rep, func(f *importers.Finding) bool { return f.Component.Name == "tiny-template" })
	if g == nil || g.RuleID != "1001" || !slices.Equal(g.CWEs, []string{"CWE-94"}) || !slices.Equal(g.CVEs, []string{"CVE-2099-2001"}) ||
		!slices.Contains(g.References, "https://example.org/tiny-template/issues/7") || g.Component.FixedVersion != "" {
		t.Errorf("%+v", g)
	}
}
