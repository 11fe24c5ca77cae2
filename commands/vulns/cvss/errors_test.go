package cvss

import (
	"errors"
	"strings"
	"testing"
)

const (
	v31Base = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
	v40Base = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
)

// TestInvalidVectors checks that every refused vector gives an *Error naming the
// right metric, value and reason, from Parse and from Score.
func TestInvalidVectors(t *testing.T) {
	for _, c := range []struct {
		name, vector          string
		metric, value, reason string
	}{
		{"empty string", "", "", "", ReasonEmptyVector},
		{"wrong prefix v3.2", strings.Replace(v31Base, "3.1", "3.2", 1), "", "CVSS:3.2", ReasonBadPrefix},
		{"wrong prefix v2", "CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P", "", "CVSS:2.0", ReasonBadPrefix},
		{"no prefix", "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "", "AV:N", ReasonBadPrefix},
		{"lower-case prefix", strings.ToLower(v31Base), "", "cvss:3.1", ReasonBadPrefix},
		{"leading space", " " + v31Base, "", " CVSS:3.1", ReasonBadPrefix},
		{"v4 lower-case prefix", strings.Replace(v40Base, "CVSS", "cvss", 1), "", "cvss:4.0", ReasonBadPrefix},
		{"trailing slash", v31Base + "/", "", "", ReasonEmptyComponent},
		{"double slash", strings.Replace(v31Base, "/AC", "//AC", 1), "", "", ReasonEmptyComponent},
		{"v4 trailing slash", v40Base + "/", "", "", ReasonEmptyComponent},
		{"bare prefix", "CVSS:3.1", "AV", "", ReasonMissingMandatory},
		{"prefix and slash", "CVSS:3.1/", "", "", ReasonEmptyComponent},
		{"missing AV", strings.Replace(v31Base, "AV:N/", "", 1), "AV", "", ReasonMissingMandatory},
		{"missing S", strings.Replace(v31Base, "/S:U", "", 1), "S", "", ReasonMissingMandatory},
		{"missing A", strings.TrimSuffix(v31Base, "/A:H"), "A", "", ReasonMissingMandatory},
		{"v4 missing AV", strings.Replace(v40Base, "AV:N/", "", 1), "AV", "", ReasonMissingMandatory},
		{"v4 missing SA", strings.TrimSuffix(v40Base, "/SA:N"), "SA", "", ReasonMissingMandatory},
		{"unknown metric", v31Base + "/XX:Y", "XX", "Y", ReasonUnknownMetric},
		{"v2 metric in v3", v31Base + "/Au:N", "Au", "N", ReasonUnknownMetric},
		{"v3 metric in v4", v40Base + "/C:H", "C", "H", ReasonUnknownMetric},
		{"v4 metric in v3", v31Base + "/AT:N", "AT", "N", ReasonUnknownMetric},
		{"lower-case metric", strings.Replace(v31Base, "AV:N", "av:N", 1), "av", "N", ReasonUnknownMetric},
		{"v4 lower-case metric", strings.Replace(v40Base, "VC:H", "vc:H", 1), "vc", "H", ReasonUnknownMetric},
		{"duplicate metric", v31Base + "/AV:L", "AV", "L", ReasonDuplicateMetric},
		{"duplicate same value", v31Base + "/C:H", "C", "H", ReasonDuplicateMetric},
		{"duplicate optional", v31Base + "/E:P/E:P", "E", "P", ReasonDuplicateMetric},
		{"v4 duplicate", v40Base + "/E:A/E:P", "E", "P", ReasonDuplicateMetric},
		{"bad value", strings.Replace(v31Base, "AV:N", "AV:Q", 1), "AV", "Q", ReasonUnknownValue},
		{"lower-case value", strings.Replace(v31Base, "AV:N", "AV:n", 1), "AV", "n", ReasonUnknownValue},
		{"empty value", strings.Replace(v31Base, "AV:N", "AV:", 1), "AV", "", ReasonUnknownValue},
		{"trailing space", v31Base + " ", "A", "H ", ReasonUnknownValue},
		{"X for a base metric", strings.Replace(v31Base, "AV:N", "AV:X", 1), "AV", "X", ReasonUnknownValue},
		{"v3 temporal bad value", v31Base + "/RL:Z", "RL", "Z", ReasonUnknownValue},
		{"v4 bad value", strings.Replace(v40Base, "AT:N", "AT:L", 1), "AT", "L", ReasonUnknownValue},
		{"v4 S only in MSI", strings.Replace(v40Base, "SI:N", "SI:S", 1), "SI", "S", ReasonUnknownValue},
		{"v4 v3 scope value", v40Base + "/S:U", "S", "U", ReasonUnknownValue},
		{"v4 lower-case U value", v40Base + "/U:clear", "U", "clear", ReasonUnknownValue},
		{"no colon", strings.Replace(v31Base, "AV:N", "AV", 1), "AV", "", ReasonMalformedMetric},
		{"value with colon", strings.Replace(v31Base, "AV:N", "AV:N:L", 1), "AV", "N:L", ReasonUnknownValue},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := &Error{Vector: c.vector, Metric: c.metric, Value: c.value, Reason: c.reason}
			v, err := Parse(c.vector)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error", c.vector, v)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) error %T %v, want *Error", c.vector, err, err)
			}
			if *e != *want {
				t.Errorf("Parse(%q) error %+v, want %+v", c.vector, *e, *want)
			}
			if c.metric != "" && !strings.Contains(e.Error(), "metric "+c.metric) {
				t.Errorf("message %q does not name metric %s", e.Error(), c.metric)
			}
			if _, err := Score(c.vector); err == nil || err.Error() != e.Error() {
				t.Errorf("Score(%q) error %v, want %v", c.vector, err, e)
			}
		})
	}
}

// TestErrorMessages pins the message format the CLI prints.
func TestErrorMessages(t *testing.T) {
	for _, c := range []struct {
		vector, want string
	}{
		{"", `cvss: invalid vector "": empty vector`},
		{"CVSS:3.1/AV:Q", `cvss: invalid vector "CVSS:3.1/AV:Q": metric AV value "Q": unknown value`},
		{"CVSS:3.1/AC:L", `cvss: invalid vector "CVSS:3.1/AC:L": metric AV: missing mandatory metric`},
		{"CVSS:9/AV:N", `cvss: invalid vector "CVSS:9/AV:N": "CVSS:9": ` + ReasonBadPrefix},
	} {
		_, err := Parse(c.vector)
		if err == nil || err.Error() != c.want {
			t.Errorf("Parse(%q) error %v, want %s", c.vector, err, c.want)
		}
	}
}
