package gateway

import (
	"container/list"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ReadPositionHeader is the query target's read position on each GET it answers: the global
// position up to which its read models had applied every event when the answer was read.
const ReadPositionHeader = "Soc-Read-Position"

// MaxCachedBody is the largest response body the Cache keeps.
const MaxCachedBody = 1 << 20

// Cache keeps 200 answers to GETs, each tagged with its read position, and serves one only
// while the position the gateway last learnt (Advance: every response's header and the
// PositionWatcher's long poll) still equals its tag: once any event has been applied since, an
// answer may be stale, and it is fetched again. Entries are keyed by the caller's scope (the
// principal's permission set and team scope, and its actor when team-scoped: two principals
// share an entry only when they are certain to be shown the same data) and by the URL with its
// query sorted, without min_position and wait, which do not change the answer.
//
// Not kept: answers other than 200, bodies over MaxCachedBody, answers without a read position,
// and answers whose Cache-Control says no-store. "private" is kept: it forbids shared caches
// from serving the answer to another user, and this cache never does (the scope is in the key).
// Not served: requests with Cache-Control no-cache or no-store, and requests asking for a
// min_position (query or X-Min-Position) above the entry's tag.
type Cache struct {
	maxBytes int64
	metrics  *Metrics
	position atomic.Int64

	mu      sync.Mutex
	lru     *list.List // of *entry, most recently used first
	entries map[string]*list.Element
	size    int64
}

type entry struct {
	key    string
	tag    int64
	header http.Header
	body   []byte
}

func (e *entry) cost() int64 { return int64(len(e.key) + len(e.body) + 256) }

// NewCache returns a Cache holding at most maxBytes of answers.
func NewCache(maxBytes int64, m *Metrics) *Cache {
	return &Cache{maxBytes: maxBytes, metrics: m, lru: list.New(), entries: map[string]*list.Element{}}
}

// Position is the read position last learnt.
func (c *Cache) Position() int64 { return c.position.Load() }

// Advance learns that the read models have reached pos (it never goes back).
func (c *Cache) Advance(pos int64) {
	for {
		cur := c.position.Load()
		if pos <= cur || c.position.CompareAndSwap(cur, pos) {
			return
		}
	}
}

// Wrap serves GETs from the cache in front of next. scope returns the caller's scope key, or
// "" when the request must not use the cache (an anonymous caller on a non-public route).
func (c *Cache) Wrap(scope func(*http.Request) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := ""
		if r.Method == http.MethodGet && r.Header.Get("Upgrade") == "" { // a WebSocket handshake is no answer to keep
			s = scope(r)
		}
		if s == "" {
			next.ServeHTTP(&positionWriter{ResponseWriter: w, cache: c}, r)
			return
		}
		key := s + "\x00" + cacheURL(r.URL)
		info := InfoFrom(r.Context())
		noCache := hasDirective(r.Header.Get("Cache-Control"), "no-cache", "no-store")
		if !noCache {
			if e := c.get(key, minPosition(r)); e != nil {
				c.metrics.cacheResult("hit")
				if info != nil {
					info.Cache = "hit"
				}
				h := w.Header()
				for k, v := range e.header {
					h[k] = v
				}
				h.Set("X-Cache", "hit")
				h.Set("Content-Length", strconv.Itoa(len(e.body)))
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write(e.body)
				return
			}
		}
		c.metrics.cacheResult("miss")
		if info != nil {
			info.Cache = "miss"
		}
		w.Header().Set("X-Cache", "miss")
		pw := &positionWriter{ResponseWriter: w, cache: c, capture: !hasDirective(r.Header.Get("Cache-Control"), "no-store")}
		next.ServeHTTP(pw, r)
		if tag, ok := pw.storable(); ok {
			c.put(&entry{key: key, tag: tag, header: pw.kept, body: pw.buf})
		}
	})
}

func (c *Cache) get(key string, minPos int64) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil
	}
	e := el.Value.(*entry)
	if e.tag != c.Position() {
		c.remove(el) // stale for good: the position only moves forward
		return nil
	}
	if minPos > e.tag {
		return nil
	}
	c.lru.MoveToFront(el)
	return e
}

func (c *Cache) put(e *entry) {
	if e.cost() > c.maxBytes || e.tag != c.Position() {
		return // older than what the gateway knows: stale already
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[e.key]; ok {
		c.remove(el)
	}
	c.entries[e.key] = c.lru.PushFront(e)
	c.size += e.cost()
	for c.size > c.maxBytes {
		c.remove(c.lru.Back())
	}
}

func (c *Cache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*entry)
	delete(c.entries, e.key)
	c.size -= e.cost()
}

