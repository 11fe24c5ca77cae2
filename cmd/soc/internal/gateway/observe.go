package gateway

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// RequestIDHeader carries the request id: accepted from the client when well formed, else made
// here; set on the response and forwarded upstream.
const RequestIDHeader = "X-Request-Id"

// Info is what the layers of one request learn about it, for its access log line: the
// handlers below Observe fill it in (InfoFrom).
type Info struct {
	RequestID string
	Route     string // the route pattern
	Actor     string // the verified principal's actor
	Upstream  string // the instance of the last attempt
	Cache     string // hit, miss, or empty when not looked up
	Retries   int
}

type infoKey struct{}

// InfoFrom returns the request's Info, nil outside Observe.
func InfoFrom(ctx context.Context) *Info {
	i, _ := ctx.Value(infoKey{}).(*Info)
	return i
}

// ValidRequestID reports whether id is 1–128 characters of [A-Za-z0-9._-]: anything else
// (which could forge log lines or headers) is replaced.
func ValidRequestID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// NewRequestID is 16 random bytes in hex.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Observe gives every request an id, then logs one JSON line (through log) and records the
// metrics when it has been answered. The line never holds credentials: no headers but the
// request id, the path without its query (which may carry a ticket or code), no bodies.
func Observe(log *slog.Logger, m *Metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(RequestIDHeader)
		if !ValidRequestID(id) {
			id = NewRequestID()
			r.Header.Set(RequestIDHeader, id)
		}
		w.Header().Set(RequestIDHeader, id)
		info := &Info{RequestID: id}
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), infoKey{}, info)))
		d := time.Since(start)
		m.request(info.Route, rec.status, d)
		if log != nil {
			log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method), slog.String("route", info.Route), slog.String("path", r.URL.Path),
				slog.Int("status", rec.status), slog.Int64("bytes", rec.bytes), slog.Duration("duration", d),
				slog.String("request_id", id), slog.String("actor", info.Actor), slog.String("upstream", info.Upstream),
				slog.String("cache", info.Cache), slog.Int("retries", info.Retries))
		}
	})
}

// recorder notes the status and size of a response; Unwrap lets http.ResponseController reach
// the connection (flushes, WebSocket hijacks).
type recorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader && code >= 200 || code == http.StatusSwitchingProtocols {
		r.status, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Hijack hands the connection to a WebSocket upgrade (gorilla/websocket asserts http.Hijacker
// on the writer it is given, it does not unwrap); the request is logged as 101.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(r.ResponseWriter).Hijack()
	if err == nil {
		r.status, r.wroteHeader = http.StatusSwitchingProtocols, true
	}
	return conn, rw, err
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
