package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// upstreamServer is an httptest upstream counting its requests.
type upstreamServer struct {
	*httptest.Server
	hits atomic.Int64
}

func newUpstream(t *testing.T, h http.HandlerFunc) *upstreamServer {
	t.Helper()
	u := &upstreamServer{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(u.Close)
	return u
}

func instance(t *testing.T, id string, s *upstreamServer) Instance {
	t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	return Instance{ID: id, URL: u}
}

// routeAll sends every request to the "query" target as class read, except /slow (class
// "write") and /ws (class ws).
func routeAll(r *http.Request) (string, string, string) {
	switch r.URL.Path {
	case "/ws":
		return "GET /ws", "notifier", ClassWS
	case "/import":
		return "POST /import", "query", ClassImport
	}
	return r.Method + " " + r.URL.Path, "query", ClassRead
}

func newProxy(t *testing.T, cfg Config, insts ...Instance) (*Proxy, *httptest.Server) {
	t.Helper()
	if cfg.Discovery == nil {
		cfg.Discovery = Static{"query": insts, "notifier": insts}
	}
	if cfg.Route == nil {
		cfg.Route = routeAll
	}
	if cfg.RetryBackoff == 0 {
		cfg.RetryBackoff = time.Millisecond
	}
	p := NewProxy(cfg)
	s := httptest.NewServer(p)
	t.Cleanup(s.Close)
	return p, s
}

func do(t *testing.T, method, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	r, err := http.NewRequest(method, url, strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestProxyForwardsAndSignsPrincipal(t *testing.T) {
	var got http.Header
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		_, _ = io.WriteString(w, r.URL.RequestURI())
	})
	_, gw := newProxy(t, Config{Sign: func(r *http.Request) (string, error) { return "signed-for-" + r.Method + r.URL.Path, nil }},
		instance(t, "q1", up))
	resp, body := do(t, http.MethodGet, gw.URL+"/v1/alerts?b=2&a=1", PrincipalHeader, "forged", "Connection", "X-Hop", "X-Hop", "secret")
	if resp.StatusCode != 200 || body != "/v1/alerts?b=2&a=1" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	if v := got.Values(PrincipalHeader); len(v) != 1 || v[0] != "signed-for-GET/v1/alerts" {
		t.Fatalf("upstream got %s %q, want only the gateway's", PrincipalHeader, v)
	}
	if got.Get("X-Hop") != "" || got.Get("X-Forwarded-For") == "" {
		t.Fatalf("hop-by-hop header forwarded or X-Forwarded-For missing: %v", got)
	}
	// Without Sign, a client-set header is still dropped.
	_, gw2 := newProxy(t, Config{}, instance(t, "q1", up))
	do(t, http.MethodGet, gw2.URL+"/x", PrincipalHeader, "forged")
	if got.Get(PrincipalHeader) != "" {
		t.Fatalf("client-set %s forwarded", PrincipalHeader)
	}
}

func problemDetail(t *testing.T, resp *http.Response, body string) string {
	t.Helper()
	if resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("Content-Type %q, body %s", resp.Header.Get("Content-Type"), body)
	}
	var p struct {
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	return p.Detail
}

func TestProxyBreakerOpensAndHalfOpens(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	m := NewMetrics(prometheus.NewRegistry())
	_, gw := newProxy(t, Config{BreakerFailures: 3, BreakerOpenFor: 200 * time.Millisecond, Retries: -1, Metrics: m},
		instance(t, "q1", up))
	for i := range 3 {
		if resp, _ := do(t, http.MethodGet, gw.URL+"/x"); resp.StatusCode != 500 {
			t.Fatalf("request %d: %d, want the upstream's 500", i+1, resp.StatusCode)
		}
	}
	resp, body := do(t, http.MethodGet, gw.URL+"/x")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(problemDetail(t, resp, body), "upstream query") {
		t.Fatalf("breaker open: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if up.hits.Load() != 3 {
		t.Fatalf("upstream hit %d times, want 3 (the open breaker fails fast)", up.hits.Load())
	}
	if v := testutil.ToFloat64(m.breakers.WithLabelValues("query", "q1")); v != 2 {
		t.Fatalf("breaker gauge %v, want 2 (open)", v)
	}
	failing.Store(false)
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, _ := do(t, http.MethodGet, gw.URL+"/x")
		if resp.StatusCode == http.StatusNoContent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("breaker never half-opened: %d", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if up.hits.Load() != 4 {
		t.Fatalf("upstream hit %d times, want 4 (one probe)", up.hits.Load())
	}
}

func TestProxyRetriesOnlyIdempotent(t *testing.T) {
	var bodies sync.Map
	bad := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) })
	good := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies.Store(r.Method, string(b))
		w.WriteHeader(http.StatusOK)
	})
	insts := []Instance{instance(t, "bad", bad), instance(t, "good", good)}
	_, gw := newProxy(t, Config{BreakerFailures: 100}, insts...)
	for range 4 {
		if resp, _ := do(t, http.MethodGet, gw.URL+"/x"); resp.StatusCode != 200 {
			t.Fatalf("GET: %d, want retried onto the good instance", resp.StatusCode)
		}
	}
	r, _ := http.NewRequest(http.MethodPost, gw.URL+"/x", strings.NewReader(`{"a":1}`))
	r.Header.Set("Idempotency-Key", "k1")
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST with Idempotency-Key: %d", resp.StatusCode)
	}
	if b, _ := bodies.Load(http.MethodPost); b != `{"a":1}` {
		t.Fatalf("retried body %q, want replayed", b)
	}
	// Without the key a POST is sent once: it fails on the bad instance as often as it lands there.
	bad.hits.Store(0)
	good.hits.Store(0)
	fails := 0
	for range 6 {
		resp, _ := do(t, http.MethodPost, gw.URL+"/x")
		if resp.StatusCode == http.StatusBadGateway {
			fails++
		}
	}
	if bad.hits.Load()+good.hits.Load() != 6 || int64(fails) != bad.hits.Load() || fails == 0 {
		t.Fatalf("POST: %d failures, %d bad + %d good hits: want each sent once", fails, bad.hits.Load(), good.hits.Load())
	}
}

