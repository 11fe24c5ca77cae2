package ws

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// noCloseFrame is the close "code" of a connection that is closed without a close frame: the
// peer closed first (gorilla has already echoed its close frame), or the socket failed.
const noCloseFrame = 0

// client is one connection. The reader goroutine owns reads, the writer goroutine owns every
// data write (gorilla allows one concurrent writer; control frames may be written from anywhere).
type client struct {
	hub  *Hub
	conn *websocket.Conn
	id   uint64
	user string // the authenticated user (Config.Authenticate), else ""
	// viewer is what the principal of the upgrade request may see (scope.go), fixed at open.
	viewer viewer

	matcher atomic.Pointer[matcher] // replaced by subscribe (under hub.pubMu)

	// The send queue, bounded by Config.QueueBytes. A message stays counted until the socket has
	// taken it; progress is when it last took one (or when the queue became non-empty), which
	// tells a reading client from a stuck one.
	mu       sync.Mutex
	queue    [][]byte
	queued   int64
	progress time.Time
	wake     chan struct{} // capacity 1: the queue has messages for the writer

	quit        chan struct{} // closed by kick
	kickOnce    sync.Once
	closeCode   int // set before quit is closed
	closeReason string
	readerDone  chan struct{}
}

func newClient(h *Hub, conn *websocket.Conn, f Filter) *client {
	c := &client{
		hub:        h,
		conn:       conn,
		wake:       make(chan struct{}, 1),
		quit:       make(chan struct{}),
		readerDone: make(chan struct{}),
	}
	c.matcher.Store(newMatcher(f))
	return c
}

// kick asks the writer to close the connection with code (noCloseFrame: without a close frame).
// Only the first call counts. It never blocks: a message write in progress gets WriteWait more
// to complete, then fails.
func (c *client) kick(code int, reason string) {
	c.kickOnce.Do(func() {
		c.closeCode, c.closeReason = code, reason
		close(c.quit)
		_ = c.conn.NetConn().SetWriteDeadline(time.Now().Add(c.hub.cfg.WriteWait))
		c.hub.roomFreed() // a deliver waiting for this client gives up on it
	})
}

func (c *client) closing() bool {
	select {
	case <-c.quit:
		return true
	default:
		return false
	}
}

// offer queues the longest prefix of msgs that fits and returns its length, and when the client
// counts as stuck if the socket takes nothing more. A client already stuck at now takes nothing.
// An empty queue takes a message of any size, so one larger than the bound still gets through.
func (c *client) offer(msgs [][]byte, now time.Time) (taken int, stuckAt time.Time) {
	cfg := &c.hub.cfg
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.queued > 0 && !now.Before(c.progress.Add(cfg.StuckTimeout)) {
		return 0, c.progress.Add(cfg.StuckTimeout)
	}
	if c.closing() {
		return 0, now
	}
	if c.queued == 0 {
		c.progress = now // the wait for the client starts now
	}
	for _, m := range msgs {
		if c.queued > 0 && c.queued+int64(len(m)) > cfg.QueueBytes {
			break
		}
		c.queue = append(c.queue, m)
		c.queued += int64(len(m))
		taken++
	}
	if taken > 0 {
		c.hub.notePeak(c.queued)
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
	return taken, c.progress.Add(cfg.StuckTimeout)
}

// next returns the oldest queued message, still counted as queued.
func (c *client) next() ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 {
		return nil, false
	}
	return c.queue[0], true
}

// sent drops the oldest message, which the socket has taken. It wakes the waiting deliver calls
// when the queue empties or falls to half the bound, rather than at every message, so a batch
// is paged in chunks of half a queue.
func (c *client) sent() {
	half := c.hub.cfg.QueueBytes / 2
	c.mu.Lock()
	before := c.queued
	c.queued -= int64(len(c.queue[0]))
	c.queue[0] = nil
	c.queue = c.queue[1:]
	c.progress = time.Now()
	wake := c.queued == 0 || (before > half && c.queued <= half)
	c.mu.Unlock()
	if wake {
		c.hub.roomFreed()
	}
}

// reply queues a response to a client message; while the queue is full the client's messages
// are not read (flow control both ways).
func (c *client) reply(v any) {
	msg, err := json.Marshal(v)
	if err != nil { // cannot happen for the reply types
		c.hub.cfg.Log.Error("ws: cannot encode reply", "err", err)
		return
	}
	c.hub.deliver([]delivery{{c: c, msgs: [][]byte{msg}}})
}

