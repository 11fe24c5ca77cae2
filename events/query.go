package events

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/socplatform/soc/schemas/problem"
)

// EventQuery selects events of the whole store for the audit trail (GET /v1/events). Every set
// field narrows the result; results are in global-position order after After (or, Backwards,
// before Before).
//
// After and Before bound the positions whichever the direction (both may be set: a closed
// range); Backwards only decides the order and therefore which end a page starts from. To page,
// pass the last returned position as After (forwards) or Before (backwards); an empty page is the
// end. A store never returns an event above what ReadAll may return at the time of the query.
type EventQuery struct {
	Types         []string  // any of these event types (at most MaxQueryTypes)
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

// MaxQueryTypes bounds how many event types one query may name.
const MaxQueryTypes = 100

// EventQuerier is implemented by stores that can search their events (indexes on type, actor,
// correlation id and recorded time). The store adapters implement it; Guarded passes it through.
type EventQuerier interface {
	QueryEvents(ctx context.Context, q EventQuery) ([]Envelope, error)
}

// ErrQueryUnsupported is returned (wrapped, naming the store) by Guarded.QueryEvents when the
// wrapped store does not implement EventQuerier. Its Kind is problem.KindUnavailable: the deployment
// cannot answer audit queries, whatever the request.
var ErrQueryUnsupported error = &kindError{"the event store cannot query events", problem.KindUnavailable}

// Normalize validates q and returns it with its defaults applied: Limit within 1..MaxQueryLimit,
// Types without duplicates or empty names, and From and To rounded up to the microsecond (the
// stores keep recorded_at in microseconds, so the window keeps exactly the events it should).
// Every problem is reported, each as an *InvalidEventError (Index -1) naming its field.
func (q EventQuery) Normalize() (EventQuery, error) {
	var errs []error
	bad := func(name, reason string) {
		errs = append(errs, &InvalidEventError{Index: -1, Name: name, Reason: reason})
	}
	if q.After < 0 {
		bad("after", "must not be negative")
	}
	if q.Before < 0 {
		bad("before", "must not be negative")
	}
	if len(q.Types) > MaxQueryTypes {
		bad("types", fmt.Sprintf("names %d event types, at most %d are allowed", len(q.Types), MaxQueryTypes))
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		bad("to", "is before from")
	}
	if len(errs) > 0 {
		return q, errors.Join(errs...)
	}
	if q.Limit <= 0 || q.Limit > MaxQueryLimit {
		q.Limit = MaxQueryLimit
	}
	if len(q.Types) > 0 {
		types := make([]string, 0, len(q.Types))
		seen := make(map[string]bool, len(q.Types))
		for _, t := range q.Types {
			if t != "" && !seen[t] {
				seen[t] = true
				types = append(types, t)
			}
		}
		if len(types) == 0 { // only empty names: nothing can match; keep a name no event has
			types = []string{""}
		}
		q.Types = types
	}
	q.From, q.To = ceilMicro(q.From), ceilMicro(q.To)
	return q, nil
}

// ceilMicro rounds t up to a whole microsecond, in UTC; the zero time stays zero.
func ceilMicro(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	t = t.UTC()
	if r := t.Truncate(time.Microsecond); !r.Equal(t) {
		return r.Add(time.Microsecond)
	}
	return t
}

// Matches reports whether e satisfies every filter of q (positions and time window included).
// It is the reference semantics: stores evaluate the same conditions in their query languages.
func (q EventQuery) Matches(e *Envelope) bool {
	if len(q.Types) > 0 {
		found := false
		for _, t := range q.Types {
			if t == e.Type {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	switch {
	case q.Actor != "" && e.Actor != q.Actor,
		q.CorrelationID != "" && e.CorrelationID != q.CorrelationID,
		q.StreamID != "" && e.StreamID != q.StreamID,
		!q.From.IsZero() && e.RecordedAt.Before(q.From),
		!q.To.IsZero() && !e.RecordedAt.Before(q.To),
		e.GlobalPosition <= q.After,
		q.Before > 0 && e.GlobalPosition >= q.Before:
		return false
	}
	return true
}

// QueryEvents passes the query to the wrapped store and upcasts the result, as ReadAll does.
// A store that cannot query answers ErrQueryUnsupported (wrapped, naming the store's type).
func (g *Guarded) QueryEvents(ctx context.Context, q EventQuery) ([]Envelope, error) {
	qr, ok := g.EventStore.(EventQuerier)
	if !ok {
		return nil, fmt.Errorf("%w: %T does not implement events.EventQuerier", ErrQueryUnsupported, g.EventStore)
	}
	evs, err := qr.QueryEvents(ctx, q)
	if err != nil {
		return nil, err
	}
	return evs, g.upcastAll(evs)
}

var _ EventQuerier = (*Guarded)(nil)
