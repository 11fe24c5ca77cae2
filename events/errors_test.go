package events

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/socplatform/soc/schemas/problem"
)

// The store's errors carry their own kinds, fields and problem types, so the one mapping in
// package problem answers them without knowing these types.
func TestStoreErrorsMapToProblems(t *testing.T) {
	cases := []struct {
		err    error
		status int
		typ    string
		field  string
	}{
		{&VersionConflictError{StreamID: "s", Expected: NoStream, Actual: 3, Exists: true}, http.StatusConflict, "version-conflict", ""},
		{fmt.Errorf("wrapped: %w", &SchemaViolationError{Index: 2, Type: "T", SchemaVersion: 1, Pointer: "/severity", Reason: "bad"}), 422, "schema-violation", "/events/2/data/severity"},
		{&UnknownEventTypeError{Index: 0, Type: "Nope"}, 422, "unknown-event-type", "/events/0/type"},
		{&BatchTooLargeError{What: "events", Index: -1, Size: 2000, Limit: 1000}, 413, "too-large", "/events"},
		{&InvalidEventError{Index: -1, Name: "stream_id", Reason: "bad"}, 400, "invalid-input", "/stream_id"},
		{&StreamDeletedError{StreamID: "s"}, 410, "stream-deleted", ""},
		{&DuplicateEventError{EventID: "e", Reason: "stored elsewhere"}, 409, "duplicate-event", ""},
		{fmt.Errorf("reading: %w", ErrStreamNotFound), 404, "not-found", ""},
		{ErrClosed, 503, "unavailable", ""},
		{fmt.Errorf("sqlite: %w", ErrQueryUnsupported), 503, "unavailable", ""},
	}
	for _, c := range cases {
		d := problem.From(c.err)
		if d.Status != c.status || d.Type != "https://soc-platform.dev/problems/"+c.typ || d.Field != c.field || d.Detail != c.err.Error() {
			t.Errorf("%v: %+v, want %d %s field %q", c.err, d, c.status, c.typ, c.field)
		}
	}
	if !errors.Is(fmt.Errorf("x: %w", ErrStreamNotFound), ErrStreamNotFound) {
		t.Error("ErrStreamNotFound is no longer a sentinel")
	}
}

// A conflict's problem document names the version the caller expected and the current one.
func TestVersionConflictNamesBothVersions(t *testing.T) {
	for _, c := range []struct {
		expected ExpectedVersion
		want     any
	}{{Exact(3), int64(3)}, {NoStream, "no_stream"}} {
		d := problem.From(fmt.Errorf("saving: %w", &VersionConflictError{StreamID: "s", Expected: c.expected, Actual: 7, Exists: true}))
		if d.Extensions["expected_version"] != c.want || d.Extensions["current_version"] != int64(7) {
			t.Errorf("expected %v: extensions %v", c.expected, d.Extensions)
		}
	}
}
