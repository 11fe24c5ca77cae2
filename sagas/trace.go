package sagas

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventtrace"
)

// startHandleSpan starts the `saga <name> handle` span of e on the instance keyed key, in e's
// trace (the Kafka record's traceparent when delivered with one, else the envelope's).
func startHandleSpan(ctx context.Context, saga, key string, e *events.Envelope) (context.Context, trace.Span) {
	if !eventtrace.Enabled() {
		return ctx, trace.SpanFromContext(context.Background()) // the no-op span
	}
	ctx, span := otel.Tracer("github.com/socplatform/soc/sagas").Start(eventtrace.ParentOf(ctx, e), "saga "+saga+" handle",
		trace.WithSpanKind(trace.SpanKindConsumer))
	if span.IsRecording() {
		span.SetAttributes(
			attribute.String("soc.saga", saga),
			attribute.String("soc.saga.key", key),
			attribute.String("messaging.message.id", e.EventID),
			attribute.String("soc.event.type", e.Type),
			attribute.Int64("soc.event.global_position", e.GlobalPosition),
		)
	}
	return ctx, span
}

// endSpan ends span with err's outcome.
func endSpan(span trace.Span, err error) {
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
