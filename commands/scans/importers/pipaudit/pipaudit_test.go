package pipaudit

import (
	"slices"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

func TestVulnFields(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "pip_audit_2x_requirements.json"))
	f := importertest.Rule(t, rep, "GHSA-h5c8-rqwp-cp95")
	if !slices.Equal(f.CVEs, []string{"CVE-2024-22195"}) || !slices.Equal(f.GHSAs, []string{"GHSA-h5c8-rqwp-cp95"}) || f.ScannerSeverity != "" {
		t.Errorf("%+v", f)
	}
	if c := f.Component; c.Name != "Jinja2" || c.Version != "3.1.2" || c.FixedVersion != "3.1.3" || c.PURL != "pkg:pypi/jinja2@3.1.2" {
		t.Errorf("component %+v", c)
	}
	importertest.Fingerprint(t, f.Fingerprint, "", "pip-audit/v1", "jinja2", "3.1.2", "GHSA-h5c8-rqwp-cp95")
}

// Names are compared as PyPI compares them, so a differently spelled requirement is the same
// finding on reimport.
func TestNameNormalisedInFingerprint(t *testing.T) {
	fp := func(name string) string {
		rep := importertest.MustParseString(t, New(), `[{"name": "`+name+`", "version": "1", "vulns": [{"id": "PYSEC-1"}]}]`)
		return rep.Findings[0].Fingerprint
	}
	if fp("Zope.Interface") != fp("zope-interface") || fp("zope_interface") != fp("zope--interface") {
		t.Error("PEP 503 spellings of one name give different fingerprints")
	}
	if fp("zope-interface") == fp("zope-interfaces") {
		t.Error("two names, one fingerprint")
	}
}

func TestInfo(t *testing.T) {
	info := New().(importers.Describer).Info()
	if info.Name != formatName || len(info.Fingerprint) != 3 || len(info.Severity) != 1 {
		t.Errorf("%+v", info)
	}
}
