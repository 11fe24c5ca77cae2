// Package events holds the platform's event envelope, the registry of event types with their
// JSON Schemas and upcasters, and the EventStore port that every store adapter implements
// (adapters/sqlite, adapters/postgres; the shared contract suite is storetest).
package events

import (
	"encoding/json"
	"strings"
	"time"
)

// Envelope is one stored event with everything needed to route, order, audit and trace it.
// On append the caller fills the domain fields (Type, Data, and optionally EventID, SchemaVersion,
// OccurredAt, CorrelationID, CausationID, Actor, Tenant, TraceParent, Metadata); the store assigns
// StreamID, StreamType, Version, GlobalPosition and RecordedAt.
type Envelope struct {
	EventID        string          `json:"event_id"`
	StreamID       string          `json:"stream_id"`
	StreamType     string          `json:"stream_type"`
	Version        int64           `json:"version"`
	GlobalPosition int64           `json:"global_position"`
	Type           string          `json:"type"`
	SchemaVersion  int             `json:"schema_version"`
	OccurredAt     time.Time       `json:"occurred_at"`
	RecordedAt     time.Time       `json:"recorded_at"`
	CorrelationID  string          `json:"correlation_id,omitempty"`
	CausationID    string          `json:"causation_id,omitempty"`
	Actor          string          `json:"actor,omitempty"`
	Tenant         string          `json:"tenant,omitempty"`
	TraceParent    string          `json:"trace_parent,omitempty"`
	Data           json.RawMessage `json:"data"`
	Metadata       json.RawMessage `json:"metadata,omitempty"`
}

// Context returns the bounded context of the event's stream: the part of the stream id
// before the first '-' ("assets" for "assets-asset-0190…"). Topics are named after it.
func (e *Envelope) Context() string { return StreamContext(e.StreamID) }

// OnPayload decodes an event's data (an Envelope's Data) as a T and hands it to fn; data that does
// not decode is the error and fn is not called. It is how an aggregate's or a fold's apply switch
// reads the payload of each event type it handles, one line per case instead of the decoding
// repeated in every one.
func OnPayload[T any](data json.RawMessage, fn func(T)) error {
	var d T
	if err := json.Unmarshal(data, &d); err != nil {
		return err
	}
	fn(d)
	return nil
}

// StreamContext returns the bounded-context prefix of a stream id.
func StreamContext(streamID string) string {
	if i := strings.IndexByte(streamID, '-'); i > 0 {
		return streamID[:i]
	}
	return streamID
}

// StreamTypeOf returns "<context>-<aggregate>" for a stream id "<context>-<aggregate>-<uuid>".
func StreamTypeOf(streamID string) string {
	first := strings.IndexByte(streamID, '-')
	if first <= 0 {
		return streamID
	}
	second := strings.IndexByte(streamID[first+1:], '-')
	if second <= 0 {
		return streamID
	}
	return streamID[:first+1+second]
}

// ExpectedVersion is the optimistic-concurrency condition of an append or delete.
// Non-negative values demand that the stream's current version is exactly that number
// (versions are 1-based, so Exact(0) means "the stream has no events").
type ExpectedVersion int64

const (
	// Any appends whatever the stream's state (except a tombstoned stream).
	Any ExpectedVersion = -2
	// NoStream demands that the stream has no events (or was soft-deleted).
	NoStream ExpectedVersion = -1
	// StreamExists demands that the stream has at least one live event.
	StreamExists ExpectedVersion = -4
)

// Exact demands that the stream is at version v.
func Exact(v int64) ExpectedVersion { return ExpectedVersion(v) }

func (e ExpectedVersion) String() string {
	switch e {
	case Any:
		return "any"
	case NoStream:
		return "no_stream"
	case StreamExists:
		return "stream_exists"
	}
	if e < 0 {
		return "invalid"
	}
	return "exact(" + itoa(int64(e)) + ")"
}

// Check reports whether a stream whose live version is current (0 when it has no live events)
// satisfies the expectation. Adapters call it inside their append transaction.
func (e ExpectedVersion) Check(current int64, exists bool) bool {
	switch e {
	case Any:
		return true
	case NoStream:
		return !exists
	case StreamExists:
		return exists
	}
	if !exists {
		return e == 0
	}
	return int64(e) == current
}

// AppendResult tells where an append landed. For an idempotent re-append it reports the
// positions of the original events and Duplicate is true.
type AppendResult struct {
	// NextExpectedVersion is the stream's version after the append (pass it as Exact for the next one).
	NextExpectedVersion int64 `json:"version"`
	FirstPosition       int64 `json:"first_position"`
	LastPosition        int64 `json:"global_position"`
	Duplicate           bool  `json:"duplicate,omitempty"`
}

func itoa(v int64) string {
	b, _ := json.Marshal(v)
	return string(b)
}
