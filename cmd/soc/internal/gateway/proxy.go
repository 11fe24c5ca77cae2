package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/socplatform/soc/schemas/problem"
)

// PrincipalHeader carries the gateway's signed principal to upstreams (principalsig.Header):
// the proxy drops any value a client set and puts Config.Sign's in its place.
const PrincipalHeader = "Soc-Principal"

// Route classes with a timeout of their own by default (DefaultTimeouts).
const (
	ClassRead   = "read"
	ClassWrite  = "write"
	ClassImport = "import"
	ClassWS     = "ws"
)

// DefaultTimeouts bounds a proxied request by its route class; a class not listed (or 0) has
// no timeout of the proxy's own: a WebSocket lives as long as its client.
func DefaultTimeouts() map[string]time.Duration {
	return map[string]time.Duration{ClassRead: 30 * time.Second, ClassWrite: 30 * time.Second, ClassImport: 10 * time.Minute}
}

// Config configures a Proxy. Zero numbers take the defaults named on each field.
type Config struct {
	Discovery Discovery
	// Route names the request's route pattern, upstream target and class; an empty target
	// is answered 404.
	Route func(*http.Request) (pattern, target, class string)
	// Sign returns the PrincipalHeader value for the request; nil forwards none.
	Sign func(*http.Request) (string, error)
	// BreakerFailures consecutive failures (5xx or transport errors) open an instance's
	// breaker (5); it stays open BreakerOpenFor (10s), then lets BreakerProbes requests (1) try.
	BreakerFailures uint32
	BreakerOpenFor  time.Duration
	BreakerProbes   uint32
	// MaxConcurrent bounds the requests in flight to one target (256); more get 503 at once.
	MaxConcurrent int
	// Timeouts per route class (DefaultTimeouts when nil).
	Timeouts map[string]time.Duration
	// Retries is how many times an idempotent request is retried (2; negative: never), after
	// a full-jitter backoff from RetryBackoff (50ms) doubling up to RetryBackoffMax (1s).
	Retries         int
	RetryBackoff    time.Duration
	RetryBackoffMax time.Duration
	// MaxReplayBody is the largest request body buffered so the request can be retried (1 MiB);
	// a larger one is streamed and not retried.
	MaxReplayBody int64
	Transport     http.RoundTripper
	Metrics       *Metrics
	Log           *slog.Logger
}

