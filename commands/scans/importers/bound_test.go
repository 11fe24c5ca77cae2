package importers

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestBound: every string and list over its field's bound is cut, on a rune boundary and
// marked, with one warning per field; what is within bounds is left as it is.
func TestBound(t *testing.T) {
	long := strings.Repeat("é", MaxText) // 2 MiB
	refs := make([]string, MaxListItems+10)
	for i := range refs {
		refs[i] = "https://example.com/" + strings.Repeat("r", i%3)
	}
	rep := &Report{
		ScannerName: "s",
		Assets:      []Asset{{Key: "a", Name: long, IPs: []string{"10.0.0.1"}}},
		Findings: []Finding{
			{AssetKey: "a", Title: long, Description: long, Evidence: long, References: refs,
				Location: Location{File: long}, Locations: []Location{{File: long}, {File: "b.go"}},
				Suppressed: &Suppression{Kind: SuppressedAccepted, Reason: long, Source: "x"}},
			{AssetKey: "a", Title: "ok", Description: long},
		},
		Warnings: []string{"kept"},
	}
	if n := rep.Bound(); n != 9 {
		t.Errorf("Bound() = %d, want 9", n)
	}
	f := rep.Findings[0]
	for name, c := range map[string]struct {
		s   string
		max int
	}{
		"asset name": {rep.Assets[0].Name, MaxShortText}, "title": {f.Title, MaxShortText},
		"description": {f.Description, MaxText}, "evidence": {f.Evidence, MaxEvidenceText},
		"file": {f.Location.File, MaxShortText}, "second location": {f.Locations[0].File, MaxShortText},
		"reason": {f.Suppressed.Reason, MaxText}, "second finding": {rep.Findings[1].Description, MaxText},
	} {
		if len(c.s) > c.max || len(c.s) < c.max-len(TruncMark)-utf8.UTFMax || !strings.HasSuffix(c.s, TruncMark) || !utf8.ValidString(c.s) {
			t.Errorf("%s: %d bytes, ends %q", name, len(c.s), c.s[max(0, len(c.s)-20):])
		}
	}
	if len(f.References) != MaxListItems || f.References[1] != refs[1] || f.Locations[1].File != "b.go" || rep.Findings[1].Title != "ok" || rep.Assets[0].IPs[0] != "10.0.0.1" {
		t.Errorf("kept values changed: %d references, %+v", len(f.References), rep.Findings[1].Title)
	}
	want := []string{
		"kept",
		"asset name: 1 cut to 4096 bytes",
		"finding title: 1 cut to 4096 bytes",
		"finding description: 2 cut to 1048576 bytes",
		"finding evidence: 1 cut to 65536 bytes",
		"finding references: 1 cut to 4096 entries",
		"finding location: 2 cut to 4096 bytes",
		"finding suppression reason: 1 cut to 1048576 bytes",
	}
	if !reflect.DeepEqual(rep.Warnings, want) {
		t.Errorf("warnings = %q\nwant %q", rep.Warnings, want)
	}
	if n := rep.Bound(); n != 0 {
		t.Errorf("second Bound() = %d, want 0", n)
	}
}
