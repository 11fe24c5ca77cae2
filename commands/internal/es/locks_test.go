package es

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
)

// Commands on one stream run one at a time; a waiter whose context ends gives up; no entry
// outlives its last user.
func TestStreamLocks(t *testing.T) {
	var l streamLocks
	l.m = map[string]*streamLock{}
	ctx := context.Background()
	running, most := 0, 0
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			unlock, err := l.lock(ctx, "s")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			running++
			most = max(most, running)
			mu.Unlock()
			runtime.Gosched() // let another command in, were the lock not held
			mu.Lock()
			running--
			mu.Unlock()
			unlock()
		})
	}
	wg.Wait()
	if most != 1 {
		t.Fatalf("%d commands ran on the stream at once", most)
	}
	unlock, err := l.lock(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	other, err := l.lock(ctx, "other") // another stream does not wait
	if err != nil {
		t.Fatal(err)
	}
	other()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.lock(cctx, "s"); !errors.Is(err, context.Canceled) {
		t.Fatalf("waiting with an ended context: %v", err)
	}
	unlock()
	if len(l.m) != 0 {
		t.Fatalf("%d lock entries left", len(l.m))
	}
}
