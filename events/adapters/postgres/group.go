package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/internal/groupcommit"
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
	streamID   string
	streamType string
	expected   events.ExpectedVersion
	b          *batch
}

type pending = groupcommit.Pending[appendReq, events.AppendResult]

func (s *Store) startCommitter() {
	s.committer = groupcommit.Start(groupcommit.Config[appendReq]{
		MaxCalls: maxGroupAppends, Weight: func(r appendReq) int { return len(r.b.ids) }, MaxWeight: maxGroupEvents,
	}, s.done, events.ErrClosed, s.commitGroup)
}

func (s *Store) commitGroup(group []*pending) {
	if len(group) == 1 {
		p := group[0]
		p.Reply(s.appendSolo(p.Ctx, p.In.streamID, p.In.streamType, p.In.expected, p.In.b))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	outs, err := s.runGroup(ctx, group)
	if err != nil {
		for _, p := range group { // some append raised: give each its own transaction
			p.Reply(s.appendSolo(p.Ctx, p.In.streamID, p.In.streamType, p.In.expected, p.In.b))
		}
		return
	}
	for i, p := range group {
		p.Reply(outs[i].result(p.In.streamID, p.In.expected, p.In.b))
	}
}

// runGroup executes the appends in one implicit transaction (pgx sends a batch as one pipeline
// ending in one Sync). Outcomes are only trusted once the batch has closed without error, that is
// once the transaction has committed.
func (s *Store) runGroup(ctx context.Context, group []*pending) ([]outcome, error) {
	var pb pgx.Batch
	for _, p := range group {
		pb.Queue(s.q.append, appendArgs(p.In.streamID, p.In.streamType, p.In.expected, p.In.b)...)
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
