package vulns

import (
	"slices"
	"testing"

	"github.com/socplatform/soc/schemas/contracts"
)

// TestOpenStatusesAreLifecycleStatuses: the read model's open statuses are statuses of the
// finding lifecycle (was part of cmd/soc's enum-equality test).
func TestOpenStatusesAreLifecycleStatuses(t *testing.T) {
	all := contracts.FindingStatusValues()
	for _, s := range OpenStatuses {
		if !slices.Contains(all, s) {
			t.Errorf("open status %q is not a lifecycle status", s)
		}
	}
}

// TestSeveritiesDecrease: the read model's columns and risk weights follow Severities' order,
// highest first, as severityRank ranks them.
func TestSeveritiesDecrease(t *testing.T) {
	for i := 1; i < len(Severities); i++ {
		if severityRank(Severities[i-1]) <= severityRank(Severities[i]) {
			t.Fatalf("Severities %v are not in decreasing order", Severities)
		}
	}
}
