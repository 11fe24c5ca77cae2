package deadline

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The node's policy scaled down: 300 ms of idleness, 1 KiB of progress.
var policy = Policy{Idle: 300 * time.Millisecond, MinProgress: 1 << 10}

// start serves h on a real server with the node's timeouts shortened to the policy's Idle: behind
// the policy, or bare (what the server's timeouts alone do, the control), and returns a client
// of it: the server is at addr.
func start(t *testing.T, h http.Handler, bare bool) *http.Client {
	t.Helper()
	if !bare {
		h = policy.Wrap(h)
	}
	srv := httptest.NewUnstartedServer(h)
	_ = srv.Listener.Close()
	l := newPipes()
	srv.Listener = l
	srv.Config.ReadHeaderTimeout = 10 * time.Second
	srv.Config.ReadTimeout = policy.Idle
	srv.Config.WriteTimeout = policy.Idle
	srv.Start()
	t.Cleanup(srv.Close)
	tr := &http.Transport{DialContext: l.dial}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

const addr = "http://pipe/"

// pipes is a listener whose connections are in-memory pipes, which buffer nothing: a write
// waits exactly until the client has read it. (On loopback a slow reader is fed in steps of the
// 64 KiB segment size, longer than the deadlines tested, and the kernel's buffers would hold a
// whole short answer.)
type pipes struct {
	conns     chan net.Conn
	closed    chan struct{}
	closeOnce sync.Once
}

func newPipes() *pipes { return &pipes{conns: make(chan net.Conn), closed: make(chan struct{})} }

func (l *pipes) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipes) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

func (l *pipes) Addr() net.Addr { return pipeAddr{} }

func (l *pipes) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	c, s := net.Pipe()
	select {
	case l.conns <- s:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

type upload struct {
	n   int64
	err error
}

// reader reads the body whole and answers how much it read; got has what the handler saw.
func reader(got chan<- upload) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		got <- upload{n, err}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "read %d", n)
	})
}

// post sends count chunks of size bytes, every gap after the first, and returns the answer.
func post(c *http.Client, size, count int, gap time.Duration) (int, string, error) {
	pr, pw := io.Pipe()
	go func() {
		chunk := bytes.Repeat([]byte("x"), size)
		for i := range count {
			if i > 0 {
				time.Sleep(gap)
			}
			if _, err := pw.Write(chunk); err != nil {
				return // the client gave up the request
			}
		}
		_ = pw.Close()
	}()
	return answer(c.Post(addr, "application/octet-stream", pr))
}

// answer reads a response whole: its status and body, or the error that ended it.
func answer(resp *http.Response, err error) (int, string, error) {
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestSlowUploadIsReadWhole(t *testing.T) {
	// 30 KiB over 1.5 s: five times the server's 300 ms, 20 KiB/s.
	got := make(chan upload, 1)
	status, body, err := post(start(t, reader(got), false), 2<<10, 15, 100*time.Millisecond)
	if err != nil || status != http.StatusOK || body != "read 30720" {
		t.Fatalf("answer %d %q, %v; want 200 \"read 30720\"", status, body, err)
	}
	if u := <-got; u.err != nil || u.n != 30720 {
		t.Fatalf("the handler read %d bytes, %v", u.n, u.err)
	}

	t.Run("bare server cuts it", func(t *testing.T) {
		got := make(chan upload, 1)
		status, _, err := post(start(t, reader(got), true), 2<<10, 15, 100*time.Millisecond)
		if u := <-got; u.err == nil {
			t.Fatalf("the handler read all %d bytes without the policy: the test proves nothing", u.n)
		}
		if err == nil && status == http.StatusOK {
			t.Fatal("a 200 without the policy")
		}
	})
}

// cut asserts that an upload ended in a read error in the handler and no success for the client.
func cut(t *testing.T, got <-chan upload, status int, body string, err error) {
	t.Helper()
	if u := <-got; u.err == nil {
		t.Errorf("the handler read the body whole (%d bytes)", u.n)
	}
	if err == nil && status == http.StatusOK {
		t.Errorf("the client was answered 200 %q", body)
	}
}

func TestStalledUploadIsCut(t *testing.T) {
	// A chunk (progress), then nothing for 2 s.
	got := make(chan upload, 1)
	status, body, err := post(start(t, reader(got), false), 2<<10, 2, 2*time.Second)
	cut(t, got, status, body, err)
}

func TestTricklingUploadIsCut(t *testing.T) {
	// 10 bytes every 100 ms for 2 s: 100 B/s, under 1 KiB per 300 ms. Data moves, too slowly.
	got := make(chan upload, 1)
	status, body, err := post(start(t, reader(got), false), 10, 20, 100*time.Millisecond)
	cut(t, got, status, body, err)
}

// readSlowly reads the answer 4 KiB every 20 ms: 200 KiB/s.
func readSlowly(c *http.Client) ([]byte, error) {
	resp, err := c.Get(addr)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var got bytes.Buffer
	for {
		_, err := io.CopyN(&got, resp.Body, 4<<10)
		if err == io.EOF {
			return got.Bytes(), nil
		}
		if err != nil {
			return got.Bytes(), err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSlowReaderGetsTheWholeAnswer(t *testing.T) {
	// 640 KiB read 4 KiB every 20 ms: over 3 s, ten times the server's 300 ms. Not slower: a
	// write can wait on 6 KiB the server buffers besides the piece, and must get through within
	// half of Idle (150 ms), so the slowest reader kept is about 43 KiB/s here, 30 KiB a minute
	// on the node.
	want := make([]byte, 640<<10)
	_, _ = rand.Read(want)
	file := filepath.Join(t.TempDir(), "report")
	if err := os.WriteFile(file, want, 0o600); err != nil {
		t.Fatal(err)
	}
	handlers := map[string]http.Handler{
		// One Write of the whole answer.
		"Write": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(want) }),
		// A file download (the generated reports' route): http.ServeContent, through ReadFrom.
		"ReadFrom": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, ok := w.(io.ReaderFrom); !ok {
				http.Error(w, "the writer lost io.ReaderFrom", http.StatusInternalServerError)
				return
			}
			f, err := os.Open(file)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			defer f.Close()
			http.ServeContent(w, r, "report", time.Time{}, f)
		}),
	}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			got, err := readSlowly(start(t, h, false))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("read %d of %d bytes (equal: %t), %v", len(got), len(want), bytes.Equal(got, want), err)
			}
		})
	}

	t.Run("bare server cuts it", func(t *testing.T) {
		got, err := readSlowly(start(t, handlers["Write"], true))
		if err == nil && len(got) == len(want) {
			t.Fatal("the whole answer arrived without the policy: the test proves nothing")
		}
	})
}

