package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
)

// target is the event a read-your-writes wait is about, looked up once.
type target struct {
	pos    int64
	looked bool
	ev     *events.Envelope // nil: no event at pos (yet)
}

// lookup reads the event at t.pos, once it exists.
func (t *target) lookup(ctx context.Context, store events.EventStore) error {
	if t.looked {
		return nil
	}
	evs, err := store.ReadAll(ctx, t.pos-1, 1)
	if err != nil {
		return fmt.Errorf("reading event at position %d: %w", t.pos, err)
	}
	if len(evs) == 0 {
		return nil // not visible yet: look again next time
	}
	t.looked = true
	if evs[0].GlobalPosition == t.pos {
		t.ev = &evs[0]
	}
	return nil
}

// applied decides whether a projection (its live state st, its contexts) has applied
// everything up to global position t.pos that matters to it:
//   - ordered (the embedded consumer, which applies $all in global order and passes over other
//     contexts' events) and its position reached t.pos, or
//   - the event at t.pos is of another context (a write's own event is what the caller waits
//     for; one the projection never reads is satisfied at once), or
//   - the event's stream is applied up to the event's version (exact whatever the consumer:
//     with a Kafka consumer, which applies per-stream order only, the position is a maximum
//     that says nothing about an earlier event), or
//   - there is no event at t.pos (positions may have holes) and the position reached it.
func applied(ctx context.Context, db *projections.DB, store events.EventStore, name string, contexts []string, ordered bool, st state, t *target) (bool, error) {
	if ordered && st.Position >= t.pos {
		return true, nil
	}
	if err := t.lookup(ctx, store); err != nil {
		return false, err
	}
	if !t.looked {
		return false, nil // not even visible in the store yet
	}
	if t.ev == nil {
		return st.Position >= t.pos, nil
	}
	if len(contexts) > 0 && !slices.Contains(contexts, t.ev.Context()) {
		return true, nil
	}
	v, err := streamVersion(ctx, db, name, st.Generation, t.ev.StreamID)
	if err != nil {
		return false, err
	}
	return v >= t.ev.Version, nil
}

// Applied reports, without waiting, whether the projection has applied global position pos
// (see WaitFor).
func (r *Runner) Applied(ctx context.Context, pos int64) (bool, error) {
	if pos <= 0 {
		return true, nil
	}
	st, err := readLive(ctx, r.cfg.DB, r.name)
	if err != nil {
		return false, err
	}
	return applied(ctx, r.cfg.DB, r.cfg.Store, r.name, r.contexts, r.embedded, st, &target{pos: pos})
}

// WaitFor returns nil once the projection has applied global position pos (read-your-writes:
// pos is what a write returned), or ctx's error. It wakes on this runner's commits and state
// changes; it does not poll.
func (r *Runner) WaitFor(ctx context.Context, pos int64) error {
	if pos <= 0 {
		return nil
	}
	t := &target{pos: pos}
	first := true
	for {
		ch := r.changes() // before checking, so no commit slips between check and wait
		r.mu.Lock()
		fast := r.embedded && r.mem.loaded && r.mem.position >= pos
		r.mu.Unlock()
		if fast {
			return nil
		}
		// The in-memory position settles the embedded consumer's case; the database check
		// covers other contexts and per-stream (Kafka) progress.
		if first || !r.embedded || !t.looked || t.ev != nil {
			st, err := readLive(ctx, r.cfg.DB, r.name)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return err
			}
			ok, err := applied(ctx, r.cfg.DB, r.cfg.Store, r.name, r.contexts, r.embedded, st, t)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return err
			}
			if ok {
				return nil
			}
		}
		first = false
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// WaitPosition is WaitFor from another process (the query API beside a projections target):
// it polls the database every poll (default 50ms) until projection name has applied pos, or ctx
// ends. The projection's contexts are those recorded by its runner's Init.
func WaitPosition(ctx context.Context, db *projections.DB, store events.EventStore, name string, pos int64, poll time.Duration) error {
	if pos <= 0 {
		return nil
	}
	if poll <= 0 {
		poll = 50 * time.Millisecond
	}
	contexts, err := liveContexts(ctx, db, name)
	if err != nil {
		return err
	}
	t := &target{pos: pos}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		st, err := readLive(ctx, db, name)
		if err == nil {
			var ok bool
			if ok, err = applied(ctx, db, store, name, contexts, false, st, t); ok {
				return nil
			}
		}
		if err != nil && !errors.Is(err, ErrNotInitialized) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
