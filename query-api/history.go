package queryapi

import (
	"cmp"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections/ownership"
	"github.com/socplatform/soc/query-api/querykit"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/problem"
)

// AsOfHeader is set on point-in-time answers: the as_of time the view was folded at.
const AsOfHeader = querykit.AsOfHeader

// eventTypeRe: event types are PascalCase past tense (FindingOpened).
var eventTypeRe = regexp.MustCompile(`^[A-Z][A-Za-z0-9]{1,99}$`)

// validActor: an envelope's actor — "user:<id>", "token:<id>", "system:<name>", "anonymous", or
// a name that older events and operator commands recorded — is visible characters without
// spaces (at most 256 bytes, the store's bound, which Params.One checks); a kind needs its id.
func validActor(v string) bool {
	if strings.IndexFunc(v, func(c rune) bool { return unicode.IsSpace(c) || unicode.IsControl(c) || c == utf8.RuneError }) >= 0 {
		return false
	}
	kind, id, found := strings.Cut(v, ":")
	return !found || id != "" || (kind != string(access.KindUser) && kind != string(access.KindToken) && kind != string(access.KindSystem))
}

const actorWant = "an actor such as user:<id>, token:<id>, system:<name> or anonymous (no spaces, at most 256 bytes)"

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

// Team scoping of the event store's reads. A principal with audit:read or teams:all reads the
// whole store; any other (a remediator) only the streams its teams own now
// (projections/ownership: an asset's stream by its owner team, a finding's by its asset's).
// Every other stream — scans, CVEs, notifications, sagas, identity, nodes — is owned by no team
// and invisible to it: GET /v1/streams/{id}/events answers 404 exactly as for a stream that does
// not exist, and GET /v1/events leaves its events out (see auditEvents). A request without a
// principal is unscoped (see querykit).

// eventScope is the scope of r's principal over the event store: nil (everything) with
// audit:read or teams:all or without a principal, else the teams whose streams it sees.
func eventScope(r *http.Request) ownership.Scope {
	p, ok := access.From(r.Context())
	if !ok || p.Can(access.AuditRead) {
		return nil
	}
	return querykit.ScopeOf(r.Context())
}

// ownedStreams returns those of ids the scope owns (all with a nil scope).
func (a *API) ownedStreams(r *http.Request, s ownership.Scope, ids []string) ([]string, error) {
	if s == nil {
		return ids, nil
	}
	return a.cfg.Assets.OwnedStreams(r.Context(), s, ids)
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
	if owned, err := a.ownedStreams(r, eventScope(r), []string{id}); err != nil || len(owned) == 0 {
		a.kit.Fail(w, r, cmp.Or(err, events.ErrStreamNotFound)) // what a stream that does not exist answers
		return
	}
	evs, err := a.cfg.Store.ReadStream(r.Context(), id, events.ReadStreamOptions{From: from, Backwards: backwards, Limit: limit, AsOf: at})
	a.writeEvents(w, r, p, evs, err, fullPage(evs, limit), func(last events.Envelope) (string, int64) {
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
	if v, ok := p.One("actor"); ok {
		if validActor(v) {
			q.Actor = v
		} else {
			p.Add("actor", "must be "+actorWant)
		}
	}
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
	var evs []events.Envelope
	var cont *events.Envelope
	var err error
	if s := eventScope(r); s != nil {
		evs, cont, err = a.scopedEvents(r, q, s)
	} else {
		evs, err = a.cfg.Querier.QueryEvents(r.Context(), q)
		cont = fullPage(evs, q.Limit)
	}
	a.writeEvents(w, r, p, evs, err, cont, func(last events.Envelope) (string, int64) {
		switch {
		case !q.Backwards:
			return "after", last.GlobalPosition
		case last.GlobalPosition > 1:
			return "before", last.GlobalPosition
		}
		return "", 0
	})
}

// Bounds of a scoped audit page: it reads the store in chunks of scopedChunk events and keeps
// the events of owned streams, for at most maxScopedChunks chunks (variables for the tests).
var (
	scopedChunk     = events.MaxQueryLimit
	maxScopedChunks = 10
)

// scopedEvents runs q for a scoped principal: the events of the streams s owns, up to q.Limit
// of them. The store cannot join the read models, so it reads chunks of the trail in q's order
// and keeps the owned streams' events, reading on until the page is full, the trail ends, or
// maxScopedChunks chunks were read (so a principal whose teams own little cannot make one
// request scan the whole store). In that last case the page holds fewer than q.Limit events
// and cont is the last event read: the next page goes on after it.
func (a *API) scopedEvents(r *http.Request, q events.EventQuery, s ownership.Scope) (evs []events.Envelope, cont *events.Envelope, err error) {
	if q.StreamID != "" {
		// One stream: all of it or nothing (an empty page, as for a stream with no events).
		if owned, err := a.ownedStreams(r, s, []string{q.StreamID}); err != nil || len(owned) == 0 {
			return nil, nil, err
		}
		evs, err = a.cfg.Querier.QueryEvents(r.Context(), q)
		return evs, fullPage(evs, q.Limit), err
	}
	limit := q.Limit
	q.Limit = scopedChunk
	for range maxScopedChunks {
		chunk, err := a.cfg.Querier.QueryEvents(r.Context(), q)
		if err != nil || len(chunk) == 0 {
			return evs, nil, err
		}
		ids := make([]string, 0, len(chunk))
		for _, e := range chunk {
			ids = append(ids, e.StreamID)
		}
		slices.Sort(ids)
		owned, err := a.ownedStreams(r, s, slices.Compact(ids))
		if err != nil {
			return nil, nil, err
		}
		for i := range chunk {
			if _, ok := slices.BinarySearch(owned, chunk[i].StreamID); !ok {
				continue
			}
			if evs = append(evs, chunk[i]); len(evs) == limit {
				return evs, &evs[len(evs)-1], nil
			}
		}
		last := chunk[len(chunk)-1].GlobalPosition
		if len(chunk) < q.Limit {
			return evs, nil, nil // the trail ends here
		}
		if q.Backwards {
			q.Before = last
		} else {
			q.After = last
		}
		if q.Before > 0 && q.After >= q.Before-1 {
			return evs, nil, nil // no position left between the bounds
		}
	}
	last := q.After
	if q.Backwards {
		last = q.Before
	}
	return evs, &events.Envelope{GlobalPosition: last}, nil
}

// fullPage is the event a next page continues after when evs is a full page (limit events),
// else nil (there is none).
func fullPage(evs []events.Envelope, limit int) *events.Envelope {
	if len(evs) == limit && limit > 0 {
		return &evs[len(evs)-1]
	}
	return nil
}

// writeEvents answers a page of events, or err when reading it failed. When cont is set the
// page links the next one: next names the parameter that moves past cont, and its value ("":
// the page reached the start, there is none).
func (a *API) writeEvents(w http.ResponseWriter, r *http.Request, p *querykit.Params, evs []events.Envelope, err error,
	cont *events.Envelope, next func(last events.Envelope) (string, int64)) {
	if err != nil {
		a.kit.Fail(w, r, err)
		return
	}
	resp := streamPage{Items: evs}
	if resp.Items == nil {
		resp.Items = []events.Envelope{}
	}
	if cont != nil {
		if name, v := next(*cont); name != "" {
			resp.Next = p.NextURL(map[string]string{name: strconv.FormatInt(v, 10)})
		}
	}
	querykit.WriteJSON(w, r, resp)
}
