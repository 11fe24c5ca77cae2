package cvss

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics, that every refusal is an *Error about the
// input, and that a vector that parses re-serialises (String) to a canonical vector
// that parses to the same metrics and scores and is a fixed point of String.
// Seed corpus: testdata/fuzz/FuzzParse and the f.Add calls below.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		v31Base,
		v40Base,
		"CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:C/C:L/I:L/A:N",
		"CVSS:3.1/AV:A/AC:H/PR:L/UI:N/S:C/C:H/I:L/A:L/E:F/RL:U/RC:R/CR:H/IR:M/AR:L/MAV:N/MAC:L/MPR:N/MUI:N/MS:C/MC:H/MI:H/MA:H",
		"CVSS:4.0/AV:A/AC:L/AT:P/PR:L/UI:N/VC:N/VI:H/VA:L/SC:N/SI:N/SA:L/E:P/CR:X/IR:L/AR:M/MAV:X/MAC:X/MAT:N/MPR:L/MUI:X/MVC:X/MVI:N/MVA:N/MSC:X/MSI:N/MSA:N/S:P/AU:X/R:A/V:X/RE:M/U:Clear",
		"CVSS:4.0/SA:N/SI:N/SC:N/VA:H/VI:H/VC:H/UI:N/PR:N/AT:N/AC:L/AV:N/MSI:S",
		"",
		"CVSS:3.1/",
		"CVSS:3.1/AV:N/AV:N",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q): error %T, want *Error", s, err)
			}
			if e.Vector != s {
				t.Fatalf("Parse(%q): error names vector %q", s, e.Vector)
			}
			return
		}
		canon := v.String()
		w, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its String %q does not parse: %v", s, canon, err)
		}
		if w.String() != canon {
			t.Fatalf("String not canonical: %q -> %q -> %q", s, canon, w.String())
		}
		if v.Version() != w.Version() || v.BaseScore() != w.BaseScore() || v.Severity() != w.Severity() {
			t.Fatalf("%q and %q score differently: %s %v %s vs %s %v %s", s, canon,
				v.Version(), v.BaseScore(), v.Severity(), w.Version(), w.BaseScore(), w.Severity())
		}
		if v.BaseScore() < 0 || v.BaseScore() > 10 {
			t.Fatalf("%q: score %v out of range", s, v.BaseScore())
		}
		switch a := v.(type) {
		case *V3:
			b := w.(*V3)
			if a.vals != b.vals || a.TemporalScore() != b.TemporalScore() ||
				a.EnvironmentalScore() != b.EnvironmentalScore() ||
				a.HasTemporal() != b.HasTemporal() || a.HasEnvironmental() != b.HasEnvironmental() {
				t.Fatalf("%q and %q differ: %+v vs %+v", s, canon, *a, *b)
			}
		case *V4:
			b := w.(*V4)
			if a.vals != b.vals || a.Score() != b.Score() || a.CVSSBScore() != b.CVSSBScore() ||
				a.Nomenclature() != b.Nomenclature() {
				t.Fatalf("%q and %q differ: %+v vs %+v", s, canon, *a, *b)
			}
		default:
			t.Fatalf("Parse(%q) returned %T", s, v)
		}
		r, err := Score(s)
		if err != nil {
			t.Fatalf("Parse(%q) ok but Score failed: %v", s, err)
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("Score(%q): marshal: %v", s, err)
		}
	})
}
