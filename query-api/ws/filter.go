package ws

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/schemas/contracts"
)

// Bounds of a filter: each list holds at most MaxFilterValues values of at most MaxFilterValueLen
// bytes, so a subscription's memory is bounded whatever the client sends.
const (
	MaxFilterValues   = 100
	MaxFilterValueLen = 200
)

// Severities are the severity values a filter accepts: those of findings, in the schemas' order.
var Severities = contracts.SeverityValues()

// Filter selects the changes a subscriber receives. A change matches when every non-empty list
// contains its value: Types its event type, Streams its stream id, Severity its severity,
// Projections its projection. The zero Filter matches every change.
type Filter struct {
	Types       []string `json:"types"`
	Streams     []string `json:"streams"`
	Severity    []string `json:"severity"`
	Projections []string `json:"projections"`
}

// FilterError reports a filter that cannot be used; Field names the list ("types", "streams",
// "severity" or "projections").
type FilterError struct {
	Field  string
	Reason string
}

func (e *FilterError) Error() string { return "filter " + e.Field + ": " + e.Reason }

// Normalize validates f and returns it with values trimmed, empty values dropped, duplicates
// removed (first occurrence kept) and severities lower-cased. Lists are never nil in the result,
// so it marshals with explicit empty lists ("any").
func (f Filter) Normalize() (Filter, error) {
	var out Filter
	var err error
	if out.Types, err = normalizeList("types", f.Types, false); err != nil {
		return Filter{}, err
	}
	if out.Streams, err = normalizeList("streams", f.Streams, false); err != nil {
		return Filter{}, err
	}
	if out.Severity, err = normalizeList("severity", f.Severity, true); err != nil {
		return Filter{}, err
	}
	if out.Projections, err = normalizeList("projections", f.Projections, false); err != nil {
		return Filter{}, err
	}
	for _, s := range out.Severity {
		if !knownSeverity(s) {
			return Filter{}, &FilterError{Field: "severity", Reason: fmt.Sprintf("unknown severity %q (want one of %s)", s, strings.Join(Severities, ", "))}
		}
	}
	return out, nil
}

func normalizeList(field string, in []string, lower bool) ([]string, error) {
	if len(in) > MaxFilterValues {
		return nil, &FilterError{Field: field, Reason: fmt.Sprintf("%d values, at most %d allowed", len(in), MaxFilterValues)}
	}
	out := make([]string, 0, len(in))
	seen := make(map[string]struct{}, len(in))
	for _, v := range in {
		if len(v) > MaxFilterValueLen {
			return nil, &FilterError{Field: field, Reason: fmt.Sprintf("a value of %d bytes, at most %d allowed", len(v), MaxFilterValueLen)}
		}
		v = strings.TrimSpace(v)
		if lower {
			v = strings.ToLower(v)
		}
		if v == "" {
			continue
		}
		if _, dup := seen[v]; dup {
			continue
		}
		seen[v] = struct{}{}
		out = append(out, v)
	}
	return out, nil
}

func knownSeverity(s string) bool {
	for _, k := range Severities {
		if s == k {
			return true
		}
	}
	return false
}

// FilterFromQuery reads a filter from query parameters types, streams, severity and projections;
// each is a comma-separated list and may be repeated. Other parameters are ignored.
func FilterFromQuery(q url.Values) (Filter, error) {
	split := func(name string) []string {
		var out []string
		for _, v := range q[name] {
			out = append(out, strings.Split(v, ",")...)
			if len(out) > MaxFilterValues*4 { // stop early; Normalize reports the excess
				break
			}
		}
		return out
	}
	return Filter{
		Types:       split("types"),
		Streams:     split("streams"),
		Severity:    split("severity"),
		Projections: split("projections"),
	}.Normalize()
}

// matcher is a normalized filter compiled to sets.
type matcher struct {
	filter                                Filter
	types, streams, severity, projections map[string]struct{}
}

func newMatcher(f Filter) *matcher {
	set := func(vs []string) map[string]struct{} {
		if len(vs) == 0 {
			return nil
		}
		m := make(map[string]struct{}, len(vs))
		for _, v := range vs {
			m[v] = struct{}{}
		}
		return m
	}
	return &matcher{filter: f, types: set(f.Types), streams: set(f.Streams), severity: set(f.Severity), projections: set(f.Projections)}
}

func (m *matcher) match(c *projections.Change) bool {
	return in(m.types, c.Event.Type) && in(m.streams, c.Event.StreamID) &&
		in(m.severity, c.Severity) && in(m.projections, c.Projection)
}

func in(set map[string]struct{}, v string) bool {
	if set == nil {
		return true
	}
	_, ok := set[v]
	return ok
}

// Matches reports whether c passes f (f is used as given; see Normalize).
func (f Filter) Matches(c projections.Change) bool { return newMatcher(f).match(&c) }