func (c *Config) defaults() {
	if c.BreakerFailures == 0 {
		c.BreakerFailures = 5
	}
	if c.BreakerOpenFor == 0 {
		c.BreakerOpenFor = 10 * time.Second
	}
	if c.BreakerProbes == 0 {
		c.BreakerProbes = 1
	}
	if c.MaxConcurrent == 0 {
		c.MaxConcurrent = 256
	}
	if c.Timeouts == nil {
		c.Timeouts = DefaultTimeouts()
	}
	if c.Retries == 0 {
		c.Retries = 2
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = 50 * time.Millisecond
	}
	if c.RetryBackoffMax == 0 {
		c.RetryBackoffMax = time.Second
	}
	if c.MaxReplayBody == 0 {
		c.MaxReplayBody = 1 << 20
	}
	if c.Transport == nil {
		// http.DefaultTransport keeps 2 idle connections per host: with more requests in flight
		// to one upstream, every other one would dial a new connection and close it after.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = c.MaxConcurrent
		c.Transport = t
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Proxy forwards each request to an instance of its route's target.
type Proxy struct {
	cfg Config
	rp  *httputil.ReverseProxy

	mu        sync.Mutex
	upstreams map[string]*upstream      // by Instance.ID
	bulkheads map[string]chan struct{}  // by target
	rr        map[string]*atomic.Uint64 // by target: where ties start
}

// upstream is the proxy's state for one instance.
type upstream struct {
	Instance
	target      string
	breaker     *gobreaker.TwoStepCircuitBreaker[struct{}]
	outstanding atomic.Int64
}

// NewProxy returns a Proxy for cfg.
func NewProxy(cfg Config) *Proxy {
	cfg.defaults()
	p := &Proxy{cfg: cfg, upstreams: map[string]*upstream{}, bulkheads: map[string]chan struct{}{}, rr: map[string]*atomic.Uint64{}}
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      cfg.Transport,
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.errorHandler,
		FlushInterval:  -1, // stream: server-sent events and long polls must not wait in a buffer
	}
	return p
}

// attempt is one try of a request on one instance, found by the ReverseProxy hooks in the
// outbound request's context.
type attempt struct {
	up        *upstream
	done      func(error) // the breaker's verdict
	principal string
	canRetry  bool  // a failure may be retried: nothing is written to the client then
	err       error // the failure, when the attempt failed before writing
}

type attemptKey struct{}

// errRetry is how modifyResponse turns a retryable status into a failed attempt.
var errRetry = errors.New("gateway: upstream answered a retryable status")

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	pattern, target, class := p.cfg.Route(r)
	info := InfoFrom(r.Context())
	if info != nil {
		info.Route = pattern
	}
	if target == "" {
		problem.Error(w, r, nil, problem.NotFound("no route for %s %s", r.Method, r.URL.Path))
		return
	}
	release, ok := p.enter(target)
	if !ok {
		p.cfg.Metrics.bulkheadRejected(target)
		problem.Error(w, r, nil, problem.Unavailable(time.Second, "upstream %s is at capacity", target))
		return
	}
	defer release()
	if d := p.cfg.Timeouts[class]; d > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		r = r.WithContext(ctx)
	}
	var principal string
	if p.cfg.Sign != nil {
		var err error
		if principal, err = p.cfg.Sign(r); err != nil {
			problem.Error(w, r, p.cfg.Log, fmt.Errorf("gateway: sign the principal: %w", err))
			return
		}
	}
	retries := 0
	body, replayable := p.replayable(r)
	if !replayable {
		retries = -1
	}
	tried := map[string]bool{}
	for n := 0; ; n++ {
		up, done := p.pick(target, tried)
		if up == nil {
			if ctxErr := r.Context().Err(); ctxErr != nil && n > 0 {
				p.unavailable(w, r, target, "timed out")
				return
			}
			p.unavailable(w, r, target, "unavailable")
			return
		}
		tried[up.ID] = true
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		a := &attempt{up: up, done: done, principal: principal, canRetry: retries >= 0 && n < p.cfg.Retries}
		if info != nil {
			info.Upstream = up.ID
			info.Retries = n
		}
		up.outstanding.Add(1)
		p.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), attemptKey{}, a)))
		up.outstanding.Add(-1)
		if a.err == nil {
			return
		}
		p.cfg.Metrics.retried(target)
		if !p.backoff(r.Context(), n) {
			p.unavailable(w, r, target, "timed out")
			return
		}
	}
}

func (p *Proxy) unavailable(w http.ResponseWriter, r *http.Request, target, what string) {
	problem.Error(w, r, nil, problem.Unavailable(p.cfg.BreakerOpenFor, "upstream %s is %s", target, what))
}

// replayable buffers the body of an idempotent request so it can be sent again; it reports
// whether the request may be retried at all.
func (p *Proxy) replayable(r *http.Request) ([]byte, bool) {
	idempotent := r.Method == http.MethodGet || r.Method == http.MethodHead || r.Header.Get("Idempotency-Key") != ""
	if !idempotent || p.cfg.Retries < 0 || isUpgrade(r) {
		return nil, false
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil, true
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, p.cfg.MaxReplayBody+1))
	if err != nil || int64(len(buf)) > p.cfg.MaxReplayBody {
		// Too large (or unreadable) to keep: send what was read followed by the rest, once.
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
		return nil, false
	}
	return buf, true
}

// backoff sleeps a full-jitter exponential delay before retry n+1; false when ctx ended first.
func (p *Proxy) backoff(ctx context.Context, n int) bool {
	ceil := p.cfg.RetryBackoff << n
	if ceil <= 0 || ceil > p.cfg.RetryBackoffMax {
		ceil = p.cfg.RetryBackoffMax
	}
	t := time.NewTimer(rand.N(ceil) + 1)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func isUpgrade(r *http.Request) bool { return r.Header.Get("Upgrade") != "" }

// enter takes a place in target's bulkhead.
func (p *Proxy) enter(target string) (release func(), ok bool) {
	p.mu.Lock()
	sem, found := p.bulkheads[target]
	if !found {
		sem = make(chan struct{}, p.cfg.MaxConcurrent)
		p.bulkheads[target] = sem
	}
	p.mu.Unlock()
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, true
	default:
		return nil, false
	}
}

