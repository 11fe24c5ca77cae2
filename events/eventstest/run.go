package eventstest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// stopTimeout bounds how long stop waits: a worker that ignores cancellation fails the test
// instead of hanging it.
const stopTimeout = 60 * time.Second

// Start runs run (a relay's, runner's or worker's Run) in the background under a child of ctx.
// stop cancels it, waits for it to return and reports its error, the same on every call; the
// end of the test stops it too.
func Start(tb testing.TB, ctx context.Context, run func(context.Context) error) (stop func() error) {
	tb.Helper()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	stop = sync.OnceValue(func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(stopTimeout):
			return errors.New("did not stop within " + stopTimeout.String())
		}
	})
	tb.Cleanup(func() { _ = stop() })
	return stop
}
