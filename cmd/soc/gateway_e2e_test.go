package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/socplatform/soc/cmd/soc/internal/consul"
	"github.com/socplatform/soc/cmd/soc/internal/principalsig"
)

// The split deployment of issue 14, as separate `soc serve` processes: the commands, the
// projections and two query instances registered in Consul, and a gateway in front that finds
// them there. One deployment serves every subtest (starting seven processes under -race on a
// loaded machine is the slow part); gateways a subtest needs for itself (shared Redis limits, a
// failing upstream) are started and killed by it. Every wait polls state with a generous bound
// and no assertion is about time: the tests count requests, answers and upstream hits.

// splitDeployment is the running deployment.
type splitDeployment struct {
	base       []string // environment of every process: the store, the read models, the token keys
	gatewayKey string   // the gateways' principal-signing key; upstreams trust its .pub
	commands   *node
	queryA     *node
	queryB     *node
	queryBAddr string // fixed, so the restarted instance comes back where it was
	queryEnv   []string
	gateway    string // base URL of the gateway found through Consul
	token      string // the admin's access token
	kafka      bool   // the relay and Kafka carry the log (the trace subtest needs them)
	tracing    bool
}

func TestGatewaySplitDeployment(t *testing.T) {
	pgURL := requireServer(t, "SOC_TEST_POSTGRES_URL")
	consulAddr := requireServer(t, "SOC_TEST_CONSUL_ADDR")
	d := startSplitDeployment(t, pgURL, consulAddr)

	// The subtests run in order on the one deployment: the KV subtest changes the gateway's
	// limits, which the kill subtest's read loop must not meet.
	t.Run("WritesAndReadsThroughTheGateway", d.writeAndReadBack)
	t.Run("RoutesAroundAKilledQueryInstance", d.routeAroundKilledQuery)
	t.Run("TwoGatewaysShareOneRedisLimit", d.sharedRedisLimit)
	t.Run("RateLimitFromConsulKV", d.rateLimitFromKV)
	t.Run("BreakerOpensAndHalfOpens", d.breaker)
	t.Run("OneTraceThroughGatewayCommandRelayProjection", d.trace)
}

func startSplitDeployment(t *testing.T, pgURL, consulAddr string) *splitDeployment {
	suffix := randomSuffix()
	schema, readSchema := "gwe2e_"+suffix, "gwe2e_read_"+suffix
	t.Cleanup(func() { dropSchema(t, pgURL, schema); dropSchema(t, pgURL, readSchema) })
	d := &splitDeployment{gatewayKey: filepath.Join(t.TempDir(), "gateway.key")}
	if _, err := principalsig.LoadOrCreateSigner(d.gatewayKey); err != nil {
		t.Fatal(err)
	}
	d.base = []string{"SOC_POSTGRES_URL=" + pgURL, "SOC_POSTGRES_SCHEMA=" + schema, "SOC_READ_SCHEMA=" + readSchema,
		"SOC_JWT_KEY_DIR=" + filepath.Join(t.TempDir(), "keys")}
	env := append(append([]string{}, d.base...), "SOC_CONSUL_ADDR="+consulAddr, "SOC_TRUST_GATEWAY_KEY="+d.gatewayKey+".pub")
	// Kafka and tracing are optional: without them the deployment runs on the store alone and
	// only the trace subtest skips.
	if brokers := os.Getenv("SOC_TEST_KAFKA_BROKERS"); brokers != "" {
		d.kafka = true
		env = append(env, "SOC_KAFKA_BROKERS="+brokers, "SOC_KAFKA_TOPIC_PREFIX=gwe2e"+suffix)
	}
	if otlp := os.Getenv("SOC_TEST_OTLP_ENDPOINT"); otlp != "" {
		d.tracing = true
		env = append(env, "SOC_OTLP_ENDPOINT="+otlp)
	}

	// The commands node first: it bootstraps the admin and creates the token keys the others
	// share; started together, each would try.
	d.commands = startNode(t, env, "--target", "commands")
	stopGracefully(t, d.commands) // deregistered from Consul at the end, not left critical
	if d.kafka {
		stopGracefully(t, startNode(t, env, "--target", "relay"))
	}
	stopGracefully(t, startNode(t, env, "--target", "projections"))
	d.queryEnv = env
	d.queryA = startNode(t, env, "--target", "query")
	stopGracefully(t, d.queryA)
	d.queryBAddr = freeAddr(t)
	d.queryB = startNode(t, env, "--target", "query", "--http", d.queryBAddr)
	stopGracefully(t, d.queryB)
	if d.queryB.addr != d.queryBAddr {
		t.Fatalf("query B listens on %s, asked for %s", d.queryB.addr, d.queryBAddr)
	}
	// The gateway has no --upstreams: it finds every instance through Consul. No response
	// cache, so that every read reaches a query instance and can be counted there.
	gw := startNode(t, append(env, "SOC_GATEWAY_KEY="+d.gatewayKey), "--target", "gateway", "--gateway-cache-size", "0")
	stopGracefully(t, gw)
	d.gateway = "http://" + gw.addr

	// Signing in goes through the gateway to the commands instance it discovered.
	eventually(t, "signing in through the gateway", func() bool {
		d.token, _ = tryLogin(t, d.gateway, testAdminEmail, testAdminPassword)
		return d.token != ""
	})
	return d
}

