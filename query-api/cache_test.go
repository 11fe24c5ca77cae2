package queryapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socplatform/soc/projections/assets"
	"github.com/socplatform/soc/projections/ownership"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/projections/scans"
	"github.com/socplatform/soc/projections/vulns"
	assetsapi "github.com/socplatform/soc/query-api/assets"
	"github.com/socplatform/soc/query-api/querykit"
	scansapi "github.com/socplatform/soc/query-api/scans"
	vulnsapi "github.com/socplatform/soc/query-api/vulns"
)

// countingReader counts the reads that reach the read model, and can hold the findings list
// until released.
type countingReader struct {
	vulnsapi.Reader
	assets  assetsapi.Reader
	scans   scansapi.Reader
	calls   atomic.Int64
	started chan struct{} // receives once per held Findings call (nil: not held)
	release chan struct{} // closed to let held calls go on
	failOne atomic.Bool   // the next Findings call fails
}

func (c *countingReader) Asset(ctx context.Context, id string) (*assets.Asset, error) {
	c.calls.Add(1)
	return c.assets.Asset(ctx, id)
}

func (c *countingReader) Assets(ctx context.Context, q assets.Query) (readkit.Page[assets.Asset], error) {
	c.calls.Add(1)
	return c.assets.Assets(ctx, q)
}

func (c *countingReader) Finding(ctx context.Context, id string) (*vulns.Finding, error) {
	c.calls.Add(1)
	return c.Reader.Finding(ctx, id)
}

func (c *countingReader) Findings(ctx context.Context, q vulns.FindingQuery) (readkit.Page[vulns.Finding], error) {
	c.calls.Add(1)
	if c.started != nil {
		c.started <- struct{}{}
		<-c.release
	}
	if c.failOne.CompareAndSwap(true, false) {
		return readkit.Page[vulns.Finding]{}, errors.New("the database is on fire")
	}
	return c.Reader.Findings(ctx, q)
}

func (c *countingReader) Scans(ctx context.Context, q scans.Query) (readkit.Page[scans.Scan], error) {
	c.calls.Add(1)
	return c.scans.Scans(ctx, q)
}

// Scan passes through uncounted, like every read this type does not override.
func (c *countingReader) Scan(ctx context.Context, id string) (*scans.Scan, error) {
	return c.scans.Scan(ctx, id)
}

func (c *countingReader) ScopedCVE(ctx context.Context, id string, s ownership.Scope) (*vulns.CVE, error) {
	c.calls.Add(1)
	return c.Reader.ScopedCVE(ctx, id, s)
}

// OwnedStreams passes through uncounted.
func (c *countingReader) OwnedStreams(ctx context.Context, s ownership.Scope, ids []string) ([]string, error) {
	return c.assets.OwnedStreams(ctx, s, ids)
}

// stepWaiter has applied everything up to reached; a later position waits for advance.
type stepWaiter struct {
	mu      sync.Mutex
	reached int64
	moved   chan struct{}
	waiting chan int64 // receives the position of each wait that blocks
}

func newStepWaiter(reached int64) *stepWaiter {
	return &stepWaiter{reached: reached, moved: make(chan struct{}), waiting: make(chan int64, 16)}
}

