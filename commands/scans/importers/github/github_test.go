package github

import (
	"slices"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

func TestDependabotWebhook(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "dependabot_alert_webhook_created.json"))
	f := rep.Findings[0]
	if f.RuleID != "GHSA-c2qf-rxjj-qqgw" || !slices.Equal(f.CVEs, []string{"CVE-2022-25883"}) || !slices.Equal(f.CWEs, []string{"CWE-1333"}) {
		t.Errorf("%+v", f)
	}
	if len(f.CVSS) != 1 || f.CVSS[0].Vector != "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L" || f.CVSS[0].Version != "3.1" {
		t.Errorf("cvss %+v", f.CVSS)
	}
	if c := f.Component; c.Name != "semver" || c.Type != "npm" || c.FixedVersion != "7.5.2" || c.Path != "package-lock.json" {
		t.Errorf("component %+v", c)
	}
	a := rep.Assets[0]
	if a.Name != "wolfy1339/pika-pack" || a.RepoURL != "https://github.com/wolfy1339/pika-pack" || f.AssetKey != a.Key {
		t.Errorf("asset %+v", a)
	}
	importertest.Fingerprint(t, f.Fingerprint, "", "github/v1", "dependabot", "wolfy1339/pika-pack", "20")
}

func TestCodeScanningList(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "github_api_code_scanning_alerts.json"))
	// The repository comes from html_url: the list has none.
	if a := rep.Assets[0]; a.Name != "acme-corp/payments-api" || a.RepoURL != "https://github.com/acme-corp/payments-api" {
		t.Errorf("asset %+v", a)
	}
	zip := importertest.First(rep, func(f *importers.Finding) bool { return f.RuleID == "js/zipslip" })
	if zip == nil || zip.Severity != importers.High || zip.ScannerSeverity != "high" || !slices.Equal(zip.CWEs, []string{"CWE-22"}) ||
		zip.Location.File != "src/upload/extract.js" || zip.Location.Line != 47 || zip.Location.Column != 21 {
		t.Errorf("%+v", zip)
	}
	// note, no security severity: low; fixed: resolved.
	unused := importertest.First(rep, func(f *importers.Finding) bool { return f.RuleID == "js/unused-local-variable" })
	if unused == nil || unused.Severity != importers.Low || unused.Suppressed == nil || unused.Suppressed.Kind != importers.SuppressedResolved {
		t.Errorf("%+v", unused)
	}
	tests := importertest.First(rep, func(f *importers.Finding) bool { return f.RuleID == "js/missing-rate-limiting" })
	if tests == nil || tests.Suppressed == nil || tests.Suppressed.Reason != "used in tests: Fixture server only, never deployed." {
		t.Errorf("%+v", tests)
	}
}

func TestDismissedReasons(t *testing.T) {
	for reason, kind := range map[string]importers.SuppressionKind{
		"false positive": importers.SuppressedFalsePositive, "inaccurate": importers.SuppressedFalsePositive,
		"used in tests": importers.SuppressedNotAffected, "not_used": importers.SuppressedNotAffected,
		"won't fix": importers.SuppressedAccepted, "tolerable_risk": importers.SuppressedAccepted,
		"no_bandwidth": importers.SuppressedAccepted, "fix_started": importers.SuppressedAccepted,
		"something new": importers.SuppressedAccepted,
	} {
		rep := importertest.MustParseString(t, New(), `[{"number": 1, "state": "dismissed", "dismissed_reason": "`+reason+`", "html_url": "https://github.com/o/r/security/code-scanning/1", "rule": {"id": "x"}}]`)
		if s := rep.Findings[0].Suppressed; s == nil || s.Kind != kind {
			t.Errorf("%s: %+v, want %s", reason, s, kind)
		}
	}
}

func TestOtherAlertsCounted(t *testing.T) {
	rep := importertest.MustParseString(t, New(), `[`+codeAlert+`, {"number": 9, "secret_type": "github_personal_access_token"}]`)
	if len(rep.Findings) != 1 || len(rep.Warnings) != 1 {
		t.Errorf("findings %d, warnings %q", len(rep.Findings), rep.Warnings)
	}
}