// stopGracefully stops n with SIGTERM when the test ends (before startNode's SIGKILL), so a
// Consul-registered node deregisters instead of lingering as a critical service.
func stopGracefully(t *testing.T, n *node) {
	t.Cleanup(func() {
		if n.cmd.Process.Signal(syscall.SIGTERM) != nil {
			return // exited already (a killed instance)
		}
		select {
		case <-n.done:
		case <-time.After(60 * time.Second):
		}
	})
}

// nodeStreamID is the node id n logged when it started serving (its Consul service IDs end
// with it).
func nodeStreamID(t *testing.T, n *node) string {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(n.stderr.String()))
	for sc.Scan() {
		var rec struct{ Msg, Node string }
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "soc serving" {
			return strings.TrimPrefix(rec.Node, "monitoring-node-")
		}
	}
	t.Fatalf("no soc serving line with a node id:\n%s", n.stderr)
	return ""
}

// routeRequests is how many requests for route the node at addr has answered (its
// soc_http_requests_total, all status codes).
func routeRequests(t *testing.T, addr, route string) int {
	t.Helper()
	r := call(t, http.MethodGet, "http://"+addr+"/metrics", "", "")
	if r.status != http.StatusOK {
		t.Fatalf("GET %s/metrics: %d", addr, r.status)
	}
	n := 0
	for _, line := range strings.Split(r.body, "\n") {
		if !strings.HasPrefix(line, "soc_http_requests_total{") || !strings.Contains(line, `route="`+route+`"`) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		n += int(v)
	}
	return n
}

const assetsRoute = "GET /v1/assets"

// writeAndReadBack: a command through the gateway, read back through the gateway at its position.
func (d *splitDeployment) writeAndReadBack(t *testing.T) {
	r := call(t, http.MethodPost, d.gateway+"/v1/assets", d.token, `{"kind":"host","name":"gw-web","identifiers":{"hostnames":["gw-web.example"]}}`)
	if r.status != http.StatusCreated {
		t.Fatalf("POST /v1/assets through the gateway: %d %s", r.status, r.body)
	}
	var created struct {
		GlobalPosition int64 `json:"global_position"`
	}
	if err := json.Unmarshal([]byte(r.body), &created); err != nil || created.GlobalPosition == 0 || r.header.Get("Location") == "" {
		t.Fatalf("created: %v %s, Location %q", err, r.body, r.header.Get("Location"))
	}
	// Through Kafka the projection's consumers may still be joining: poll past the read's wait.
	eventually(t, "the asset read back through the gateway", func() bool {
		got := call(t, http.MethodGet, fmt.Sprintf("%s%s?min_position=%d", d.gateway, r.header.Get("Location"), created.GlobalPosition), d.token, "")
		return got.status == http.StatusOK && strings.Contains(got.body, "gw-web")
	})
}

// readLoop sends reads through the gateway from workers goroutines until stopped, counting the
// answers.
type readLoop struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	failures   []string
	stop       chan struct{}
	wg         sync.WaitGroup
}

func startReadLoop(url, token string, workers int) *readLoop {
	l := &readLoop{stop: make(chan struct{})}
	client := &http.Client{Timeout: time.Minute}
	for range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				what := ""
				if err != nil {
					what = err.Error()
				} else {
					if resp.StatusCode != http.StatusOK {
						what = resp.Status
					}
					resp.Body.Close()
				}
				if what == "" {
					l.ok.Add(1)
					continue
				}
				l.failed.Add(1)
				l.mu.Lock()
				l.failures = append(l.failures, what)
				l.mu.Unlock()
			}
		}()
	}
	return l
}

