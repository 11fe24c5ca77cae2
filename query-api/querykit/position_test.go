package querykit

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// positions is a Positioner and a Waiter over one counter, moved by the test.
type positions struct {
	mu    sync.Mutex
	pos   int64
	moved chan struct{}
}

func newPositions(pos int64) *positions { return &positions{pos: pos, moved: make(chan struct{})} }

func (p *positions) ReadPosition(context.Context) (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pos, nil
}

func (p *positions) WaitFor(ctx context.Context, pos int64) error {
	for {
		p.mu.Lock()
		reached, moved := p.pos >= pos, p.moved
		p.mu.Unlock()
		if reached {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-moved:
		}
	}
}

func (p *positions) set(pos int64) {
	p.mu.Lock()
	p.pos = pos
	close(p.moved)
	p.moved = make(chan struct{})
	p.mu.Unlock()
}

// longPoll serves GET /v1/read-position<query> on k in the background.
func longPoll(k *Kit, query string) <-chan *httptest.ResponseRecorder {
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		w := httptest.NewRecorder()
		k.ReadPosition(w, httptest.NewRequest(http.MethodGet, "/v1/read-position"+query, nil))
		done <- w
	}()
	return done
}

func positionIn(t *testing.T, w *httptest.ResponseRecorder) int64 {
	t.Helper()
	var ans struct{ Position int64 }
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &ans) != nil {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	return ans.Position
}

func TestStampedReadsThePositionBeforeTheHandler(t *testing.T) {
	p := newPositions(7)
	k := New(Config{Position: p, Waiter: p})
	mux := http.NewServeMux()
	var ran atomic.Bool
	k.Stamped(mux).HandleFunc("/x", func(w http.ResponseWriter, r *http.Request) {
		ran.Store(true)
		p.set(9) // the read model moves while the answer is read: the header keeps the earlier position
		w.WriteHeader(http.StatusOK)
	})
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/x", nil))
	if !ran.Load() || w.Header().Get(ReadPositionHeader) != "7" {
		t.Fatalf("GET: %s %q", w.Body, w.Header().Get(ReadPositionHeader))
	}
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/x", nil))
	if w.Header().Get(ReadPositionHeader) != "" {
		t.Fatal("a POST carries the read position")
	}
	if m := (New(Config{})).Stamped(mux); m != Mux(mux) {
		t.Fatal("without a Positioner Stamped wraps the mux")
	}
}

func TestReadPositionLongPoll(t *testing.T) {
	p := newPositions(5)
	stopping, stop := context.WithCancel(context.Background())
	k := New(Config{Position: p, Waiter: p, Stopping: stopping})

	if got := positionIn(t, <-longPoll(k, "")); got != 5 {
		t.Fatalf("without after: %d", got)
	}
	if got := positionIn(t, <-longPoll(k, "?after=4")); got != 5 {
		t.Fatalf("after=4: %d", got)
	}
	// Nothing moves: it answers the same position when the wait ends.
	if got := positionIn(t, <-longPoll(k, "?after=5&wait=50ms")); got != 5 {
		t.Fatalf("idle: %d", got)
	}
	// It answers when the position passes after.
	done := longPoll(k, "?after=5&wait=30")
	p.set(8)
	if got := positionIn(t, <-done); got != 8 {
		t.Fatalf("after a move: %d", got)
	}
	// The node shutting down ends the wait.
	done = longPoll(k, "?after=8&wait=30")
	stop()
	select {
	case w := <-done:
		if got := positionIn(t, w); got != 8 {
			t.Fatalf("on shutdown: %d", got)
		}
	case <-time.After(20 * time.Second): // well below the poll's 30 s wait: the shutdown ended it
		t.Fatal("the long poll held the shutdown up")
	}

	for _, q := range []string{"?after=-1", "?after=x", "?wait=31", "?wait=1h", "?wait=-1s", "?wait=", "?after=1&after=2"} {
		w := <-longPoll(k, q)
		if w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %s", q, w.Code, w.Body)
		}
	}
	if w := <-longPoll(New(Config{}), ""); w.Code != http.StatusServiceUnavailable {
		t.Errorf("without a Positioner: %d", w.Code)
	}
	if d := parseWait(NewParams(httptest.NewRequest(http.MethodGet, "/", nil), ReadPositionRoute), "1500ms"); d != 1500*time.Millisecond {
		t.Errorf("1500ms: %s", d)
	}
}
