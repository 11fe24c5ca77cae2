package govulncheck

import (
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

func TestSymbolLevelFinding(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "govulncheck_source_symbol_scan.json"))
	f := importertest.Rule(t, rep, "GO-2021-0054")
	if f.Severity != importers.High || f.ScannerSeverity != "symbol" {
		t.Errorf("severity %s (%s), want high (symbol)", f.Severity, f.ScannerSeverity)
	}
	if !slices.Equal(f.CVEs, []string{"CVE-2020-36067"}) || !slices.Equal(f.GHSAs, []string{"GHSA-p64j-r5f4-pwwx"}) {
		t.Errorf("CVEs %v GHSAs %v", f.CVEs, f.GHSAs)
	}
	c := f.Component
	if c.Name != "github.com/tidwall/gjson" || c.Version != "v1.6.5" || c.FixedVersion != "v1.6.6" || c.PURL != "pkg:golang/github.com/tidwall/gjson@v1.6.5" {
		t.Errorf("component %+v", c)
	}
	// jq -s '.[]|select(.finding.osv=="GO-2021-0054" and (.finding.trace|length)==6)|.finding.trace[5].position' FILE
	if f.Location.File == "" || f.Location.Line == 0 {
		t.Errorf("location %+v: want the caller's position", f.Location)
	}
	if f.Evidence == "" || f.Fingerprint != fingerprintOf("GO-2021-0054", "github.com/tidwall/gjson", "v1.6.5") {
		t.Errorf("evidence %q fingerprint %s", f.Evidence, f.Fingerprint)
	}
}

func fingerprintOf(id, module, version string) string {
	rep, err := importertest.ParseString(New(), config+`{"finding":{"osv":"`+id+`","trace":[{"module":"`+module+`","version":"`+version+`"}]}}`)
	if err != nil || len(rep.Findings) != 1 {
		return ""
	}
	return rep.Findings[0].Fingerprint
}

// The level is the severity, not the identity: a module-only finding and a symbol-level one of
// the same id and module version have one fingerprint, and the deepest level wins.
func TestLevelsMergeAndMapSeverity(t *testing.T) {
	for _, c := range []struct {
		trace string
		sev   importers.Severity
	}{
		{`[{"module":"m","version":"v1"}]`, importers.Low},
		{`[{"module":"m","version":"v1","package":"m/p"}]`, importers.Medium},
		{`[{"module":"m","version":"v1","package":"m/p","function":"F"}]`, importers.High},
	} {
		rep := importertest.MustParseString(t, New(), config+`{"finding":{"osv":"GO-1","trace":[{"module":"m","version":"v1"}]}}{"finding":{"osv":"GO-1","trace":`+c.trace+`}}`)
		if len(rep.Findings) != 1 || rep.Findings[0].Severity != c.sev {
			t.Errorf("%s: %d findings, first %+v; want one %s", c.trace, len(rep.Findings), rep.Findings, c.sev)
		}
		if rep.Findings[0].Fingerprint != fingerprintOf("GO-1", "m", "v1") {
			t.Errorf("%s: fingerprint depends on the level", c.trace)
		}
	}
	if fingerprintOf("GO-1", "m", "v1") == fingerprintOf("GO-1", "m", "v2") {
		t.Error("a new module version must be a new finding")
	}
}

func TestInfo(t *testing.T) {
	info := New().(importers.Describer).Info()
	if info.Name != formatName || len(info.Fingerprint) == 0 || len(info.Severity) != 3 {
		t.Errorf("%+v", info)
	}
}

// TestLegacyResult: the pre-1.0 result takes each module's version from Modules and keeps the
// called symbols as the evidence, so that its findings have the identity the streaming
// protocol gives the same vulnerability.
func TestLegacyResult(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "govulncheck_legacy_result.json"))
	f := importertest.First(rep, func(f *importers.Finding) bool { return f.RuleID == "GO-2099-0003" })
	if f == nil || f.Component.Version != "v1.19.0" || f.Component.PURL != "pkg:golang/stdlib@v1.19.0" ||
		!strings.Contains(f.Evidence, "net/http.Server.Serve") || !strings.Contains(f.Evidence, "net/http.ListenAndServe") {
		t.Fatalf("%+v", f)
	}
	importertest.Fingerprint(t, f.Fingerprint, "", "govulncheck/v1", "GO-2099-0003", "stdlib", "v1.19.0")
}
