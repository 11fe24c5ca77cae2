package es

import (
	"context"
	"fmt"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/problem"
)

// Invocation is what comes with a command besides its payload: who asks (Meta, with the
// idempotency key that makes a retry safe) and, when the caller pinned it, the version the
// stream must be at. The HTTP ports fill it from the request headers; other callers build it.
type Invocation struct {
	Meta Meta
	// Expected, when set, is the exact version the stream must be at (optimistic concurrency:
	// the client decided on what it read at that version).
	Expected *int64
}

// Outcome is what a command did: the stream it wrote and where that stream now stands.
type Outcome struct {
	StreamID       string
	Version        int64
	GlobalPosition int64
	// Created: the command started the stream.
	Created bool
	// Replayed: the idempotency key had already written to this stream; nothing was appended.
	Replayed bool
}

// NotFoundError: the command names an aggregate that does not exist.
type NotFoundError struct {
	What string // "finding", "asset"
	ID   string
}

func (e *NotFoundError) Error() string      { return fmt.Sprintf("no such %s: %s", e.What, e.ID) }
func (e *NotFoundError) Kind() problem.Kind { return problem.KindNotFound }

// maxReplayBatch is how many events of one command Exec recognises as a replay.
const maxReplayBatch = 16

// Exec is the load → decide → append cycle of one command on one stream:
//
//   - it loads streamID into agg;
//   - when the invocation's idempotency key already wrote to this stream, it answers with that write's
//     version and position and appends nothing (decide is not called: the retried command would
//     often be refused by the state it already produced);
//   - with an expected version, a stream at another version is a *events.VersionConflictError
//     (409);
//   - it calls decide and appends its changes at exactly the loaded version (NoStream when the
//     stream did not exist), so a concurrent write is a 409, never a lost update;
//   - a decision with no changes appends nothing and answers the stream's current version.
func Exec(ctx context.Context, store Store, streamID string, agg Aggregate, inv Invocation, decide func() ([]Change, error)) (Outcome, error) {
	rec := &recorder{inner: agg}
	if key := inv.Meta.IdempotencyKey; key != "" {
		rec.want = make(map[string]int, maxReplayBatch)
		for i := 0; i < maxReplayBatch; i++ {
			rec.want[deterministicID(key, streamID, i)] = i
		}
	}
	version, err := Load(ctx, store, streamID, rec)
	if err != nil {
		return Outcome{}, err
	}
	if rec.replayed {
		return Outcome{StreamID: streamID, Version: rec.replayVersion, GlobalPosition: rec.replayPosition,
			Created: rec.replayFirst == 1, Replayed: true}, nil
	}
	if inv.Expected != nil && *inv.Expected != version {
		return Outcome{}, &events.VersionConflictError{StreamID: streamID, Expected: events.Exact(*inv.Expected), Actual: version, Exists: version > 0}
	}
	changes, err := decide()
	if err != nil {
		return Outcome{}, err
	}
	if len(changes) == 0 {
		return Outcome{StreamID: streamID, Version: version, GlobalPosition: rec.lastPosition}, nil
	}
	expected := events.Exact(version)
	if version == 0 {
		expected = events.NoStream
	}
	res, err := Save(ctx, store, streamID, expected, inv.Meta, changes)
	if err != nil {
		return Outcome{}, err
	}
	// A concurrent retry of the same request may have won the race: the store answers it as a
	// duplicate with the original positions.
	return Outcome{StreamID: streamID, Version: res.NextExpectedVersion, GlobalPosition: res.LastPosition,
		Created: res.NextExpectedVersion-int64(len(changes)) == 0, Replayed: res.Duplicate}, nil
}

// recorder applies events to the aggregate and notes the stream's last position and the events
// written under the invocation's idempotency key.
type recorder struct {
	inner          Aggregate
	want           map[string]int
	lastPosition   int64
	replayed       bool
	replayFirst    int64 // version of the first replayed event
	replayVersion  int64 // version of the last replayed event
	replayPosition int64
}

func (r *recorder) Apply(e *events.Envelope) error {
	r.lastPosition = e.GlobalPosition
	if _, ok := r.want[e.EventID]; ok {
		if !r.replayed {
			r.replayed, r.replayFirst = true, e.Version
		}
		r.replayVersion, r.replayPosition = e.Version, e.GlobalPosition
	}
	return r.inner.Apply(e)
}

// ExecExisting is Exec for a command on an aggregate that must exist already: an id that valid
// refuses, or a stream that holds no such aggregate, is a *NotFoundError naming what ("asset").
// decide gets the loaded aggregate.
func ExecExisting[A any, P interface {
	*A
	Aggregate
	Exists() bool
}](ctx context.Context, store Store, what, id string, valid func(string) bool, inv Invocation, decide func(P) ([]Change, error)) (Outcome, error) {
	if !valid(id) {
		return Outcome{}, &NotFoundError{What: what, ID: id}
	}
	agg := P(new(A))
	return Exec(ctx, store, id, agg, inv, func() ([]Change, error) {
		if !agg.Exists() {
			return nil, &NotFoundError{What: what, ID: id}
		}
		return decide(agg)
	})
}
