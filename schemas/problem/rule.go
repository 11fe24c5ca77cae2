package problem

import "fmt"

// RuleError is a command refused by a domain rule (a missing justification, an unknown
// severity, …): rejected (422), naming the offending command field. The aggregates of several
// contexts refuse commands this way, and their handlers and tests match the one type.
type RuleError struct {
	Path   string // JSON pointer of the offending command field
	Reason string
}

func (e *RuleError) Error() string { return e.Reason }
func (e *RuleError) Kind() Kind    { return KindRejected }
func (e *RuleError) Field() string { return e.Path }

// Rule returns a RuleError on path whose reason is formatted from format and a.
func Rule(path, format string, a ...any) *RuleError {
	return &RuleError{Path: path, Reason: fmt.Sprintf(format, a...)}
}
