package eventlog

import (
	"context"
	"fmt"

	"github.com/socplatform/soc/events"
)

// Versions tells the last version of each stream that a read model has applied (0 when none).
// The read model implements it, ideally inside the transaction that will apply the batch.
type Versions interface {
	LastVersion(ctx context.Context, streamID string) (int64, error)
}

// VersionsFunc adapts a function to Versions.
type VersionsFunc func(ctx context.Context, streamID string) (int64, error)

// LastVersion implements Versions.
func (f VersionsFunc) LastVersion(ctx context.Context, streamID string) (int64, error) {
	return f(ctx, streamID)
}

// GapError reports that an event arrived for a stream whose previous version was never applied:
// something between LastApplied and Got was skipped. Nothing in the batch should be applied;
// the consumer stops so that the gap is noticed rather than silently papered over.
type GapError struct {
	StreamID       string
	LastApplied    int64
	Got            int64
	EventID        string
	GlobalPosition int64
}

func (e *GapError) Error() string {
	return fmt.Sprintf("eventlog: gap in stream %s: last applied version %d, received version %d (event %s at position %d)",
		e.StreamID, e.LastApplied, e.Got, e.EventID, e.GlobalPosition)
}

// VersionGuard makes a handler idempotent by stream version: it drops the events of a batch
// that were already applied (a redelivery) and detects gaps.
type VersionGuard struct {
	Versions Versions
	// AllowGaps accepts version jumps; set it when the consumer filters by event type, since the
	// filtered-out versions never arrive.
	AllowGaps bool
}

// Filter returns, in batch order, the events with a version above the stream's last applied
// one, or a *GapError if an event's version is more than one above the stream's previous version
// (with AllowGaps unset). Versions is asked once per stream; within the batch the guard counts
// the kept events as applied, so the caller must apply every returned event, in order, or none.
func (g VersionGuard) Filter(ctx context.Context, batch []events.Envelope) ([]events.Envelope, error) {
	last := make(map[string]int64)
	out := batch[:0:0]
	for i := range batch {
		e := &batch[i]
		v, ok := last[e.StreamID]
		if !ok {
			var err error
			if v, err = g.Versions.LastVersion(ctx, e.StreamID); err != nil {
				return nil, fmt.Errorf("eventlog: last applied version of %s: %w", e.StreamID, err)
			}
		}
		switch {
		case e.Version <= v:
			// already applied: a redelivery
		case e.Version == v+1 || g.AllowGaps:
			out = append(out, *e)
			v = e.Version
		default:
			return nil, &GapError{StreamID: e.StreamID, LastApplied: v, Got: e.Version, EventID: e.EventID, GlobalPosition: e.GlobalPosition}
		}
		last[e.StreamID] = v
	}
	return out, nil
}
