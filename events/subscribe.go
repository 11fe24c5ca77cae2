package events

import (
	"context"
	"errors"
)

// BatchHandler receives events in global-position order. Returning an error stops the
// subscription with that error; the handler has not acknowledged the batch.
type BatchHandler func(ctx context.Context, batch []Envelope) error

// CatchUp reads every event after position after, in order and in batches of at most batchSize,
// then follows new appends live, until ctx ends (returning nil) or handle fails.
// It never skips an event: it relies on the store's ReadAll guarantee that no lower position
// can become visible after a higher one has been returned.
func CatchUp(ctx context.Context, store EventStore, after int64, batchSize int, handle BatchHandler) error {
	if batchSize <= 0 {
		batchSize = 500
	}
	for {
		batch, err := store.ReadAll(ctx, after, batchSize)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if len(batch) > 0 {
			if err := handle(ctx, batch); err != nil {
				return err
			}
			after = batch[len(batch)-1].GlobalPosition
			if len(batch) == batchSize {
				continue // more is waiting: do not wait for a notification
			}
		}
		if err := store.WaitForAppend(ctx, after); err != nil {
			if ctx.Err() != nil || errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		}
	}
}
