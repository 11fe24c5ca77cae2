package background

import (
	"context"
	"errors"
	"testing"
)

func TestWaitWithoutStartReturnsAtOnce(t *testing.T) {
	var f Follower
	if err := f.Wait(); err != nil {
		t.Fatal(err)
	}
}

// A follower that fails while ctx is live is the error; one that stops because ctx ended is
// not, and then the stop function's error is; stop runs either way.
func TestWaitReportsWhatStoppedTheFollower(t *testing.T) {
	failed, saveFailed := errors.New("store gone"), errors.New("disk full")
	live := context.Background()
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		name         string
		ctx          context.Context
		follow, stop error
		want         error
	}{
		{"failed", live, failed, saveFailed, failed},
		{"shut down", ended, context.Canceled, nil, nil},
		{"shut down, save failed", ended, context.Canceled, saveFailed, saveFailed},
		{"returned, save failed", live, nil, saveFailed, saveFailed},
	} {
		stopped := false
		var f Follower
		f.Start(c.ctx, func() error { return c.follow }, func() error { stopped = true; return c.stop })
		if err := f.Wait(); !errors.Is(err, c.want) || (c.want == nil && err != nil) || !stopped {
			t.Errorf("%s: Wait %v (stop ran: %t), want %v", c.name, err, stopped, c.want)
		}
	}
}