// Len is the number of entries (for tests and metrics).
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// cacheURL is the path and the query sorted, without the parameters that do not change the
// answer.
func cacheURL(u *url.URL) string {
	q := u.Query()
	q.Del("min_position")
	q.Del("wait")
	return u.Path + "?" + q.Encode() // Encode sorts by key
}

func minPosition(r *http.Request) int64 {
	v := r.URL.Query().Get("min_position")
	if v == "" {
		v = r.Header.Get("X-Min-Position")
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	return n
}

func hasDirective(cacheControl string, names ...string) bool {
	for d := range strings.SplitSeq(cacheControl, ",") {
		d, _, _ = strings.Cut(strings.TrimSpace(d), "=")
		for _, n := range names {
			if strings.EqualFold(d, n) {
				return true
			}
		}
	}
	return false
}

// positionWriter learns the read position from a response's header and, when capture is set,
// keeps a copy of a 200 answer small enough to cache while it streams to the client.
type positionWriter struct {
	http.ResponseWriter
	cache    *Cache
	capture  bool
	status   int
	tag      int64
	tagged   bool
	kept     http.Header
	buf      []byte
	overflow bool
}

func (p *positionWriter) WriteHeader(code int) {
	if p.status == 0 && code >= 200 {
		p.status = code
		h := p.Header()
		if pos, err := strconv.ParseInt(h.Get(ReadPositionHeader), 10, 64); err == nil && pos >= 0 {
			p.tag, p.tagged = pos, true
			p.cache.Advance(pos)
		}
		if p.capture && code == http.StatusOK && p.tagged && !hasDirective(h.Get("Cache-Control"), "no-store") {
			p.kept = h.Clone()
			p.kept.Del("X-Cache")
			p.kept.Del(RequestIDHeader) // each answer has its own
			p.kept.Del("Content-Length")
			p.kept.Del("Date")
		}
	}
	p.ResponseWriter.WriteHeader(code)
}

func (p *positionWriter) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.WriteHeader(http.StatusOK)
	}
	if p.kept != nil && !p.overflow {
		if len(p.buf)+len(b) > MaxCachedBody {
			p.overflow, p.buf = true, nil
		} else {
			p.buf = append(p.buf, b...)
		}
	}
	return p.ResponseWriter.Write(b)
}

func (p *positionWriter) storable() (int64, bool) {
	return p.tag, p.kept != nil && !p.overflow
}

func (p *positionWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }

func (p *positionWriter) Flush() {
	if f, ok := p.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// PositionWatcher long-polls the query target's GET /v1/read-position through Handler (the
// proxy, so its instance selection and breakers apply) and advances Cache with each answer: an
// event applied while no request passes still ends the entries read before it.
type PositionWatcher struct {
	Cache   *Cache
	Handler http.Handler
	// Prepare readies a request before it is sent (the gateway's own principal); nil: as is.
	Prepare func(*http.Request) *http.Request
	Wait    time.Duration // the long poll's wait (25s)
	Log     *slog.Logger
}

// Run polls until ctx ends, pausing a second after a failed poll.
func (w *PositionWatcher) Run(ctx context.Context) {
	wait := w.Wait
	if wait <= 0 {
		wait = 25 * time.Second
	}
	for ctx.Err() == nil {
		pos, err := w.poll(ctx, wait)
		if err == nil {
			w.Cache.Advance(pos)
			continue
		}
		if w.Log != nil && ctx.Err() == nil {
			w.Log.Debug("read position poll failed", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (w *PositionWatcher) poll(ctx context.Context, wait time.Duration) (int64, error) {
	target := fmt.Sprintf("/v1/read-position?after=%d&wait=%s", w.Cache.Position(), wait)
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return 0, err
	}
	r.RemoteAddr = "127.0.0.1:0"
	if w.Prepare != nil {
		r = w.Prepare(r)
	}
	rec := &bufferWriter{header: http.Header{}}
	w.Handler.ServeHTTP(rec, r)
	if rec.status != http.StatusOK {
		return 0, fmt.Errorf("status %d: %.200s", rec.status, rec.body)
	}
	var out struct {
		Position *int64 `json:"position"`
	}
	if err := json.Unmarshal(rec.body, &out); err != nil || out.Position == nil {
		return 0, fmt.Errorf("unexpected answer %.200s", rec.body)
	}
	return *out.Position, nil
}

// bufferWriter is a ResponseWriter into memory.
type bufferWriter struct {
	header http.Header
	status int
	body   []byte
}

func (b *bufferWriter) Header() http.Header { return b.header }
func (b *bufferWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *bufferWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	b.body = append(b.body, p...)
	return len(p), nil
}
