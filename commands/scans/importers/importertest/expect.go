package importertest

import (
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
)

// Expect is what a golden file holds, counted from the file itself (with jq, xmllint or a CSV
// reader): a Table row for CheckExpect.
type Expect struct {
	Assets, Findings int
	Severity         map[importers.Severity]int
	// Suppressed is how many findings carry the report's own verdict (importers.Suppression).
	Suppressed int
}

// CheckExpect verifies that rep has the counts want gives (see Counts) and as many suppressed
// findings.
func CheckExpect(t *testing.T, rep *importers.Report, want Expect) {
	t.Helper()
	Counts(t, rep, want.Assets, want.Findings, want.Severity, "counted from the file")
	if n := len(Where(rep, func(f *importers.Finding) bool { return f.Suppressed != nil })); n != want.Suppressed {
		t.Errorf("suppressed findings = %d, want %d", n, want.Suppressed)
	}
}
