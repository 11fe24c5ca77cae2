package testsupport

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/problem"
)

// Reply is an HTTP command endpoint's answer, its body decoded as a JSON object (nil when empty).
type Reply struct {
	Status int
	Header http.Header
	Body   map[string]any
}

// Num is the body member k as an integer; 0 when it is not a number.
func (r Reply) Num(k string) int64 { f, _ := r.Body[k].(float64); return int64(f) }

// Str is the body member k; "" when it is not a string.
func (r Reply) Str(k string) string {
	s, _ := r.Body[k].(string)
	return s
}

// Do sends body to url and reads the reply; headers are name, value pairs, set in order. A
// non-empty body that is not JSON fails the test.
func Do(tb testing.TB, method, url, body string, headers ...string) Reply {
	tb.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := Reply{Status: resp.StatusCode, Header: resp.Header}
	if len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, &r.Body); err != nil {
			tb.Fatalf("%s: body is not JSON: %s", req.URL.RequestURI(), b)
		}
	}
	return r
}

// ExpectProblem checks that r is an application/problem+json reply with the status and naming
// the field given.
func ExpectProblem(tb testing.TB, r Reply, status int, field string) {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("status %d, want %d: %v", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != problem.ContentType {
		tb.Errorf("Content-Type %q, want problem+json", ct)
	}
	if got := r.Str("field"); got != field {
		tb.Errorf("field %q, want %q (%v)", got, field, r.Body)
	}
}

// StreamReader is the part of an event store StreamTypes reads.
type StreamReader interface {
	ReadStream(ctx context.Context, streamID string, opts events.ReadStreamOptions) ([]events.Envelope, error)
}

// StreamTypes lists the types of stream id's events, in order.
func StreamTypes(tb testing.TB, store StreamReader, id string) []string {
	tb.Helper()
	evs, err := store.ReadStream(context.Background(), id, events.ReadStreamOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Type)
	}
	return out
}
