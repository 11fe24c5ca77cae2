package contracts

import (
	"slices"
	"testing"
)

// TestValuesKeepTheSchemaOrder: an <Enum>Values list is the schema's values in the schema's
// order, and a fresh slice each call, so that a caller that changes its copy changes no other.
func TestValuesKeepTheSchemaOrder(t *testing.T) {
	for name, c := range map[string]struct{ got, want []string }{
		"Severity":      {SeverityValues(), []string{"critical", "high", "medium", "low", "info"}},
		"FindingStatus": {FindingStatusValues(), []string{"open", "triaged", "in_remediation", "resolved", "closed", "false_positive", "duplicate", "risk_accepted", "reopened"}},
		"CVSSVersion":   {CVSSVersionValues(), []string{"2.0", "3.0", "3.1", "4.0"}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%sValues() = %q, want %q", name, c.got, c.want)
		}
	}
	mine := SeverityValues()
	mine[0] = "changed"
	if SeverityValues()[0] != "critical" {
		t.Error("SeverityValues returned a slice another caller had changed")
	}
}
