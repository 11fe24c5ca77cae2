package ratelimit

import (
	"bytes"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
)

// captureFD2 runs f with the process's file descriptor 2 pointed at a file and returns what was
// written there: go-redis's logger writes to the stderr it found at start-up, which swapping
// os.Stderr would not catch.
func captureFD2(t *testing.T, f func()) string {
	t.Helper()
	tmp, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer tmp.Close()
	saved, err := syscall.Dup(2)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(saved)
	if err := syscall.Dup3(int(tmp.Fd()), 2, 0); err != nil {
		t.Fatal(err)
	}
	f()
	if err := syscall.Dup3(saved, 2, 0); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(tmp.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A Redis outage is one log line, not one per request: the go-redis client logs nothing.
func TestStoppedRedisLogsOncePerOutage(t *testing.T) {
	var logs bytes.Buffer
	l := downRedis(t)
	m := &Middleware{Limiter: l, Limit: PerMinute(100), Log: slog.New(slog.NewTextHandler(&logs, nil))}
	h := m.Wrap(okHandler())
	stderr := captureFD2(t, func() {
		for range 5 {
			if w := get(t, h, "192.0.2.1:1", ""); w.Code != http.StatusNoContent {
				t.Errorf("status %d, want the request let through", w.Code)
			}
		}
	})
	if strings.TrimSpace(stderr) != "" {
		t.Fatalf("the Redis client wrote to stderr during the outage:\n%s", stderr)
	}
	if n := strings.Count(logs.String(), "rate limiter unavailable"); n != 1 {
		t.Fatalf("outage logged %d times, want once", n)
	}
}
