package runner

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventtrace"
)

// traceApply starts one `projection <name> apply` span per event of batch, each in the trace of
// its event (the Kafka record's traceparent, else the envelope's trace_parent: the same for a
// Kafka consumer and the embedded store follower), and returns the function that ends them with
// the transaction's outcome. The events share one transaction, so the spans share its duration.
// With tracing off no span records and nothing is kept.
func (r *Runner) traceApply(ctx context.Context, batch []events.Envelope) (end func(error)) {
	if !eventtrace.Enabled() || len(batch) == 0 {
		return func(error) {}
	}
	tracer := otel.Tracer("github.com/socplatform/soc/projections")
	name := "projection " + r.name + " apply"
	var spans []trace.Span
	for i := range batch {
		e := &batch[i]
		_, span := tracer.Start(eventtrace.ParentOf(ctx, e), name, trace.WithSpanKind(trace.SpanKindConsumer))
		if !span.IsRecording() {
			continue
		}
		span.SetAttributes(
			attribute.String("soc.projection", r.name),
			attribute.String("messaging.message.id", e.EventID),
			attribute.String("soc.event.type", e.Type),
			attribute.String("soc.stream.id", e.StreamID),
			attribute.Int64("soc.event.global_position", e.GlobalPosition),
			attribute.Int("soc.batch.size", len(batch)),
		)
		spans = append(spans, span)
	}
	return func(err error) {
		for _, s := range spans {
			if err != nil {
				s.SetStatus(codes.Error, err.Error())
			}
			s.End()
		}
	}
}
