package queryapi

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/query-api/querykit"
	"github.com/socplatform/soc/schemas/problem"
)

// AsOfHeader is set on point-in-time answers: the as_of time the view was folded at.
const AsOfHeader = querykit.AsOfHeader

// eventTypeRe: event types are PascalCase past tense (FindingOpened).
var eventTypeRe = regexp.MustCompile(`^[A-Z][A-Za-z0-9]{1,99}$`)

// Stream read bounds.
const (
	DefaultStreamLimit = 100
	MaxStreamLimit     = 1000
	DefaultAuditLimit  = 100
)

// streamPage is a page of a stream's events or of the audit trail.
type streamPage struct {
	Items []events.Envelope `json:"items"`
	Next  string            `json:"next,omitempty"`
}

// direction parses direction=forwards|backwards.
func direction(p *querykit.Params) bool {
	return p.Enum("direction", []string{"forwards", "backwards"}) == "backwards"
}

// streamEvents answers GET /v1/streams/{stream_id}/events: a page of one stream, forwards from
// a version (default 1) or backwards from one (default the last), optionally as of a time.
func (a *API) streamEvents(w http.ResponseWriter, r *http.Request) {
	p := querykit.NewParams(r, storeRoutes[0])
	id := p.StreamID("stream_id", r.PathValue("stream_id"), "")
	from, _ := p.Integer("from", 1, 1<<62)
	backwards := direction(p)
	limit := p.Limit(DefaultStreamLimit, MaxStreamLimit)
	at := p.AsOf(a.kit.Now())
	if err := p.Err(); err != nil {
		a.kit.Fail(w, r, err)
		return
	}
	evs, err := a.cfg.Store.ReadStream(r.Context(), id, events.ReadStreamOptions{From: from, Backwards: backwards, Limit: limit, AsOf: at})
	a.writeEvents(w, r, p, evs, err, limit, func(last events.Envelope) (string, int64) {
		switch {
		case !backwards:
			return "from", last.Version + 1
		case last.Version > 1:
			return "from", last.Version - 1
		}
		return "", 0
	})
}

// auditEvents answers GET /v1/events: the audit trail over the whole store.
func (a *API) auditEvents(w http.ResponseWriter, r *http.Request) {
	p := querykit.NewParams(r, storeRoutes[1])
	var q events.EventQuery
	q.Types = p.List("type", func(v string) string {
		if !eventTypeRe.MatchString(v) {
			return fmt.Sprintf("%q is not an event type name (PascalCase, such as FindingOpened)", v)
		}
		return ""
	})
	q.Actor = p.Text("actor", querykit.MaxValueLen)
	q.CorrelationID = p.Text("correlation_id", querykit.MaxValueLen)
	if v, ok := p.One("stream_id"); ok {
		q.StreamID = p.StreamID("stream_id", v, "")
	}
	q.From = p.Timestamp("from")
	q.To = p.Timestamp("to")
	p.TimeRange("from", q.From, "to", q.To)
	q.Backwards = direction(p)
	// after and before bound the positions in either direction (both: a closed range);
	// direction decides the order, and so which bound the next page moves.
	q.After, _ = p.Integer("after", 0, 1<<62)
	q.Before, _ = p.Integer("before", 1, 1<<62)
	if q.Before > 0 && q.After >= q.Before-1 {
		p.Add("after", "must be below before - 1: no position lies between them")
	}
	q.Limit = p.Limit(DefaultAuditLimit, events.MaxQueryLimit)
	if err := p.Err(); err != nil {
		a.kit.Fail(w, r, err)
		return
	}
	if a.cfg.Querier == nil {
		a.kit.Fail(w, r, problem.NotImplemented("the audit trail is not available: this node's event store cannot search its events"))
		return
	}
	evs, err := a.cfg.Querier.QueryEvents(r.Context(), q)
	a.writeEvents(w, r, p, evs, err, q.Limit, func(last events.Envelope) (string, int64) {
		switch {
		case !q.Backwards:
			return "after", last.GlobalPosition
		case last.GlobalPosition > 1:
			return "before", last.GlobalPosition
		}
		return "", 0
	})
}

// writeEvents answers a page of events, or err when reading it failed. A full page (limit
// events) links the next one: next names the parameter that moves past last, and its value
// ("": the page reached the start, there is none).
func (a *API) writeEvents(w http.ResponseWriter, r *http.Request, p *querykit.Params, evs []events.Envelope, err error,
	limit int, next func(last events.Envelope) (string, int64)) {
	if err != nil {
		a.kit.Fail(w, r, err)
		return
	}
	resp := streamPage{Items: evs}
	if resp.Items == nil {
		resp.Items = []events.Envelope{}
	}
	if n := len(evs); n == limit {
		if name, v := next(evs[n-1]); name != "" {
			resp.Next = p.NextURL(map[string]string{name: strconv.FormatInt(v, 10)})
		}
	}
	querykit.WriteJSON(w, r, resp)
}
