package feeds

import (
	"regexp"
	"testing"
)

// ValidCVEID agrees with ^CVE-\d{4}-\d{4,}$ for sequence numbers of up to 19 digits (the cap
// CISA's KEV schema sets), and refuses longer ones.
func TestValidCVEID(t *testing.T) {
	re := regexp.MustCompile(`^CVE-\d{4}-\d{4,}$`)
	for _, id := range []string{
		"CVE-2024-0012", "CVE-1999-0001", "CVE-2024-123456", "CVE-2024-1234567890123456789",
		"CVE-2024-012", "cve-2024-0012", "CVE-24-0012", "CVE-2024-", "CVE-2024-00a1", "CVE-2024-0012 ",
		" CVE-2024-0012", "CVE-2024_0012", "CVE-２０２４-0012", "CVE-2024-0012\n", "", "CVE",
		"CVE-20245-0012", "XCVE-2024-0012",
	} {
		if got, want := ValidCVEID(id), re.MatchString(id); got != want {
			t.Errorf("ValidCVEID(%q) = %v, regexp says %v", id, got, want)
		}
	}
	if ValidCVEID("CVE-2024-12345678901234567890") {
		t.Error("20-digit sequence accepted")
	}
}

func FuzzValidCVEID(f *testing.F) {
	re := regexp.MustCompile(`^CVE-\d{4}-\d{4,19}$`)
	f.Add("CVE-2024-0012")
	f.Fuzz(func(t *testing.T, id string) {
		if got, want := ValidCVEID(id), re.MatchString(id); got != want {
			t.Fatalf("ValidCVEID(%q) = %v, regexp says %v", id, got, want)
		}
	})
}