func (l *readLoop) end() {
	close(l.stop)
	l.wg.Wait()
}

// awaitOK waits until the loop has had n more successful reads than it had when called.
func (l *readLoop) awaitOK(t *testing.T, n int64, what string) {
	t.Helper()
	want := l.ok.Load() + n
	eventually(t, what, func() bool { return l.ok.Load() >= want })
}

// passingQuery reports whether Consul lists the query instance at addr as passing.
func passingQuery(t *testing.T, client *api.Client, addr string) bool {
	t.Helper()
	entries, _, err := client.Health().Service(consul.ServiceName("query"), "", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Service.Address == "127.0.0.1" && strconv.Itoa(e.Service.Port) == portOf(addr) {
			return true
		}
	}
	return false
}

// routeAroundKilledQuery: both query instances get reads through the gateway; SIGKILL of one
// while reads run fails at most the reads in flight; restarted at its address, it gets reads
// again.
func (d *splitDeployment) routeAroundKilledQuery(t *testing.T) {
	client, _ := consulTestClient(t)
	eventually(t, "reads through the gateway reaching both query instances", func() bool {
		for range 10 {
			if r := call(t, http.MethodGet, d.gateway+"/v1/assets", d.token, ""); r.status != http.StatusOK {
				t.Fatalf("read through the gateway: %d %s", r.status, r.body)
			}
		}
		return routeRequests(t, d.queryA.addr, assetsRoute) > 0 && routeRequests(t, d.queryB.addr, assetsRoute) > 0
	})
	t.Logf("before the kill: query A answered %d reads, query B %d", routeRequests(t, d.queryA.addr, assetsRoute), routeRequests(t, d.queryB.addr, assetsRoute))

	const workers = 4
	loop := startReadLoop(d.gateway+"/v1/assets", d.token, workers)
	defer func() {
		select {
		case <-loop.stop:
		default:
			loop.end()
		}
	}()
	loop.awaitOK(t, 20, "the read loop running")
	oldID := consul.ServiceID("query", nodeStreamID(t, d.queryB))
	if err := d.queryB.cmd.Process.Kill(); err != nil { // SIGKILL: no deregistration, no draining
		t.Fatal(err)
	}
	<-d.queryB.done
	// The dead instance's registration stays (critical) until Consul reaps it a minute later.
	t.Cleanup(func() { _ = client.Agent().ServiceDeregister(oldID) })
	eventually(t, "Consul's check failing the killed instance", func() bool { return !passingQuery(t, client, d.queryBAddr) })
	loop.awaitOK(t, 50, "reads answered once the killed instance left the rotation")
	loop.end()
	failed := loop.failed.Load()
	t.Logf("around the kill: %d reads answered, %d failed %v", loop.ok.Load(), failed, loop.failures)
	if failed > workers {
		t.Fatalf("%d reads failed around the kill, more than the %d that can be in flight: %v", failed, workers, loop.failures)
	}

	// Restarted at the same address (a new node id: Consul sees a new instance of query).
	d.queryB = startNode(t, d.queryEnv, "--target", "query", "--http", d.queryBAddr)
	stopGracefully(t, d.queryB)
	eventually(t, "reads through the gateway reaching the restarted instance", func() bool {
		for range 10 {
			if r := call(t, http.MethodGet, d.gateway+"/v1/assets", d.token, ""); r.status != http.StatusOK {
				t.Fatalf("read through the gateway while the instance came back: %d %s", r.status, r.body)
			}
		}
		return routeRequests(t, d.queryB.addr, assetsRoute) > 0
	})
}

