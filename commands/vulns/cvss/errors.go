package cvss

import "fmt"

// Error reports why a vector string was refused. Metric names the offending metric
// (for example "AV") and Value the value found for it, if any; Metric is "" when the
// problem is the prefix or the overall format (empty vector, empty component).
type Error struct {
	Vector string `json:"vector"`
	Metric string `json:"metric"`
	Value  string `json:"value,omitempty"`
	Reason string `json:"reason"`
}

// Reasons used in Error.Reason. They are stable strings: callers may compare them.
const (
	ReasonEmptyVector      = "empty vector"
	ReasonBadPrefix        = "unknown prefix, want CVSS:3.0, CVSS:3.1 or CVSS:4.0"
	ReasonEmptyComponent   = "empty metric component (stray or trailing '/')"
	ReasonMalformedMetric  = "malformed metric, want NAME:VALUE"
	ReasonUnknownMetric    = "unknown metric"
	ReasonUnknownValue     = "unknown value"
	ReasonDuplicateMetric  = "duplicate metric"
	ReasonMissingMandatory = "missing mandatory metric"
)

func (e *Error) Error() string {
	switch {
	case e.Metric == "" && e.Value == "":
		return fmt.Sprintf("cvss: invalid vector %q: %s", e.Vector, e.Reason)
	case e.Metric == "":
		return fmt.Sprintf("cvss: invalid vector %q: %q: %s", e.Vector, e.Value, e.Reason)
	case e.Value == "" && e.Reason == ReasonMissingMandatory:
		return fmt.Sprintf("cvss: invalid vector %q: metric %s: %s", e.Vector, e.Metric, e.Reason)
	default:
		return fmt.Sprintf("cvss: invalid vector %q: metric %s value %q: %s", e.Vector, e.Metric, e.Value, e.Reason)
	}
}
