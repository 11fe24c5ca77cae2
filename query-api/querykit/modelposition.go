package querykit

import (
	"context"
	"time"
)

// modelPoll spaces the position checks of a min_position wait: a model reports no change, so
// a wait polls (every backend answers Position from one small row).
const (
	modelPoll  = 20 * time.Millisecond
	modelCheck = 2 * time.Second
)

// model is the part of a read model read-your-writes needs: its own position.
type model interface {
	Position(ctx context.Context) (int64, error)
}

// ModelPosition adapts one read model's position to the Waiter and Positioner, so that the
// routes of a model with a position of its own (analytics, search) wait for (min_position)
// and answer (Soc-Read-Position) the position of the model they read rather than the other
// read models'.
type ModelPosition struct{ Model model }

// ReadPosition implements Positioner.
func (p ModelPosition) ReadPosition(ctx context.Context) (int64, error) { return p.Model.Position(ctx) }

// WaitFor implements Waiter: nil as soon as the model has applied pos (at once, even with an
// expired ctx, when it already has), else ctx's error when ctx ends first.
func (p ModelPosition) WaitFor(ctx context.Context, pos int64) error {
	for {
		// The check runs even when ctx has ended (a position already reached answers at
		// once), bounded on its own.
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), modelCheck)
		n, err := p.Model.Position(qctx)
		cancel()
		if err != nil {
			return err
		}
		if n >= pos {
			return nil
		}
		t := time.NewTimer(modelPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