func TestProxyRetryOnTransportErrorIsBounded(t *testing.T) {
	dead := newUpstream(t, func(http.ResponseWriter, *http.Request) {})
	inst := instance(t, "dead", dead)
	dead.Close()
	m := NewMetrics(prometheus.NewRegistry())
	_, gw := newProxy(t, Config{Retries: 2, BreakerFailures: 100, Metrics: m}, inst)
	resp, body := do(t, http.MethodGet, gw.URL+"/x")
	if resp.StatusCode != 503 || !strings.Contains(problemDetail(t, resp, body), "upstream query") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if n := testutil.ToFloat64(m.retries.WithLabelValues("query")); n != 2 {
		t.Fatalf("retries %v, want 2", n)
	}
}

func TestProxyBulkhead(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 4)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	})
	_, gw := newProxy(t, Config{MaxConcurrent: 2}, instance(t, "q1", up))
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { do(t, http.MethodGet, gw.URL+"/x") })
	}
	<-entered
	<-entered
	resp, body := do(t, http.MethodGet, gw.URL+"/x")
	close(release)
	wg.Wait()
	if resp.StatusCode != 503 || !strings.Contains(problemDetail(t, resp, body), "at capacity") {
		t.Fatalf("third request: %d %s, want 503 at once", resp.StatusCode, body)
	}
	if up.hits.Load() != 2 {
		t.Fatalf("upstream hit %d times", up.hits.Load())
	}
}

