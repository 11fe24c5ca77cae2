package mapped

import (
	"errors"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
)

// TestLoadRefuses: every mapping that cannot be used is refused at load with a MappingError
// naming the key at fault.
func TestLoadRefuses(t *testing.T) {
	const fields = `"fields": {"title": "t", "severity": "s", "rule_id": "r"}, "fingerprint": ["rule_id"]`
	for _, c := range []struct{ name, in, key, msg string }{
		{"not JSON", `title: t`, "", "not a JSON object"},
		{"an array", `[]`, "", "not a JSON object"},
		{"two documents", `{"input": "csv"} {}`, "", "data after"},
		{"too large", `{"x": "` + strings.Repeat("a", MaxMappingBytes) + `"}`, "", "over the"},
		{"unknown key", `{"input": "csv", "feilds": {}}`, "feilds", "unknown key"},
		{"no input", `{` + fields + `}`, "input", `"csv" or "json"`},
		{"bad input", `{"input": "xml", ` + fields + `}`, "input", `"csv" or "json"`},
		{"empty scanner", `{"scanner": " ", "input": "csv", ` + fields + `}`, "scanner", "non-empty"},
		{"findings for csv", `{"input": "csv", "findings": "a", ` + fields + `}`, "findings", "only for JSON"},
		{"findings not a path", `{"input": "json", "findings": "a..b", ` + fields + `}`, "findings", "not a dot path"},
		{"findings not a string", `{"input": "json", "findings": ["a"], ` + fields + `}`, "findings", "must be a string"},
		{"no fields", `{"input": "csv", "fingerprint": ["title"]}`, "fields", "must be an object"},
		{"unknown field", `{"input": "csv", "fields": {"title": "t", "severity": "s", "titel": "x"}, "fingerprint": ["title"]}`, "fields.titel", "unknown field"},
		{"no title", `{"input": "csv", "fields": {"severity": "s"}, "fingerprint": ["severity"]}`, "fields.title", "missing"},
		{"no severity", `{"input": "csv", "fields": {"title": "t"}, "fingerprint": ["title"]}`, "fields.severity", "missing"},
		{"field not a string", `{"input": "csv", "fields": {"title": 1, "severity": "s"}, "fingerprint": ["title"]}`, "fields.title", "must be a string"},
		{"path with empty part", `{"input": "json", "fields": {"title": "a.", "severity": "s"}, "fingerprint": ["title"]}`, "fields.title", "not a dot path"},
		{"path with spaces", `{"input": "json", "fields": {"title": "a. b", "severity": "s"}, "fingerprint": ["title"]}`, "fields.title", "not a dot path"},
		{"path too deep", `{"input": "json", "fields": {"title": "` + strings.Repeat("a.", 16) + `a", "severity": "s"}, "fingerprint": ["title"]}`, "fields.title", "more than 16"},
		{"column with a line break", `{"input": "csv", "fields": {"title": "a\nb", "severity": "s"}, "fingerprint": ["title"]}`, "fields.title", "line break"},
		{"empty column", `{"input": "csv", "fields": {"title": "", "severity": "s"}, "fingerprint": ["title"]}`, "fields.title", "empty"},
		{"severity not ours", `{"input": "csv", "severity_map": {"Sev 1": "urgent"}, ` + fields + `}`, "severity_map.Sev 1", `"urgent" is not a severity`},
		{"severity map not an object", `{"input": "csv", "severity_map": ["high"], ` + fields + `}`, "severity_map", "must be an object"},
		{"no fingerprint", `{"input": "csv", "fields": {"title": "t", "severity": "s"}}`, "fingerprint", "non-empty list"},
		{"empty fingerprint", `{"input": "csv", "fields": {"title": "t", "severity": "s"}, "fingerprint": []}`, "fingerprint", "non-empty list"},
		{"fingerprint of an unmapped field", `{"input": "csv", "fields": {"title": "t", "severity": "s"}, "fingerprint": ["host"]}`, "fingerprint", `"host" is not a field`},
		{"fingerprint twice", `{"input": "csv", "fields": {"title": "t", "severity": "s"}, "fingerprint": ["title", "title"]}`, "fingerprint", "twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := Load([]byte(c.in))
			var me *MappingError
			if !errors.As(err, &me) {
				t.Fatalf("Load = %+v, %v; want a MappingError", m, err)
			}
			if me.Key != c.key || !strings.Contains(me.Msg, c.msg) {
				t.Errorf("got key %q, %q; want key %q and a message mentioning %q", me.Key, me.Msg, c.key, c.msg)
			}
		})
	}
}

