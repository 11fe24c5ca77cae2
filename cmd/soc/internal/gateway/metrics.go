package gateway

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
)

// Metrics are the gateway's Prometheus series. A nil *Metrics records nothing.
type Metrics struct {
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	upstreams    *prometheus.CounterVec
	breakers     *prometheus.GaugeVec
	bulkhead     *prometheus.CounterVec
	retries      *prometheus.CounterVec
	cache        *prometheus.CounterVec
	rateLimited  *prometheus.CounterVec
	limiterFails prometheus.Counter
}

// NewMetrics registers the gateway's series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "soc_gateway_requests_total",
			Help: "Requests answered by the gateway, by route pattern and status code."}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "soc_gateway_request_duration_seconds",
			Help: "Time to answer a request through the gateway, by route pattern.", Buckets: prometheus.DefBuckets}, []string{"route"}),
		upstreams: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "soc_gateway_upstream_requests_total",
			Help: "Requests sent to upstream instances, by target, instance and outcome (ok, 4xx, 5xx, error)."}, []string{"target", "instance", "outcome"}),
		breakers: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "soc_gateway_breaker_state",
			Help: "Circuit breaker state per upstream instance: 0 closed, 1 half-open, 2 open."}, []string{"target", "instance"}),
		bulkhead: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "soc_gateway_bulkhead_rejections_total",
			Help: "Requests rejected because their target had too many in flight."}, []string{"target"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "soc_gateway_retries_total",
			Help: "Idempotent requests sent again after a failed attempt, by target."}, []string{"target"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "soc_gateway_cache_requests_total",
			Help: "GET requests looked up in the gateway's response cache, by result (hit, miss)."}, []string{"result"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "soc_gateway_rate_limited_total",
			Help: "Requests rejected with 429, by rate-limit bucket."}, []string{"bucket"}),
		limiterFails: prometheus.NewCounter(prometheus.CounterOpts{Name: "soc_gateway_rate_limiter_errors_total",
			Help: "Rate-limit checks that failed because the limiter's backend (Redis) was unreachable."}),
	}
	reg.MustRegister(m.requests, m.latency, m.upstreams, m.breakers, m.bulkhead, m.retries, m.cache, m.rateLimited, m.limiterFails)
	return m
}

func (m *Metrics) request(route string, code int, d time.Duration) {
	if m == nil {
		return
	}
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}

func (m *Metrics) upstream(target, instance, outcome string) {
	if m != nil {
		m.upstreams.WithLabelValues(target, instance, outcome).Inc()
	}
}

func (m *Metrics) breakerState(target, instance string, s gobreaker.State) {
	if m != nil {
		m.breakers.WithLabelValues(target, instance).Set(float64(s))
	}
}

func (m *Metrics) bulkheadRejected(target string) {
	if m != nil {
		m.bulkhead.WithLabelValues(target).Inc()
	}
}

func (m *Metrics) retried(target string) {
	if m != nil {
		m.retries.WithLabelValues(target).Inc()
	}
}

func (m *Metrics) cacheResult(result string) {
	if m != nil {
		m.cache.WithLabelValues(result).Inc()
	}
}

// RateLimited counts a 429 (ratelimit.Middleware's OnReject).
func (m *Metrics) RateLimited(bucket string) {
	if m != nil {
		m.rateLimited.WithLabelValues(bucket).Inc()
	}
}

// LimiterFailed counts a failed rate-limit check (ratelimit.Middleware's OnError).
func (m *Metrics) LimiterFailed(error) {
	if m != nil {
		m.limiterFails.Inc()
	}
}
