// Package deadline holds the node's connection deadline policy: a request may take as long as it
// needs while its data moves, and is cut when it stands still.
//
// http.Server's ReadTimeout and WriteTimeout bound a request's total time, body and answer
// included: a 250 MB report uploaded over a 20 Mbit/s link (about 100 s), or a large report read
// by a slow client, was cut at 60 s. Policy.Wrap keeps those timeouts as each request's first
// deadlines and moves them while bytes arrive or leave, so what is bounded is idleness: an
// uploader must send MinProgress bytes per Idle (16 KiB a minute on the node, about 270 B/s), a
// reader take about twice that (see piece), which any real link does, while a stalled or
// trickling (slowloris) client is still cut after Idle.
//
// Progress on the request body moves the write deadline too: a handler answers an upload only
// once it has read it, and that answer (the import's 202) must still be writable then.
package deadline

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Policy is the idleness a connection is allowed. Both fields must be positive.
type Policy struct {
	// Idle is how long a connection may go without progress. The server's ReadTimeout and
	// WriteTimeout should equal it: they are each request's first deadlines.
	Idle time.Duration
	// MinProgress is the number of bytes that count as progress: each time that many of the body
	// have arrived, the read and write deadlines move to Idle from now.
	MinProgress int64
}

// Wrap applies the policy to every request next serves. It must be the outermost handler: it
// needs the server's own ResponseWriter to reach the connection's deadlines.
func (p Policy) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &conn{Policy: p, rc: http.NewResponseController(w)}
		c.writeBy.Store(time.Now().Add(p.Idle).UnixNano()) // the server's WriteTimeout, just set
		defer c.off.Store(true)                            // the connection may serve the next request
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &body{ReadCloser: r.Body, c: c}
		}
		out := &writer{ResponseWriter: w, c: c}
		if _, ok := w.(io.ReaderFrom); ok {
			next.ServeHTTP(&readerFromWriter{out}, r)
			return
		}
		next.ServeHTTP(out, r)
	})
}

// conn is one request's view of its connection's deadlines; the body and the writer share it
// (a proxy reads the body on another goroutine than the one writing the answer).
type conn struct {
	Policy
	rc      *http.ResponseController
	writeBy atomic.Int64 // the write deadline last set, in Unix nanoseconds
	// off: the handler returned or hijacked the connection; the deadlines are no longer ours.
	off atomic.Bool
	// ownRead, ownWrite: the handler set that deadline itself, and keeps it.
	ownRead, ownWrite atomic.Bool
}

func (c *conn) extendRead(now time.Time) {
	if !c.off.Load() && !c.ownRead.Load() {
		_ = c.rc.SetReadDeadline(now.Add(c.Idle))
	}
}

func (c *conn) extendWrite(now time.Time) {
	if c.off.Load() || c.ownWrite.Load() {
		return
	}
	by := now.Add(c.Idle)
	if c.rc.SetWriteDeadline(by) == nil {
		c.writeBy.Store(by.UnixNano())
	}
}

// wrote records progress on the answer. The deadline moves only once less than half of Idle is
// left, not on every small write; and not once it has passed: what was written then only reached
// the server's buffer, and a handler silent for Idle is cut as before.
func (c *conn) wrote() {
	now := time.Now()
	if left := c.writeBy.Load() - now.UnixNano(); left > 0 && left < int64(c.Idle/2) {
		c.extendWrite(now)
	}
}

// piece is the most one write hands the server's writer before wrote is asked. A piece, with
// the 6 KiB the server buffers, must get through within the half of Idle that wrote may leave:
// on the node 14 KiB in 30 s, about 28 KiB a minute.
func (c *conn) piece() int64 { return max(c.MinProgress/2, 1) }

type body struct {
	io.ReadCloser
	c *conn
	n int64 // bytes since the deadlines last moved
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	switch {
	case err == nil && b.n >= b.c.MinProgress:
		b.n = 0
		now := time.Now()
		b.c.extendRead(now)
		b.c.extendWrite(now)
	case err == io.EOF:
		// Only the write deadline: at the body's end the server clears the read deadline to
		// notice the client leaving, and a deadline there would cancel the request's context
		// once Idle has passed.
		b.c.extendWrite(time.Now())
	}
	return n, err
}

// writer moves the write deadline as the answer is written. Unwrap lets
// http.ResponseController reach the server's writer (EnableFullDuplex).
type writer struct {
	http.ResponseWriter
	c       *conn
	pending bool // written since the last flush: a flush of nothing is no progress
}

func (w *writer) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return w.ResponseWriter.Write(p) // still writes the header
	}
	written := 0
	for len(p) > 0 {
		k := min(int64(len(p)), w.c.piece())
		n, err := w.ResponseWriter.Write(p[:k])
		written += n
		if err != nil {
			return written, err
		}
		w.c.wrote()
		w.pending = true
		p = p[k:]
	}
	return written, nil
}

func (w *writer) Flush() {
	if w.c.rc.Flush() == nil && w.pending {
		w.pending = false
		w.c.wrote()
	}
}

// Hijack hands the connection over (a WebSocket upgrade), its deadlines with it.
func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := w.c.rc.Hijack()
	if err == nil {
		w.c.off.Store(true)
	}
	return conn, rw, err
}

// SetReadDeadline and SetWriteDeadline are found by http.ResponseController: a handler that sets
// a deadline (a stream that must not be cut, or one of its own) keeps it, unmoved.
func (w *writer) SetReadDeadline(t time.Time) error {
	w.c.ownRead.Store(true)
	return w.c.rc.SetReadDeadline(t)
}

func (w *writer) SetWriteDeadline(t time.Time) error {
	w.c.ownWrite.Store(true)
	return w.c.rc.SetWriteDeadline(t)
}

func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// readerFromWriter keeps the server writer's io.ReaderFrom (it sends a file with sendfile) when
// it has one, in pieces so that the deadline can move between them.
type readerFromWriter struct{ *writer }

func (w *readerFromWriter) ReadFrom(src io.Reader) (int64, error) {
	rf := w.ResponseWriter.(io.ReaderFrom)
	var total int64
	for {
		piece := &io.LimitedReader{R: src, N: w.c.piece()}
		// The server sends a file with sendfile only through one io.LimitedReader, and
		// http.ServeContent already passes one: its limit is carried over, not nested.
		lr, limited := src.(*io.LimitedReader)
		if limited {
			piece = &io.LimitedReader{R: lr.R, N: min(lr.N, w.c.piece())}
		}
		want := piece.N
		n, err := rf.ReadFrom(piece)
		total += n
		if limited {
			lr.N -= n
		}
		if err != nil || n == 0 || n < want {
			return total, err
		}
		w.c.wrote()
	}
}
