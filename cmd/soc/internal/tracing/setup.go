package tracing

import (
	"context"
	"fmt"
	"net/url"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// tracesPath is where an OTLP/HTTP collector takes spans under its base URL.
const tracesPath = "/v1/traces"

// Setup installs, globally, a TracerProvider exporting to cfg.OTLPEndpoint in batches (service
// name serviceName, parent-based sampling at cfg.SampleRatio) and the W3C TraceContext
// propagator. shutdown flushes the spans still buffered and stops the exporter: call it when the
// node stops. With no endpoint nothing is installed and shutdown does nothing. Call after
// Validate.
func Setup(ctx context.Context, cfg Config, serviceName string) (shutdown func(context.Context) error, err error) {
	if !cfg.Enabled() {
		return func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracehttp.New(ctx, exporterOptions(cfg.OTLPEndpoint)...)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attribute.String("service.name", serviceName)))
	if err != nil {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SampleRatio))),
	)
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	return tp.Shutdown, nil
}

// exporterOptions targets endpoint: a base URL (no path) gets the standard traces path, as
// OTEL_EXPORTER_OTLP_ENDPOINT does; a URL with a path is used as it is.
func exporterOptions(endpoint string) []otlptracehttp.Option {
	u, _ := url.Parse(endpoint) // validated
	if u.Path == "" || u.Path == "/" {
		u.Path = tracesPath
	}
	return []otlptracehttp.Option{otlptracehttp.WithEndpointURL(u.String())}
}
