package events

import (
	"context"
	"encoding/json"
	"time"
)

// EventStore is the port every store adapter implements and the contract suite (storetest) checks.
//
// Ordering guarantee: ReadAll never returns an event at position p while an event at a position
// below p may still become visible. Catch-up subscriptions rely on this to never skip an event
// that a concurrent writer commits late.
type EventStore interface {
	// Append writes events to one stream atomically if expected holds. A batch whose event ids
	// are all already stored in this stream at the same versions is a no-op that returns the
	// original positions (Duplicate=true).
	Append(ctx context.Context, streamID string, expected ExpectedVersion, evs []Envelope) (AppendResult, error)
	// ReadStream returns up to opts.Limit live events of a stream. ErrStreamNotFound when it has none.
	ReadStream(ctx context.Context, streamID string, opts ReadStreamOptions) ([]Envelope, error)
	// ReadEvent returns the event stored under eventID, ErrEventNotFound when there is none. Like
	// ReadAll it sees the events of soft-deleted streams: an event id, once stored, is never reused.
	// (Commands find what an idempotency key already wrote by its deterministic event id.)
	ReadEvent(ctx context.Context, eventID string) (Envelope, error)
	// ReadAll returns up to limit events with global_position > after, in position order.
	ReadAll(ctx context.Context, after int64, limit int) ([]Envelope, error)
	// HeadPosition is the highest global position that ReadAll may return now.
	HeadPosition(ctx context.Context) (int64, error)
	// WaitForAppend blocks until HeadPosition may exceed after, ctx ends, or a poll interval elapses
	// (a spurious return is allowed; callers re-read).
	WaitForAppend(ctx context.Context, after int64) error
	// StreamInfo reports a stream's version, deletion state and metadata.
	StreamInfo(ctx context.Context, streamID string) (StreamInfo, error)
	// SetStreamMetadata replaces the stream's metadata (a JSON object).
	SetStreamMetadata(ctx context.Context, streamID string, metadata json.RawMessage) error
	// DeleteStream soft-deletes: reads report ErrStreamNotFound, the stream may be written again
	// (versions continue), and $all keeps the events for audit.
	DeleteStream(ctx context.Context, streamID string, expected ExpectedVersion) error
	// TombstoneStream deletes for good: any later read or write fails with StreamDeletedError.
	TombstoneStream(ctx context.Context, streamID string, expected ExpectedVersion) error
	Close() error
}

// ReadStreamOptions selects a slice of a stream.
type ReadStreamOptions struct {
	// From is the first version to return going forwards (default 1), or the highest going
	// backwards (default: the stream's last version).
	From      int64
	Backwards bool
	Limit     int // default and maximum: MaxReadLimit
	// AsOf, when set, returns the stream as it was at that time: only events recorded at or before it.
	AsOf time.Time
}

// MaxReadLimit bounds one read so that no caller can make the store materialise a whole stream.
const MaxReadLimit = 10000

// StreamInfo is the state of a stream.
type StreamInfo struct {
	StreamID   string `json:"stream_id"`
	StreamType string `json:"stream_type"`
	Version    int64  `json:"version"` // last written version (0: none)
	Exists     bool   `json:"exists"`  // has live events (not soft-deleted, not tombstoned)
	Deleted    bool   `json:"deleted"` // soft-deleted and not written since
	Tombstoned bool   `json:"tombstoned"`
	// TruncateBefore: versions below it are hidden from stream reads (set by a soft delete).
	TruncateBefore int64           `json:"truncate_before,omitempty"`
	Metadata       json.RawMessage `json:"metadata,omitempty"`
}

// NormalizeLimit applies the read bounds.
func NormalizeLimit(limit int) int {
	if limit <= 0 || limit > MaxReadLimit {
		return MaxReadLimit
	}
	return limit
}
