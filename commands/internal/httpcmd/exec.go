package httpcmd

import (
	"context"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
)

// maxReplayBatch is how many events of one command Exec recognises as a replay.
const maxReplayBatch = 16

// Exec is the load → decide → append cycle of one command on one stream:
//
//   - it loads streamID into agg;
//   - when the call's Idempotency-Key already wrote to this stream, it answers with that write's
//     version and position and appends nothing (decide is not called: the retried command would
//     often be refused by the state it already produced);
//   - with If-Match, a stream at another version is a *events.VersionConflictError (409);
//   - it calls decide and appends its changes at exactly the loaded version (NoStream when the
//     stream did not exist), so a concurrent write is a 409, never a lost update;
//   - a decision with no changes appends nothing and answers the stream's current version.
func Exec(ctx context.Context, store es.Store, streamID string, agg es.Aggregate, call Call, decide func() ([]es.Change, error)) (Result, error) {
	rec := &recorder{inner: agg}
	if key := call.Meta.IdempotencyKey; key != "" {
		rec.want = make(map[string]int, maxReplayBatch)
		for i := 0; i < maxReplayBatch; i++ {
			rec.want[es.DeterministicID(key, streamID, i)] = i
		}
	}
	version, err := es.Load(ctx, store, streamID, rec)
	if err != nil {
		return Result{}, err
	}
	if rec.replayed {
		return Result{StreamID: streamID, Version: rec.replayVersion, GlobalPosition: rec.replayPosition,
			Created: rec.replayFirst == 1, Replayed: true}, nil
	}
	if call.HasIfMatch && call.IfMatch != version {
		return Result{}, &events.VersionConflictError{StreamID: streamID, Expected: events.Exact(call.IfMatch), Actual: version, Exists: version > 0}
	}
	changes, err := decide()
	if err != nil {
		return Result{}, err
	}
	if len(changes) == 0 {
		return Result{StreamID: streamID, Version: version, GlobalPosition: rec.lastPosition}, nil
	}
	expected := events.Exact(version)
	if version == 0 {
		expected = events.NoStream
	}
	res, err := es.Save(ctx, store, streamID, expected, call.Meta, changes)
	if err != nil {
		return Result{}, err
	}
	// A concurrent retry of the same request may have won the race: the store answers it as a
	// duplicate with the original positions.
	return Result{StreamID: streamID, Version: res.NextExpectedVersion, GlobalPosition: res.LastPosition,
		Created: res.NextExpectedVersion-int64(len(changes)) == 0, Replayed: res.Duplicate}, nil
}

// recorder applies events to the aggregate and notes the stream's last position and the events
// written under the call's idempotency key.
type recorder struct {
	inner          es.Aggregate
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