func TestCVSSv4AndRepoFromAPIURL(t *testing.T) {
	rep, err := importertest.ParseString(New(), `[{"number": 4, "url": "https://api.github.com/repos/O/R/dependabot/alerts/4", "security_advisory": {"severity": "low",
		"cvss": {"vector_string": null, "score": 0}, "cvss_severities": {"cvss_v4": {"vector_string": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N", "score": 8.7}}}}]`)
	if err != nil {
		t.Fatal(err)
	}
	f := rep.Findings[0]
	if len(f.CVSS) != 1 || f.CVSS[0].Version != "4.0" || f.Severity != importers.Low {
		t.Errorf("%+v", f)
	}
	if a := rep.Assets[0]; a.Key != "github:o/r" || a.Name != "O/R" {
		t.Errorf("asset %+v", a)
	}
}

func TestInfo(t *testing.T) {
	info := New().(importers.Describer).Info()
	if info.Name != formatName || info.Severity["error (code-scanning rule without security severity)"] != importers.High || len(info.Fingerprint) != 3 {
		t.Errorf("%+v", info)
	}
}

// TestGraphQLAlerts: a GraphQL vulnerabilityAlerts answer maps as the REST alert of the same
// number would (same fingerprint), a node without a number is known by its node id, and a
// query that selects dismissedAt instead of state still marks the alert dismissed.
func TestGraphQLAlerts(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "github_graphql_vulnerability_alerts.json"))
	byRule := map[string]*importers.Finding{}
	for i := range rep.Findings {
		byRule[rep.Findings[i].RuleID] = &rep.Findings[i]
	}
	f := byRule["GHSA-abcd-efgh-ijkl"]
	if f == nil || f.Fingerprint != parseutil.FingerprintJSON("github/v1", "dependabot", "acme-corp/web", "3") ||
		!slices.Equal(f.CVEs, []string{"CVE-2099-0001"}) || !slices.Equal(f.CWEs, []string{"CWE-1321"}) || len(f.CVSS) != 1 {
		t.Fatalf("numbered alert %+v", f)
	}
	if c := f.Component; c.Name != "left-pad-ish" || c.Type != "npm" || c.FixedVersion != "1.2.3" || c.Path != "web/package.json" {
		t.Errorf("component %+v", c)
	}
	if !slices.Contains(f.References, "https://github.com/acme-corp/web/pull/12") {
		t.Errorf("references %v: want the Dependabot pull request", f.References)
	}
	if g := byRule["GHSA-mnop-qrst-uvwx"]; g == nil || g.Fingerprint != parseutil.FingerprintJSON("github/v1", "dependabot", "acme-corp/web", "node", "RVA_example0002") {
		t.Errorf("alert without a number %+v", g)
	}
	if g := byRule["GHSA-1111-2222-3333"]; g == nil || g.Suppressed == nil || g.Suppressed.Kind != importers.SuppressedAccepted || g.AssetKey != "github:api" {
		t.Errorf("dismissed alert %+v", g)
	}
}

// TestGraphQLSearchInRepository: a repository object holding a search of its own (a query shape
// seen in exports) gives its alerts the outer repository's name.
func TestGraphQLSearchInRepository(t *testing.T) {
	in := `{"data": {"repository": {"nameWithOwner": "o/r", "url": "https://github.com/o/r", "search": {"nodes": [
		{"vulnerabilityAlerts": {"nodes": [{"id": "a", "number": "1", "securityVulnerability": {"severity": "HIGH", "package": {"name": "p"}}}]}}]}}}}`
	rep := importertest.MustParseString(t, New(), in)
	if len(rep.Findings) != 1 || rep.Findings[0].AssetKey != "github:o/r" || rep.Findings[0].Severity != importers.High {
		t.Fatalf("%+v", rep.Findings)
	}
}
