package tracing

import (
	"context"
	"flag"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

const clientTP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestConfigDefaultsAndValidate(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	c.RegisterFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if c != DefaultConfig() || c.Enabled() || c.Validate() != nil {
		t.Fatalf("defaults %+v (enabled %v, %v), want tracing off, ratio 1", c, c.Enabled(), c.Validate())
	}
	for _, ok := range []Config{
		{OTLPEndpoint: "http://127.0.0.1:4318", SampleRatio: 0},
		{OTLPEndpoint: "https://collector.example:443/otlp/v1/traces", SampleRatio: 0.25},
	} {
		if err := ok.Validate(); err != nil || !ok.Enabled() {
			t.Errorf("%+v: %v", ok, err)
		}
	}
	for bad, flagName := range map[Config]string{
		{OTLPEndpoint: "127.0.0.1:4318", SampleRatio: 1}:            "--otlp-endpoint",
		{OTLPEndpoint: "grpc://127.0.0.1:4317", SampleRatio: 1}:     "--otlp-endpoint",
		{OTLPEndpoint: "http://u:p@127.0.0.1:4318", SampleRatio: 1}: "--otlp-endpoint",
		{OTLPEndpoint: "http://127.0.0.1:4318?x=1", SampleRatio: 1}: "--otlp-endpoint",
		{SampleRatio: 1.5}:        "--trace-sample-ratio",
		{SampleRatio: -0.1}:       "--trace-sample-ratio",
		{SampleRatio: math.NaN()}: "--trace-sample-ratio",
	} {
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), flagName) {
			t.Errorf("%+v: %v, want an error naming %s", bad, err, flagName)
		}
	}
}

// TestSetupOffInstallsNothing: without an endpoint the global provider stays the one there was.
func TestSetupOffInstallsNothing(t *testing.T) {
	before := otel.GetTracerProvider()
	shutdown, err := Setup(context.Background(), DefaultConfig(), "soc-all")
	if err != nil {
		t.Fatal(err)
	}
	if otel.GetTracerProvider() != before {
		t.Error("a provider was installed with tracing off")
	}
	if err := shutdown(context.Background()); err != nil {
		t.Error(err)
	}
}

// TestSetupExportsOverOTLPHTTP: spans reach <endpoint>/v1/traces as OTLP/HTTP protobuf, with
// the service name, and the W3C propagator is installed.
func TestSetupExportsOverOTLPHTTP(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	var bodies []string
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		paths, bodies = append(paths, r.URL.Path+" "+r.Header.Get("Content-Type")), append(bodies, string(b))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	t.Cleanup(func() {
		otel.SetTracerProvider(noop.NewTracerProvider())
		otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator())
	})
	shutdown, err := Setup(context.Background(), Config{OTLPEndpoint: collector.URL, SampleRatio: 1}, "soc-all")
	if err != nil {
		t.Fatal(err)
	}
	_, span := otel.Tracer("test").Start(context.Background(), "exported-span")
	span.End()
	if _, ok := otel.GetTextMapPropagator().(propagation.TraceContext); !ok {
		t.Errorf("propagator %T, want W3C TraceContext", otel.GetTextMapPropagator())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := shutdown(ctx); err != nil { // flushes
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(paths) == 0 || paths[0] != "/v1/traces application/x-protobuf" {
		t.Fatalf("collector got %v, want a POST to /v1/traces", paths)
	}
	if all := strings.Join(bodies, ""); !strings.Contains(all, "exported-span") || !strings.Contains(all, "soc-all") {
		t.Errorf("export lacks the span or the service name")
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(c int) { s.status = c; s.ResponseWriter.WriteHeader(c) }
func (s *statusWriter) Status() int       { return s.status }

// TestMiddlewareSpans: the server span is named after the route pattern (never the raw path),
// continues the client's traceparent, is in the handler's context and records the status.
func TestMiddlewareSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() {
		otel.SetTracerProvider(noop.NewTracerProvider())
		otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator())
	})
	mux := http.NewServeMux()
	var inHandler trace.SpanContext
	mux.HandleFunc("POST /v1/findings/{id}/triage", func(w http.ResponseWriter, r *http.Request) {
		inHandler = trace.SpanContextFromContext(r.Context())
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	h := Middleware("http", func(r *http.Request) string { _, p := mux.Handler(r); return p }, mux)

	r := httptest.NewRequest("POST", "/v1/findings/f-123/triage", nil)
	r.Header.Set("traceparent", clientTP)
	h.ServeHTTP(&statusWriter{ResponseWriter: httptest.NewRecorder(), status: 200}, r)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/nowhere", nil))

	ended := rec.Ended()
	if len(ended) != 2 {
		t.Fatalf("%d spans, want 2", len(ended))
	}
	s := ended[0]
	if s.Name() != "http POST /v1/findings/{id}/triage" || s.SpanKind() != trace.SpanKindServer {
		t.Errorf("span %q kind %v", s.Name(), s.SpanKind())
	}
	if s.Parent().SpanID().String() != "00f067aa0ba902b7" || s.SpanContext().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("parent %v, want the client's %s", s.Parent(), clientTP)
	}
	if !inHandler.Equal(s.SpanContext()) {
		t.Errorf("handler saw %v, want the server span %v", inHandler, s.SpanContext())
	}
	var status int64
	for _, a := range s.Attributes() {
		if a.Key == "http.response.status_code" {
			status = a.Value.AsInt64()
		}
	}
	if status != 503 || s.Status().Code.String() != "Error" {
		t.Errorf("status attribute %d, span status %v; want 503 and Error", status, s.Status())
	}
	if ended[1].Name() != "http unmatched" {
		t.Errorf("unrouted request span %q", ended[1].Name())
	}
}
