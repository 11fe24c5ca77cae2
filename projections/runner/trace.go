package runner

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
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
		_, span := eventtrace.StartHandling(ctx, tracer, name, &batch[i],
			attribute.String("soc.projection", r.name), attribute.Int("soc.batch.size", len(batch)))
		if span.IsRecording() {
			spans = append(spans, span)
		}
	}
	return func(err error) {
		for _, s := range spans {
			eventtrace.End(s, err)
		}
	}
}
