package veracode

import (
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

// TestFindingsAPIFields checks the findings API JSON field by field: a static flaw, a dynamic
// one (its issue_id past 2^31), a closed flaw and two SCA findings.
func TestFindingsAPIFields(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, format, "veracode_own_findings_api_page.json"))
	const app = "0b7a1c7e-0000-4000-8000-00000000a001"
	if a := rep.Assets[0]; a.Key != "app:"+app || a.Kind != importers.Repository || rep.Target.Name != app {
		t.Errorf("asset %+v target %+v", a, rep.Target)
	}
	if got := rep.FinishedAt.Format(time0); got != "2026-12-01T10:00:00" {
		t.Errorf("FinishedAt %s, want the latest last_seen_date", got)
	}
	sqli := importertest.RuleFindings(t, rep, "CWE-89", 1)[0]
	if sqli.Title != "SQL Injection" || sqli.Severity != importers.High || sqli.Suppressed != nil ||
		sqli.Location.File != "src/main/java/acme/billing/InvoiceDao.java" || sqli.Location.Line != 88 ||
		sqli.Fingerprint != parseutil.FingerprintCanonical("veracode/v1", app, "flaw", "4101") {
		t.Errorf("static flaw %+v", sqli)
	}
	if sqli.Description != "This call to java.sql.Statement.executeQuery() builds an SQL query from untrusted input. Use a prepared statement." {
		t.Errorf("description %q: the HTML as text", sqli.Description)
	}
	xss := importertest.RuleFindings(t, rep, "CWE-79", 1)[0]
	if xss.Location.URL != "https://billing.example.test:443/search?q=x" || xss.Location.Param != "q" ||
		xss.Suppressed == nil || xss.Suppressed.Kind != importers.SuppressedFalsePositive ||
		xss.Fingerprint != parseutil.FingerprintCanonical("veracode/v1", app, "flaw", "3000000001") {
		t.Errorf("dynamic flaw %+v (suppressed %+v)", xss, xss.Suppressed)
	}
	if closed := importertest.RuleFindings(t, rep, "CWE-798", 1)[0]; closed.Suppressed == nil || closed.Suppressed.Kind != importers.SuppressedResolved {
		t.Errorf("a CLOSED finding should be resolved: %+v", closed.Suppressed)
	}
	lib := importertest.RuleFindings(t, rep, "CVE-2026-10001", 1)[0]
	if lib.Severity != importers.Critical || lib.Component == nil || lib.Component.Name != "jackson-databind-2.9.10.jar" ||
		lib.Component.Version != "2.9.10" || lib.Component.Path != "WEB-INF/lib/jackson-databind-2.9.10.jar" ||
		len(lib.CVEs) != 1 || len(lib.CWEs) != 1 || lib.CWEs[0] != "CWE-400" || lib.ScannerSeverity != "5, CVSS 9.1" ||
		lib.Suppressed == nil || lib.Suppressed.Kind != importers.SuppressedAccepted ||
		lib.Fingerprint != parseutil.FingerprintCanonical("veracode/v1", app, "sca", "jackson-databind-2.9.10.jar@2.9.10", "CVE-2026-10001") {
		t.Errorf("SCA finding %+v (component %+v, suppressed %+v)", lib, lib.Component, lib.Suppressed)
	}
	sid := importertest.RuleFindings(t, rep, "SRCCLR-SID-90001", 1)[0]
	if len(sid.CVEs) != 0 || len(sid.References) != 1 || sid.References[0] != "SRCCLR-SID-90001" {
		t.Errorf("a Veracode SID is a reference, not a CVE: %+v", sid)
	}
}
