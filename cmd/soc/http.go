package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/kafkalog"
	"github.com/socplatform/soc/schemas/problem"
)

var (
	httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "soc_http_requests_total", Help: "HTTP requests by route pattern and status code.",
	}, []string{"route", "code"})
	httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "soc_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"route"})
)

// newMetrics builds the process's Prometheus registry (its own, not the global one, so tests
// can start several nodes in one process).
func newMetrics(store events.EventStore) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "soc_build_info", Help: "Build of this process.",
			ConstLabels: prometheus.Labels{"version": version}}, func() float64 { return 1 }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "soc_event_store_head_position", Help: "Highest global position in the event store."},
			func() float64 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				h, err := store.HeadPosition(ctx)
				if err != nil {
					return -1
				}
				return float64(h)
			}),
	)
	// The HTTP vectors are shared by every node in a process; registering them twice is harmless.
	for _, c := range []prometheus.Collector{httpRequests, httpDuration} {
		_ = reg.Register(c)
	}
	return reg
}

func registerRelayMetrics(reg *prometheus.Registry, m *kafkalog.RelayMetrics) {
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "soc_relay_events_total", Help: "Events acknowledged by Kafka (re-publishes count again)."},
			func() float64 { return float64(m.EventsRelayed.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "soc_relay_errors_total", Help: "Relay runs that ended in an error."},
			func() float64 { return float64(m.Errors.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "soc_relay_last_position", Help: "Global position up to which Kafka has acknowledged every event."},
			func() float64 { return float64(m.LastRelayed.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "soc_relay_lag_events", Help: "Events the relay's checkpoint trails the store head."},
			func() float64 { return float64(m.Lag()) }),
	)
}

// routes is the node's ServeMux, remembering its patterns: the OpenAPI coverage test compares
// them with the document. It refuses a pattern without an access declaration (access.go).
type routes struct {
	*http.ServeMux
	mu       sync.Mutex
	patterns []string
	// around, when set (the gateway target), wraps each route's handler as it is registered.
	around func(http.Handler) http.Handler
}

func newRoutes() *routes { return &routes{ServeMux: http.NewServeMux()} }

func (r *routes) Handle(pattern string, h http.Handler) {
	mustDeclare(pattern)
	r.mu.Lock()
	r.patterns = append(r.patterns, pattern)
	r.mu.Unlock()
	if r.around != nil {
		h = r.around(h)
	}
	r.ServeMux.Handle(pattern, h)
}

func (r *routes) HandleFunc(pattern string, f func(http.ResponseWriter, *http.Request)) {
	r.Handle(pattern, http.HandlerFunc(f))
}

// Patterns returns the registered patterns.
func (r *routes) Patterns() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.patterns...)
}

func newRouter(a *app, checks map[string]readiness, shuttingDown *atomic.Bool) http.Handler {
	mux := a.mux
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		status, detail := http.StatusOK, map[string]any{}
		if shuttingDown.Load() {
			status = http.StatusServiceUnavailable
			detail["shutdown"] = "in progress"
		}
		for name, check := range checks {
			d, ok := check(r.Context())
			detail[name] = d
			if !ok {
				status = http.StatusServiceUnavailable
			}
		}
		word := "ready"
		if status != http.StatusOK {
			word = "not ready"
		}
		writeJSON(w, status, map[string]any{"status": word, "checks": detail})
	})
	mux.Handle("GET /metrics", metricsGuard(a.cfg.MetricsToken, promhttp.HandlerFor(a.metrics, promhttp.HandlerOpts{}), a.log))
	mux.HandleFunc("POST /v1/ws-tickets", issueTicket(a.tickets, a.log))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem.Error(w, r, a.log, problem.NotFound("no route for %s %s", r.Method, r.URL.Path))
	})
	return instrument(mux.ServeMux, traceRequests(a.cfg, mux.ServeMux, authorize(mux.ServeMux, a.authenticator, a.tickets, a.trustedGateway, a.log)), a.log)
}

// instrument records metrics by route pattern (never by raw path: ids would explode the
// label set) and keeps a panic in one handler from taking the node down. serve is mux behind
// the access checks, so refused requests are counted (and recovered) like the others.
func instrument(mux *http.ServeMux, serve http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		_, pattern := mux.Handler(r)
		if pattern == "/" || pattern == "" {
			pattern = "unmatched"
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				// Untyped, so the client sees a 500 that says nothing of the cause; the log has it.
				problem.Error(rec, r, log, fmt.Errorf("panic: %v", p))
			}
			httpRequests.WithLabelValues(pattern, strconv.Itoa(rec.status)).Inc()
			httpDuration.WithLabelValues(pattern).Observe(time.Since(start).Seconds())
		}()
		w.Header().Set("X-Content-Type-Options", "nosniff")
		serve.ServeHTTP(rec, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Status is the status written so far (200 until one is): the tracing middleware reads it.
func (s *statusRecorder) Status() int { return s.status }

// Unwrap lets http.ResponseController reach the connection (flushes, deadlines).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Hijack hands the connection to a WebSocket upgrade; the request counts as 101.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the connection cannot be hijacked")
	}
	s.status = http.StatusSwitchingProtocols
	return h.Hijack()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
