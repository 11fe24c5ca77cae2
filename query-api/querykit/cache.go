package querykit

import (
	"container/list"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The response cache. The read-model GETs (lists and single rows of assets, findings, scans and
// CVEs) keep the bodies of their 200 answers in memory, tagged with Config.Version as it was
// before the read-model query ran; an entry answers a request only while Version() still
// equals its tag, i.e. while no read model has committed anything since. A change anywhere
// invalidates every entry at once (they miss and are replaced on the next read), which is
// coarse but cannot serve data older than the request may see.
//
// The key is the method, the path and the query string with its parameters sorted and
// min_position and wait left out (they only decide how long to wait, which happens before the
// lookup), and for a scoped principal (scope.go) its actor and teams: its answers are kept for
// it alone; unscoped principals share them. No request header changes a 200 body: X-Min-Position and Prefer only wait,
// If-None-Match only turns a 200 into a 304, and every body is application/json.
//
// Not cached: errors, point-in-time reads (as_of), stream and audit reads, /openapi.json, and
// answers marked Params.Volatile (findings lists filtered by overdue: the set moves with the
// clock, not with the read model). An answer can also expire on its own: Resource.Expires says
// when a row stops being true (an open finding that is not yet overdue, at its due_at, since
// overdue is computed at query time).
//
// Concurrent identical misses at the same version are collapsed: one request queries, the
// others wait for its body (or, when it fails, query for themselves).

// DefaultCacheBytes bounds the response cache unless Config.CacheBytes says otherwise.
const DefaultCacheBytes = 64 << 20

// MaxCachedBody is the largest body the response cache keeps.
const MaxCachedBody = 1 << 20

// CacheStats are the response cache's counters since New (all zero when the cache is off).
type CacheStats struct {
	Hits      uint64 // answered from memory
	Misses    uint64 // read from the read model (cacheable requests only)
	Coalesced uint64 // answered with the body of a concurrent identical miss
	Evictions uint64 // entries dropped to stay within CacheBytes
	Entries   int    // entries held now
	Bytes     int64  // bytes held now: bodies, keys and tags
}

// CacheStats reports the response cache's counters (cmd/soc exports them as metrics).
func (k *Kit) CacheStats() CacheStats {
	if k.cache == nil {
		return CacheStats{}
	}
	c := k.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Entries = c.lru.Len()
	s.Bytes = c.bytes
	return s
}

// entity is a rendered 200 answer.
type entity struct {
	body        []byte
	etag        string
	contentType string
	expires     time.Time // zero: only a version change ends it
}

type cacheEntry struct {
	key     string
	version int64
	size    int64
	entity
}

// flight is a miss in progress; done is closed when e is set (nil when the query failed).
type flight struct {
	version int64
	done    chan struct{}
	e       *entity
}

type responseCache struct {
	max int64

	mu       sync.Mutex
	lru      *list.List // of *cacheEntry, most recently used first
	byKey    map[string]*list.Element
	inflight map[string]*flight
	bytes    int64
	stats    CacheStats
}

func newResponseCache(max int64) *responseCache {
	return &responseCache{max: max, lru: list.New(), byKey: map[string]*list.Element{}, inflight: map[string]*flight{}}
}

// lookup returns the entry for key at version when it is fresh at now; else, when a miss for
// the same key and version is in flight, that flight to wait for; else it registers the caller
// as the flight (lead true) that must finish it.
func (c *responseCache) lookup(key string, version int64, now time.Time) (e *entity, f *flight, lead bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		ce := el.Value.(*cacheEntry)
		if ce.version == version && (ce.expires.IsZero() || now.Before(ce.expires)) {
			c.lru.MoveToFront(el)
			c.stats.Hits++
			return &ce.entity, nil, false
		}
		if ce.version < version || !ce.expires.IsZero() && !now.Before(ce.expires) {
			c.remove(el) // it can never answer again
		}
	}
	if f, ok := c.inflight[key]; ok && f.version == version {
		return nil, f, false
	}
	c.stats.Misses++
	f = &flight{version: version, done: make(chan struct{})}
	c.inflight[key] = f
	return nil, f, true
}

// finish ends the caller's flight with e (nil: the query failed) and stores e when it fits.
func (c *responseCache) finish(key string, f *flight, e *entity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f.e = e
	close(f.done)
	if c.inflight[key] == f {
		delete(c.inflight, key)
	}
	if e == nil || len(e.body) > MaxCachedBody {
		return
	}
	size := int64(len(e.body) + len(key) + len(e.etag) + len(e.contentType))
	if size > c.max {
		return
	}
	if el, ok := c.byKey[key]; ok {
		if el.Value.(*cacheEntry).version > f.version {
			return // a later read already stored a newer answer
		}
		c.remove(el)
	}
	c.byKey[key] = c.lru.PushFront(&cacheEntry{key: key, version: f.version, size: size, entity: *e})
	c.bytes += size
	for c.bytes > c.max {
		c.remove(c.lru.Back())
		c.stats.Evictions++
	}
}

func (c *responseCache) remove(el *list.Element) {
	ce := c.lru.Remove(el).(*cacheEntry)
	delete(c.byKey, ce.key)
	c.bytes -= ce.size
}

// bump adds one to a counter of c.stats.
func (c *responseCache) bump(counter *uint64) {
	c.mu.Lock()
	*counter++
	c.mu.Unlock()
}

// cacheKey is the cache key of a checked read-model GET.
func cacheKey(r *http.Request, p *Params) string {
	q := make(map[string][]string, len(p.q))
	for k, v := range p.q {
		if k != "min_position" && k != "wait" {
			q[k] = v
		}
	}
	return r.Method + " " + r.URL.Path + "?" + url.Values(q).Encode() + scopeKey(r.Context()) // Encode sorts by name
}

// serve answers a read-model GET whose parameters are checked and whose min_position is
// reached: from the cache when it holds the answer at the current version, else from produce,
// whose 200 body it then keeps. produce answers a JSON body and when it expires (zero: only a
// read-model change ends it), or an error for Fail.
func (k *Kit) serve(w http.ResponseWriter, r *http.Request, p *Params, produce func() ([]byte, time.Time, error)) {
	render := func() (*entity, error) {
		body, expires, err := produce()
		if err != nil {
			return nil, err
		}
		return &entity{body: body, etag: etagOf(body), contentType: "application/json", expires: expires}, nil
	}
	uncached := func() {
		e, err := render()
		if err != nil {
			k.Fail(w, r, err)
			return
		}
		writeEntity(w, r, http.StatusOK, e)
	}
	c := k.cache
	// A request with Cache-Control: no-cache asks for the answer from the read model itself
	// (RFC 9111 §5.2.1.4): it bypasses the cache (and leaves it as it is).
	if c == nil || p.Volatile || noCacheRequested(r) {
		uncached()
		return
	}
	key := cacheKey(r, p)
	version := k.cfg.Version()
	e, f, lead := c.lookup(key, version, k.cfg.Now())
	switch {
	case e != nil:
		writeEntity(w, r, http.StatusOK, e)
		return
	case !lead:
		select {
		case <-f.done:
		case <-r.Context().Done():
			return // the client went away
		}
		if f.e != nil {
			c.bump(&c.stats.Coalesced)
			writeEntity(w, r, http.StatusOK, f.e)
			return
		}
		// The leader failed (perhaps its client went away): read for ourselves.
		c.bump(&c.stats.Misses)
		uncached()
		return
	}
	finished := false
	defer func() {
		if !finished { // produce panicked: let the followers go on
			c.finish(key, f, nil)
		}
	}()
	e, err := render()
	finished = true
	c.finish(key, f, e)
	if err != nil {
		k.Fail(w, r, err)
		return
	}
	writeEntity(w, r, http.StatusOK, e)
}

// noCacheRequested reports whether the request's Cache-Control carries no-cache.
func noCacheRequested(r *http.Request) bool {
	for _, h := range r.Header.Values("Cache-Control") {
		for _, d := range strings.Split(h, ",") {
			if strings.EqualFold(strings.TrimSpace(d), "no-cache") {
				return true
			}
		}
	}
	return false
}
