package querykit

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/problem"
)

// AsOfHeader is set on point-in-time answers: the as_of time the view was folded at.
const AsOfHeader = "X-As-Of"

// asOfSkew tolerates clocks a little ahead of the server's.
const asOfSkew = 5 * time.Second

// GetAt is Get for a row folded from one stream (id), owned by a team (an asset, a finding):
// asked for as_of, it folds the stream as it was then with fold instead of reading the read
// model. Either way a stream the principal's teams do not own (now) is 404, answered as a
// missing one is.
func GetAt[T any](k *Kit, w http.ResponseWriter, r *http.Request, p *Params, res Resource[T], id string,
	fold func([]events.Envelope) (*T, error), read func() (*T, error)) {
	if p.Has("as_of") {
		pointInTime(k, w, r, p, id, fold)
		return
	}
	get(k, w, r, p, res, id, read)
}

// AsOf parses the as_of parameter: RFC 3339, not in the future.
func (p *Params) AsOf(now time.Time) time.Time {
	t := p.Timestamp("as_of")
	if !t.IsZero() && t.After(now.Add(asOfSkew)) {
		p.Add("as_of", "is in the future; a point-in-time read shows the past")
		return time.Time{}
	}
	return t
}

// pointInTime answers GET /v1/assets/{id}?as_of= and GET /v1/findings/{id}?as_of=: the stream
// as it was at as_of, folded into the read model's row by fold (nil: 501, not configured). The
// event store is ahead of every read model, so a min_position is satisfied by definition (it
// is still parsed, for its errors).
func pointInTime[T any](k *Kit, w http.ResponseWriter, r *http.Request, p *Params, id string, fold func([]events.Envelope) (*T, error)) {
	at := p.AsOf(k.cfg.Now())
	_ = p.consistency(k.cfg.MaxWait)
	if err := p.Err(); err != nil {
		k.Fail(w, r, err)
		return
	}
	if fold == nil {
		k.Fail(w, r, problem.NotImplemented("point-in-time reads (as_of) are not configured on this node"))
		return
	}
	// Ownership now, not as of then (see scope.go); out of scope reads as a stream that had no
	// events at as_of.
	if !k.owned(w, r, id, problem.NotFound("%s had no events at %s", id, at.Format(time.RFC3339Nano))) {
		return
	}
	var evs []events.Envelope
	from := int64(1)
	for {
		page, err := k.cfg.Store.ReadStream(r.Context(), id, events.ReadStreamOptions{From: from, Limit: events.MaxReadLimit, AsOf: at})
		if err != nil {
			if errors.Is(err, events.ErrStreamNotFound) {
				err = problem.NotFound("%s had no events at %s", id, at.Format(time.RFC3339Nano))
			}
			k.Fail(w, r, err)
			return
		}
		evs = append(evs, page...)
		if len(page) < events.MaxReadLimit {
			break
		}
		from = page[len(page)-1].Version + 1
	}
	if len(evs) == 0 {
		k.Fail(w, r, problem.NotFound("%s had no events at %s", id, at.Format(time.RFC3339Nano)))
		return
	}
	v, err := fold(evs)
	if err == nil && v == nil {
		err = problem.NotFound("%s did not exist at %s", id, at.Format(time.RFC3339Nano))
	}
	if err != nil {
		k.Fail(w, r, err)
		return
	}
	// The row, with "as_of" added so that a stored copy still says it is a view of the past.
	b, err := json.Marshal(v)
	if err != nil {
		k.Fail(w, r, err)
		return
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		k.Fail(w, r, err)
		return
	}
	stamp := at.Format(time.RFC3339Nano)
	fields["as_of"], _ = json.Marshal(stamp)
	w.Header().Set(AsOfHeader, stamp)
	WriteJSON(w, r, fields)
}
