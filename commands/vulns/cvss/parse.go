package cvss

import (
	"slices"
	"strings"
)

// metricDef describes one metric of a vector: its abbreviated name, its allowed
// values and whether the vector must carry it.
type metricDef struct {
	name      string
	values    []string
	mandatory bool
}

// metricSet is the table of metrics of one CVSS version, in the specification's
// order (the order String writes them in).
type metricSet struct {
	defs  []metricDef
	index map[string]int
}

func newMetricSet(defs []metricDef) *metricSet {
	s := &metricSet{defs: defs, index: make(map[string]int, len(defs))}
	for i, d := range defs {
		if _, dup := s.index[d.name]; dup {
			panic("cvss: metric defined twice: " + d.name)
		}
		s.index[d.name] = i
	}
	return s
}

// parse reads the "/"-separated NAME:VALUE components of body into vals, where
// vals[i] is 1 + the index of the value of defs[i] in defs[i].values and 0 means
// the metric is absent. hasBody is false when the vector was the bare prefix.
// Metrics may come in any order; each may appear once.
func (s *metricSet) parse(vector, body string, hasBody bool, vals []uint8) *Error {
	next := 0
	for hasBody {
		comp := body
		if i := strings.IndexByte(body, '/'); i >= 0 {
			comp, body = body[:i], body[i+1:]
		} else {
			hasBody = false
		}
		if comp == "" {
			return &Error{Vector: vector, Reason: ReasonEmptyComponent}
		}
		colon := strings.IndexByte(comp, ':')
		if colon < 0 {
			return &Error{Vector: vector, Metric: comp, Reason: ReasonMalformedMetric}
		}
		name, value := comp[:colon], comp[colon+1:]
		// Vectors usually list metrics in the specification's order: try the metric
		// after the previous one before the map.
		idx := next
		if idx >= len(s.defs) || s.defs[idx].name != name {
			var ok bool
			if idx, ok = s.index[name]; !ok {
				return &Error{Vector: vector, Metric: name, Value: value, Reason: ReasonUnknownMetric}
			}
		}
		next = idx + 1
		def := &s.defs[idx]
		v := -1
		for j, allowed := range def.values {
			if allowed == value {
				v = j
				break
			}
		}
		if v < 0 {
			return &Error{Vector: vector, Metric: name, Value: value, Reason: ReasonUnknownValue}
		}
		if vals[idx] != 0 {
			return &Error{Vector: vector, Metric: name, Value: value, Reason: ReasonDuplicateMetric}
		}
		vals[idx] = uint8(v + 1)
	}
	for i := range s.defs {
		if s.defs[i].mandatory && vals[i] == 0 {
			return &Error{Vector: vector, Metric: s.defs[i].name, Reason: ReasonMissingMandatory}
		}
	}
	return nil
}

// format writes prefix followed by the present metrics in the specification's order.
func (s *metricSet) format(prefix string, vals []uint8) string {
	var b strings.Builder
	b.Grow(len(prefix) + 8*len(vals))
	b.WriteString(prefix)
	for i, v := range vals {
		if v == 0 {
			continue
		}
		b.WriteByte('/')
		b.WriteString(s.defs[i].name)
		b.WriteByte(':')
		b.WriteString(s.defs[i].values[v-1])
	}
	return b.String()
}

// value returns the value string of metric i, or "" when absent.
func (s *metricSet) value(vals []uint8, i int) string {
	if vals[i] == 0 {
		return ""
	}
	return s.defs[i].values[vals[i]-1]
}

// parseAs parses and scores a vector of the version V scores: V's parse refuses the others.
func parseAs[V any, P interface {
	*V
	parse(vector string) *Error
}](vector string) (*V, error) {
	v := P(new(V))
	if err := v.parse(vector); err != nil {
		return nil, err
	}
	return v, nil
}

// parseVector reads vector into vals when its "CVSS:x.y" prefix is one of prefixes (the
// versions the set's metrics belong to), and returns the index of that prefix.
func (s *metricSet) parseVector(vector string, vals []uint8, prefixes ...string) (int, *Error) {
	if vector == "" {
		return 0, &Error{Vector: vector, Reason: ReasonEmptyVector}
	}
	prefix, body, hasBody := splitPrefix(vector)
	version := slices.Index(prefixes, prefix)
	if version < 0 {
		return 0, &Error{Vector: vector, Value: prefix, Reason: ReasonBadPrefix}
	}
	return version, s.parse(vector, body, hasBody, vals)
}

// splitPrefix separates "CVSS:x.y" from the rest of the vector.
func splitPrefix(vector string) (prefix, body string, hasBody bool) {
	if i := strings.IndexByte(vector, '/'); i >= 0 {
		return vector[:i], vector[i+1:], true
	}
	return vector, "", false
}
