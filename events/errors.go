package events

import (
	"fmt"

	"github.com/socplatform/soc/schemas/problem"
)

// The store's errors are typed and implement the problem package's interfaces (Kind, Field,
// ProblemType), so that the HTTP layer maps each to a status once (conflict → 409, validation →
// 400/422, too large → 413) and names the failing field, without knowing these types.

// ErrStreamNotFound is returned when reading a stream that has no live events.
var ErrStreamNotFound error = &kindError{"stream not found", problem.KindNotFound}

// ErrEventNotFound is returned by ReadEvent for an event id the store does not hold.
var ErrEventNotFound error = &kindError{"event not found", problem.KindNotFound}

// ErrClosed is returned by a store used after Close.
var ErrClosed error = &kindError{"event store closed", problem.KindUnavailable}

// kindError is a sentinel error of a kind.
type kindError struct {
	msg  string
	kind problem.Kind
}

func (e *kindError) Error() string      { return e.msg }
func (e *kindError) Kind() problem.Kind { return e.kind }

// VersionConflictError: the stream's version did not satisfy the expected version. Nothing was appended.
type VersionConflictError struct {
	StreamID string
	Expected ExpectedVersion
	Actual   int64 // current version; 0 when the stream has no live events
	Exists   bool
}

func (e *VersionConflictError) Error() string {
	return fmt.Sprintf("version conflict on %s: expected %s, stream is at version %d", e.StreamID, e.Expected, e.Actual)
}
func (e *VersionConflictError) Kind() problem.Kind { return problem.KindConflict }

// Extensions names both versions in the problem document: the one the caller expected (a number,
// or "no_stream", "stream_exists") and the one the stream is at, so that a client whose If-Match
// was stale can tell what it sent from where the stream is now.
func (e *VersionConflictError) Extensions() map[string]any {
	var expected any = int64(e.Expected)
	if e.Expected < 0 {
		expected = e.Expected.String()
	}
	return map[string]any{"expected_version": expected, "current_version": e.Actual}
}
func (e *VersionConflictError) ProblemType() (string, string) {
	return "version-conflict", "Version conflict"
}

// StreamDeletedError: the stream was tombstoned and can never be read or written again.
type StreamDeletedError struct{ StreamID string }

func (e *StreamDeletedError) Error() string {
	return fmt.Sprintf("stream %s is tombstoned", e.StreamID)
}
func (e *StreamDeletedError) Kind() problem.Kind { return problem.KindGone }
func (e *StreamDeletedError) ProblemType() (string, string) {
	return "stream-deleted", "Stream deleted"
}

// UnknownEventTypeError: an appended event's type is not registered.
type UnknownEventTypeError struct {
	Index int
	Type  string
}

func (e *UnknownEventTypeError) Error() string {
	return fmt.Sprintf("events[%d]: unknown event type %q", e.Index, e.Type)
}
func (e *UnknownEventTypeError) Field() string      { return fmt.Sprintf("/events/%d/type", e.Index) }
func (e *UnknownEventTypeError) Kind() problem.Kind { return problem.KindRejected }
func (e *UnknownEventTypeError) ProblemType() (string, string) {
	return "unknown-event-type", "Unknown event type"
}

// SchemaViolationError: an event's data does not match its type's schema.
type SchemaViolationError struct {
	Index         int
	Type          string
	SchemaVersion int
	Pointer       string // JSON pointer inside data, "" for the root
	Reason        string
}

func (e *SchemaViolationError) Error() string {
	at := e.Pointer
	if at == "" {
		at = "/"
	}
	return fmt.Sprintf("events[%d]: %s v%d data at %s: %s", e.Index, e.Type, e.SchemaVersion, at, e.Reason)
}
func (e *SchemaViolationError) Field() string {
	return fmt.Sprintf("/events/%d/data%s", e.Index, e.Pointer)
}
func (e *SchemaViolationError) Kind() problem.Kind { return problem.KindRejected }
func (e *SchemaViolationError) ProblemType() (string, string) {
	return "schema-violation", "Schema violation"
}

// InvalidEventError: an envelope field is malformed (bad stream id, event id, metadata, …).
type InvalidEventError struct {
	Index  int    // -1 when the problem is with the request as a whole (stream id, expected version)
	Name   string // envelope field name, e.g. "event_id"
	Reason string
}

func (e *InvalidEventError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("%s: %s", e.Name, e.Reason)
	}
	return fmt.Sprintf("events[%d].%s: %s", e.Index, e.Name, e.Reason)
}
func (e *InvalidEventError) Field() string {
	if e.Index < 0 {
		return "/" + e.Name
	}
	return fmt.Sprintf("/events/%d/%s", e.Index, e.Name)
}
func (e *InvalidEventError) Kind() problem.Kind { return problem.KindInvalid }

// BatchTooLargeError: the batch exceeds a configured limit (event count or bytes).
type BatchTooLargeError struct {
	What  string // "events", "batch_bytes" or "event_bytes"
	Index int    // offending event for event_bytes, else -1
	Size  int
	Limit int
}

func (e *BatchTooLargeError) Error() string {
	if e.Index >= 0 {
		return fmt.Sprintf("events[%d] is %d bytes, over the limit of %d", e.Index, e.Size, e.Limit)
	}
	return fmt.Sprintf("batch %s is %d, over the limit of %d", e.What, e.Size, e.Limit)
}
func (e *BatchTooLargeError) Field() string {
	if e.Index >= 0 {
		return fmt.Sprintf("/events/%d", e.Index)
	}
	return "/events"
}
func (e *BatchTooLargeError) Kind() problem.Kind { return problem.KindTooLarge }

// DuplicateEventError: an event id is already stored for a different stream or position,
// or a batch mixes new events with already-stored ones. Re-sending a whole batch is fine.
type DuplicateEventError struct {
	EventID string
	Reason  string
}

func (e *DuplicateEventError) Error() string {
	return fmt.Sprintf("event %s: %s", e.EventID, e.Reason)
}
func (e *DuplicateEventError) Kind() problem.Kind { return problem.KindConflict }
func (e *DuplicateEventError) ProblemType() (string, string) {
	return "duplicate-event", "Duplicate event"
}
