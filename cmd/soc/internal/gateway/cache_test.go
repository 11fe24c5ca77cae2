package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// readModel answers GETs with the caller and its position, counting the answers it computed.
type readModel struct {
	position atomic.Int64
	reads    atomic.Int64
	extra    func(w http.ResponseWriter)
}

func (m *readModel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.reads.Add(1)
	pos := m.position.Load()
	w.Header().Set(ReadPositionHeader, strconv.FormatInt(pos, 10))
	if m.extra != nil {
		m.extra(w)
	}
	fmt.Fprintf(w, "%s@%d", r.Header.Get("X-User"), pos)
}

func byUser(r *http.Request) string { return r.Header.Get("X-User") }

func cacheGet(t *testing.T, h http.Handler, target, user string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	if user != "" {
		r.Header.Set("X-User", user)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func expect(t *testing.T, w *httptest.ResponseRecorder, cache, body string) {
	t.Helper()
	if w.Code != 200 || w.Header().Get("X-Cache") != cache || w.Body.String() != body {
		t.Fatalf("got %d X-Cache=%q %q; want %s %q", w.Code, w.Header().Get("X-Cache"), w.Body, cache, body)
	}
}

func TestCacheHitMissAndPositionInvalidation(t *testing.T) {
	m := &readModel{}
	m.position.Store(7)
	c := NewCache(1<<20, nil)
	h := c.Wrap(byUser, m)
	expect(t, cacheGet(t, h, "/v1/alerts?b=2&a=1", "alice"), "miss", "alice@7")
	// The same URL with its query in another order, and min_position/wait, is the same entry.
	expect(t, cacheGet(t, h, "/v1/alerts?a=1&b=2&min_position=7&wait=2s", "alice"), "hit", "alice@7")
	if w := cacheGet(t, h, "/v1/alerts?a=1&b=2", "alice"); w.Header().Get(ReadPositionHeader) != "7" {
		t.Fatalf("hit without the position header: %v", w.Header())
	}
	if m.reads.Load() != 1 || c.Position() != 7 {
		t.Fatalf("%d reads, position %d", m.reads.Load(), c.Position())
	}
	// Another principal never gets alice's answer.
	expect(t, cacheGet(t, h, "/v1/alerts?a=1&b=2", "bob"), "miss", "bob@7")
	// Asking for a later position than the entry's goes to the read model.
	expect(t, cacheGet(t, h, "/v1/alerts?a=1&b=2", "alice", "X-Min-Position", "8"), "miss", "alice@7")
	// no-cache and no-store bypass the entry.
	expect(t, cacheGet(t, h, "/v1/alerts?a=1&b=2", "alice", "Cache-Control", "no-cache"), "miss", "alice@7")
	// Once the gateway learns a later position, every entry read before it is stale.
	m.position.Store(8)
	c.Advance(8)
	expect(t, cacheGet(t, h, "/v1/alerts?a=1&b=2", "alice"), "miss", "alice@8")
	expect(t, cacheGet(t, h, "/v1/alerts?a=1&b=2", "alice"), "hit", "alice@8")
	// A response's header advances the position too: bob's read at 9 ends alice's entry at 8.
	m.position.Store(9)
	expect(t, cacheGet(t, h, "/v1/other", "bob"), "miss", "bob@9")
	expect(t, cacheGet(t, h, "/v1/alerts?a=1&b=2", "alice"), "miss", "alice@9")
	c.Advance(3) // never goes back
	if c.Position() != 9 {
		t.Fatalf("position %d", c.Position())
	}
}

func TestCacheKeepsOnlyCacheableAnswers(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra func(w http.ResponseWriter)
		scope func(*http.Request) string
		want  string // the second request's X-Cache
	}{
		{"no-store", func(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }, byUser, "miss"},
		{"private is per principal anyway", func(w http.ResponseWriter) { w.Header().Set("Cache-Control", "private") }, byUser, "hit"},
		{"not 200", func(w http.ResponseWriter) { w.WriteHeader(http.StatusAccepted) }, byUser, "miss"},
		{"no position", func(w http.ResponseWriter) { w.Header().Del(ReadPositionHeader) }, byUser, "miss"},
		{"too large", func(w http.ResponseWriter) { _, _ = w.Write(make([]byte, MaxCachedBody)) }, byUser, "miss"},
		{"no scope", nil, func(*http.Request) string { return "" }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &readModel{extra: tc.extra}
			h := NewCache(4<<20, nil).Wrap(tc.scope, m)
			cacheGet(t, h, "/x", "alice")
			if w := cacheGet(t, h, "/x", "alice"); w.Header().Get("X-Cache") != tc.want {
				t.Fatalf("X-Cache %q, want %q", w.Header().Get("X-Cache"), tc.want)
			}
		})
	}
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	m := &readModel{extra: func(w http.ResponseWriter) { _, _ = w.Write(make([]byte, 1000)) }}
	c := NewCache(3000, nil)
	h := c.Wrap(byUser, m)
	cacheGet(t, h, "/a", "u")
	cacheGet(t, h, "/b", "u")
	cacheGet(t, h, "/a", "u") // a is now the most recent
	cacheGet(t, h, "/c", "u") // over budget: b goes
	if c.Len() != 2 {
		t.Fatalf("%d entries", c.Len())
	}
	if w := cacheGet(t, h, "/a", "u"); w.Header().Get("X-Cache") != "hit" {
		t.Fatal("a was evicted")
	}
	if w := cacheGet(t, h, "/b", "u"); w.Header().Get("X-Cache") != "miss" {
		t.Fatal("b was kept")
	}
}

// The watcher long-polls through the proxy and advances the cache's position.
func TestPositionWatcher(t *testing.T) {
	var pos atomic.Int64
	pos.Store(41)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/read-position" || r.URL.Query().Get("after") == "" || r.Header.Get("X-Who") != "gateway" {
			http.Error(w, "bad poll "+r.URL.String(), 400)
			return
		}
		after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
		deadline := time.Now().Add(time.Second)
		for pos.Load() <= after && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		fmt.Fprintf(w, `{"position":%d}`, pos.Load())
	})
	p, _ := newProxy(t, Config{}, instance(t, "q1", up))
	c := NewCache(1<<20, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		(&PositionWatcher{Cache: c, Handler: p, Wait: time.Second,
			Prepare: func(r *http.Request) *http.Request { r.Header.Set("X-Who", "gateway"); return r }}).Run(ctx)
	}()
	waitPos := func(want int64) {
		deadline := time.Now().Add(5 * time.Second)
		for c.Position() != want {
			if time.Now().After(deadline) {
				t.Fatalf("position %d, want %d", c.Position(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitPos(41)
	pos.Store(42)
	waitPos(42)
	cancel()
	<-done
}
