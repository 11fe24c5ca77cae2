package querykit

import (
	"net/http"
	"testing"
)

func TestCacheSize(t *testing.T) {
	version := func() int64 { return 1 }
	for name, cfg := range map[string]Config{
		"no Version":          {CacheBytes: 1 << 10},
		"negative CacheBytes": {Version: version, CacheBytes: -1},
	} {
		if New(cfg).cache != nil {
			t.Errorf("%s: the cache is on", name)
		}
	}
	if k := New(Config{Version: version}); k.cache == nil || k.cache.max != DefaultCacheBytes {
		t.Fatal("CacheBytes 0 with a Version is the default size")
	}
	if k := New(Config{Version: version, CacheBytes: 1 << 10}); k.cache == nil || k.cache.max != 1<<10 {
		t.Fatal("CacheBytes bounds the cache")
	}
}

type recordingMux []string

func (m *recordingMux) HandleFunc(p string, _ func(http.ResponseWriter, *http.Request)) {
	*m = append(*m, p)
}

func TestHandle(t *testing.T) {
	var m recordingMux
	nop := func(http.ResponseWriter, *http.Request) {}
	Handle(&m, []string{"GET /a", "GET /b"}, nop, nop)
	if len(m) != 2 || m[0] != "GET /a" || m[1] != "GET /b" {
		t.Fatalf("registered %v", m)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a route without a handler was accepted")
		}
	}()
	Handle(&m, []string{"GET /a", "GET /b"}, nop)
}
