package problem

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// write maps err through Error and decodes what a client would read.
func write(t *testing.T, err error) (*httptest.ResponseRecorder, map[string]any, Details) {
	t.Helper()
	rec := httptest.NewRecorder()
	Error(rec, httptest.NewRequest(http.MethodPost, "/v1/x", nil), nil, err)
	if ct := rec.Header().Get("Content-Type"); ct != ContentType {
		t.Fatalf("%v: content type %q", err, ct)
	}
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	var d Details
	if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	return rec, m, d
}

func TestMappingTable(t *testing.T) {
	cases := []struct {
		err         error
		status      int
		typ, title  string
		field       string
		retryAfter  string
		hiddenCause bool
	}{
		{Invalid("/severity", "must be one of %q", []string{"low", "high"}), 400, "invalid-input", "Invalid input", "/severity", "", false},
		{Rejected("the finding is closed"), 422, "rejected", "Rejected", "", "", false},
		{NotFound("no such asset: a1"), 404, "not-found", "Not found", "", "", false},
		{Conflict("already retired"), 409, "conflict", "Conflict", "", "", false},
		{TooLarge("body", "reports are limited to %d bytes", 10), 413, "too-large", "Request too large", "body", "", false},
		{Unavailable(1500*time.Millisecond, "queue full"), 503, "unavailable", "Service unavailable", "", "2", false},
		{Unavailable(0, "shutting down"), 503, "unavailable", "Service unavailable", "", "", false},
		{RateLimited(time.Minute, "slow down"), 429, "rate-limited", "Too many requests", "", "60", false},
		{Unauthorized("bad token").OnField("Authorization"), 401, "unauthorized", "Unauthorized", "Authorization", "", false},
		{Forbidden("not yours"), 403, "forbidden", "Forbidden", "", "", false},
		{MethodNotAllowed("use GET"), 405, "method-not-allowed", "Method not allowed", "", "", false},
		{UnsupportedMedia("Content-Encoding", "br is not decoded"), 415, "unsupported-media-type", "Unsupported media type", "Content-Encoding", "", false},
		{UpgradeRequired("WebSocket only"), 426, "upgrade-required", "Upgrade required", "", "", false},
		{NotImplemented("no search here"), 501, "not-implemented", "Not implemented", "", "", false},
		{Unavailable(0, "later").Typed("position-not-reached", "Position not reached"), 503, "position-not-reached", "Position not reached", "", "", false},
		{Unavailable(0, "later").Typed("unavailable", "Too many imports"), 503, "unavailable", "Too many imports", "", "", false},
		{errors.New("pq: password authentication failed for user secret"), 500, "internal", "Internal error", "", "", true},
		{&Err{kind: KindInternal, detail: "disk /var/secret full"}, 500, "internal", "Internal error", "", "", true},
	}
	for _, c := range cases {
		rec, _, d := write(t, c.err)
		if rec.Code != c.status || d.Status != c.status {
			t.Errorf("%v: status %d (document %d), want %d", c.err, rec.Code, d.Status, c.status)
		}
		if d.Type != "https://soc-platform.dev/problems/"+c.typ || d.Title != c.title || d.Field != c.field || d.Instance != "/v1/x" {
			t.Errorf("%v: %+v, want type %s, title %q, field %q", c.err, d, c.typ, c.title, c.field)
		}
		if got := rec.Header().Get("Retry-After"); got != c.retryAfter {
			t.Errorf("%v: Retry-After %q, want %q", c.err, got, c.retryAfter)
		}
		if want := c.err.Error(); c.hiddenCause {
			if d.Detail != hiddenDetail {
				t.Errorf("a 500 leaked its cause: %q", d.Detail)
			}
		} else if d.Detail != want {
			t.Errorf("detail %q, want %q", d.Detail, want)
		}
	}
}

type transitionError struct{ from, to string }

func (e *transitionError) Error() string { return "cannot go from " + e.from + " to " + e.to }
func (e *transitionError) Kind() Kind    { return KindConflict }
func (e *transitionError) Field() string { return "/status" }

func TestKindErrorsMapByKindThroughWrapping(t *testing.T) {
	d := From(fmt.Errorf("command: %w", &transitionError{"closed", "triaged"}))
	if d.Status != 409 || d.Field != "/status" || d.Detail != "command: cannot go from closed to triaged" {
		t.Fatalf("%+v", d)
	}
	d = From(errors.Join(errors.New("first"), &transitionError{"a", "b"}))
	if d.Status != 409 || d.Field != "/status" {
		t.Fatalf("joined: %+v", d)
	}
}

// deferring wraps a cause and declines to classify it when the cause has a kind of its own.
type deferring struct{ err error }

func (e *deferring) Error() string { return "run failed: " + e.err.Error() }
func (e *deferring) Unwrap() error { return e.err }
func (e *deferring) Kind() Kind {
	if From(e.err).Status < 500 {
		return 0
	}
	return KindRejected
}
func (e *deferring) ProblemType() (string, string) {
	if From(e.err).Status < 500 {
		return "", ""
	}
	return "import-failed", "Import failed"
}

func TestAWrapperWithoutAKindDefersToItsCause(t *testing.T) {
	d := From(&deferring{Conflict("busy").Typed("version-conflict", "Version conflict")})
	if d.Status != 409 || d.Type != typeBase+"version-conflict" || d.Detail != "run failed: busy" {
		t.Fatalf("%+v", d)
	}
	d = From(&deferring{errors.New("exit status 1")})
	if d.Status != 422 || d.Type != typeBase+"import-failed" || d.Detail != "run failed: exit status 1" {
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

func TestExtensionsSitBesideTheMembersAndNeverReplaceThem(t *testing.T) {
	err := Unavailable(time.Second, "not yet").With("min_position", 11).With("status", 200)
	_, m, d := write(t, err)
	if m["min_position"] != float64(11) || m["status"] != float64(503) || d.Status != 503 {
		t.Fatalf("%v", m)
	}
}

func TestKindStatus(t *testing.T) {
	for k, i := range kinds {
		if k.Status() != i.status || i.slug == "" || i.title == "" {
			t.Errorf("kind %d: %d %+v", k, k.Status(), i)
		}
	}
	if Kind(0).Status() != 500 || Kind(999).Status() != 500 {
		t.Error("an unknown kind is not a server error")
	}
}
