package consul

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/socplatform/soc/cmd/soc/internal/syncbuf"
	"github.com/socplatform/soc/events/eventstest"
)

// settle bounds every wait on Consul's state: checks run every second, so anything taking
// longer than this is broken, not slow. Tests wait on the state itself, never on a duration.
const settle = 30 * time.Second

// testClient connects to the test agent (SOC_TEST_CONSUL_ADDR; skipped without it, failed under
// SOC_REQUIRE_SERVERS=1).
func testClient(t *testing.T) (*api.Client, Config) {
	t.Helper()
	addr := eventstest.ServerEnv(t, "SOC_TEST_CONSUL_ADDR", "run deploy/dev/consul.sh up and export SOC_TEST_CONSUL_ADDR=$(deploy/dev/consul.sh addr)")
	cfg := DefaultConfig()
	cfg.Addr = addr
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	c, err := cfg.Client()
	if err != nil {
		t.Fatal(err)
	}
	return c, cfg
}

// uniqueName keeps tests sharing one agent (parallel runs, other packages) apart.
func uniqueName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(settle)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", settle, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readyServer answers /readyz 200 on addr ("127.0.0.1:0" for a new port).
func readyServer(t *testing.T, addr string) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"status":"ready"}`))
	}))
	s.Listener.Close()
	s.Listener = ln
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func ids(list []Instance) []string {
	out := make([]string, 0, len(list))
	for _, i := range list {
		out = append(out, i.ID)
	}
	return out
}

func TestWatcherFollowsPassingInstances(t *testing.T) {
	client, cfg := testClient(t)
	target := uniqueName("test-")
	service := ServiceName(target)
	srvA, srvB := readyServer(t, "127.0.0.1:0"), readyServer(t, "127.0.0.1:0")
	addrB := srvB.Listener.Addr().String()
	regA := NewRegistrar(client, cfg, Node{ID: "a", Address: srvA.Listener.Addr().String(), Version: "test", Targets: []string{target}})
	regB := NewRegistrar(client, cfg, Node{ID: "b", Address: addrB, Version: "test", Targets: []string{target}})
	ctx := context.Background()
	for _, r := range []*Registrar{regA, regB} {
		if err := r.Register(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Deregister(context.Background()) })
	}

	var mu sync.Mutex
	var changes [][]string
	w := NewWatcher(client, slog.New(slog.NewTextHandler(&syncbuf.Buffer{}, nil)), []string{service}, func(s string, list []Instance) {
		if s != service {
			t.Errorf("OnChange for %q, watching only %q", s, service)
		}
		mu.Lock()
		changes = append(changes, ids(list))
		mu.Unlock()
	})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { w.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	select {
	case <-w.Ready():
	case <-time.After(settle):
		t.Fatal("watcher not ready")
	}
	idA, idB := ServiceID(target, "a"), ServiceID(target, "b")
	have := func(want ...string) func() bool {
		return func() bool { return slices.Equal(ids(w.TargetInstances(target)), want) }
	}
	waitFor(t, "both instances passing", have(idA, idB))
	for _, i := range w.Instances(service) {
		if i.ID == idB && i.URL != "http://"+addrB {
			t.Errorf("instance b URL = %q, want http://%s", i.URL, addrB)
		}
	}

	srvB.Close() // its check now fails: connection refused
	waitFor(t, "b dropped once its /readyz stops answering", have(idA))

	readyServer(t, addrB) // back on the same port
	waitFor(t, "b back once its /readyz answers again", have(idA, idB))

	if err := regB.Deregister(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b gone once deregistered", have(idA))
	if err := regA.Deregister(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "no instance once both deregistered", have())

	mu.Lock()
	defer mu.Unlock()
	if len(changes) == 0 || len(changes[len(changes)-1]) != 0 {
		t.Fatalf("OnChange calls %v: want the last one empty", changes)
	}
	for i := 1; i < len(changes); i++ {
		if slices.Equal(changes[i], changes[i-1]) {
			t.Fatalf("OnChange called twice in a row with %v (calls %v)", changes[i], changes)
		}
	}
}

func TestRegistrarRegistersTheReadyzCheck(t *testing.T) {
	client, cfg := testClient(t)
	target := uniqueName("test-")
	srv := readyServer(t, "127.0.0.1:0")
	r := NewRegistrar(client, cfg, Node{ID: "n1", Address: srv.Listener.Addr().String(), Version: "v9", Targets: []string{target}, Tags: []string{"extra"}})
	if err := r.Register(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Deregister(context.Background()) })
	svc, _, err := client.Agent().Service(ServiceID(target, "n1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if svc.Service != ServiceName(target) || svc.Meta["version"] != "v9" || svc.Meta["node"] != "n1" || !slices.Contains(svc.Tags, "extra") {
		t.Fatalf("registered %+v", svc)
	}
	// The agent does not echo a check's definition: its output names what it probed.
	url := "http://" + srv.Listener.Addr().String() + "/readyz"
	waitFor(t, "the check passing on "+url, func() bool {
		checks, err := client.Agent().Checks()
		if err != nil {
			t.Fatal(err)
		}
		c, ok := checks[ServiceID(target, "n1")+"-readyz"]
		return ok && c.ServiceID == ServiceID(target, "n1") && c.Status == api.HealthPassing && strings.Contains(c.Output, url)
	})
}

func TestKVWatcherAppliesChangesAndKeepsTheLastGoodConfig(t *testing.T) {
	client, _ := testClient(t)
	key := ConfigKey(uniqueName("test-"))
	t.Cleanup(func() { _, _ = client.KV().Delete(key, nil) })
	put := func(v string) {
		t.Helper()
		if _, err := client.KV().Put(&api.KVPair{Key: key, Value: []byte(v)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	put(`{"log_level":"debug"}`)

	var mu sync.Mutex
	var applied []string
	logs := &syncbuf.Buffer{}
	k := NewKVWatcher(client, slog.New(slog.NewJSONHandler(logs, nil)), key, func(m map[string]json.RawMessage) {
		b, _ := json.Marshal(m)
		mu.Lock()
		applied = append(applied, string(b))
		mu.Unlock()
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { k.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	seen := func(want ...string) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			return slices.Equal(applied, want)
		}
	}
	waitFor(t, "the initial value applied", seen(`{"log_level":"debug"}`))

	put(`{"log_level": oops`)
	waitFor(t, "the malformed value reported", func() bool { return strings.Contains(logs.String(), "consul configuration ignored") })
	put(`{"rate_limit":5}`)
	waitFor(t, "the next good value applied, the malformed one never", seen(`{"log_level":"debug"}`, `{"rate_limit":5}`))

	if _, err := client.KV().Delete(key, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a deleted key applied as no settings", seen(`{"log_level":"debug"}`, `{"rate_limit":5}`, `{}`))
}
