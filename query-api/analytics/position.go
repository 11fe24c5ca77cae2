package analytics

import (
	"context"
	"time"
)

// positionPoll spaces the position checks of a min_position wait: the model reports no
// change, so a wait polls (every backend answers Position from one small row).
const (
	positionPoll  = 20 * time.Millisecond
	positionCheck = 2 * time.Second
)

// positioner is the part of Reader read-your-writes needs.
type positioner interface {
	Position(ctx context.Context) (int64, error)
}

// Position adapts the analytics model's position to querykit's Waiter and Positioner, so that
// the analytics routes wait for (min_position) and answer (Soc-Read-Position) the position of
// the model they read rather than the other read models'.
type Position struct{ Model positioner }

// ReadPosition implements querykit.Positioner.
func (p Position) ReadPosition(ctx context.Context) (int64, error) { return p.Model.Position(ctx) }

// WaitFor implements querykit.Waiter: nil as soon as the model has applied pos (at once, even
// with an expired ctx, when it already has), else ctx's error when ctx ends first.
func (p Position) WaitFor(ctx context.Context, pos int64) error {
	for {
		// The check runs even when ctx has ended (a position already reached answers at
		// once), bounded on its own.
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), positionCheck)
		n, err := p.Model.Position(qctx)
		cancel()
		if err != nil {
			return err
		}
		if n >= pos {
			return nil
		}
		t := time.NewTimer(positionPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
