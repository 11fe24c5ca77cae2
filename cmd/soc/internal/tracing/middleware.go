package tracing

import (
	"net/http"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// statusHolder is the response writer of an outer middleware that remembers the status it
// wrote (cmd/soc's metrics recorder), read after the handler for the span's status code.
type statusHolder interface{ Status() int }

// Middleware serves next inside a `<kind> <route pattern>` server span (kind: "http" on the
// nodes serving a route, "gateway" on a gateway proxying it), the child of the
// request's traceparent (through the global propagator), and puts the span in the request
// context. route names the request's route: the mux's matched pattern, never the raw path (ids
// would make every span name unique); "" for a request no route matches ("http unmatched").
func Middleware(kind string, route func(*http.Request) string, next http.Handler) http.Handler {
	tracer := otel.Tracer("github.com/socplatform/soc/cmd/soc")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pattern := route(r)
		if pattern == "" {
			pattern = "unmatched"
		}
		ctx := otel.GetTextMapPropagator().Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := tracer.Start(ctx, kind+" "+pattern, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(
				attribute.String("http.request.method", r.Method),
				attribute.String("http.route", pattern),
				attribute.String("url.path", r.URL.Path),
			))
		defer func() {
			if p := recover(); p != nil {
				span.SetStatus(codes.Error, "panic")
				span.End()
				panic(p) // the recovering middleware outside answers it
			}
			if sh, ok := w.(statusHolder); ok {
				code := sh.Status()
				span.SetAttributes(attribute.Int("http.response.status_code", code))
				if code >= 500 {
					span.SetStatus(codes.Error, http.StatusText(code))
				}
			}
			span.End()
		}()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
