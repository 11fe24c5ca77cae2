package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/cmd/soc/internal/principalsig"
	"github.com/socplatform/soc/commands/scans/importers/trivy/trivytest"
)

// BenchmarkGateway: the same read (the triage query, a quarter of the requests on later pages)
// with the same access token, sent directly to a query node and through a `--target=gateway`
// node in front of it (issue 14: aim ≥ 70% of direct), the gateway with its response cache
// ("cache") and without it ("no-cache": every request is proxied, so the proxy's own cost shows
// beside the cache's effect). Rate limiting is off (--rate-limit 0): this measures the path,
// not the limiter (ratelimit's own benchmarks do).
//
// Each client alternates a request through the gateway with the same request sent directly
// (loadSides), so the other loads of a shared machine weigh on both alike: requests/s through
// the gateway, direct-requests/s straight to the node.
func BenchmarkGateway(b *testing.B) {
	fx := gatewayBench(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for _, v := range []struct{ name, gateway string }{{"cache", fx.cached}, {"no-cache", fx.uncached}} {
		b.Run(v.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				loadSides(b, []string{"", "direct-"},
					func(i int) error { return getAs(client, v.gateway+fx.paths[i%len(fx.paths)], fx.token, true) },
					func(i int) error { return getAs(client, fx.direct+fx.paths[i%len(fx.paths)], fx.token, true) })
			}
		})
	}
}

// gatewayFixture is a query node (commands, projections, query) over a few imported reports and
// two gateway nodes in front of it, one with the response cache and one without.
type gatewayFixture struct {
	direct, cached, uncached string   // base URLs
	token                    string   // the admin's access token, sent on every request
	paths                    []string // the workload: the triage query and some of its later pages
}

// gatewayBenchReports × gatewayBenchFindings is what the node holds: a few assets with a few
// hundred findings each, enough for several pages of the triage query.
const gatewayBenchReports, gatewayBenchFindings = 4, 250

// gatewayBench starts the nodes as `soc serve` would from these flags. The gateways share the
// query node's data directory (its SQLite store and signing keys: the SQLite store sees
// another process's appends within its poll interval), so they authenticate the sessions it
// starts; each keeps its snapshots apart. The nodes stop when the benchmark ends.
func gatewayBench(b *testing.B) *gatewayFixture {
	b.Helper()
	data, keys := b.TempDir(), b.TempDir()
	gwKey := filepath.Join(keys, "gateway.key")
	if _, err := principalsig.LoadOrCreateSigner(gwKey); err != nil {
		b.Fatal(err)
	}
	password := filepath.Join(keys, "admin-password")
	if err := os.WriteFile(password, []byte(testAdminPassword), 0o600); err != nil {
		b.Fatal(err)
	}
	node := func(args ...string) string {
		args = append([]string{"--data", data, "--http", "127.0.0.1:0", "--log-level", "error"}, args...)
		cfg := parseServeConfig(b, args...)
		if err := cfg.Validate(true); err != nil {
			b.Fatal(err)
		}
		addr, _ := serveInProcess(b, cfg)
		return "http://" + addr
	}
	fx := &gatewayFixture{}
	fx.direct = node("--target", "commands,projections,query", "--trust-gateway-key", gwKey+".pub",
		"--bootstrap-admin-email", testAdminEmail, "--bootstrap-admin-password-file", password)
	fx.token = bearerFor(strings.TrimPrefix(fx.direct, "http://"), false)
	if fx.token == "" {
		b.Fatal("the admin could not sign in")
	}
	b.Setenv("SOC_TOKEN", fx.token) // the CLI's client commands send it
	for r := range gatewayBenchReports {
		report := trivytest.WriteFile(b, gatewayBenchFindings, fmt.Sprintf("registry.example/gateway-bench:%d", r), trivytest.Options{})
		if code := run([]string{"import", report, "--server", fx.direct}, io.Discard, os.Stderr); code != 0 {
			b.Fatalf("import %d exited %d", r, code)
		}
	}
	if err := projectionsCaughtUp(strings.TrimPrefix(fx.direct, "http://"), time.Minute); err != nil {
		b.Fatal("the imports: ", err)
	}
	gateway := func(cacheSize string) string {
		return node("--target", "gateway", "--snapshot-dir", b.TempDir(), "--upstreams", "commands="+fx.direct+",query="+fx.direct,
			"--gateway-key", gwKey, "--rate-limit", "0", "--gateway-cache-size", cacheSize)
	}
	fx.cached, fx.uncached = gateway("67108864"), gateway("0")

	// The workload: three in four requests on the first page, the rest on the later pages a
	// reader follows by their cursors (as BenchmarkQueryFindings).
	client := &http.Client{}
	fx.paths = []string{triageQuery}
	for page := triageQuery; len(fx.paths) < 4*7; {
		_, next, err := listPage(client, fx.direct+page, fx.token)
		if err != nil {
			b.Fatal(err)
		}
		if next == "" {
			break
		}
		page = triageQuery + "&cursor=" + next
		fx.paths = append(fx.paths, page, triageQuery, triageQuery, triageQuery)
	}
	fx.checkGateways(b, client)
	return fx
}

// checkGateways waits until both gateways authenticate the token (their identity follows the
// shared store) and checks that a repeated read is served from the cache by one and proxied
// by the other: a row that claims to measure a cache must not measure a miss.
func (fx *gatewayFixture) checkGateways(b *testing.B, client *http.Client) {
	b.Helper()
	get := func(base string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, base+triageQuery, nil)
		req.Header.Set("Authorization", "Bearer "+fx.token)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("X-Cache")
	}
	for _, base := range []string{fx.cached, fx.uncached} {
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			status, _ := get(base)
			if status == http.StatusOK {
				break
			}
			if status != http.StatusUnauthorized || time.Now().After(deadline) {
				b.Fatalf("GET through the gateway %s: %d", base, status)
			}
		}
	}
	if _, x := get(fx.cached); x != "hit" {
		b.Fatalf("a repeated read through the caching gateway: X-Cache %q, want hit", x)
	}
	if _, x := get(fx.uncached); x != "" {
		b.Fatalf("a read through the gateway without a cache: X-Cache %q, want none", x)
	}
}
