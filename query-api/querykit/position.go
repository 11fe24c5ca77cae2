package querykit

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/socplatform/soc/schemas/problem"
)

// Read positions (issue 14, contract 2). Every GET the query API answers carries
// ReadPositionHeader: the global position up to which the read models had applied every event
// when the answer was read. It is read before the answer's query runs, so the answer is never
// older than its header says: a cache that keeps the answer tagged with it (the gateway's)
// serves it only while the read models have not moved past the tag. GET /v1/read-position lets
// such a cache learn when they move without polling: a long poll answering as soon as the
// position passes the one the caller knows.

// ReadPositionHeader is the response header of every query GET.
const ReadPositionHeader = "Soc-Read-Position"

// ReadPositionRoute is the long poll's pattern.
const ReadPositionRoute = "GET /v1/read-position"

const (
	// DefaultPositionWait is how long GET /v1/read-position waits without a wait parameter.
	DefaultPositionWait = 25 * time.Second
	// MaxPositionWait bounds its wait parameter: under the usual 60 s proxy and server timeouts.
	MaxPositionWait = 30 * time.Second
	// positionPause spaces the checks of a long poll whose wait woke without the position
	// moving (a Waiter may report a position reached that the read models passed over).
	positionPause = 20 * time.Millisecond
)

// Positioner reports the global position up to which the read models have applied every
// event. It must never report more than a read that starts afterwards sees.
type Positioner interface {
	ReadPosition(ctx context.Context) (int64, error)
}

// Stamped returns mux with every GET handler registered on it answering ReadPositionHeader;
// without a Positioner it is mux itself.
func (k *Kit) Stamped(mux Mux) Mux {
	if k.cfg.Position == nil {
		return mux
	}
	return stampedMux{mux, k}
}

type stampedMux struct {
	Mux
	k *Kit
}

func (m stampedMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			pos, err := m.k.cfg.Position.ReadPosition(r.Context())
			if err != nil {
				m.k.Fail(w, r, err)
				return
			}
			w.Header().Set(ReadPositionHeader, strconv.FormatInt(pos, 10))
		}
		h(w, r)
	})
}

// positionAnswer is GET /v1/read-position's body.
type positionAnswer struct {
	Position int64 `json:"position"`
}

// ReadPosition serves GET /v1/read-position?after=N&wait=D: the read position as soon as it
// is above N, or when D (default DefaultPositionWait, at most MaxPositionWait) has passed or
// the node begins to shut down (then it may equal N). Without after it answers at once.
func (k *Kit) ReadPosition(w http.ResponseWriter, r *http.Request) {
	p := NewParams(r, ReadPositionRoute)
	after := int64(-1)
	if n, ok := p.Integer("after", 0, math.MaxInt64); ok {
		after = n
	}
	wait := DefaultPositionWait
	if v, ok := p.One("wait"); ok {
		wait = parseWait(p, v)
	}
	if err := p.Err(); err != nil {
		k.Fail(w, r, err)
		return
	}
	if k.cfg.Position == nil {
		k.Fail(w, r, problem.Unavailable(0, "no read model runs on this node, so it has no read position"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	if k.cfg.Stopping != nil {
		stop := context.AfterFunc(k.cfg.Stopping, cancel)
		defer stop()
	}
	pos, err := k.positionAbove(ctx, after)
	if r.Context().Err() != nil {
		return // the client went away
	}
	if err != nil {
		k.Fail(w, r, err)
		return
	}
	b, err := marshalBody(positionAnswer{Position: pos})
	if err != nil {
		k.Fail(w, r, err)
		return
	}
	// no-store: a cache that kept this answer would end every later long poll at once.
	h := w.Header()
	h.Set(ReadPositionHeader, strconv.FormatInt(pos, 10))
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// parseWait reads D: whole seconds as the other waits take them ("25"), or a Go duration
// ("1500ms", "25s"), from 0 to MaxPositionWait.
func parseWait(p *Params, v string) time.Duration {
	d, err := time.ParseDuration(v)
	if n, nerr := strconv.ParseInt(v, 10, 64); nerr == nil {
		d, err = time.Duration(n)*time.Second, nil
		if n > int64(MaxPositionWait/time.Second) {
			d = MaxPositionWait + 1
		}
	}
	if err != nil || d < 0 || d > MaxPositionWait {
		p.Add("wait", "must be seconds (25) or a duration (1500ms), at most "+MaxPositionWait.String())
		return 0
	}
	return d
}

// positionAbove returns the read position once it is above after, or the last one read when
// ctx ends.
func (k *Kit) positionAbove(ctx context.Context, after int64) (int64, error) {
	var last int64
	woke := false
	for {
		pos, err := k.cfg.Position.ReadPosition(ctx)
		switch {
		case ctx.Err() != nil:
			return last, nil
		case err != nil:
			return 0, err
		case pos > after:
			return pos, nil
		}
		last = pos
		if woke {
			// The waiter reported a position reached that the read position has not passed (an
			// event the read models pass over): do not spin on it.
			if sleep(ctx, positionPause) != nil {
				return last, nil
			}
		}
		if k.cfg.Waiter == nil {
			err = sleep(ctx, positionPause)
		} else {
			err = k.cfg.Waiter.WaitFor(ctx, max(pos, after)+1)
		}
		if ctx.Err() != nil {
			return last, nil
		}
		if err != nil {
			return 0, err
		}
		woke = k.cfg.Waiter != nil
	}
}

// sleep waits d or until ctx ends (then its error).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
