package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/scans/importers/trivy/trivytest"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/projections/vulns"
)

// The read side's benchmarks run a whole node in this process (no -race), load it with a
// generated report of SOC_BENCH_FINDINGS findings (default 100,000) through the import API, and
// measure the query API and read-your-writes visibility, each beside a baseline measured in the
// same run. They report figures; they never assert a time.

type benchServer struct {
	base string
	cfg  *Config
	stop func()
}

var (
	benchOnce sync.Once
	benchSrv  *benchServer
	benchErr  error
)

func benchFindings() int {
	n, err := strconv.Atoi(os.Getenv("SOC_BENCH_FINDINGS"))
	if err != nil || n <= 0 {
		return 100000
	}
	return n
}

// loadedServer starts one node for all the read-side benchmarks and imports the report.
func loadedServer(b *testing.B) *benchServer {
	b.Helper()
	benchOnce.Do(func() {
		n := benchFindings()
		var s *benchServer
		var imported, projected time.Duration
		if s, imported, projected, benchErr = startBenchNode(b, "soc-readbench", n, nil); benchErr != nil {
			return
		}
		fmt.Fprintf(os.Stderr, "read-side bench: %d findings imported in %s, projected %s after the import began\n", n, imported.Round(time.Millisecond), projected.Round(time.Millisecond))
		benchSrv = s
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchSrv
}

// startBenchNode starts a node in this process (commands, projections and query; configure, when
// set, changes its configuration), signs the tests' admin in for run (SOC_TOKEN), imports a
// generated Trivy report of n findings and waits until the projections have applied it; how
// long the import took, and how long after it began the projections had applied it. The
// node's data directory is a temporary one named after name.
func startBenchNode(b *testing.B, name string, n int, configure func(*Config)) (s *benchServer, imported, projected time.Duration, err error) {
	dir, err := os.MkdirTemp("", name)
	if err != nil {
		return nil, 0, 0, err
	}
	// The read side only: the sagas would work through the findings' deadlines during the
	// query load (their throughput is BenchmarkSagaFlow's). The tests' admin is bootstrapped
	// as on a first start; every request signs in as them (testClient, bearerTransport).
	password := filepath.Join(dir, "admin-password")
	if err = os.WriteFile(password, []byte(testAdminPassword), 0o600); err != nil {
		return nil, 0, 0, err
	}
	cfg := &Config{HTTPConfig: HTTPConfig{HTTPAddr: "127.0.0.1:0"}, StoreConfig: StoreConfig{DataDir: dir, SQLiteSync: "FULL"},
		Targets: []string{"commands", "projections", "query"}, LogLevel: "error", ImportConfig: ImportConfig{MaxImportBytes: 1 << 30},
		ShutdownTimeout: time.Minute, ReadSideConfig: ReadSideConfig{ReadSchema: "soc_read", ProjectionBatch: 1000},
		QueryConfig: QueryConfig{QueryMaxWait: 5 * time.Second}, IdentityConfig: testIdentityConfig()}
	cfg.Identity.BootstrapAdminEmail, cfg.Identity.BootstrapAdminPasswordFile = testAdminEmail, password
	if configure != nil {
		configure(cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		return nil, 0, 0, fmt.Errorf("serve: %v", err)
	}
	s = &benchServer{base: "http://" + addr, cfg: cfg, stop: func() { cancel(); <-done; os.RemoveAll(dir) }}
	report := trivytest.WriteFile(b, n, "registry.example/bench:1", trivytest.Options{})
	start := time.Now()
	for _, kv := range testEnv(nil, "--server", s.base) { // SOC_TOKEN, the admin's
		k, v, _ := strings.Cut(kv, "=")
		b.Setenv(k, v)
	}
	if code := run([]string{"import", report, "--server", s.base}, io.Discard, os.Stderr); code != 0 {
		s.stop()
		return nil, 0, 0, fmt.Errorf("import exited %d", code)
	}
	imported = time.Since(start)
	// Wait until the projections have applied everything the import wrote.
	for {
		_, lag, ok := projectionLag(addr)
		if ok && lag == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s, imported, time.Since(start), nil
}

// The query a triage screen sends most: open critical and high findings, most severe first, one
// page of 50; a quarter of the requests follow a cursor to a later page.
const triageQuery = "/v1/findings?status=open&severity=critical,high&sort=-severity&limit=50"

// load runs fn from `clients` goroutines for d and reports requests/s and latency percentiles.
func load(b *testing.B, clients int, d time.Duration, fn func(i int) error) {
	b.Helper()
	lat, elapsed := loadEach(b, clients, d, fn)
	reportLatencies(b, lat[0], elapsed, "requests/s")
}

// loadEach runs `clients` goroutines for d, each calling every one of fns in turn (starting
// with the next one at each round, so that none always goes first) and timing each call, and
// returns each fn's latencies and the time the load took. Interleaved so, the fns share
// whatever else loads the machine alike: their figures compare, where runs one after the other
// on a shared machine would not.
func loadEach(b *testing.B, clients int, d time.Duration, fns ...func(i int) error) ([][]time.Duration, time.Duration) {
	b.Helper()
	var mu sync.Mutex
	lat := make([][]time.Duration, len(fns))
	var firstErr error
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			mine := make([][]time.Duration, len(fns))
			for i := c; time.Now().Before(deadline); i += clients {
				for k := range fns {
					f := (i/clients + k) % len(fns)
					t0 := time.Now()
					if err := fns[f](i); err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
						return
					}
					mine[f] = append(mine[f], time.Since(t0))
				}
			}
			mu.Lock()
			for f := range fns {
				lat[f] = append(lat[f], mine[f]...)
			}
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	return lat, elapsed
}

// loadSides runs loadEach with benchClients() clients for loadSeconds() and reports each fn's
// requests/s and latencies, its metrics' names prefixed with prefixes[k]. A side's rate is what
// the clients would sustain on it alone (clients / its mean latency): the sides share the
// clients' time, so their wall-clock rates would add up, not compare.
func loadSides(b *testing.B, prefixes []string, fns ...func(i int) error) {
	b.Helper()
	clients := benchClients()
	lat, _ := loadEach(b, clients, loadSeconds(), fns...)
	for k, prefix := range prefixes {
		var busy time.Duration
		for _, d := range lat[k] {
			busy += d
		}
		reportLatenciesAs(b, prefix, lat[k], busy/time.Duration(clients), "requests/s")
	}
}

func reportLatencies(b *testing.B, lat []time.Duration, elapsed time.Duration, rateUnit string) {
	reportLatenciesAs(b, "", lat, elapsed, rateUnit)
}

// reportLatenciesAs reports the rate (samples over elapsed, when rateUnit is set) and the
// percentiles of lat, each metric's name prefixed with prefix.
func reportLatenciesAs(b *testing.B, prefix string, lat []time.Duration, elapsed time.Duration, rateUnit string) {
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(float64(len(lat))*p))].Microseconds()) / 1000
	}
	if rateUnit != "" {
		b.ReportMetric(float64(len(lat))/elapsed.Seconds(), prefix+rateUnit)
	}
	b.ReportMetric(pct(0.50), prefix+"p50-ms")
	b.ReportMetric(pct(0.99), prefix+"p99-ms")
	b.ReportMetric(float64(len(lat)), prefix+"samples")
}