func TestWriterReachesTheConnection(t *testing.T) {
	t.Run("Unwrap", func(t *testing.T) {
		// EnableFullDuplex is found only by unwrapping the writer.
		c := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := http.NewResponseController(w).EnableFullDuplex(); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
			}
		}), false)
		if status, body, err := answer(c.Get(addr)); err != nil || status != http.StatusOK {
			t.Fatalf("EnableFullDuplex through the policy: %d %q, %v", status, body, err)
		}
	})

	t.Run("Hijack", func(t *testing.T) {
		c := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h, ok := w.(http.Hijacker) // as gorilla/websocket and the status recorders assert it
			if !ok {
				http.Error(w, "no http.Hijacker", http.StatusInternalServerError)
				return
			}
			conn, rw, err := h.Hijack()
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			defer conn.Close()
			_, _ = rw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
			_ = rw.Flush()
		}), false)
		if status, body, err := answer(c.Get(addr)); err != nil || status != http.StatusOK || body != "hijacked" {
			t.Fatalf("got %d %q, %v", status, body, err)
		}
	})

	// Each flush must put "first" or "second" on the wire while the handler waits for the
	// client to have read it.
	for name, flush := range map[string]func(http.ResponseWriter) error{
		"ResponseController": func(w http.ResponseWriter) error { return http.NewResponseController(w).Flush() },
		"Flusher": func(w http.ResponseWriter) error {
			f, ok := w.(http.Flusher) // as the gateway's recorders assert it
			if !ok {
				return fmt.Errorf("no http.Flusher")
			}
			f.Flush()
			return nil
		},
	} {
		t.Run("Flush/"+name, func(t *testing.T) {
			seen := make(chan struct{}, 2)
			c := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for _, part := range []string{"first\n", "second\n"} {
					_, _ = io.WriteString(w, part)
					if err := flush(w); err != nil {
						_, _ = io.WriteString(w, err.Error())
						return
					}
					select {
					case <-seen:
					case <-time.After(5 * time.Second):
						return
					}
				}
			}), false)
			resp, err := c.Get(addr)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			for _, want := range []string{"first\n", "second\n"} {
				if line, err := br.ReadString('\n'); err != nil || line != want {
					t.Fatalf("got %q, %v; want %q", line, err, want)
				}
				seen <- struct{}{}
			}
		})
	}
}

func TestHandlerKeepsTheDeadlineItSets(t *testing.T) {
	// The handler lifts the write deadline and writes across 2×Idle: the policy must not put
	// one back when a write passes half of Idle.
	c := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Time{}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "a")
		time.Sleep(policy.Idle * 2 / 3) // past half of Idle: this write would move a deadline
		_, _ = io.WriteString(w, "b")
		_ = rc.Flush()
		time.Sleep(2 * policy.Idle) // past any deadline moved there
		_, _ = io.WriteString(w, "c")
	}), false)
	if _, body, err := answer(c.Get(addr)); err != nil || body != "abc" {
		t.Fatalf("got %q, %v; want \"abc\"", body, err)
	}
}

func TestSilentHandlerIsCut(t *testing.T) {
	// A handler that writes nothing for Idle is cut as without the policy: its late answer
	// only reaches the server's buffer, and flushing nothing is no progress either.
	for name, wait := range map[string]func(http.ResponseWriter){
		"silent": func(http.ResponseWriter) { time.Sleep(2 * policy.Idle) },
		"flushing nothing": func(w http.ResponseWriter) {
			for range 20 {
				_ = http.NewResponseController(w).Flush()
				time.Sleep(policy.Idle / 10)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			c := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				wait(w)
				_, _ = io.WriteString(w, "late")
			}), false)
			if status, body, err := answer(c.Get(addr)); err == nil && body == "late" {
				t.Fatalf("answered %d %q after 2×Idle without progress", status, body)
			}
		})
	}
}

func TestContextOutlivesTheBody(t *testing.T) {
	// Once the body has ended, the server watches the connection for the client leaving; a read
	// deadline left there would cancel the request's context Idle later.
	alive := make(chan error, 1)
	c := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		time.Sleep(2 * policy.Idle)
		alive <- r.Context().Err()
	}), false)
	_, _, _ = answer(c.Post(addr, "text/plain", strings.NewReader(strings.Repeat("x", 4<<10))))
	if err := <-alive; err != nil {
		t.Fatalf("the request's context ended %v after its body: %v", 2*policy.Idle, err)
	}
}
