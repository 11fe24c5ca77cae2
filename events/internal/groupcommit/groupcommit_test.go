package groupcommit

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestGroupsQueuedCallsAndAnswersEach(t *testing.T) {
	closed := make(chan struct{})
	release := make(chan struct{})
	firstRunning := make(chan struct{})
	var mu sync.Mutex
	var sizes []int
	c := Start(Config[int]{MaxCalls: 8}, closed, errors.New("closed"), func(ps []*Pending[int, int]) {
		mu.Lock()
		sizes = append(sizes, len(ps))
		mu.Unlock()
		if ps[0].In == 0 {
			close(firstRunning)
			<-release // hold the first group so the others queue behind it
		}
		for _, p := range ps {
			p.Reply(p.In*10, nil)
		}
	})
	var wg sync.WaitGroup
	results := make([]int, 6)
	wg.Add(1)
	go func() { defer wg.Done(); results[0], _ = c.Submit(context.Background(), 0) }()
	<-firstRunning
	for i := 1; i < 6; i++ {
		wg.Add(1)
		go func(i int) { defer wg.Done(); results[i], _ = c.Submit(context.Background(), i) }(i)
	}
	for len(c.reqs) < 5 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	for i, r := range results {
		if r != i*10 {
			t.Fatalf("call %d answered %d", i, r)
		}
	}
	if len(sizes) != 2 || sizes[0] != 1 || sizes[1] != 5 {
		t.Fatalf("group sizes %v, want [1 5]: calls queued together run together", sizes)
	}
	close(closed)
	<-c.Stopped()
	if _, err := c.Submit(context.Background(), 9); err == nil || err.Error() != "closed" {
		t.Fatalf("submit after close: %v", err)
	}
}

func TestCancelledCallIsNotRun(t *testing.T) {
	closed := make(chan struct{})
	defer close(closed)
	ran := make(chan int, 1)
	c := Start(Config[int]{MaxCalls: 4}, closed, errors.New("closed"), func(ps []*Pending[int, int]) {
		for _, p := range ps {
			ran <- p.In
			p.Reply(0, nil)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Submit(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled submit: %v", err)
	}
	select {
	case v := <-ran:
		t.Fatalf("a cancelled call ran: %d", v)
	default:
	}
}
