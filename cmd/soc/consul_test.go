package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/socplatform/soc/cmd/soc/internal/consul"
)

// consulTestClient is a client of the test agent (SOC_TEST_CONSUL_ADDR).
func consulTestClient(t *testing.T) (*api.Client, consul.Config) {
	t.Helper()
	cfg := consul.DefaultConfig()
	cfg.Addr = requireServer(t, "SOC_TEST_CONSUL_ADDR")
	c, err := cfg.Client()
	if err != nil {
		t.Fatal(err)
	}
	return c, cfg
}

// clearedConfigKey deletes target's hot configuration (config/soc/<target>) now and once the
// test ends, and returns its key.
func clearedConfigKey(t *testing.T, client *api.Client, target string) string {
	t.Helper()
	key := consul.ConfigKey(target)
	if _, err := client.KV().Delete(key, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = client.KV().Delete(key, nil) })
	return key
}

// TestConsulNodeRegistersFollowsKVAndDeregisters runs the binary with --consul-addr: each target
// it runs is a passing soc-<target> service, a log_level put in KV changes its level live, an
// unknown key is reported as needing a restart, and SIGTERM deregisters it.
func TestConsulNodeRegistersFollowsKVAndDeregisters(t *testing.T) {
	client, cfg := consulTestClient(t)
	// sagas' key: the gateway's and the other targets' keys are other tests' to change.
	key := clearedConfigKey(t, client, "sagas")
	n := startNode(t, nil, "--consul-addr", cfg.Addr, "--log-level", "info")

	// The node logs the service IDs it registered: other nodes may share the test agent.
	var ids []string
	eventually(t, "the node registered", func() bool {
		for _, line := range strings.Split(n.stderr.String(), "\n") {
			var rec struct{ Msg, Services string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "registered in consul" {
				ids = strings.Split(rec.Services, ",")
				return true
			}
		}
		return false
	})
	targets := []string{"commands", "projections", "query", "notifier", "sagas", "gateway"} // relay idles without Kafka
	if len(ids) != len(targets) {
		t.Fatalf("registered %v, want one service per target %v", ids, targets)
	}
	for _, tgt := range targets {
		i := slices.IndexFunc(ids, func(id string) bool { return strings.HasPrefix(id, consul.ServiceName(tgt)+"-") })
		if i < 0 {
			t.Fatalf("registered %v: no %s for target %s", ids, consul.ServiceName(tgt), tgt)
		}
		eventually(t, ids[i]+" passing", func() bool {
			entries, _, err := client.Health().Service(consul.ServiceName(tgt), "", true, nil)
			if err != nil {
				t.Fatal(err)
			}
			return slices.ContainsFunc(entries, func(e *api.ServiceEntry) bool {
				return e.Service.ID == ids[i] && e.Service.Address == "127.0.0.1" && strconv.Itoa(e.Service.Port) == portOf(n.addr)
			})
		})
	}

	if strings.Contains(n.stderr.String(), `"level":"DEBUG"`) {
		t.Fatal("a debug line at --log-level info")
	}
	put := func(v string) {
		t.Helper()
		if _, err := client.KV().Put(&api.KVPair{Key: key, Value: []byte(v)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	put(`{"log_level":"debug","query_max_wait":"2s"}`)
	eventually(t, "a debug line once KV says log_level debug", func() bool { return strings.Contains(n.stderr.String(), `"level":"DEBUG"`) })
	eventually(t, "query_max_wait reported as needing a restart", func() bool {
		return strings.Contains(n.stderr.String(), `"msg":"needs restart: query_max_wait"`)
	})
	code, body := get(t, "http://"+n.addr+"/readyz")
	var ready struct {
		Checks struct {
			Consul struct {
				Registered   []string            `json:"registered"`
				NeedsRestart map[string][]string `json:"needs_restart"`
			} `json:"consul"`
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(body), &ready); err != nil || code != http.StatusOK {
		t.Fatalf("/readyz: %d %s", code, body)
	}
	if !slices.Equal(ready.Checks.Consul.Registered, ids) || !slices.Equal(ready.Checks.Consul.NeedsRestart["sagas"], []string{"query_max_wait"}) {
		t.Fatalf("/readyz consul check: %s", body)
	}

	n.stop(t)
	services, err := client.Agent().Services()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, ok := services[id]; ok {
			t.Errorf("%s still registered after SIGTERM", id)
		}
	}
	if !strings.Contains(n.stderr.String(), "deregistered from consul") {
		t.Errorf("no deregistration logged:\n%s", n.stderr)
	}
}

func portOf(hostport string) string { return hostport[strings.LastIndex(hostport, ":")+1:] }

// TestConsulDiscoveryFollowsATargetsInstances: the watcher handed to a gateway sees an instance
// of a target registered by another node.
func TestConsulDiscoveryFollowsATargetsInstances(t *testing.T) {
	client, cfg := consulTestClient(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	target := "discovery-test-" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	reg := consul.NewRegistrar(client, cfg, consul.Node{ID: "n1", Address: srv.Listener.Addr().String(), Targets: []string{target}})
	if err := reg.Register(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = reg.Deregister(context.Background()) }()

	a := &app{cfg: &Config{ConsulConfig: ConsulConfig{Consul: cfg}}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	w, err := a.consulDiscovery(ctx, []string{target})
	if err != nil || w == nil {
		t.Fatalf("consulDiscovery = %v, %v", w, err)
	}
	defer func() { cancel(); a.wg.Wait() }()
	eventually(t, "the instance discovered", func() bool {
		list := w.TargetInstances(target)
		return len(list) == 1 && list[0].ID == consul.ServiceID(target, "n1") && list[0].URL == srv.URL
	})
}

// TestConsulDiscoveryWithoutConsul: no --consul-addr, no watcher (the gateway uses --upstreams).
func TestConsulDiscoveryWithoutConsul(t *testing.T) {
	a := &app{cfg: &Config{}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if w, err := a.consulDiscovery(context.Background(), []string{"query"}); w != nil || err != nil {
		t.Fatalf("consulDiscovery without Consul = %v, %v; want nil, nil", w, err)
	}
}

// TestHotConfigSubscribersAndLogLevel: each target's configuration reaches its subscribers; keys
// none of them applies are reported once; the node logs at the most verbose level any target
// asks for, and at --log-level again once none does.
func TestHotConfigSubscribersAndLogLevel(t *testing.T) {
	var out bytes.Buffer
	log := newLogger(&out, "warn")
	a := &app{cfg: &Config{Targets: []string{"all"}}, log: log}
	var got []string
	a.onConfig("query", []string{"rate_limit"}, func(m map[string]json.RawMessage) { got = append(got, string(m["rate_limit"])) })
	level := levelVarOf(log)
	if level == nil {
		t.Fatal("newLogger's level cannot change")
	}
	c := a.consulNode()
	for _, t := range []string{"query", "commands"} {
		a.onConfig(t, []string{hotKeyLogLevel}, func(m map[string]json.RawMessage) { c.applyLogLevel(level, t, m) })
	}
	cfgOf := func(s string) map[string]json.RawMessage {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}

	c.apply("query", cfgOf(`{"rate_limit":5,"log_level":"info","tls_cert":"x"}`))
	c.apply("commands", cfgOf(`{"log_level":"debug"}`))
	if level.Level() != slog.LevelDebug {
		t.Fatalf("level %v, want debug (commands asks for it)", level.Level())
	}
	c.apply("commands", cfgOf(`{}`))
	if level.Level() != slog.LevelInfo {
		t.Fatalf("level %v, want info (only query asks)", level.Level())
	}
	c.apply("query", cfgOf(`{"rate_limit":7,"tls_cert":"y"}`))
	if level.Level() != slog.LevelWarn {
		t.Fatalf("level %v, want --log-level's warn again", level.Level())
	}
	c.apply("query", cfgOf(`{"log_level":"loud"}`)) // refused: the level stays
	if level.Level() != slog.LevelWarn || !strings.Contains(out.String(), "consul log_level ignored") {
		t.Fatalf("a bad log_level: level %v, log %s", level.Level(), out.String())
	}
	if !slices.Equal(got, []string{"5", "7", ""}) {
		t.Fatalf("rate_limit subscriber got %q", got)
	}
	if n := strings.Count(out.String(), `"msg":"needs restart: tls_cert"`); n != 1 {
		t.Fatalf("tls_cert reported %d times, want once:\n%s", n, out.String())
	}
	detail, ok := c.readiness(context.Background())
	if b, _ := json.Marshal(detail); !ok || !strings.Contains(string(b), `"needs_restart":{"query":["tls_cert"]}`) {
		t.Fatalf("readiness %s %v", b, ok)
	}

	// A subscriber that comes late gets the configuration known so far at once.
	var late string
	a.onConfig("query", []string{"cors_origins"}, func(m map[string]json.RawMessage) { late = string(m[hotKeyLogLevel]) })
	if late != `"loud"` {
		t.Fatalf("late subscriber got %q", late)
	}
}

// TestConsulConfigFromEnvironment: the Consul settings are flags with SOC_* variables (the token
// a secret), checked with the rest of the configuration.
func TestConsulConfigFromEnvironment(t *testing.T) {
	t.Setenv("SOC_CONSUL_ADDR", "consul.internal:8500")
	t.Setenv("SOC_CONSUL_CHECK_INTERVAL", "5s")
	t.Setenv("SOC_CONSUL_ADVERTISE", "10.0.0.7:8080")
	t.Setenv("SOC_CONSUL_TOKEN", "s3cr3t-token")
	c := parseServeConfig(t).Consul
	if c.Addr != "consul.internal:8500" || c.CheckInterval != 5*time.Second || c.Advertise != "10.0.0.7:8080" || c.Token != "s3cr3t-token" {
		t.Fatalf("consul config %+v", c)
	}
	t.Setenv("SOC_CONSUL_CHECK_INTERVAL", "1ms")
	cfg := parseServeConfig(t)
	if err := cfg.Validate(true); err == nil || !strings.Contains(err.Error(), "--consul-check-interval/SOC_CONSUL_CHECK_INTERVAL") || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("Validate = %v, want the check interval named and no token", err)
	}
}
