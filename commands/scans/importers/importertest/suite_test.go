package importertest

import (
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
)

// failures records what a check reports instead of failing the test running it.
type failures struct {
	testing.TB
	n int
}

func (f *failures) Helper()               {}
func (f *failures) Errorf(string, ...any) { f.n++ }

// TestVerifyDefault: a Spec without Check verifies reports with CheckReport, whose nil-slice
// rule CheckReportBasic lacks; a Spec's own Check replaces it.
func TestVerifyDefault(t *testing.T) {
	rep := &importers.Report{Format: "x"} // nil Assets and Findings
	var f failures
	Spec{Format: "x"}.Verify(&f, rep)
	if f.n == 0 {
		t.Error("nil slices passed the default check")
	}
	f = failures{}
	Spec{Format: "x", Check: func(tb testing.TB, rep *importers.Report) { CheckReportBasic(tb, rep, "x") }}.Verify(&f, rep)
	if f.n != 0 {
		t.Errorf("the Spec's Check: %d failures, want none", f.n)
	}
}
