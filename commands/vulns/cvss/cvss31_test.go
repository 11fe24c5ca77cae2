package cvss

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/internal/testsupport"
)

// TestCVSS31BaseVectors checks every one of the 2,592 CVSS v3.1 base-metric
// combinations (Red Hat's vectors_simple31) for base score and severity.
func TestCVSS31BaseVectors(t *testing.T) {
	eachVector(t, "cvss31_base_vectors.csv", 2592, ParseV3, func(row map[string]string, v *V3) {
		wantColumn(t, row, "base score", fmtScore(v.BaseScore()), "expected_base_score")
		wantColumn(t, row, "severity", v.Severity(), "expected_severity")
		if v.HasTemporal() || v.HasEnvironmental() {
			t.Errorf("%s: base-only vector reports temporal/environmental metrics", row["vector"])
		}
	})
}

// TestCVSS31RedHatTuples checks the (base, temporal, environmental) triple Red Hat
// gives for every vector of vectors_simple31: for base-only vectors the temporal and
// environmental scores (with every optional metric Not Defined) must be exact too,
// which exercises the v3.1 ModifiedImpact for changed scope.
func TestCVSS31RedHatTuples(t *testing.T) {
	f, err := os.Open(testsupport.SharedTestdata(t, "cvss", "redhat_vectors_simple31.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checked := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		vector, tuple, ok := strings.Cut(line, " - ")
		if !ok {
			t.Fatalf("unexpected line %q", line)
		}
		parts := strings.Split(strings.Trim(tuple, "()"), ",")
		if len(parts) != 3 {
			t.Fatalf("unexpected tuple in %q", line)
		}
		v, err := ParseV3(vector)
		if err != nil {
			t.Errorf("%s: %v", vector, err)
			continue
		}
		got := []string{fmtScore(v.BaseScore()), fmtScore(v.TemporalScore()), fmtScore(v.EnvironmentalScore())}
		for i, name := range []string{"base", "temporal", "environmental"} {
			if want := strings.TrimSpace(parts[i]); got[i] != want {
				t.Errorf("%s: %s score %s, want %s", vector, name, got[i], want)
			}
		}
		checked++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if checked != 2592 {
		t.Errorf("redhat_vectors_simple31.txt: %d vectors, want 2592", checked)
	}
	t.Logf("redhat_vectors_simple31.txt: %d vectors x 3 scores checked", checked)
}

// TestCVSS31GoCVSSBTE checks base, temporal and environmental scores from go-cvss's
// test table, including a vector with every temporal and environmental metric.
func TestCVSS31GoCVSSBTE(t *testing.T) {
	eachVector(t, "cvss31_gocvss_bte.csv", 0, ParseV3, func(row map[string]string, v *V3) {
		wantColumn(t, row, "base", fmtScore(v.BaseScore()), "expected_base_score")
		wantColumn(t, row, "severity", v.Severity(), "expected_severity")
		wantColumn(t, row, "temporal", fmtScore(v.TemporalScore()), "expected_temporal_score")
		wantColumn(t, row, "environmental", fmtScore(v.EnvironmentalScore()), "expected_environmental_score")
	})
}

// TestCVSS31Examples checks vectors from the CVSS v3.1 specification's examples
// document and NVD, with temporal and environmental metrics.
func TestCVSS31Examples(t *testing.T) {
	for _, c := range []struct {
		vector              string
		base, temporal, env string
		hasTemporal, hasEnv bool
		canonical           string
	}{
		// CVE-2014-0160 (Heartbleed), CVSS v3.1 examples document.
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", "7.5", "7.5", "7.5", false, false, ""},
		// CVE-2013-1937 (phpMyAdmin reflected XSS), examples document.
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", "6.1", "6.1", "6.1", false, false, ""},
		// Metrics in another order, X values, v3.0 prefix.
		{"CVSS:3.0/S:U/AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:H/E:X/MAV:X", "9.8", "9.8", "9.8", false, false,
			"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:X/MAV:X"},
		// Temporal metrics only.
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:U", "9.8", "7.8", "7.8", true, false, ""},
		// Environmental: modified scope changed, requirements.
		{"CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N/CR:H/MS:C/MPR:L", "1.8", "1.8", "3.4", false, true,
			"CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N/CR:H/MPR:L/MS:C"},
		// Environmental: no modified impact -> 0.
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/MC:N/MI:N/MA:N", "9.8", "9.8", "0.0", false, true, ""},
	} {
		v, err := ParseV3(c.vector)
		if err != nil {
			t.Errorf("%s: %v", c.vector, err)
			continue
		}
		if got := fmtScore(v.BaseScore()); got != c.base {
			t.Errorf("%s: base %s, want %s", c.vector, got, c.base)
		}
		if got := fmtScore(v.TemporalScore()); got != c.temporal {
			t.Errorf("%s: temporal %s, want %s", c.vector, got, c.temporal)
		}
		if got := fmtScore(v.EnvironmentalScore()); got != c.env {
			t.Errorf("%s: environmental %s, want %s", c.vector, got, c.env)
		}
		if v.HasTemporal() != c.hasTemporal || v.HasEnvironmental() != c.hasEnv {
			t.Errorf("%s: HasTemporal %v HasEnvironmental %v, want %v %v", c.vector,
				v.HasTemporal(), v.HasEnvironmental(), c.hasTemporal, c.hasEnv)
		}
		want := c.canonical
		if want == "" {
			want = c.vector
		}
		if got := v.String(); got != want {
			t.Errorf("%s: String() %s, want %s", c.vector, got, want)
		}
	}
}

// TestRoundUp checks Roundup against the examples of the specification's Appendix A.
func TestRoundUp(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want int
	}{
		{4.02, 41},
		{4.00, 40},
		{4.000000000000001, 40}, // float noise must not round up
		{0.1 + 0.2, 3},          // 0.30000000000000004
		{4.0000099, 41},
		{9.99, 100},
		{0, 0},
		{10, 100},
	} {
		if got := roundUp(c.in); got != c.want {
			t.Errorf("roundUp(%v) = %d tenths, want %d", c.in, got, c.want)
		}
	}
}