func (w *stepWaiter) WaitFor(ctx context.Context, pos int64) error {
	blocked := false
	for {
		w.mu.Lock()
		if pos <= w.reached {
			w.mu.Unlock()
			return nil
		}
		moved := w.moved
		w.mu.Unlock()
		if !blocked {
			blocked = true
			w.waiting <- pos
		}
		select {
		case <-moved:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (w *stepWaiter) advance(pos int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.reached = pos
	close(w.moved)
	w.moved = make(chan struct{})
}

type cacheHarness struct {
	*harness
	api     *API
	counter *countingReader
	version atomic.Int64
}

// newCacheHarness is newHarness with the response cache on (version 1) and reads counted.
func newCacheHarness(t *testing.T, mut func(*Config)) *cacheHarness {
	ch := &cacheHarness{}
	ch.version.Store(1)
	ch.harness = newHarness(t, func(c *Config) {
		ch.counter = &countingReader{Reader: c.Reader, assets: c.Assets, scans: c.Scans}
		c.Reader, c.Assets, c.Scans = ch.counter, ch.counter, ch.counter
		c.Version = ch.version.Load
		if mut != nil {
			mut(c)
		}
		api, err := New(*c)
		if err != nil {
			t.Fatal(err)
		}
		ch.api = api
	})
	// newHarness registered its own API on the same config; serve from the one we keep.
	ch.mux = http.NewServeMux()
	ch.api.Register(ch.mux)
	return ch
}

func (ch *cacheHarness) reads() int64 { return ch.counter.calls.Load() }

func (ch *cacheHarness) stats(t *testing.T, want CacheStats) {
	t.Helper()
	got := ch.api.CacheStats()
	got.Bytes, got.Entries = 0, 0
	want.Bytes, want.Entries = 0, 0
	if got != want {
		t.Fatalf("stats %+v, want %+v", got, want)
	}
}

func TestCacheHitAndVersionChange(t *testing.T) {
	ch := newCacheHarness(t, nil)
	for _, target := range []string{"/v1/findings", "/v1/findings/" + findingID, "/v1/assets/" + assetID, "/v1/scans", "/v1/cves/CVE-2024-3094"} {
		before := ch.reads()
		a := ch.json(target, http.StatusOK, nil)
		b := ch.json(target, http.StatusOK, nil)
		if ch.reads() != before+1 {
			t.Errorf("%s: %d reads, want 1", target, ch.reads()-before)
		}
		if a.Body.String() != b.Body.String() || a.Header().Get("ETag") != b.Header().Get("ETag") ||
			b.Header().Get("Cache-Control") != "no-cache" || b.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s: the hit differs: %v %v", target, a.Header(), b.Header())
		}
	}
	ch.stats(t, CacheStats{Hits: 5, Misses: 5})
	if s := ch.api.CacheStats(); s.Entries != 5 || s.Bytes <= 0 {
		t.Errorf("%+v", s)
	}

	// A commit moves the version: the next read goes to the read model and sees the change.
	ch.reader.mu.Lock()
	ch.reader.cves["CVE-2024-3094"].Version = 7
	ch.reader.mu.Unlock()
	var cve vulns.CVE
	ch.json("/v1/cves/CVE-2024-3094", http.StatusOK, &cve)
	if cve.Version != 1 {
		t.Fatalf("no commit was announced, yet the cache missed: %+v", cve)
	}
	ch.version.Add(1)
	ch.json("/v1/cves/CVE-2024-3094", http.StatusOK, &cve)
	if cve.Version != 7 {
		t.Fatalf("served the old row after the version moved: %+v", cve)
	}
	ch.json("/v1/cves/CVE-2024-3094", http.StatusOK, nil)
	ch.stats(t, CacheStats{Hits: 7, Misses: 6})
	if s := ch.api.CacheStats(); s.Entries != 5 {
		t.Errorf("the stale entry was not replaced: %+v", s)
	}
}

func TestCacheKeyIgnoresParamOrderAndWaiting(t *testing.T) {
	ch := newCacheHarness(t, nil)
	ch.json("/v1/findings?severity=high&limit=5&kev=true", http.StatusOK, nil)
	ch.json("/v1/findings?kev=true&limit=5&severity=high", http.StatusOK, nil)
	ch.json("/v1/findings?limit=5&min_position=3&severity=high&wait=1&kev=true", http.StatusOK, nil, "X-Min-Position", "3")
	ch.json("/v1/findings?limit=5&severity=high&kev=true", http.StatusOK, nil, "Prefer", "wait=2")
	if ch.reads() != 1 {
		t.Fatalf("%d reads, want 1", ch.reads())
	}
	ch.json("/v1/findings?limit=6&severity=high&kev=true", http.StatusOK, nil)
	ch.json("/v1/findings?severity=high&kev=true", http.StatusOK, nil)
	ch.json("/v1/assets?limit=5", http.StatusOK, nil)
	ch.json("/v1/scans?limit=5", http.StatusOK, nil)
	if ch.reads() != 5 {
		t.Fatalf("%d reads, want 5", ch.reads())
	}
	ch.stats(t, CacheStats{Hits: 3, Misses: 5})
}

func TestCacheStillWaitsForMinPosition(t *testing.T) {
	w := newStepWaiter(10)
	ch := newCacheHarness(t, func(c *Config) { c.Waiter = w; c.MaxWait = 10 * time.Second })
	var cve vulns.CVE
	ch.json("/v1/cves/CVE-2024-3094", http.StatusOK, &cve) // cached at version 1

	// A read that asks for position 20 must not be answered from the version-1 entry.
	done := make(chan *httptest.ResponseRecorder)
	go func() {
		req := httptest.NewRequest(http.MethodGet, "/v1/cves/CVE-2024-3094?min_position=20", nil)
		rec := httptest.NewRecorder()
		ch.mux.ServeHTTP(rec, req)
		done <- rec
	}()
	if pos := <-w.waiting; pos != 20 {
		t.Fatalf("waited for %d", pos)
	}
	select {
	case rec := <-done:
		t.Fatalf("answered before the position was reached: %d %s", rec.Code, rec.Body)
	case <-time.After(50 * time.Millisecond):
	}
	// The projection commits position 20: the row changes, the version moves, then waiters wake.
	ch.reader.mu.Lock()
	ch.reader.cves["CVE-2024-3094"].Version = 2
	ch.reader.mu.Unlock()
	ch.version.Add(1)
	w.advance(20)
	rec := <-done
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"version":2`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	// Now the same position is reached at once and answered from memory.
	ch.json("/v1/cves/CVE-2024-3094?min_position=20", http.StatusOK, &cve)
	if cve.Version != 2 {
		t.Fatalf("%+v", cve)
	}
	ch.stats(t, CacheStats{Hits: 1, Misses: 2})
	// A position not reached in time is still a 503, never a cached body.
	ch.json("/v1/cves/CVE-2024-3094?min_position=21&wait=0", http.StatusServiceUnavailable, nil)
	ch.stats(t, CacheStats{Hits: 1, Misses: 2})
}

func TestCacheKeepsNoErrors(t *testing.T) {
	ch := newCacheHarness(t, nil)
	ch.json("/v1/findings?limit=0", http.StatusBadRequest, nil)
	ch.json("/v1/findings?limit=0", http.StatusBadRequest, nil)
	ch.json("/v1/cves/CVE-2024-0001", http.StatusNotFound, nil)
	ch.json("/v1/cves/CVE-2024-0001", http.StatusNotFound, nil)
	ch.counter.failOne.Store(true)
	ch.json("/v1/findings", http.StatusInternalServerError, nil)
	ch.stats(t, CacheStats{Misses: 3})
	if s := ch.api.CacheStats(); s.Entries != 0 || s.Bytes != 0 {
		t.Fatalf("errors were kept: %+v", s)
	}
	// The same version, and the answers are fresh.
	ch.reader.mu.Lock()
	ch.reader.cves["CVE-2024-0001"] = &vulns.CVE{ID: "CVE-2024-0001", StreamID: "vulns-cve-0190a0a0-0000-5000-8000-000000000004", Version: 1}
	ch.reader.mu.Unlock()
	ch.json("/v1/cves/CVE-2024-0001", http.StatusOK, nil)
	ch.json("/v1/findings", http.StatusOK, nil)
	ch.stats(t, CacheStats{Misses: 5})
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	ids := []string{"CVE-2024-0001", "CVE-2024-0002", "CVE-2024-0003"}
	addCVEs := func(ch *cacheHarness) {
		ch.reader.mu.Lock()
		defer ch.reader.mu.Unlock()
		for _, id := range ids {
			ch.reader.cves[id] = &vulns.CVE{ID: id, StreamID: "vulns-cve-0190a0a0-0000-5000-8000-000000000004", Version: 1}
		}
	}
	probe := newCacheHarness(t, nil)
	addCVEs(probe)
	probe.json("/v1/cves/"+ids[0], http.StatusOK, nil)
	size := probe.api.CacheStats().Bytes

	ch := newCacheHarness(t, func(c *Config) { c.CacheBytes = 2*size + size/2 })
	addCVEs(ch)
	get := func(id string) { ch.json("/v1/cves/"+id, http.StatusOK, nil) }
	get(ids[0])
	get(ids[1])
	get(ids[0]) // hit: 0 is now the most recently used
	get(ids[2]) // evicts 1
	ch.stats(t, CacheStats{Hits: 1, Misses: 3, Evictions: 1})
	if s := ch.api.CacheStats(); s.Entries != 2 || s.Bytes != 2*size {
		t.Fatalf("%+v, entry size %d", s, size)
	}
	get(ids[0])
	get(ids[2])
	ch.stats(t, CacheStats{Hits: 3, Misses: 3, Evictions: 1})
	get(ids[1]) // evicted: read again (and evicts 0)
	ch.stats(t, CacheStats{Hits: 3, Misses: 4, Evictions: 2})
}

func TestCacheSkipsHugeBodies(t *testing.T) {
	ch := newCacheHarness(t, nil)
	ch.reader.mu.Lock()
	ch.reader.findings[0].Description = strings.Repeat("x", querykit.MaxCachedBody)
	ch.reader.mu.Unlock()
	for range 2 {
		rec := httptest.NewRecorder()
		ch.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/findings", nil))
		if rec.Code != http.StatusOK || rec.Body.Len() <= querykit.MaxCachedBody {
			t.Fatalf("%d, %d bytes", rec.Code, rec.Body.Len())
		}
	}
	ch.stats(t, CacheStats{Misses: 2})
	if s := ch.api.CacheStats(); s.Entries != 0 || s.Bytes != 0 {
		t.Fatalf("%+v", s)
	}
}

func TestCacheHitRevalidates(t *testing.T) {
	ch := newCacheHarness(t, nil)
	etag := ch.json("/v1/findings", http.StatusOK, nil).Header().Get("ETag")
	rec := ch.do("/v1/findings", "If-None-Match", etag)
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 || rec.Header().Get("ETag") != etag {
		t.Fatalf("%d %v %q", rec.Code, rec.Header(), rec.Body)
	}
	rec = ch.do("/v1/findings", "If-None-Match", `"other"`)
	if rec.Code != http.StatusOK || rec.Header().Get("ETag") != etag {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	ch.stats(t, CacheStats{Hits: 2, Misses: 1})
}

// TestCacheOff: reads go to the read model every time (querykit's TestCacheSize checks that no
// cache is kept, and the default size when one is).
func TestCacheOff(t *testing.T) {
	for name, mut := range map[string]func(*Config){
		"no Version":         func(c *Config) { c.Version = nil },
		"negative CacheSize": func(c *Config) { c.CacheBytes = -1 },
	} {
		t.Run(name, func(t *testing.T) {
			ch := newCacheHarness(t, mut)
			ch.json("/v1/findings", http.StatusOK, nil)
			etag := ch.json("/v1/findings", http.StatusOK, nil).Header().Get("ETag")
			if rec := ch.do("/v1/findings", "If-None-Match", etag); rec.Code != http.StatusNotModified {
				t.Errorf("%d", rec.Code)
			}
			if ch.reads() != 3 || ch.api.CacheStats() != (CacheStats{}) {
				t.Errorf("%d reads, %+v", ch.reads(), ch.api.CacheStats())
			}
		})
	}
}

func TestCacheExpiresWhenFindingsFallDue(t *testing.T) {
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	var now atomic.Int64
	now.Store(base.UnixNano())
	ch := newCacheHarness(t, func(c *Config) { c.Now = func() time.Time { return time.Unix(0, now.Load()).UTC() } })
	due := base.Add(time.Hour)
	ch.reader.mu.Lock()
	ch.reader.findings[0].DueAt = &due
	ch.reader.mu.Unlock()
	for _, target := range []string{"/v1/findings", "/v1/findings/" + findingID} {
		ch.json(target, http.StatusOK, nil)
		ch.json(target, http.StatusOK, nil)
	}
	ch.stats(t, CacheStats{Hits: 2, Misses: 2})
	now.Store(due.UnixNano()) // it falls due: overdue must be computed again
	for _, target := range []string{"/v1/findings", "/v1/findings/" + findingID} {
		ch.json(target, http.StatusOK, nil)
	}
	ch.stats(t, CacheStats{Hits: 2, Misses: 4})
	// The overdue filter moves with the clock: never cached.
	before := ch.reads()
	ch.json("/v1/findings?overdue=true", http.StatusOK, nil)
	ch.json("/v1/findings?overdue=true", http.StatusOK, nil)
	if ch.reads() != before+2 {
		t.Fatal("an overdue-filtered list was cached")
	}
	ch.stats(t, CacheStats{Hits: 2, Misses: 4})
}

func TestCacheCollapsesConcurrentMisses(t *testing.T) {
	ch := newCacheHarness(t, nil)
	ch.counter.started = make(chan struct{}, 16)
	ch.counter.release = make(chan struct{})
	const n = 8
	recs := make(chan *httptest.ResponseRecorder, n)
	get := func() {
		rec := httptest.NewRecorder()
		ch.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/findings?limit=3", nil))
		recs <- rec
	}
	go get()
	<-ch.counter.started // the leader is reading
	for range n - 1 {
		go get()
	}
	time.Sleep(20 * time.Millisecond)
	close(ch.counter.release)
	var body string
	for range n {
		rec := <-recs
		if rec.Code != http.StatusOK || body != "" && rec.Body.String() != body {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		body = rec.Body.String()
	}
	if ch.reads() != 1 {
		t.Fatalf("%d reads, want 1", ch.reads())
	}
	s := ch.api.CacheStats()
	if s.Misses != 1 || s.Hits+s.Coalesced != n-1 {
		t.Fatalf("%+v", s)
	}
	t.Logf("%+v", s)

	// When the leader fails, the others read for themselves.
	ch.version.Add(1)
	ch.counter.failOne.Store(true)
	ch.counter.release = make(chan struct{})
	go get()
	<-ch.counter.started
	for range n - 1 {
		go get()
	}
	time.Sleep(20 * time.Millisecond)
	close(ch.counter.release)
	codes := map[int]int{}
	for range n {
		codes[(<-recs).Code]++
	}
	if codes[http.StatusInternalServerError] != 1 || codes[http.StatusOK] != n-1 {
		t.Fatalf("%v", codes)
	}
}

func TestCacheBypassedByNoCacheRequest(t *testing.T) {
	ch := newCacheHarness(t, nil)
	ch.json("/v1/findings", http.StatusOK, nil) // cached
	if rec := ch.do("/v1/findings", "Cache-Control", "max-age=0, no-cache"); rec.Code != http.StatusOK {
		t.Fatalf("%d", rec.Code)
	}
	if ch.reads() != 2 {
		t.Fatalf("a no-cache request must read the model: %d reads, want 2", ch.reads())
	}
	ch.json("/v1/findings", http.StatusOK, nil) // still served from the cache
	if ch.reads() != 2 {
		t.Fatalf("%d reads after a plain request, want 2 (a hit)", ch.reads())
	}
}
