package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/socplatform/soc/cmd/soc/internal/tracing"
)

// TestTraceRequestsNamesTheRoute: with tracing on, a request's server span is named after the
// node mux's pattern (the route, not the path with its id; "unmatched" for the catch-all), and
// off, the handler is served as it is.
func TestTraceRequestsNamesTheRoute(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/findings/{id}/triage", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) })

	off := &Config{}
	if h := traceRequests(off, mux, mux); h != http.Handler(mux) {
		t.Fatalf("tracing off: the handler is wrapped (%T)", h)
	}

	rec := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	t.Cleanup(func() { otel.SetTracerProvider(noop.NewTracerProvider()) })
	on := &Config{Tracing: tracing.Config{OTLPEndpoint: "http://127.0.0.1:4318", SampleRatio: 1}}
	h := traceRequests(on, mux, mux)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/v1/findings/f-1/triage", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/no/such/route", nil))
	var names []string
	for _, s := range rec.Ended() {
		names = append(names, s.Name())
	}
	if len(names) != 2 || names[0] != "http POST /v1/findings/{id}/triage" || names[1] != "http unmatched" {
		t.Errorf("span names %q", names)
	}
}
