package httpcmd

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/socplatform/soc/events/eventtrace"
	"github.com/socplatform/soc/schemas/access"
)

// Traced runs h inside a `command <Name>` span, Name being the last part of the command's schema
// name ("vulns/TriageFinding" → TriageFinding). The span is a child of the request's (the HTTP
// server span) and is in the request context h sees, so ParseCall stamps the appended events
// with it. With tracing off (no provider installed) h runs as it is.
func Traced(schema string, h http.HandlerFunc) http.HandlerFunc {
	name := schema[strings.LastIndexByte(schema, '/')+1:]
	spanName := "command " + name
	return func(w http.ResponseWriter, r *http.Request) {
		if !eventtrace.Enabled() {
			h(w, r)
			return
		}
		ctx, span := otel.Tracer("github.com/socplatform/soc/commands").Start(r.Context(), spanName, trace.WithSpanKind(trace.SpanKindInternal))
		defer span.End()
		if !span.IsRecording() {
			h(w, r) // not sampled: no request copy
			return
		}
		span.SetAttributes(attribute.String("soc.command", name), attribute.String("soc.command.schema", schema))
		if p, ok := access.From(ctx); ok {
			span.SetAttributes(attribute.String("enduser.id", p.Actor()))
		}
		h(w, r.WithContext(ctx))
	}
}