// pick chooses, among target's instances not yet tried (or all when every one was), the one
// with the fewest outstanding requests whose breaker lets a request through; ties go round
// robin. It returns nil when none can take the request.
func (p *Proxy) pick(target string, tried map[string]bool) (*upstream, func(error)) {
	insts := p.cfg.Discovery.Instances(target)
	ups := make([]*upstream, 0, len(insts))
	for _, inst := range insts {
		ups = append(ups, p.upstream(target, inst))
	}
	fresh := ups[:0:0]
	for _, u := range ups {
		if !tried[u.ID] {
			fresh = append(fresh, u)
		}
	}
	if len(fresh) == 0 {
		fresh = ups
	}
	start := p.roundRobin(target)
	for len(fresh) > 0 {
		best := -1
		for i := range fresh {
			j := (int(start) + i) % len(fresh)
			if fresh[j].breaker.State() == gobreaker.StateOpen {
				continue
			}
			if best < 0 || fresh[j].outstanding.Load() < fresh[best].outstanding.Load() {
				best = j
			}
		}
		if best < 0 {
			return nil, nil
		}
		done, err := fresh[best].breaker.Allow()
		if err == nil {
			return fresh[best], done
		}
		fresh = append(fresh[:best:best], fresh[best+1:]...) // half-open and busy probing
	}
	return nil, nil
}

func (p *Proxy) roundRobin(target string) uint64 {
	p.mu.Lock()
	c, ok := p.rr[target]
	if !ok {
		c = new(atomic.Uint64)
		p.rr[target] = c
	}
	p.mu.Unlock()
	return c.Add(1)
}

func (p *Proxy) upstream(target string, inst Instance) *upstream {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u, ok := p.upstreams[inst.ID]; ok && u.URL.String() == inst.URL.String() {
		return u
	}
	u := &upstream{Instance: inst, target: target}
	m := p.cfg.Metrics
	u.breaker = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        inst.ID,
		MaxRequests: p.cfg.BreakerProbes,
		Timeout:     p.cfg.BreakerOpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= p.cfg.BreakerFailures },
		OnStateChange: func(name string, from, to gobreaker.State) {
			m.breakerState(target, name, to)
			p.cfg.Log.Warn("upstream circuit breaker", "target", target, "instance", name, "from", from.String(), "to", to.String())
		},
		// A client that went away says nothing about the upstream.
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
	})
	m.breakerState(target, inst.ID, gobreaker.StateClosed)
	p.upstreams[inst.ID] = u
	return u
}

func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	a := pr.In.Context().Value(attemptKey{}).(*attempt)
	pr.SetURL(a.up.URL)
	pr.SetXForwarded()
	pr.Out.Host = pr.In.Host // the upstream sees the host the client asked for (links, cookies)
	pr.Out.Header.Del(PrincipalHeader)
	if a.principal != "" {
		pr.Out.Header.Set(PrincipalHeader, a.principal)
	}
	// The upstream's spans are children of the gateway's (its traceparent replaces the
	// client's). Without a tracer provider the propagator is a no-op and the client's
	// traceparent goes through as it came.
	otel.GetTextMapPropagator().Inject(pr.In.Context(), propagation.HeaderCarrier(pr.Out.Header))
}

func (p *Proxy) modifyResponse(resp *http.Response) error {
	a := resp.Request.Context().Value(attemptKey{}).(*attempt)
	failed := resp.StatusCode >= 500
	if failed {
		a.done(fmt.Errorf("upstream answered %d", resp.StatusCode))
	} else {
		a.done(nil)
	}
	p.cfg.Metrics.upstream(a.up.target, a.up.ID, outcome(resp.StatusCode))
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if a.canRetry {
			_ = resp.Body.Close()
			return errRetry
		}
	}
	return nil
}

func (p *Proxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	a := r.Context().Value(attemptKey{}).(*attempt)
	if !errors.Is(err, errRetry) { // a transport error: modifyResponse did not run
		a.done(err)
		p.cfg.Metrics.upstream(a.up.target, a.up.ID, "error")
	}
	if a.canRetry && r.Context().Err() == nil {
		a.err = err
		return
	}
	if r.Context().Err() != nil && errors.Is(r.Context().Err(), context.DeadlineExceeded) {
		p.unavailable(w, r, a.up.target, "timed out")
		return
	}
	p.cfg.Log.Warn("upstream request failed", "target", a.up.target, "instance", a.up.ID, "err", err)
	p.unavailable(w, r, a.up.target, "unavailable")
}

func outcome(status int) string {
	switch {
	case status >= 500:
		return "5xx"
	case status >= 400:
		return "4xx"
	default:
		return "ok"
	}
}
