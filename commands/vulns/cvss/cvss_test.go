package cvss

import (
	"encoding/json"
	"testing"
)

// TestScoreJSON pins the JSON the CLI prints for each kind of vector.
func TestScoreJSON(t *testing.T) {
	for _, c := range []struct{ vector, want string }{
		{
			"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
			`{"vector":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H","version":"3.1","base_score":10.0,"severity":"Critical","score":10.0}`,
		},
		{
			"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N/E:X",
			`{"vector":"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N/E:X","version":"3.0","base_score":0.0,"severity":"None","score":0.0}`,
		},
		{
			"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:U",
			`{"vector":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:U","version":"3.1","base_score":9.8,"severity":"Critical","score":7.8,"temporal_score":7.8}`,
		},
		{
			"CVSS:3.1/AV:A/AC:H/PR:L/UI:N/S:C/C:H/I:L/A:L/E:F/RL:U/RC:R/CR:H/IR:M/AR:L/MAV:N/MAC:L/MPR:N/MUI:N/MS:C/MC:H/MI:H/MA:H",
			`{"vector":"CVSS:3.1/AV:A/AC:H/PR:L/UI:N/S:C/C:H/I:L/A:L/E:F/RL:U/RC:R/CR:H/IR:M/AR:L/MAV:N/MAC:L/MPR:N/MUI:N/MS:C/MC:H/MI:H/MA:H","version":"3.1","base_score":7.1,"severity":"High","score":9.4,"temporal_score":6.7,"environmental_score":9.4}`,
		},
		{
			"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
			`{"vector":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N","version":"4.0","base_score":9.3,"severity":"Critical","score":9.3,"nomenclature":"CVSS-B"}`,
		},
		{
			"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U",
			`{"vector":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U","version":"4.0","base_score":9.1,"severity":"Critical","score":9.1,"nomenclature":"CVSS-BT","cvss_b_score":10.0}`,
		},
	} {
		r, err := Score(c.vector)
		if err != nil {
			t.Errorf("%s: %v", c.vector, err)
			continue
		}
		got, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.vector, got, c.want)
		}
		// Pointer and value marshal alike; the output decodes back into a Result.
		if p, _ := json.Marshal(&r); string(p) != string(got) {
			t.Errorf("%s: *Result marshals to %s", c.vector, p)
		}
		var back Result
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%s: decoding %s: %v", c.vector, got, err)
		}
		again, _ := json.Marshal(back)
		if string(again) != string(got) {
			t.Errorf("%s: round trip gives %s", c.vector, again)
		}
	}
}

func TestRating(t *testing.T) {
	for _, c := range []struct {
		score float64
		want  string
	}{
		{0, "None"}, {0.1, "Low"}, {3.9, "Low"}, {4.0, "Medium"}, {6.9, "Medium"},
		{7.0, "High"}, {8.9, "High"}, {9.0, "Critical"}, {10.0, "Critical"},
	} {
		if got := Rating(c.score); got != c.want {
			t.Errorf("Rating(%v) = %s, want %s", c.score, got, c.want)
		}
	}
}

func TestParseDispatch(t *testing.T) {
	v, err := Parse(v31Base)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := v.(*V3); !ok || v.Version() != "3.1" {
		t.Errorf("Parse(v3.1) = %T version %s", v, v.Version())
	}
	v, err = Parse(v40Base + "/U:Amber")
	if err != nil {
		t.Fatal(err)
	}
	v4, ok := v.(*V4)
	if !ok || v.Version() != "4.0" {
		t.Fatalf("Parse(v4.0) = %T version %s", v, v.Version())
	}
	if u, ok := v4.Metric("U"); !ok || u != "Amber" {
		t.Errorf("Metric(U) = %q, %v", u, ok)
	}
	if _, ok := v4.Metric("E"); ok {
		t.Error("Metric(E) reported present")
	}
	if _, ok := v4.Metric("nope"); ok {
		t.Error("Metric(nope) reported present")
	}
	if _, err := ParseV3(v40Base); err == nil {
		t.Error("ParseV3 accepted a v4.0 vector")
	}
	if _, err := ParseV4(v31Base); err == nil {
		t.Error("ParseV4 accepted a v3.1 vector")
	}
}