func TestProxyTimeoutPerClass(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	_, gw := newProxy(t, Config{Retries: -1, Timeouts: map[string]time.Duration{ClassRead: 50 * time.Millisecond}}, instance(t, "q1", up))
	resp, body := do(t, http.MethodGet, gw.URL+"/x")
	if resp.StatusCode != 503 || !strings.Contains(problemDetail(t, resp, body), "timed out") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestProxyLeastOutstanding(t *testing.T) {
	release := make(chan struct{})
	slow := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			<-release
		}
	})
	fast := newUpstream(t, func(http.ResponseWriter, *http.Request) {})
	_, gw := newProxy(t, Config{}, instance(t, "a", slow), instance(t, "b", fast))
	// Ties go round robin: 10 sequential requests split evenly.
	for range 10 {
		do(t, http.MethodGet, gw.URL+"/x")
	}
	if slow.hits.Load() != 5 || fast.hits.Load() != 5 {
		t.Fatalf("round robin: %d/%d", slow.hits.Load(), fast.hits.Load())
	}
	// Hold requests until one is held on a (b answers its share at once): a then has one
	// outstanding request and b none, so every request that follows goes to b.
	var wg sync.WaitGroup
	var launched int64
	var answered atomic.Int64
	for slow.hits.Load() < 6 {
		wg.Go(func() { do(t, http.MethodGet, gw.URL+"/hold"); answered.Add(1) })
		launched++
		time.Sleep(10 * time.Millisecond)
	}
	// A hold launched just before the loop saw a busy may still be on its way, and one b is
	// still answering makes b busy too (a tie, so round robin): wait until every hold has
	// arrived and b has answered all of its own before counting.
	for deadline := time.Now().Add(30 * time.Second); slow.hits.Load()+fast.hits.Load() < 10+launched || answered.Load() < launched-(slow.hits.Load()-5); {
		if time.Now().After(deadline) {
			t.Fatalf("holds: %d launched, %d on a, %d on b, %d answered", launched, slow.hits.Load()-5, fast.hits.Load()-5, answered.Load())
		}
		time.Sleep(time.Millisecond)
	}
	held := slow.hits.Load()
	for range 4 {
		do(t, http.MethodGet, gw.URL+"/x")
	}
	got := slow.hits.Load()
	close(release)
	wg.Wait()
	if got != held {
		t.Fatalf("least outstanding: a got %d of 4 requests while busy, want none", got-held)
	}
}

func TestProxyWebSocket(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			_ = c.WriteMessage(mt, append([]byte("echo "), msg...))
		}
	})
	// The gateway's server has short request timeouts: the upgraded connection must outlive them.
	gw := httptest.NewUnstartedServer(NewProxy(Config{Discovery: Static{"notifier": {instance(t, "n1", up)}}, Route: routeAll}))
	gw.Config.ReadTimeout, gw.Config.WriteTimeout = 100*time.Millisecond, 100*time.Millisecond
	gw.Start()
	t.Cleanup(gw.Close)
	c, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(gw.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatalf("dial through the proxy: %v (%v)", err, resp)
	}
	defer c.Close()
	if err := c.WriteMessage(websocket.TextMessage, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	_, msg, err := c.ReadMessage()
	if err != nil || string(msg) != "echo hi" {
		t.Fatalf("%q %v", msg, err)
	}
	time.Sleep(300 * time.Millisecond) // past the server's timeouts
	if err := c.WriteMessage(websocket.TextMessage, []byte("still there")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := c.ReadMessage(); err != nil || string(msg) != "echo still there" {
		t.Fatalf("after the server's timeouts: %q %v", msg, err)
	}
}

func TestParseStatic(t *testing.T) {
	s, err := ParseStatic("commands=http://a:1, query=http://b:2;https://c:3")
	if err != nil {
		t.Fatal(err)
	}
	if len(s["commands"]) != 1 || len(s.Instances("query")) != 2 || s["query"][1].URL.String() != "https://c:3" || s["query"][0].ID != "query@b:2" {
		t.Fatalf("%+v", s)
	}
	for _, bad := range []string{"commands", "commands=a:1", "q=http://x:1,q=http://y:2", "=http://x:1", "q=ftp://x"} {
		if _, err := ParseStatic(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