// benchClients is the load driver's concurrency (SOC_BENCH_CLIENTS, default 8): enough to keep
// both cores busy, few enough that queueing does not dominate p99 on a 2-core machine.
func benchClients() int {
	if n, err := strconv.Atoi(os.Getenv("SOC_BENCH_CLIENTS")); err == nil && n > 0 {
		return n
	}
	return 8
}

func loadSeconds() time.Duration {
	if s, err := time.ParseDuration(os.Getenv("SOC_BENCH_LOAD")); err == nil && s > 0 {
		return s
	}
	return 10 * time.Second
}

// listPage GETs one page of a list (with bearer as the credential unless it is empty; client's
// own otherwise) and returns its items' ids and the next page's cursor.
func listPage(client *http.Client, url, bearer string) (ids []string, next string, err error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, "", err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	var p struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("GET %s: %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		return nil, "", fmt.Errorf("GET %s: %w", url, err)
	}
	for _, it := range p.Items {
		ids = append(ids, it.ID)
	}
	return ids, p.NextCursor, nil
}

// getAs sends one GET with the bearer (none when empty), bypassing the response cache unless
// cached, and fails on anything but 200.
func getAs(client *http.Client, url, bearer string, cached bool) error {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if !cached {
		req.Header.Set("Cache-Control", "no-cache")
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d", url, resp.StatusCode)
	}
	return nil
}

