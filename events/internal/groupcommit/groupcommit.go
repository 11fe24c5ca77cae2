// Package groupcommit queues calls for one committer goroutine that runs the calls that queued
// together as a group (both store adapters use it to share one transaction among concurrent
// appends). It only batches: what a group means is the caller's run function.
package groupcommit

import "context"

// Pending is one queued call. Run must Reply to every Pending it is given, exactly once.
type Pending[In, Out any] struct {
	Ctx  context.Context
	In   In
	done chan result[Out]
}

type result[Out any] struct {
	out Out
	err error
}

// Reply answers the caller.
func (p *Pending[In, Out]) Reply(out Out, err error) { p.done <- result[Out]{out, err} }

// Committer runs queued calls in groups on one goroutine.
type Committer[In, Out any] struct {
	reqs      chan *Pending[In, Out]
	closed    <-chan struct{}
	closedErr error
	maxCalls  int
	weight    func(In) int
	maxWeight int
	run       func([]*Pending[In, Out])
	stopped   chan struct{}
}

// Config bounds a group.
type Config[In any] struct {
	MaxCalls  int          // calls per group
	Weight    func(In) int // optional, e.g. events per call
	MaxWeight int          // with Weight: a group stops growing once it reaches this
}

// Start starts the committer. It stops when closed is closed, answering what is still queued
// with closedErr; Stopped tells when it has.
func Start[In, Out any](cfg Config[In], closed <-chan struct{}, closedErr error, run func([]*Pending[In, Out])) *Committer[In, Out] {
	c := &Committer[In, Out]{reqs: make(chan *Pending[In, Out], cfg.MaxCalls), closed: closed, closedErr: closedErr,
		maxCalls: cfg.MaxCalls, weight: cfg.Weight, maxWeight: cfg.MaxWeight, run: run, stopped: make(chan struct{})}
	go c.loop()
	return c
}

// Stopped is closed once the committer has answered everything and exited.
func (c *Committer[In, Out]) Stopped() <-chan struct{} { return c.stopped }

// Submit queues a call and waits for its answer. Once the committer has taken the call, the
// caller waits for the answer even if ctx ends: the group may already be committed.
func (c *Committer[In, Out]) Submit(ctx context.Context, in In) (Out, error) {
	p := &Pending[In, Out]{Ctx: ctx, In: in, done: make(chan result[Out], 1)}
	var zero Out
	select {
	case c.reqs <- p:
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-c.closed:
		return zero, c.closedErr
	}
	select {
	case r := <-p.done:
		return r.out, r.err
	case <-c.stopped:
		// The committer answers everything it dequeued before stopping; a call that slipped into
		// the queue after its final drain was never run.
		select {
		case r := <-p.done:
			return r.out, r.err
		default:
			return zero, c.closedErr
		}
	}
}

func (c *Committer[In, Out]) loop() {
	defer close(c.stopped)
	var zero Out
	for {
		var first *Pending[In, Out]
		select {
		case first = <-c.reqs:
		case <-c.closed:
			// Nothing new is queued once closed is closed, but a sender may have won the race.
			for {
				select {
				case p := <-c.reqs:
					p.Reply(zero, c.closedErr)
				default:
					return
				}
			}
		}
		group := []*Pending[In, Out]{first}
		w := c.weigh(first)
	drain:
		for len(group) < c.maxCalls && (c.weight == nil || w < c.maxWeight) {
			select {
			case p := <-c.reqs:
				group = append(group, p)
				w += c.weigh(p)
			default:
				break drain
			}
		}
		live := group[:0]
		for _, p := range group {
			if err := p.Ctx.Err(); err != nil {
				p.Reply(zero, err) // gave up before its turn: nothing was written
				continue
			}
			live = append(live, p)
		}
		if len(live) > 0 {
			c.run(live)
		}
	}
}

func (c *Committer[In, Out]) weigh(p *Pending[In, Out]) int {
	if c.weight == nil {
		return 0
	}
	return c.weight(p.In)
}

// NewPending makes a call outside any committer, for driving a run function directly (tests).
func NewPending[In, Out any](ctx context.Context, in In) *Pending[In, Out] {
	return &Pending[In, Out]{Ctx: ctx, In: in, done: make(chan result[Out], 1)}
}

// Wait returns the call's answer once it has been given.
func (p *Pending[In, Out]) Wait() (Out, error) {
	r := <-p.done
	return r.out, r.err
}
