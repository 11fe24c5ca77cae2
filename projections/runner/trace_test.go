package runner

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventlog"
	"github.com/socplatform/soc/events/eventtrace"
)

const (
	appendTP  = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" // the command's span
	publishTP = "00-4bf92f3577b34da6a3ce929d0e0e4736-53995c3f42cd8ad8-01" // the relay's span
)

// deliveringConsumer delivers batch once, with the traceparent each record carried (as the Kafka
// consumer does for records of a tracing relay).
type deliveringConsumer struct {
	batch     []events.Envelope
	delivered map[string]string
}

func (c *deliveringConsumer) Run(ctx context.Context, h eventlog.Handler) error {
	if err := h(eventtrace.WithDelivery(ctx, c.delivered), c.batch); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// applySpans installs a recording provider for the test and returns the ended `projection
// counts apply` spans, by event id.
func applySpans(t *testing.T) func() map[string]sdktrace.ReadOnlySpan {
	rec := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	t.Cleanup(func() { otel.SetTracerProvider(noop.NewTracerProvider()) })
	return func() map[string]sdktrace.ReadOnlySpan {
		out := map[string]sdktrace.ReadOnlySpan{}
		for _, s := range rec.Ended() {
			if s.Name() != "projection counts apply" {
				continue
			}
			for _, a := range s.Attributes() {
				if a.Key == "messaging.message.id" {
					out[a.Value.AsString()] = s
				}
			}
		}
		return out
	}
}

// TestApplySpans: every applied event gets a `projection <name> apply` span in its own trace:
// the embedded store follower continues the envelope's trace_parent, a Kafka consumer the
// record's traceparent when it carried one.
func TestApplySpans(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		spans := applySpans(t)
		traced, untraced := thing("ThingCreated", "traced"), thing("ThingCreated", "untraced")
		traced.TraceParent = appendTP
		pos := e.appendEvents(events.NewStreamID("suite", "thing"), traced, untraced)
		all := e.readAll()
		tracedID, untracedID := all[len(all)-2].EventID, all[len(all)-1].EventID

		// Embedded: the envelope's trace_parent is the parent.
		r := e.newRunner(newCountProj(), nil, nil)
		stop := e.start(r)
		e.waitFor(r, pos)
		_ = stop()
		got := spans()
		s, ok := got[tracedID]
		if !ok {
			t.Fatalf("no apply span for the traced event (spans of %d events)", len(got))
		}
		if s.Parent().SpanID().String() != "00f067aa0ba902b7" || s.SpanContext().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
			t.Errorf("embedded: apply span parent %v, want the envelope's %s", s.Parent(), appendTP)
		}
		if !hasAttr(s.Attributes(), attribute.String("soc.projection", "counts")) || !hasAttr(s.Attributes(), attribute.Int64("soc.event.global_position", pos-1)) {
			t.Errorf("embedded: attributes %v", s.Attributes())
		}
		if u, ok := got[untracedID]; !ok || u.Parent().IsValid() {
			t.Errorf("embedded: the event without trace context has span %v (parent %v), want a root span", ok, u)
		}

	})
}

// TestApplySpansFromRecords: from a log whose records carried the relay's span, that span is the
// parent; an event delivered without one falls back to its envelope's trace_parent.
func TestApplySpansFromRecords(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		spans := applySpans(t)
		a, b := thing("ThingCreated", "a"), thing("ThingCreated", "b")
		a.TraceParent, b.TraceParent = appendTP, appendTP
		pos := e.appendEvents(events.NewStreamID("suite", "thing"), a, b)
		all := e.readAll()
		aID, bID := all[len(all)-2].EventID, all[len(all)-1].EventID
		r := e.newRunner(newCountProj(), nil, func(c *Config) {
			c.Consumer = &deliveringConsumer{batch: all, delivered: map[string]string{aID: publishTP}}
		})
		stop := e.start(r)
		e.waitFor(r, pos)
		_ = stop()
		got := spans()
		if s, ok := got[aID]; !ok || s.Parent().SpanID().String() != "53995c3f42cd8ad8" {
			t.Errorf("delivered with a traceparent: span %v, want a child of the record's %s", ok, publishTP)
		}
		if s, ok := got[bID]; !ok || s.Parent().SpanID().String() != "00f067aa0ba902b7" {
			t.Errorf("delivered without one: span %v, want a child of the envelope's %s", ok, appendTP)
		}
	})
}

func hasAttr(attrs []attribute.KeyValue, want attribute.KeyValue) bool {
	for _, a := range attrs {
		if a == want {
			return true
		}
	}
	return false
}
