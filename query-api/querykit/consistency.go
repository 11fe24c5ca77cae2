package querykit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/socplatform/soc/schemas/problem"
)

// Read-your-writes. A command answers with the global_position of its last event; a client
// passes it back as the min_position query parameter or the MinPositionHeader header, and the
// read waits until the read models have applied that position. The wait is bounded: MaxWait,
// or less when the client asks with wait=<seconds> or "Prefer: wait=<seconds>" (RFC 7240);
// longer asks are capped at MaxWait. When the deadline passes the read answers 503
// problem+json with Retry-After and the position asked (min_position), never stale data.

// MinPositionHeader is the header form of the min_position parameter.
const MinPositionHeader = "X-Min-Position"

// consistency is what a request asked of read-your-writes.
type consistency struct {
	pos  int64 // -1: not asked
	wait time.Duration
}

// consistencyParams parses min_position, wait and their header forms.
func (p *Params) consistency(maxWait time.Duration) consistency {
	c := consistency{pos: -1, wait: maxWait}
	if n, ok := p.Integer("min_position", 0, math.MaxInt64); ok {
		c.pos = n
	}
	if hs := p.r.Header.Values(MinPositionHeader); len(hs) > 0 {
		n, err := strconv.ParseInt(strings.TrimSpace(hs[0]), 10, 64)
		switch {
		case len(hs) > 1:
			p.Add(MinPositionHeader, "given more than once")
		case err != nil || n < 0:
			p.Add(MinPositionHeader, "must be a non-negative integer (a global_position)")
		case c.pos >= 0 && c.pos != n:
			p.Add(MinPositionHeader, "differs from the min_position parameter")
		default:
			c.pos = n
		}
	}
	if n, ok := p.Integer("wait", 0, maxWaitParam); ok {
		c.wait = min(time.Duration(n)*time.Second, maxWait)
	} else if !p.failed("wait") {
		for _, h := range p.r.Header.Values("Prefer") {
			for _, pref := range strings.Split(h, ",") {
				k, v, _ := strings.Cut(strings.TrimSpace(pref), "=")
				if !strings.EqualFold(strings.TrimSpace(k), "wait") {
					continue
				}
				n, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(v), `"`), 10, 64)
				if err != nil || n < 0 || n > maxWaitParam {
					p.Add("Prefer", fmt.Sprintf("wait must be 0 to %d seconds", maxWaitParam))
					continue
				}
				c.wait = min(time.Duration(n)*time.Second, maxWait)
			}
		}
	}
	return c
}

// await blocks until the read models reach c.pos; when they do not in time it answers 503 and
// returns false.
func (k *Kit) await(w http.ResponseWriter, r *http.Request, c consistency) bool {
	if c.pos < 0 {
		return true
	}
	if k.cfg.Waiter == nil {
		k.unreached(w, r, c.pos, 0, "no read model runs on this node, so it cannot wait for a position")
		return false
	}
	ctx, cancel := context.WithTimeout(r.Context(), c.wait)
	defer cancel()
	err := k.cfg.Waiter.WaitFor(ctx, c.pos)
	switch {
	case err == nil:
		return true
	case r.Context().Err() != nil:
		return false // the client went away
	case errors.Is(err, context.DeadlineExceeded):
		k.unreached(w, r, c.pos, max(c.wait, time.Second), fmt.Sprintf("the read models have not reached global position %d within %s", c.pos, c.wait))
		return false
	default:
		k.Fail(w, r, err)
		return false
	}
}

// unreached answers 503 position-not-reached with the position asked (min_position) and, when
// waiting again can help, Retry-After.
func (k *Kit) unreached(w http.ResponseWriter, r *http.Request, pos int64, retryAfter time.Duration, detail string) {
	k.Fail(w, r, problem.Unavailable(retryAfter, "%s", detail).
		Typed("position-not-reached", "Position not reached").With("min_position", pos))
}
