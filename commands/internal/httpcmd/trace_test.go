package httpcmd

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/events/eventtrace"
)

const clientTP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// TestHandleRunsInACommandSpan: a command runs in a `command <Name>` span, a child of the
// request's span (here the HTTP server's), and its events' trace_parent is that command span,
// not the client's raw header.
func TestHandleRunsInACommandSpan(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(noop.NewTracerProvider()) })

	s, err := LoadSchemas(testsupport.CommandSchemas(t))
	if err != nil {
		t.Fatal(err)
	}
	var meta es.Meta
	h := Handle(New(Config{Schemas: s}), "assets/RegisterAsset", func(_ context.Context, _ *http.Request, _ map[string]any, inv es.Invocation) (Result, error) {
		meta = inv.Meta
		return Result{Outcome: es.Outcome{StreamID: "assets-asset-1", Version: 1}}, nil
	})
	// The HTTP server span, as cmd/soc's middleware starts it from the client's traceparent.
	parentCtx, server := tp.Tracer("test").Start(eventtrace.WithParent(context.Background(), clientTP), "http POST /v1/assets")
	r := httptest.NewRequestWithContext(parentCtx, "POST", "/v1/assets", strings.NewReader(`{"kind":"host","name":"web"}`))
	r.Header.Set("traceparent", clientTP)
	w := httptest.NewRecorder()
	h(w, r)
	server.End()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var cmd sdktrace.ReadOnlySpan
	for _, sp := range rec.Ended() {
		if sp.Name() == "command RegisterAsset" {
			cmd = sp
		}
	}
	if cmd == nil {
		t.Fatalf("no command span among %d", len(rec.Ended()))
	}
	if cmd.Parent().SpanID() != server.SpanContext().SpanID() || cmd.SpanContext().TraceID() != server.SpanContext().TraceID() {
		t.Errorf("command span parent %v, want the server span %v", cmd.Parent(), server.SpanContext())
	}
	if want := eventtrace.Format(cmd.SpanContext()); meta.TraceParent != want {
		t.Errorf("events' trace_parent %q, want the command span's %q", meta.TraceParent, want)
	}
}

// TestParseCallTraceParent: without a recorded span the well-formed client header is kept as it
// came (tracing off); with one, the span's context wins.
func TestParseCallTraceParent(t *testing.T) {
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("traceparent", clientTP)
	if c, _ := ParseCall(r); c.Meta.TraceParent != clientTP {
		t.Errorf("no span: %q, want the header", c.Meta.TraceParent)
	}
	r.Header.Set("traceparent", "junk")
	if c, _ := ParseCall(r); c.Meta.TraceParent != "" {
		t.Errorf("malformed header kept: %q", c.Meta.TraceParent)
	}
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("test").Start(context.Background(), "x")
	defer span.End()
	if c, _ := ParseCall(r.WithContext(ctx)); c.Meta.TraceParent != eventtrace.Format(span.SpanContext()) {
		t.Errorf("recorded span: %q, want %v", c.Meta.TraceParent, span.SpanContext())
	}
}
