package domain

import (
	"fmt"

	"github.com/socplatform/soc/schemas/problem"
)

// StateError refuses a command the aggregate's current state does not allow (409): disabling a
// disabled user, revoking a revoked token.
type StateError struct {
	What, ID, Reason string
}

func (e *StateError) Error() string      { return fmt.Sprintf("%s %s: %s", e.What, e.ID, e.Reason) }
func (e *StateError) Kind() problem.Kind { return problem.KindConflict }

// ExistsError refuses to create what exists already (409).
type ExistsError struct{ What, ID string }

func (e *ExistsError) Error() string      { return fmt.Sprintf("%s %s exists already", e.What, e.ID) }
func (e *ExistsError) Kind() problem.Kind { return problem.KindConflict }

// rule is a 422 naming the field the rule is about.
func rule(path, format string, a ...any) error { return problem.Rule(path, format, a...) }
