package gateway

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/socplatform/soc/cmd/soc/internal/syncbuf"
)

func TestObserveRequestID(t *testing.T) {
	var seen string
	h := Observe(nil, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Get(RequestIDHeader)
		if InfoFrom(r.Context()).RequestID != seen {
			t.Error("Info does not hold the request id")
		}
	}))
	for _, tc := range []struct{ in, want string }{
		{"abc-123_X.y", "abc-123_X.y"},
		{"", ""},
		{"bad id\r\nX-Evil: 1", ""},
		{strings.Repeat("a", 129), ""},
	} {
		r := httptest.NewRequest(http.MethodGet, "/x", nil)
		if tc.in != "" {
			r.Header.Set(RequestIDHeader, tc.in)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		got := w.Header().Get(RequestIDHeader)
		if got != seen || !ValidRequestID(got) || (tc.want != "" && got != tc.want) || (tc.want == "" && got == tc.in) {
			t.Errorf("in %q: response %q, forwarded %q", tc.in, got, seen)
		}
	}
}

func TestObserveAccessLogHasNoSecrets(t *testing.T) {
	var logs bytes.Buffer
	m := NewMetrics(prometheus.NewRegistry())
	h := Observe(slog.New(slog.NewJSONHandler(&logs, nil)), m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := InfoFrom(r.Context())
		i.Route, i.Actor, i.Upstream, i.Cache, i.Retries = "GET /v1/ws-tickets", "user:alice", "query@b:2", "miss", 1
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte("body-secret"))
	}))
	r := httptest.NewRequest(http.MethodPost, "/v1/ws-tickets?ticket=tk-secret&token=to-secret&code=co-secret&state=st-secret", strings.NewReader("pw-secret"))
	r.Header.Set("Authorization", "Bearer bearer-secret")
	r.Header.Set("Cookie", "session=cookie-secret")
	h.ServeHTTP(httptest.NewRecorder(), r)
	line := logs.String()
	if strings.Contains(line, "secret") {
		t.Fatalf("access log shows a secret: %s", line)
	}
	var rec map[string]any
	if err := json.Unmarshal(logs.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"method": "POST", "route": "GET /v1/ws-tickets", "status": 418.0, "bytes": 11.0,
		"actor": "user:alice", "upstream": "query@b:2", "cache": "miss", "retries": 1.0} {
		if rec[k] != want {
			t.Errorf("%s = %v, want %v", k, rec[k], want)
		}
	}
	if rec["request_id"] == "" || rec["duration"] == nil {
		t.Errorf("no request id or duration: %s", line)
	}
	if n := testutil.ToFloat64(m.requests.WithLabelValues("GET /v1/ws-tickets", "418")); n != 1 {
		t.Errorf("requests metric %v", n)
	}
}

// TestObserveLetsWebSocketsUpgrade: a handler behind Observe upgrades a WebSocket (gorilla
// asserts http.Hijacker on its writer) and the access log records the 101. With --target=all
// the node's /ws and /v1/notifications/ws sit behind Observe.
func TestObserveLetsWebSocketsUpgrade(t *testing.T) {
	var logs syncbuf.Buffer
	srv := httptest.NewServer(Observe(slog.New(slog.NewJSONHandler(&logs, nil)), nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			t.Errorf("upgrade behind Observe: %v", err)
			return
		}
		defer c.Close()
		_ = c.WriteMessage(websocket.TextMessage, []byte("hello"))
	})))
	t.Cleanup(srv.Close)
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, msg, err := c.ReadMessage(); err != nil || string(msg) != "hello" {
		t.Fatalf("%q %v", msg, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), `"status":101`) {
		if time.Now().After(deadline) {
			t.Fatalf("no access-log line with status 101: %s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