// sharedRedisLimit: two gateways limiting on one Redis give one client 100 reads a minute in
// all: the 101st, whichever gateway it goes to, is the one 429.
func (d *splitDeployment) sharedRedisLimit(t *testing.T) {
	redisURL := requireServer(t, "SOC_TEST_REDIS_URL")
	// Static upstreams (no Consul): these gateways follow no KV configuration of the others.
	env := append(append([]string{}, d.base...), "SOC_GATEWAY_KEY="+d.gatewayKey, "SOC_REDIS_URL="+redisURL, "SOC_RATE_LIMIT=100",
		"SOC_UPSTREAMS=commands=http://"+d.commands.addr+",query=http://"+d.queryA.addr)
	gws := []string{"http://" + startNode(t, env, "--target", "gateway").addr, "http://" + startNode(t, env, "--target", "gateway").addr}
	// The limiter's key is the principal: a fresh schema's admin is a fresh user, so nothing
	// else on the shared Redis counts against it. The token comes from the commands instance
	// directly: a sign-in through a gateway would count against the source address, not the admin.
	token := login(t, "http://"+d.commands.addr, testAdminEmail, testAdminPassword)
	var rejected []int
	var last reply
	for i := 0; i < 101; {
		gw := gws[i%2]
		r := call(t, http.MethodGet, gw+"/v1/assets", token, "")
		if r.status == http.StatusUnauthorized { // the gateway has not read the session yet: not limited, not counted
			time.Sleep(100 * time.Millisecond)
			continue
		}
		i++
		switch r.status {
		case http.StatusOK:
		case http.StatusTooManyRequests:
			rejected = append(rejected, i)
			last = r
		default:
			t.Fatalf("read %d through %s: %d %s", i, gw, r.status, r.body)
		}
	}
	if len(rejected) != 1 || rejected[0] != 101 {
		t.Fatalf("429 answered to reads %v of 101, want the 101st only", rejected)
	}
	if last.header.Get("Retry-After") == "" || last.header.Get("RateLimit") == "" || last.header.Get("RateLimit-Policy") != `"default";q=100;w=60` ||
		!strings.HasPrefix(last.header.Get("Content-Type"), "application/problem+json") || !strings.Contains(last.body, `"status":429`) {
		t.Fatalf("the 429: %v %s, want Retry-After, RateLimit, RateLimit-Policy and problem+json", last.header, last.body)
	}
}

// rateLimitFromKV: a rate limit put in Consul KV config/soc/gateway limits the running gateway;
// removing it lifts the limit, without a restart either way.
func (d *splitDeployment) rateLimitFromKV(t *testing.T) {
	client, _ := consulTestClient(t)
	key := consul.ConfigKey("gateway")
	t.Cleanup(func() { _, _ = client.KV().Delete(key, nil) })
	read := func() reply { return call(t, http.MethodGet, d.gateway+"/v1/assets", d.token, "") }
	if r := read(); r.status != http.StatusOK || r.header.Get("RateLimit-Policy") != "" {
		t.Fatalf("before the KV change: %d, policy %q; want no limit", r.status, r.header.Get("RateLimit-Policy"))
	}
	// waitFor polls reads until f accepts one: the delay is logged, the bound only catches a
	// gateway that never changes.
	waitFor := func(what string, f func(reply) bool) {
		t.Helper()
		start := time.Now()
		for deadline := start.Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if r := read(); f(r) {
				t.Logf("%s %v after the KV change", what, time.Since(start).Round(time.Millisecond))
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not seen within 30s of the KV change", what)
			}
		}
	}
	if _, err := client.KV().Put(&api.KVPair{Key: key, Value: []byte(`{"rate_limit":5}`)}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor("the gateway limited reads to 5 a minute", func(r reply) bool {
		switch {
		case r.status == http.StatusTooManyRequests:
			if r.header.Get("RateLimit-Policy") != `"default";q=5;w=60` || r.header.Get("Retry-After") == "" {
				t.Fatalf("429 after the KV change: policy %q, Retry-After %q", r.header.Get("RateLimit-Policy"), r.header.Get("Retry-After"))
			}
			return true
		case r.status != http.StatusOK:
			t.Fatalf("read while the limit changes: %d %s", r.status, r.body)
		}
		return false
	})
	if _, err := client.KV().Delete(key, nil); err != nil {
		t.Fatal(err)
	}
	waitFor("the limit lifted", func(r reply) bool { return r.status == http.StatusOK && r.header.Get("RateLimit-Policy") == "" })
}

