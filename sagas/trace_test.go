package sagas_test

import (
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventtrace"
	"github.com/socplatform/soc/sagas"
)

// TestHandleSpanAndReactionTrace: handling an event runs in a `saga <name> handle` span, a child
// of the event's trace_parent, and the instance's reaction events carry that span as their
// trace_parent, so what the saga does next stays in the same trace.
func TestHandleSpanAndReactionTrace(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	t.Cleanup(func() { otel.SetTracerProvider(noop.NewTracerProvider()) })

	const appendTP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	e := newEnv(t)
	f := e.finding("critical")
	opened, err := e.Store.ReadStream(e.Ctx, f, events.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	trigger := opened[0]
	trigger.TraceParent = appendTP
	if err := e.RT.HandleEvent(e.Ctx, trigger); err != nil {
		t.Fatal(err)
	}
	var handle sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == "saga finding_alert handle" {
			handle = s
		}
	}
	if handle == nil {
		t.Fatalf("no saga handle span among %d spans", len(rec.Ended()))
	}
	if handle.Parent().SpanID().String() != "00f067aa0ba902b7" || handle.SpanContext().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("handle span parent %v, want the trigger's %s", handle.Parent(), appendTP)
	}
	reaction, err := e.Store.ReadStream(e.Ctx, sagas.StreamID("finding_alert", f), events.ReadStreamOptions{})
	if err != nil || len(reaction) == 0 {
		t.Fatalf("instance stream: %v, %d events", err, len(reaction))
	}
	want := eventtrace.Format(handle.SpanContext())
	for _, r := range reaction {
		if r.TraceParent != want {
			t.Errorf("reaction %s has trace_parent %q, want the handle span's %q", r.Type, r.TraceParent, want)
		}
	}
}
