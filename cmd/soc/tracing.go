package main

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/socplatform/soc/cmd/soc/internal/tracing"
)

// traceFlushTimeout bounds the flush of the buffered spans when the node stops: a collector that
// is down must not hold the shutdown.
const traceFlushTimeout = 5 * time.Second

// startTracing installs the span exporter when --otlp-endpoint is set (service "soc-<targets>")
// and returns what flushes and stops it; with tracing off both do nothing.
func startTracing(ctx context.Context, cfg *Config, log *slog.Logger) (stop func(), err error) {
	service := "soc-" + strings.Join(cfg.Targets, "-")
	shutdown, err := tracing.Setup(ctx, cfg.Tracing, service)
	if err != nil {
		return nil, err
	}
	if cfg.Tracing.Enabled() {
		log.Info("tracing on", "otlp_endpoint", cfg.Tracing.OTLPEndpoint, "service", service, "sample_ratio", cfg.Tracing.SampleRatio)
	}
	return func() {
		fctx, cancel := context.WithTimeout(context.Background(), traceFlushTimeout)
		defer cancel()
		if err := shutdown(fctx); err != nil {
			log.Warn("flushing traces", "err", err)
		}
	}, nil
}

// traceRequests wraps serve in the `http <route pattern>` server spans (`gateway <route
// pattern>` on a gateway proxying to other nodes) when tracing is on (off:
// serve itself, not even a route lookup). The pattern is the one mux matches, as for metrics.
// The gateway's `gateway <route pattern>` span, when a gateway runs in front, is the parent of
// this one through the traceparent it forwards.
func traceRequests(cfg *Config, mux *http.ServeMux, serve http.Handler) http.Handler {
	if !cfg.Tracing.Enabled() {
		return serve
	}
	kind := "http"
	if cfg.gatewayProxies() {
		kind = "gateway"
	}
	return tracing.Middleware(kind, func(r *http.Request) string {
		if _, pattern := mux.Handler(r); pattern != "/" {
			return pattern
		}
		return ""
	}, serve)
}
