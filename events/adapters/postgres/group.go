package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/socplatform/soc/events"
)

// Group commit.
//
// Appends take turns on the position counter for their insert and their commit (see the package
// comment), so with many concurrent writers the store spends most of the counter's time in commit
// WAL flushes, one per append. Every Append of this process therefore goes through one committer
// goroutine: it takes the appends that queued while the previous transaction ran and executes them
// as consecutive append_events calls in ONE transaction (a pipelined pgx.Batch: one round trip,
// one commit, one WAL flush).
//
// Atomicity per append is kept because append_events reports a refusal (version conflict,
// tombstone, duplicate id) as a status and writes nothing for it: a refused append does not abort
// its neighbours. An append that raises instead (a data exception, an event-id unique violation)
// aborts the whole transaction; the committer then runs each append of that group on its own, the
// way an ungrouped append runs, so every caller gets exactly the answer it would have had alone.
// A lone append (nothing else queued) runs on its own at once, so single-writer latency is
// unchanged.
//
// Only one committer runs per Store, so this process never has two grouped transactions competing
// for stream rows and the counter. Another process's append can still wait on a stream row this
// group holds while holding the counter's lock itself; PostgreSQL then detects the deadlock and
// aborts one side: if it is the group, it is re-run append by append.

const (
	maxGroupAppends = 64
	maxGroupEvents  = 5000
	groupTimeout    = 30 * time.Second
)

type appendReq struct {
	ctx        context.Context
	streamID   string
	streamType string
	expected   events.ExpectedVersion
	b          *batch
	done       chan appendResp
}

type appendResp struct {
	res events.AppendResult
	err error
}

func (s *Store) startCommitter() {
	s.reqs = make(chan *appendReq, maxGroupAppends)
	s.committerDone = make(chan struct{})
	go s.commitLoop()
}

// submit queues an append and waits for its answer. Once the committer has taken the append, the
// caller waits for the answer even if its context ends: the commit may already have happened.
func (s *Store) submit(ctx context.Context, r *appendReq) (events.AppendResult, error) {
	r.done = make(chan appendResp, 1)
	select {
	case s.reqs <- r:
	case <-ctx.Done():
		return events.AppendResult{}, ctx.Err()
	case <-s.done:
		return events.AppendResult{}, events.ErrClosed
	}
	resp := <-r.done
	return resp.res, resp.err
}

func (s *Store) commitLoop() {
	defer close(s.committerDone)
	for {
		var first *appendReq
		select {
		case first = <-s.reqs:
		case <-s.done:
			// Answer what is still queued; nothing new can be queued once done is closed, but a
			// sender may have won the race with it.
			for {
				select {
				case r := <-s.reqs:
					r.done <- appendResp{err: events.ErrClosed}
				default:
					return
				}
			}
		}
		group := []*appendReq{first}
		n := len(first.b.ids)
	drain:
		for len(group) < maxGroupAppends && n < maxGroupEvents {
			select {
			case r := <-s.reqs:
				group = append(group, r)
				n += len(r.b.ids)
			default:
				break drain
			}
		}
		s.commitGroup(group)
	}
}

func (s *Store) commitGroup(group []*appendReq) {
	live := group[:0]
	for _, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.done <- appendResp{err: err} // gave up before its turn: nothing was written
			continue
		}
		live = append(live, r)
	}
	switch len(live) {
	case 0:
		return
	case 1:
		r := live[0]
		res, err := s.appendSolo(r.ctx, r.streamID, r.streamType, r.expected, r.b)
		r.done <- appendResp{res, err}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	outs, err := s.runGroup(ctx, live)
	if err != nil {
		for _, r := range live { // some append raised: give each its own transaction
			res, err := s.appendSolo(r.ctx, r.streamID, r.streamType, r.expected, r.b)
			r.done <- appendResp{res, err}
		}
		return
	}
	for i, r := range live {
		res, err := outs[i].result(r.streamID, r.expected, r.b)
		r.done <- appendResp{res, err}
	}
}

// runGroup executes the appends in one implicit transaction (pgx sends a batch as one pipeline
// ending in one Sync). Outcomes are only trusted once the batch has closed without error, that is
// once the transaction has committed.
func (s *Store) runGroup(ctx context.Context, group []*appendReq) ([]outcome, error) {
	var pb pgx.Batch
	for _, r := range group {
		pb.Queue(s.q.append, appendArgs(r.streamID, r.streamType, r.expected, r.b)...)
	}
	br := s.pool.SendBatch(ctx, &pb)
	outs := make([]outcome, len(group))
	var scanErr error
	for i := range group {
		o := &outs[i]
		if err := br.QueryRow().Scan(&o.status, &o.version, &o.exists, &o.first, &o.last, &o.recorded); err != nil && scanErr == nil {
			scanErr = err
		}
	}
	if err := br.Close(); err != nil {
		return nil, err
	}
	if scanErr != nil {
		return nil, scanErr
	}
	return outs, nil
}
