package readmodel

import (
	"errors"
	"fmt"
)

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("readmodel: not found")

// QueryError reports a query parameter the read model cannot honour (the query API answers 400
// naming Param).
type QueryError struct {
	Param  string // the API parameter name: sort, limit, cursor, …
	Reason string
}

func (e *QueryError) Error() string { return fmt.Sprintf("query parameter %s: %s", e.Param, e.Reason) }
