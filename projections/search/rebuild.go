package search

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventlog"
)

// RebuildResult says what Rebuild did.
type RebuildResult struct {
	Events   int64         // events replayed (the catch-up after the swap included)
	Docs     int64         // documents written
	Position int64         // the last position applied
	Took     time.Duration // from Begin to the end of the catch-up
}

// Rebuild refills the index from the log (soc replay --projection search) without a moment in
// which searches see a half-built index: it begins a new index beside the live one (g.Begin),
// folds the whole log into it from position 0 (batch events a read, default 500), swaps it in
// (g.Swap: live, the index the live projector and the searches use, now answers from it), then
// catches up once more, through live, from the last position the rebuild applied to the
// store's head.
//
// Why the catch-up: the live projector keeps applying new events while the rebuild runs, to
// the old index until the swap. An event appended after the rebuild's last read and applied by
// the live projector before the swap is in the old index only, and the live projector, whose
// position is past it, will not apply it again: the catch-up applies it to the new one. Events
// the live projector also applies after the swap are applied twice, which changes nothing:
// every write is versioned (an older document is dropped, an equal one is the same document)
// and an event's audit document is the same each time. One window remains: a finding document
// rewritten at an unchanged version with its asset's fields (after an asset change) by the
// side that folded that asset change earlier than the other may replace the newer one; the
// next change of the asset or the finding rewrites it. The live projector's position may move
// back to the rebuild's (Position is the highest written on backends that keep a maximum; else
// a restart reapplies a few batches, harmlessly, for the same reasons).
//
// An error before the swap drops the new index (g.Abort) and leaves the live one as it was; an
// error in the catch-up leaves the new index live and is returned (run Rebuild again).
func Rebuild(ctx context.Context, g Generations, live Index, store events.EventStore, batch int) (RebuildResult, error) {
	start := time.Now()
	var res RebuildResult
	if batch <= 0 {
		batch = 500
	}
	next, err := g.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("search rebuild: beginning a new index: %w", err)
	}
	replay := func(p *Projector) func([]events.Envelope) error {
		return func(evs []events.Envelope) error {
			n, err := p.apply(ctx, evs)
			if err != nil {
				return err
			}
			res.Events += int64(len(evs))
			res.Docs += int64(n)
			res.Position = max(res.Position, evs[len(evs)-1].GlobalPosition)
			return nil
		}
	}
	if err := eventlog.ReadToHead(ctx, store, 0, batch, replay(NewProjector(next))); err != nil {
		return res, errors.Join(fmt.Errorf("search rebuild: replaying the log: %w", err), g.Abort(context.WithoutCancel(ctx), next))
	}
	if err := g.Swap(ctx, next); err != nil {
		return res, errors.Join(fmt.Errorf("search rebuild: swapping the new index in: %w", err), g.Abort(context.WithoutCancel(ctx), next))
	}
	if err := eventlog.ReadToHead(ctx, store, res.Position, batch, replay(NewProjector(live))); err != nil {
		return res, fmt.Errorf("search rebuild: catching up after the swap (the new index is live; rebuild again): %w", err)
	}
	res.Took = time.Since(start)
	return res, nil
}
