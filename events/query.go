package events

import (
	"context"
	"time"
)

// EventQuery selects events of the whole store for the audit trail (GET /v1/events). Every set
// field narrows the result; results are in global-position order after After (or, Backwards,
// before Before).
type EventQuery struct {
	Types         []string  // any of these event types
	Actor         string    // exact
	CorrelationID string    // exact
	StreamID      string    // exact
	From          time.Time // recorded at or after
	To            time.Time // recorded before
	After         int64     // forwards: positions above After (0: from the start)
	Before        int64     // backwards: positions below Before (0: from the head)
	Backwards     bool
	Limit         int // default and maximum: MaxQueryLimit
}

// MaxQueryLimit bounds one audit query page.
const MaxQueryLimit = 1000

// EventQuerier is implemented by stores that can search their events (indexes on type, actor,
// correlation id and recorded time). The store adapters implement it; Guarded passes it through.
type EventQuerier interface {
	QueryEvents(ctx context.Context, q EventQuery) ([]Envelope, error)
}
