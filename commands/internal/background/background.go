// Package background runs the store follower a service starts beside its requests, and keeps
// what stopped it for the caller that waits for the service to shut down.
package background

import "context"

// Follower is one follower run; the zero Follower has not started, and Wait returns at once.
type Follower struct {
	done chan struct{}
	err  error
}

// Start runs follow in a new goroutine until it returns (it follows until ctx ends), then stop,
// which writes what the next start reads (a snapshot). Wait returns follow's error unless ctx
// had ended, so that a shutdown is not a failure, and else stop's.
func (f *Follower) Start(ctx context.Context, follow, stop func() error) {
	f.done = make(chan struct{})
	go func() {
		defer close(f.done)
		if err := follow(); err != nil && ctx.Err() == nil {
			f.err = err
		}
		if err := stop(); err != nil && f.err == nil {
			f.err = err
		}
	}()
}

// Wait blocks until the run started by Start has stopped and returns what stopped it.
func (f *Follower) Wait() error {
	if f.done == nil {
		return nil
	}
	<-f.done
	return f.err
}
