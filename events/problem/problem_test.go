package problem

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/socplatform/soc/events"
)

func TestMapping(t *testing.T) {
	cases := []struct {
		err    error
		status int
		field  string
	}{
		{&events.VersionConflictError{StreamID: "s", Expected: events.NoStream, Actual: 3, Exists: true}, 409, ""},
		{fmt.Errorf("wrapped: %w", &events.SchemaViolationError{Index: 2, Type: "T", SchemaVersion: 1, Pointer: "/severity", Reason: "bad"}), 422, "/events/2/data/severity"},
		{&events.UnknownEventTypeError{Index: 0, Type: "Nope"}, 422, "/events/0/type"},
		{&events.BatchTooLargeError{What: "events", Index: -1, Size: 2000, Limit: 1000}, 413, "/events"},
		{&events.InvalidEventError{Index: -1, Name: "stream_id", Reason: "bad"}, 400, "/stream_id"},
		{&events.StreamDeletedError{StreamID: "s"}, 410, ""},
		{events.ErrStreamNotFound, 404, ""},
		{errors.New("pq: password authentication failed for user secret"), 500, ""},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		Error(rec, httptest.NewRequest(http.MethodPost, "/v1/x", nil), nil, c.err)
		if rec.Code != c.status || rec.Header().Get("Content-Type") != ContentType {
			t.Errorf("%v: status %d %q, want %d problem+json", c.err, rec.Code, rec.Header().Get("Content-Type"), c.status)
		}
		var d Details
		if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		if d.Field != c.field || d.Status != c.status || d.Instance != "/v1/x" || d.Type == "" || d.Title == "" {
			t.Errorf("%v: problem %+v, want field %q", c.err, d, c.field)
		}
		if c.status == 500 && d.Detail != "the server failed to handle the request; see its logs" {
			t.Errorf("a 500 leaked its cause: %q", d.Detail)
		}
	}
}

type transitionError struct{ from, to string }

func (e *transitionError) Error() string     { return "cannot go from " + e.from + " to " + e.to }
func (e *transitionError) Kind() events.Kind { return events.KindConflict }
func (e *transitionError) Field() string     { return "/status" }

func TestKindErrorsMapByKind(t *testing.T) {
	d := From(fmt.Errorf("command: %w", &transitionError{"closed", "triaged"}))
	if d.Status != 409 || d.Field != "/status" || d.Detail != "command: cannot go from closed to triaged" {
		t.Fatalf("%+v", d)
	}
}

func TestParamErrorListsEveryParameter(t *testing.T) {
	err := &ParamError{Params: []InvalidParam{{Name: "limit", Reason: "at most 1000"}, {Name: "sevrity", Reason: "unknown parameter"}}}
	d := From(fmt.Errorf("query: %w", err))
	if d.Status != 400 || d.Field != "limit" || len(d.InvalidParams) != 2 || d.InvalidParams[1].Name != "sevrity" {
		t.Fatalf("%+v", d)
	}
	if d.Detail != "query: limit: at most 1000; sevrity: unknown parameter" {
		t.Fatalf("detail %q", d.Detail)
	}
}