// TestLoadSample: the JSON sample's mapping as loaded.
func TestLoadSample(t *testing.T) {
	m := loadMapping(t, "webscan-json.mapping.json")
	if m.Scanner != "webscan" || m.Input != JSON || strings.Join(m.Findings, "/") != "data/results" ||
		m.Fields["severity"] != "risk.level" || m.SeverityMap["p1"] != importers.Critical || strings.Join(m.Fingerprint, ",") != "rule_id,url" {
		t.Errorf("%+v", m)
	}
}

// TestSeverity: severity_map first (trimmed, any case), then our words, then a number on the
// CVSS scale; an unknown or empty value is info with a warning naming it.
func TestSeverity(t *testing.T) {
	m, err := Load([]byte(`{"input": "csv", "fields": {"title": "t", "severity": "s"}, "severity_map": {"Sev 1": "critical", "high": "low"}, "fingerprint": ["title"]}`))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := New(m).Parse(t.Context(), strings.NewReader("t,s\na, sev 1 \nb,HIGH\nc,Medium\nd,7.2\ne,0\nf,urgent\ng,urgent\nh,\ni,informational\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]importers.Severity{"a": importers.Critical, "b": importers.Low, "c": importers.Medium, "d": importers.High,
		"e": importers.Info, "f": importers.Info, "g": importers.Info, "h": importers.Info, "i": importers.Info}
	for _, f := range rep.Findings {
		if f.Severity != want[f.Title] {
			t.Errorf("%s: %s, want %s", f.Title, f.Severity, want[f.Title])
		}
	}
	if len(rep.Findings) != len(want) {
		t.Errorf("%d findings", len(rep.Findings))
	}
	if strings.Join(rep.Warnings, "|") != `1 findings have the severity "", which the mapping does not map: read as info|`+
		`2 findings have the severity "urgent", which the mapping does not map: read as info` {
		t.Errorf("warnings %q", rep.Warnings)
	}
	// No host nor URL: one asset named after the scanner, and the report's Target names it.
	if len(rep.Assets) != 1 || rep.Target == nil || rep.Target.Name != "mapped" || rep.Target.Hint != "scan" {
		t.Errorf("assets %+v, target %+v", rep.Assets, rep.Target)
	}
}

// TestFingerprintFields: the fingerprint is made of the listed fields only: a changed
// description keeps it, a changed rule id does not, and two rows with the same fields merge.
func TestFingerprintFields(t *testing.T) {
	m, err := Load([]byte(`{"input": "csv", "fields": {"title": "t", "severity": "s", "rule_id": "r", "description": "d", "cve": "c"}, "fingerprint": ["rule_id"]}`))
	if err != nil {
		t.Fatal(err)
	}
	parse := func(in string) []importers.Finding {
		rep, err := New(m).Parse(t.Context(), strings.NewReader("t,s,r,d,c\n"+in))
		if err != nil {
			t.Fatal(err)
		}
		return rep.Findings
	}
	a, b, c := parse("x,high,R1,one,\n"), parse("x,high,R1,two,\n"), parse("x,high,R2,one,\n")
	if a[0].Fingerprint != b[0].Fingerprint || a[0].Fingerprint == c[0].Fingerprint {
		t.Errorf("fingerprints %s %s %s", a[0].Fingerprint, b[0].Fingerprint, c[0].Fingerprint)
	}
	merged := parse("x,low,R1,one,CVE-2024-0001\nx,high,R1,one,CVE-2024-0002 not-a-cve\n")
	if len(merged) != 1 || merged[0].Severity != importers.High || strings.Join(merged[0].CVEs, " ") != "CVE-2024-0001 CVE-2024-0002" {
		t.Errorf("merged %+v", merged)
	}
}