// BenchmarkQueryFindings: the filtered, paginated GET /v1/findings through the whole HTTP stack
// (api: with the response cache; api-uncached: every request runs the query), beside the same
// query run directly on the read model (baseline-sql), benchClients() clients each.
func BenchmarkQueryFindings(b *testing.B) {
	s := loadedServer(b)
	// Cursors of a few later pages, so that part of the load is deep pagination.
	var cursors []string
	next := ""
	for i := 0; i < 20; i++ {
		_, cursor, err := listPage(testClient, s.base+triageQuery+next, "")
		if err != nil {
			b.Fatal(err)
		}
		if cursor == "" {
			break
		}
		cursors = append(cursors, cursor)
		next = "&cursor=" + cursor
	}
	client := &http.Client{Transport: bearerTransport{base: &http.Transport{MaxIdleConnsPerHost: 64}}}
	for _, v := range []struct {
		name    string
		noCache bool
	}{{"api", false}, {"api-uncached", true}} {
		b.Run(v.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				load(b, benchClients(), loadSeconds(), func(i int) error {
					url := s.base + triageQuery
					if i%4 == 3 && len(cursors) > 0 {
						url += "&cursor=" + cursors[i%len(cursors)]
					}
					return getAs(client, url, "", !v.noCache) // noCache: the server's response cache is bypassed
				})
			}
		})
	}
	b.Run("baseline-sql", func(b *testing.B) {
		db, err := openReadDB(context.Background(), s.cfg)
		if err != nil {
			b.Fatal(err)
		}
		defer db.SQL.Close()
		r := vulns.NewReader(db)
		q := vulns.FindingQuery{Severity: []string{"critical", "high"}, Status: []string{"open"},
			List: readkit.List{Sort: "severity", Desc: true, Limit: 50}}
		// The keys of the same later pages, taken from the read model itself.
		var keys []*readkit.Key
		qq := q
		for i := 0; i < 20; i++ {
			p, err := r.Findings(context.Background(), qq)
			if err != nil {
				b.Fatal(err)
			}
			if p.Next == nil {
				break
			}
			keys = append(keys, p.Next)
			qq.After = p.Next
		}
		for i := 0; i < b.N; i++ {
			load(b, benchClients(), loadSeconds(), func(i int) error {
				qi := q
				if i%4 == 3 && len(keys) > 0 {
					qi.After = keys[i%len(keys)]
				}
				p, err := r.Findings(context.Background(), qi)
				if err == nil {
					_, err = json.Marshal(p.Items)
				}
				return err
			})
		}
	})
}

// BenchmarkVisibility: from a command's response to the change being visible in a query that does
// not wait (polling every 0.5 ms), beside the latency of the same GET once visible (the floor).
func BenchmarkVisibility(b *testing.B) {
	s := loadedServer(b)
	ids, _, err := listPage(testClient, s.base+"/v1/findings?status=open&limit=200&sort=id", "")
	if err != nil {
		b.Fatal(err)
	}
	if len(ids) == 0 {
		b.Fatal("no open findings to change")
	}
	client := &http.Client{Transport: bearerTransport{base: &http.Transport{MaxIdleConnsPerHost: 8}}}
	getOwner := func(id string) (string, error) {
		resp, err := client.Get(s.base + "/v1/findings/" + id)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		var f struct {
			Owner string `json:"owner"`
		}
		err = json.NewDecoder(resp.Body).Decode(&f)
		return f.Owner, err
	}
	samples := 300
	var vis, floor []time.Duration
	var seq int
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := 0; i < samples; i++ {
			seq++
			id := ids[seq%len(ids)]
			owner := fmt.Sprintf("analyst-%d@example.com", seq)
			resp, err := client.Post(s.base+"/v1/findings/"+id+"/assign", "application/json", strings.NewReader(`{"owner":"`+owner+`"}`))
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("assign: %d", resp.StatusCode)
			}
			t0 := time.Now()
			for {
				got, err := getOwner(id)
				if err != nil {
					b.Fatal(err)
				}
				if got == owner {
					break
				}
				if time.Since(t0) > 10*time.Second {
					b.Fatalf("the assignment of %s never became visible", id)
				}
				time.Sleep(500 * time.Microsecond)
			}
			vis = append(vis, time.Since(t0))
			t1 := time.Now()
			if _, err := getOwner(id); err != nil {
				b.Fatal(err)
			}
			floor = append(floor, time.Since(t1))
		}
	}
	b.StopTimer()
	slices.Sort(floor)
	b.ReportMetric(float64(floor[len(floor)/2].Microseconds())/1000, "get-p50-ms")
	b.ReportMetric(float64(floor[len(floor)*99/100].Microseconds())/1000, "get-p99-ms")
	reportLatencies(b, vis, 0, "")
}
