package mapped

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
)

// MaxMappingBytes bounds a mapping file: a mapping is a few dozen lines, and a larger file is a
// mistake (a report given where the mapping was expected).
const MaxMappingBytes = 64 << 10

// Input kinds a mapping reads.
const (
	CSV  = "csv"
	JSON = "json"
)

// Fields a mapping can name, in the order Info lists them. title and severity are required.
var fieldNames = []string{"title", "severity", "rule_id", "cve", "cwe", "cvss_vector", "host", "url",
	"component_name", "component_version", "file", "description", "remediation"}

// Mapping says where a CSV or JSON report without a parser keeps each part of a finding. It is
// read from a small JSON document (see Load):
//
//	{
//	  "scanner": "acme-scan",              // the report's scanner name; part of every fingerprint
//	  "input": "json",                      // "csv" or "json"
//	  "findings": "data.results",           // json only: dot path of the findings array ("" = the document)
//	  "fields": {"title": "name", "severity": "risk.level", "cve": "cves", "host": "target.ip"},
//	  "severity_map": {"Sev 1": "critical", "Sev 2": "high"},
//	  "fingerprint": ["rule_id", "host"]
//	}
//
// A CSV field is a column name (compared as the CSV parsers compare headers: case and
// surrounding white space ignored); a JSON field is a dot path relative to one element of the
// findings array.
type Mapping struct {
	Scanner     string
	Input       string
	Findings    []string // JSON: the path of the findings array, split; nil for the document itself
	Fields      map[string]string
	SeverityMap map[string]importers.Severity // keys lower-cased and trimmed
	Fingerprint []string
}

// MappingError is a mapping that cannot be used, naming the key at fault ("fields.titel").
type MappingError struct {
	Key string
	Msg string
}

func (e *MappingError) Error() string {
	if e.Key == "" {
		return "mapping: " + e.Msg
	}
	return "mapping: " + e.Key + ": " + e.Msg
}

func mappingErr(key, format string, args ...any) error {
	return &MappingError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Load reads and validates a mapping document. Every error is a *MappingError naming the key:
// an unknown key, a missing title or severity field, a severity mapped to a value that is not one
// of ours, a fingerprint naming a field the mapping does not map, a path that cannot be a path.
func Load(data []byte) (*Mapping, error) {
	if len(data) > MaxMappingBytes {
		return nil, mappingErr("", "the file has %d bytes, over the %d a mapping may have", len(data), MaxMappingBytes)
	}
	var top map[string]json.RawMessage
	if err := strictJSON(data, &top); err != nil {
		return nil, mappingErr("", "not a JSON object: %v", err)
	}
	for k := range top {
		if !slices.Contains([]string{"scanner", "input", "findings", "fields", "severity_map", "fingerprint"}, k) {
			return nil, mappingErr(k, "unknown key (want scanner, input, findings, fields, severity_map, fingerprint)")
		}
	}
	m := &Mapping{Scanner: "mapped", Fields: map[string]string{}, SeverityMap: map[string]importers.Severity{}}
	if raw, ok := top["scanner"]; ok {
		if err := json.Unmarshal(raw, &m.Scanner); err != nil || strings.TrimSpace(m.Scanner) == "" || len(m.Scanner) > 200 {
			return nil, mappingErr("scanner", "must be a non-empty string of at most 200 bytes")
		}
		m.Scanner = strings.TrimSpace(m.Scanner)
	}
	if err := json.Unmarshal(top["input"], &m.Input); err != nil || (m.Input != CSV && m.Input != JSON) {
		return nil, mappingErr("input", `must be "csv" or "json"`)
	}
	if raw, ok := top["findings"]; ok {
		if m.Input != JSON {
			return nil, mappingErr("findings", "is only for JSON input (a CSV row is one finding)")
		}
		var p string
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, mappingErr("findings", "must be a string: the dot path of the findings array")
		}
		if p != "" {
			path, err := splitPath(p)
			if err != nil {
				return nil, mappingErr("findings", "%v", err)
			}
			m.Findings = path
		}
	}
	var fields map[string]json.RawMessage
	if err := strictJSON(top["fields"], &fields); err != nil || fields == nil {
		return nil, mappingErr("fields", "must be an object naming where each field is")
	}
	for k, raw := range fields {
		key := "fields." + k
		if !slices.Contains(fieldNames, k) {
			return nil, mappingErr(key, "unknown field (want one of %s)", strings.Join(fieldNames, ", "))
		}
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, mappingErr(key, "must be a string: a column name or a dot path")
		}
		if err := checkSource(m.Input, v); err != nil {
			return nil, mappingErr(key, "%v", err)
		}
		m.Fields[k] = strings.TrimSpace(v)
	}
	for _, k := range []string{"title", "severity"} {
		if m.Fields[k] == "" {
			return nil, mappingErr("fields."+k, "missing: every mapping names the title and the severity")
		}
	}
	if raw, ok := top["severity_map"]; ok {
		var sm map[string]string
		if err := strictJSON(raw, &sm); err != nil {
			return nil, mappingErr("severity_map", "must be an object of scanner value to critical, high, medium, low or info")
		}
		for k, v := range sm {
			s := importers.Severity(v)
			switch s {
			case importers.Critical, importers.High, importers.Medium, importers.Low, importers.Info:
			default:
				return nil, mappingErr("severity_map."+k, "%q is not a severity (want critical, high, medium, low or info)", v)
			}
			m.SeverityMap[normValue(k)] = s
		}
	}
	if err := strictJSON(top["fingerprint"], &m.Fingerprint); err != nil || len(m.Fingerprint) == 0 {
		return nil, mappingErr("fingerprint", "must be a non-empty list of mapped field names whose values identify a finding across imports")
	}
	seen := map[string]bool{}
	for _, f := range m.Fingerprint {
		if _, ok := m.Fields[f]; !ok {
			return nil, mappingErr("fingerprint", "%q is not a field the mapping maps", f)
		}
		if seen[f] {
			return nil, mappingErr("fingerprint", "%q is listed twice", f)
		}
		seen[f] = true
	}
	return m, nil
}

// strictJSON decodes data, which must be exactly one JSON value, into v; null is refused.
func strictJSON(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 || bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return errors.New("missing")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}

// checkSource checks a field's source: a CSV column name, or a JSON dot path.
func checkSource(input, v string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("is empty")
	}
	if len(v) > 200 {
		return errors.New("is longer than 200 bytes")
	}
	if input == CSV {
		if strings.ContainsAny(v, "\r\n") {
			return errors.New("a column name cannot hold a line break")
		}
		return nil
	}
	_, err := splitPath(v)
	return err
}

// maxPathDepth bounds a dot path: report nesting beyond this is not a findings format.
const maxPathDepth = 16

// splitPath splits a dot path ("risk.level") into member names. Every name is non-empty and has
// no surrounding white space, so "a..b", ".a" and "a. b" are refused rather than guessed at.
func splitPath(p string) ([]string, error) {
	parts := strings.Split(p, ".")
	if len(parts) > maxPathDepth {
		return nil, fmt.Errorf("path %q has more than %d parts", p, maxPathDepth)
	}
	for _, s := range parts {
		if s == "" || strings.TrimSpace(s) != s {
			return nil, fmt.Errorf("%q is not a dot path of member names (an empty or space-padded name)", p)
		}
	}
	return parts, nil
}

// normValue is a scanner value as severity_map keys are compared: trimmed, lower case.
func normValue(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