func (c *client) writeLoop() {
	cfg := &c.hub.cfg
	ticker := time.NewTicker(cfg.PingInterval)
	defer func() {
		ticker.Stop()
		_ = c.conn.Close()
		c.hub.remove(c)
		c.hub.wg.Done()
		c.hub.cfg.Log.Debug("ws: client disconnected", "client", c.id, "code", c.closeCode, "reason", c.closeReason)
	}()
	for {
		select {
		case <-c.quit:
			c.closeHandshake()
			return
		case <-c.wake:
			for {
				msg, ok := c.next()
				if !ok {
					break
				}
				if c.closing() { // a kick wins over queued messages
					c.closeHandshake()
					return
				}
				// The hub closes a client stuck for StuckTimeout; WriteWait more lets it still
				// take its close frame if it resumes reading.
				_ = c.conn.SetWriteDeadline(time.Now().Add(cfg.StuckTimeout + cfg.WriteWait))
				if err := c.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
					c.kick(noCloseFrame, "write failed: "+err.Error())
					return
				}
				c.sent()
				select { // keep pinging through a long backlog: the pongs keep the reader alive
				case <-ticker.C:
					if !c.ping() {
						return
					}
				default:
				}
			}
		case <-ticker.C:
			if !c.ping() {
				return
			}
		}
	}
}

func (c *client) ping() bool {
	if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.hub.cfg.WriteWait)); err != nil {
		c.kick(noCloseFrame, "ping failed: "+err.Error())
		return false
	}
	return true
}

// closeHandshake sends the close frame of the kick, if any, and waits (bounded) for the peer's
// answer, which ends the reader, before the connection is closed.
func (c *client) closeHandshake() {
	if c.closeCode == noCloseFrame {
		return
	}
	wait := c.hub.cfg.WriteWait
	err := c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(c.closeCode, truncate(c.closeReason, 123)), time.Now().Add(wait))
	if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-c.readerDone:
	case <-t.C:
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func (c *client) readLoop() {
	defer c.hub.wg.Done()
	defer close(c.readerDone)
	cfg := &c.hub.cfg
	c.conn.SetReadLimit(cfg.MaxMessageBytes)
	extend := func() { _ = c.conn.SetReadDeadline(time.Now().Add(cfg.PongWait)) }
	extend()
	c.conn.SetPongHandler(func(string) error { extend(); return nil })
	for {
		kind, data, err := c.conn.ReadMessage()
		if err != nil {
			c.readFailed(err)
			return
		}
		extend()
		c.handle(kind, data)
	}
}

func (c *client) readFailed(err error) {
	var ce *websocket.CloseError
	var ne net.Error
	switch {
	case errors.Is(err, websocket.ErrReadLimit):
		// gorilla has already sent 1009 (without a reason); this is a no-op then.
		c.kick(CloseTooBig, fmt.Sprintf("message too big: limit %d bytes", c.hub.cfg.MaxMessageBytes))
	case errors.As(err, &ce):
		c.kick(noCloseFrame, "client closed: "+ce.Error()) // gorilla has echoed the close frame
	case errors.As(err, &ne) && ne.Timeout():
		c.kick(CloseKeepAlive, ReasonKeepAlive)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed), errors.Is(err, io.EOF):
		c.kick(noCloseFrame, "connection lost")
	default: // protocol error: gorilla has sent 1002
		c.kick(noCloseFrame, "read failed: "+err.Error())
	}
}

// clientMessage is a message from a client.
type clientMessage struct {
	Type   string  `json:"type"`
	Filter *Filter `json:"filter,omitempty"`
}

type subscribedMessage struct {
	Type   string `json:"type"`
	Filter Filter `json:"filter"`
}

type errorMessage struct {
	Type  string `json:"type"`
	Error string `json:"error"`
}

type typeMessage struct {
	Type string `json:"type"`
}

func (c *client) handle(kind int, data []byte) {
	if kind != websocket.TextMessage {
		c.reply(errorMessage{Type: "error", Error: "binary messages are not supported: send JSON text"})
		return
	}
	var m clientMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		c.reply(errorMessage{Type: "error", Error: "invalid message: " + err.Error()})
		return
	}
	if dec.More() {
		c.reply(errorMessage{Type: "error", Error: "invalid message: one JSON object per message"})
		return
	}
	switch m.Type {
	case "subscribe":
		var f Filter
		if m.Filter != nil {
			f = *m.Filter
		}
		f, err := f.Normalize()
		if err != nil {
			c.reply(errorMessage{Type: "error", Error: err.Error()})
			return
		}
		c.subscribe(f)
	case "ping":
		c.reply(typeMessage{Type: "pong"})
	case "":
		c.reply(errorMessage{Type: "error", Error: `invalid message: missing "type"`})
	default:
		c.reply(errorMessage{Type: "error", Error: fmt.Sprintf("unknown message type %q (want subscribe or ping)", truncate(m.Type, 64))})
	}
}

// subscribe replaces the filter and queues the acknowledgement in the same critical section as
// Publish, so the acknowledgement separates old-filter events from new-filter ones.
func (c *client) subscribe(f Filter) {
	msg, _ := json.Marshal(subscribedMessage{Type: "subscribed", Filter: f})
	c.hub.pubMu.Lock()
	defer c.hub.pubMu.Unlock()
	c.matcher.Store(newMatcher(f))
	c.hub.deliver([]delivery{{c: c, msgs: [][]byte{msg}}})
}
