package eventtrace

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/socplatform/soc/events"
)

const (
	clientTP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	relayTP  = "00-4bf92f3577b34da6a3ce929d0e0e4736-53995c3f42cd8ad8-01"
)

func TestParseFormatRoundTrip(t *testing.T) {
	for _, tp := range []string{clientTP, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"} {
		sc, ok := Parse(tp)
		if !ok || !sc.IsRemote() {
			t.Fatalf("Parse(%q) = %v, %v", tp, sc, ok)
		}
		if got := Format(sc); got != tp {
			t.Errorf("Format(Parse(%q)) = %q", tp, got)
		}
	}
	if sc, _ := Parse(clientTP); sc.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || sc.SpanID().String() != "00f067aa0ba902b7" || !sc.IsSampled() {
		t.Errorf("Parse(%q) = %v", clientTP, sc)
	}
}

func TestParseRefusesMalformed(t *testing.T) {
	for _, tp := range []string{
		"",
		"garbage",
		"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // unknown version
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper case
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace id
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero span id
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", // trailing
		"00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
	} {
		if sc, ok := Parse(tp); ok {
			t.Errorf("Parse(%q) = %v, want refused", tp, sc)
		}
		if ctx := WithParent(context.Background(), tp); trace.SpanContextFromContext(ctx).IsValid() {
			t.Errorf("WithParent(%q) set a parent", tp)
		}
	}
	if Format(trace.SpanContext{}) != "" {
		t.Error("Format of an invalid span context is not empty")
	}
}

// TestParentOfPrefersTheDelivery: the record's traceparent (the relay span) wins over the
// envelope's (the appending span); without one, or for another event, the envelope's is used.
func TestParentOfPrefersTheDelivery(t *testing.T) {
	e := events.Envelope{EventID: "e1", TraceParent: clientTP}
	parent := func(ctx context.Context) string { return Format(trace.SpanContextFromContext(ParentOf(ctx, &e))) }
	if got := parent(context.Background()); got != clientTP {
		t.Errorf("no delivery: parent %q, want the envelope's %q", got, clientTP)
	}
	if got := parent(WithDelivery(context.Background(), map[string]string{"e1": relayTP})); got != relayTP {
		t.Errorf("delivered: parent %q, want the record's %q", got, relayTP)
	}
	if got := parent(WithDelivery(context.Background(), map[string]string{"other": relayTP})); got != clientTP {
		t.Errorf("delivery of another event: parent %q, want the envelope's %q", got, clientTP)
	}
	if got := parent(WithDelivery(context.Background(), map[string]string{"e1": "junk"})); got != clientTP {
		t.Errorf("malformed delivery: parent %q, want the envelope's %q", got, clientTP)
	}
	e.TraceParent = ""
	if sc := trace.SpanContextFromContext(ParentOf(context.Background(), &e)); sc.IsValid() {
		t.Errorf("no trace context anywhere: parent %v", sc)
	}
}

// TestCurrent: a recorded span's context replaces the fallback; a no-op (tracing off) one never does.
func TestCurrent(t *testing.T) {
	ctx := WithParent(context.Background(), clientTP)
	_, off := noop.NewTracerProvider().Tracer("t").Start(ctx, "s")
	if got := Current(trace.ContextWithSpan(ctx, off), clientTP); got != clientTP {
		t.Errorf("tracing off: Current = %q, want the fallback", got)
	}
	tp := sdktrace.NewTracerProvider()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	sctx, span := tp.Tracer("t").Start(ctx, "s")
	defer span.End()
	got := Current(sctx, clientTP)
	if got != Format(span.SpanContext()) || got == clientTP {
		t.Errorf("recorded span: Current = %q, want the span's %q", got, Format(span.SpanContext()))
	}
	if sc, _ := Parse(got); sc.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("the span left the client's trace: %q", got)
	}
}

// BenchmarkNoopSpan is what Enabled saves callers per event when no provider is installed.
func BenchmarkNoopSpan(b *testing.B) {
	e := events.Envelope{EventID: "e1", TraceParent: clientTP}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, span := Tracer().Start(ParentOf(ctx, &e), "x")
		span.End()
	}
}

// BenchmarkEnabled is what every instrumented place pays per batch (per command) with tracing off.
func BenchmarkEnabled(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if Enabled() {
			b.Fatal("a provider is installed")
		}
	}
}
