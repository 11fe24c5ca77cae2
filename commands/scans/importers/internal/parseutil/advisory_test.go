package parseutil

import (
	"slices"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
)

func TestAddAdvisoryIDs(t *testing.T) {
	var f importers.Finding
	AddAdvisoryIDs(&f, "GO-2021-0001", "cve-2021-1234", "GHSA-AAAA-bbbb-cccc", "CVE-2021-1234", "PYSEC-2021-1")
	if !slices.Equal(f.CVEs, []string{"CVE-2021-1234"}) || !slices.Equal(f.GHSAs, []string{"GHSA-aaaa-bbbb-cccc"}) {
		t.Errorf("CVEs %v GHSAs %v", f.CVEs, f.GHSAs)
	}
}

func TestAdvisorySeverity(t *testing.T) {
	for word, want := range map[string]importers.Severity{"Moderate": importers.Medium, "medium": importers.Medium, "critical": importers.Critical, " low ": importers.Low} {
		if got, ok := AdvisorySeverity(word); !ok || got != want {
			t.Errorf("%q: %s %v, want %s", word, got, ok, want)
		}
	}
	if _, ok := AdvisorySeverity("info"); ok {
		t.Error("info is no advisory severity")
	}
}

func TestAdvisoryRating(t *testing.T) {
	zero, five := 0.0, 5.0
	for _, c := range []struct {
		vector  string
		score   *float64
		version string // "" when there is no rating
	}{
		{"", &zero, ""},
		{"", nil, ""},
		{"", &five, "3.1"},
		{"CVSS:3.0/AV:N", nil, "3.0"},
		{"CVSS:4.0/AV:N", &five, "4.0"},
		{"AV:N/AC:L/Au:N", &five, ""},
	} {
		r, ok := AdvisoryRating(c.vector, c.score, "ghsa")
		if ok != (c.version != "") || r.Version != c.version || (ok && (r.Vector != c.vector || r.Source != "ghsa")) {
			t.Errorf("%q %v: %+v %v, want version %q", c.vector, c.score, r, ok, c.version)
		}
	}
}
