package queryapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/problem"
)

// AsOfHeader is set on point-in-time answers: the as_of time the view was folded at.
const AsOfHeader = "X-As-Of"

// asOfSkew tolerates clocks a little ahead of the server's.
const asOfSkew = 5 * time.Second

// Stream read bounds.
const (
	DefaultStreamLimit = 100
	MaxStreamLimit     = 1000
	DefaultAuditLimit  = 100
)

// asOf parses the as_of parameter: RFC 3339, not in the future.
func (p *params) asOf(now time.Time) time.Time {
	t := p.timestamp("as_of")
	if !t.IsZero() && t.After(now.Add(asOfSkew)) {
		p.add("as_of", "is in the future; a point-in-time read shows the past")
		return time.Time{}
	}
	return t
}

// pointInTime answers GET /v1/assets/{id}?as_of= and GET /v1/findings/{id}?as_of=: the stream
// as it was at as_of, folded into the read model's row. The event store is ahead of every read
// model, so a min_position is satisfied by definition (it is still parsed, for its errors).
func pointInTime[T any](a *API, w http.ResponseWriter, r *http.Request, p *params, id string, fold func([]events.Envelope) (*T, error)) {
	at := p.asOf(a.cfg.Now())
	_ = p.consistency(a.cfg.MaxWait)
	if err := p.err(); err != nil {
		a.fail(w, r, err)
		return
	}
	if fold == nil {
		a.fail(w, r, problem.NotImplemented("point-in-time reads (as_of) are not configured on this node"))
		return
	}
	var evs []events.Envelope
	from := int64(1)
	for {
		page, err := a.cfg.Store.ReadStream(r.Context(), id, events.ReadStreamOptions{From: from, Limit: events.MaxReadLimit, AsOf: at})
		if err != nil {
			if errors.Is(err, events.ErrStreamNotFound) {
				err = problem.NotFound("%s had no events at %s", id, at.Format(time.RFC3339Nano))
			}
			a.fail(w, r, err)
			return
		}
		evs = append(evs, page...)
		if len(page) < events.MaxReadLimit {
			break
		}
		from = page[len(page)-1].Version + 1
	}
	if len(evs) == 0 {
		a.fail(w, r, problem.NotFound("%s had no events at %s", id, at.Format(time.RFC3339Nano)))
		return
	}
	v, err := fold(evs)
	if err == nil && v == nil {
		err = problem.NotFound("%s did not exist at %s", id, at.Format(time.RFC3339Nano))
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// The row, with "as_of" added so that a stored copy still says it is a view of the past.
	b, err := json.Marshal(v)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		a.fail(w, r, err)
		return
	}
	stamp := at.Format(time.RFC3339Nano)
	fields["as_of"], _ = json.Marshal(stamp)
	w.Header().Set(AsOfHeader, stamp)
	writeJSON(w, r, fields)
}

// streamPage is a page of a stream's events or of the audit trail.
type streamPage struct {
	Items []events.Envelope `json:"items"`
	Next  string            `json:"next,omitempty"`
}

// direction parses direction=forwards|backwards.
func (p *params) direction() bool {
	return p.enum("direction", []string{"forwards", "backwards"}) == "backwards"
}

// streamEvents answers GET /v1/streams/{stream_id}/events: a page of one stream, forwards from
// a version (default 1) or backwards from one (default the last), optionally as of a time.
func (a *API) streamEvents(w http.ResponseWriter, r *http.Request) {
	p := newParams(r, "GET /v1/streams/{stream_id}/events")
	id := p.streamID("stream_id", r.PathValue("stream_id"), "")
	from, _ := p.integer("from", 1, 1<<62)
	backwards := p.direction()
	limit := p.limit(DefaultStreamLimit, MaxStreamLimit)
	at := p.asOf(a.cfg.Now())
	if err := p.err(); err != nil {
		a.fail(w, r, err)
		return
	}
	evs, err := a.cfg.Store.ReadStream(r.Context(), id, events.ReadStreamOptions{From: from, Backwards: backwards, Limit: limit, AsOf: at})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	resp := streamPage{Items: evs}
	if resp.Items == nil {
		resp.Items = []events.Envelope{}
	}
	if n := len(evs); n == limit {
		last := evs[n-1].Version
		switch {
		case !backwards:
			resp.Next = nextURL(r.URL, p.q, map[string]string{"from": itoa(last + 1)})
		case last > 1:
			resp.Next = nextURL(r.URL, p.q, map[string]string{"from": itoa(last - 1)})
		}
	}
	writeJSON(w, r, resp)
}

// auditEvents answers GET /v1/events: the audit trail over the whole store.
func (a *API) auditEvents(w http.ResponseWriter, r *http.Request) {
	p := newParams(r, "GET /v1/events")
	var q events.EventQuery
	q.Types = p.list("type", func(v string) string {
		if !eventTypeRe.MatchString(v) {
			return fmt.Sprintf("%q is not an event type name (PascalCase, such as FindingOpened)", v)
		}
		return ""
	})
	q.Actor = p.text("actor", maxValueLen)
	q.CorrelationID = p.text("correlation_id", maxValueLen)
	if v, ok := p.one("stream_id"); ok {
		q.StreamID = p.streamID("stream_id", v, "")
	}
	q.From = p.timestamp("from")
	q.To = p.timestamp("to")
	p.timeRange("from", q.From, "to", q.To)
	q.Backwards = p.direction()
	// after and before bound the positions in either direction (both: a closed range);
	// direction decides the order, and so which bound the next page moves.
	q.After, _ = p.integer("after", 0, 1<<62)
	q.Before, _ = p.integer("before", 1, 1<<62)
	if q.Before > 0 && q.After >= q.Before-1 {
		p.add("after", "must be below before - 1: no position lies between them")
	}
	q.Limit = p.limit(DefaultAuditLimit, events.MaxQueryLimit)
	if err := p.err(); err != nil {
		a.fail(w, r, err)
		return
	}
	if a.cfg.Querier == nil {
		a.fail(w, r, problem.NotImplemented("the audit trail is not available: this node's event store cannot search its events"))
		return
	}
	evs, err := a.cfg.Querier.QueryEvents(r.Context(), q)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	resp := streamPage{Items: evs}
	if resp.Items == nil {
		resp.Items = []events.Envelope{}
	}
	if n := len(evs); n == q.Limit {
		last := evs[n-1].GlobalPosition
		if q.Backwards {
			if last > 1 {
				resp.Next = nextURL(r.URL, p.q, map[string]string{"before": itoa(last)})
			}
		} else {
			resp.Next = nextURL(r.URL, p.q, map[string]string{"after": itoa(last)})
		}
	}
	writeJSON(w, r, resp)
}
