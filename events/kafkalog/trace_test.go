package kafkalog

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventtrace"
	"github.com/socplatform/soc/events/internal/memstore"
)

// recordSpans installs a TracerProvider recording every span until the test ends.
func recordSpans(t *testing.T) *tracetest.SpanRecorder {
	rec := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	t.Cleanup(func() { otel.SetTracerProvider(noop.NewTracerProvider()) })
	return rec
}

func header(r *kgo.Record, key string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}

// TestRelayTracesPublishAndConsumerContinues: each record gets a `relay publish` span, a child
// of its envelope's trace_parent; the record carries that span as `traceparent` while
// `trace_parent` keeps the envelope's value; a consumer hands the record's traceparent to its
// handler (eventtrace.ParentOf), so the consuming span is a child of the publish.
func TestRelayTracesPublishAndConsumerContinues(t *testing.T) {
	spans := recordSpans(t)
	_, brokers := fakeKafka(t)
	store := memstore.New()
	const clientTP = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	traced, untraced := fullEnvelope(0), fullEnvelope(1)
	traced.TraceParent, untraced.TraceParent = clientTP, ""
	res, err := store.Append(context.Background(), events.NewStreamID("assets", "thing"), events.NoStream, []events.Envelope{traced, untraced})
	if err != nil {
		t.Fatal(err)
	}
	cps := newCheckpoints()
	r, err := NewRelay(relayConfig(brokers, "soc"), store, cps)
	if err != nil {
		t.Fatal(err)
	}
	relayUntil(t, r, cps, res.LastPosition, "both events relayed")

	publish := map[string]sdktrace.ReadOnlySpan{} // by event id
	for _, s := range spans.Ended() {
		if s.Name() != "relay publish" {
			continue
		}
		for _, a := range s.Attributes() {
			if a.Key == "messaging.message.id" {
				publish[a.Value.AsString()] = s
			}
		}
	}
	ps, ok := publish[traced.EventID]
	if !ok || len(publish) != 2 {
		t.Fatalf("relay publish spans for %d events (%v), want both", len(publish), publish)
	}
	if ps.Parent().TraceID().String() != "0af7651916cd43dd8448eb211c80319c" || ps.Parent().SpanID().String() != "b7ad6b7169203331" ||
		ps.SpanContext().TraceID() != ps.Parent().TraceID() {
		t.Errorf("publish span %v has parent %v, want the envelope's %s", ps.SpanContext(), ps.Parent(), clientTP)
	}
	if ps.SpanKind() != trace.SpanKindProducer || !hasAttr(ps.Attributes(), attribute.String("messaging.destination.name", "soc.assets.events")) {
		t.Errorf("publish span kind %v attributes %v", ps.SpanKind(), ps.Attributes())
	}
	if p := publish[untraced.EventID].Parent(); p.IsValid() {
		t.Errorf("an event without trace_parent got a publish span under %v, want a root", p)
	}

	recs := readTopics(t, brokers, "soc")
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	for _, rec := range recs {
		e, err := DecodeRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		tp, ok := header(rec, eventtrace.Header)
		if want := eventtrace.Format(publish[e.EventID].SpanContext()); !ok || tp != want {
			t.Errorf("event %s: record traceparent %q, want the publish span's %q", e.EventID, tp, want)
		}
		env, _ := header(rec, HeaderTraceParent)
		if e.EventID == traced.EventID && env != clientTP {
			t.Errorf("trace_parent header %q, want the envelope's %q unchanged", env, clientTP)
		}
		if e.EventID == untraced.EventID && env != "" {
			t.Errorf("trace_parent header %q on an event without one", env)
		}
	}

	c, err := NewConsumer(consumerConfig(brokers, "traced"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	parents := map[string]trace.SpanContext{}
	err = c.Run(ctx, func(ctx context.Context, batch []events.Envelope) error {
		for i := range batch {
			parents[batch[i].EventID] = trace.SpanContextFromContext(eventtrace.ParentOf(ctx, &batch[i]))
		}
		if len(parents) == 2 {
			cancel()
		}
		return nil
	})
	if err != nil || len(parents) != 2 {
		t.Fatalf("consumer: %v, %d events", err, len(parents))
	}
	for id, s := range publish {
		if got := parents[id]; got.SpanID() != s.SpanContext().SpanID() || got.TraceID() != s.SpanContext().TraceID() {
			t.Errorf("event %s: consumer parent %v, want the publish span %v", id, got, s.SpanContext())
		}
	}
}

func hasAttr(attrs []attribute.KeyValue, want attribute.KeyValue) bool {
	for _, a := range attrs {
		if a == want {
			return true
		}
	}
	return false
}