// breaker: an upstream answering 500 opens its breaker after --gateway-breaker-failures; the
// gateway then answers 503 problem+json naming it without calling it, lets one probe through
// after --gateway-breaker-open, and closes once a probe succeeds.
func (d *splitDeployment) breaker(t *testing.T) {
	var hits atomic.Int64
	var healthy atomic.Bool
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/assets" {
			http.NotFound(w, r) // a 4xx is no failure to the breaker
			return
		}
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if !healthy.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"status":500}`))
			return
		}
		_, _ = w.Write([]byte(`{"items":[]}`))
	}))
	defer up.Close()
	// No cache: its position watcher would call the upstream too, and cached reads would not.
	gw := "http://" + startNode(t, append(append([]string{}, d.base...), "SOC_GATEWAY_KEY="+d.gatewayKey),
		"--target", "gateway", "--upstreams", "query="+up.URL, "--gateway-cache-size", "0",
		"--gateway-breaker-failures", "3", "--gateway-breaker-open", "1s").addr
	read := func() reply { return call(t, http.MethodGet, gw+"/v1/assets", d.token, "") }

	first := read()
	for i := 0; first.status == http.StatusUnauthorized && i < 300; i++ { // the session not read yet: the upstream is not called
		time.Sleep(100 * time.Millisecond)
		first = read()
	}
	for i, r := range []reply{first, read(), read()} {
		if r.status != http.StatusInternalServerError {
			t.Fatalf("read %d with the upstream failing: %d %s, want its 500", i+1, r.status, r.body)
		}
	}
	if n := hits.Load(); n != 3 {
		t.Fatalf("the upstream was called %d times for 3 reads", n)
	}
	for i := range 5 {
		r := read()
		if r.status != http.StatusServiceUnavailable || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") ||
			!strings.Contains(r.body, "upstream query") || r.header.Get("Retry-After") == "" {
			t.Fatalf("read %d with the breaker open: %d %v %s, want 503 problem+json naming upstream query", i+1, r.status, r.header, r.body)
		}
	}
	if n := hits.Load(); n != 3 {
		t.Fatalf("the open breaker let %d reads reach the upstream", n-3)
	}

	// Once open long enough, one probe goes through; it fails, and the breaker opens again.
	var probe reply
	eventually(t, "the half-open breaker's probe", func() bool {
		probe = read()
		return hits.Load() > 3
	})
	if n := hits.Load(); n != 4 || probe.status != http.StatusInternalServerError {
		t.Fatalf("half-open: the upstream was called %d more times, the probe answered %d; want one probe answered 500", n-3, probe.status)
	}
	// The upstream recovers: the next probe succeeds and closes the breaker.
	healthy.Store(true)
	eventually(t, "a successful probe", func() bool {
		r := read()
		if r.status != http.StatusOK && r.status != http.StatusServiceUnavailable {
			t.Fatalf("read while the breaker recovers: %d %s", r.status, r.body)
		}
		return r.status == http.StatusOK
	})
	if n := hits.Load(); n != 5 {
		t.Fatalf("the upstream was called %d times by the second probe, want once", n-4)
	}
	for i := range 3 {
		if r := read(); r.status != http.StatusOK {
			t.Fatalf("read %d after the breaker closed: %d %s", i+1, r.status, r.body)
		}
	}
	if n := hits.Load(); n != 8 {
		t.Fatalf("the closed breaker let %d of 3 reads through", n-5)
	}
}

// trace: a command through the gateway with the client's traceparent is one trace in Jaeger,
// with spans from the gateway, the command handler, the relay and the projection.
func (d *splitDeployment) trace(t *testing.T) {
	jaeger := requireServer(t, "SOC_TEST_JAEGER_QUERY_URL")
	requireServer(t, "SOC_TEST_OTLP_ENDPOINT")
	requireServer(t, "SOC_TEST_KAFKA_BROKERS")
	if !d.kafka || !d.tracing {
		t.Fatal("the deployment started without Kafka or tracing")
	}
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	raw[0] |= 0x10 // Jaeger prints a trace id's high half without leading zeros: keep 32 digits
	traceID := hex.EncodeToString(raw[:])
	r := callWith(t, http.MethodPost, d.gateway+"/v1/assets", d.token, `{"kind":"host","name":"gw-traced","identifiers":{"hostnames":["gw-traced.example"]}}`,
		http.Header{"Traceparent": {"00-" + traceID + "-00f067aa0ba902b7-01"}})
	if r.status != http.StatusCreated {
		t.Fatalf("POST /v1/assets through the gateway: %d %s", r.status, r.body)
	}
	want := []string{"gateway POST /v1/assets", "http POST /v1/assets", "command RegisterAsset", "relay publish", "projection assets apply"}
	// Spans are exported in batches (every 5 s by default), the relay's and the projection's
	// after the command's, and through Kafka: poll generously.
	waitForSpans(t, jaeger, traceID, want, d.commands.stderr)
}
