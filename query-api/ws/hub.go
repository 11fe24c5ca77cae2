package ws

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/schemas/problem"
)

// Defaults of Config.
const (
	DefaultMaxClients      = 1000
	DefaultQueueBytes      = 8 << 20 // several projection batches of 1,000 events
	DefaultStuckTimeout    = 30 * time.Second
	DefaultPingInterval    = 30 * time.Second
	DefaultPongWait        = 60 * time.Second
	DefaultWriteWait       = 10 * time.Second
	DefaultMaxMessageBytes = 16 << 10
)

// Close codes and reasons the hub uses (see the package documentation).
const (
	CloseStuck     = websocket.ClosePolicyViolation // 1008
	CloseKeepAlive = websocket.ClosePolicyViolation // 1008
	CloseTooBig    = websocket.CloseMessageTooBig   // 1009
	CloseShutdown  = websocket.CloseGoingAway       // 1001

	ReasonStuck     = "stuck client: nothing read within the stuck timeout; events were missed: reload from the query API and reconnect"
	ReasonKeepAlive = "keep-alive timeout: no pong"
	ReasonShutdown  = "server shutting down"
)

// Config configures a Hub. Zero values take the defaults.
type Config struct {
	// MaxClients bounds the connections served at once; more are refused with 503 (default 1000).
	MaxClients int
	// QueueBytes bounds the bytes of the messages queued for one connection (default 8 MiB,
	// room for several projection batches). When a batch does not fit, Publish waits for the
	// connection's writer to make room (flow control); a message larger than QueueBytes is
	// queued alone.
	QueueBytes int64
	// StuckTimeout is how long a connection with queued messages may go without the socket
	// taking any of them (the client reads nothing) before it is closed with 1008 ReasonStuck
	// (default 30s). It bounds how long Publish waits for a connection and how old its backlog
	// can get; a client that keeps reading is never closed for being slow.
	StuckTimeout time.Duration
	// PingInterval is how often the server pings (default 30s); it must be below PongWait.
	PingInterval time.Duration
	// PongWait is how long a connection may stay silent (no pong, no message) before it is
	// closed (default 60s).
	PongWait time.Duration
	// WriteWait bounds each control frame (ping, close) and the handshake, and how long a
	// message already being written may still take once the connection is closed (default 10s).
	// A message write is bounded by StuckTimeout + WriteWait.
	WriteWait time.Duration
	// MaxMessageBytes bounds a message from a client; a larger one closes the connection with
	// 1009 (default 16 KiB).
	MaxMessageBytes int64
	// CheckOrigin decides whether an upgrade's Origin is allowed; nil allows requests with no
	// Origin header or an Origin whose host is the request's Host (gorilla's default).
	CheckOrigin func(*http.Request) bool
	// Log receives connection-level events (default slog.Default()).
	Log *slog.Logger
	// Owners tells which assets a team-scoped subscriber's teams own (scope.go); without it a
	// scoped subscriber receives no asset or finding changes.
	Owners Owners
	// Authenticate, when set, identifies the user of an upgrade request before it is upgraded; an
	// error refuses it with 401. The user's sessions are then addressed by SendTo (the
	// notification channel "websocket"). Nil: anonymous subscribers (the live-updates hub).
	Authenticate func(*http.Request) (user string, err error)
}

// Validate reports every problem of c at once (zero values are fine: they take defaults).
func (c Config) Validate() error {
	errs := []error{ // errors.Join drops the nils
		negative("MaxClients", c.MaxClients),
		negative("QueueBytes", c.QueueBytes),
		negative("StuckTimeout", c.StuckTimeout),
		negative("PingInterval", c.PingInterval),
		negative("PongWait", c.PongWait),
		negative("WriteWait", c.WriteWait),
		negative("MaxMessageBytes", c.MaxMessageBytes),
	}
	if d := c.withDefaults(); d.PingInterval >= d.PongWait && c.PingInterval >= 0 && c.PongWait >= 0 {
		errs = append(errs, fmt.Errorf("ws: PingInterval %s must be below PongWait %s", d.PingInterval, d.PongWait))
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	orDefault(&c.MaxClients, DefaultMaxClients)
	orDefault(&c.QueueBytes, DefaultQueueBytes)
	orDefault(&c.StuckTimeout, DefaultStuckTimeout)
	orDefault(&c.PingInterval, DefaultPingInterval)
	orDefault(&c.PongWait, DefaultPongWait)
	orDefault(&c.WriteWait, DefaultWriteWait)
	orDefault(&c.MaxMessageBytes, DefaultMaxMessageBytes)
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c
}

// negative is the error of a setting below zero, nil otherwise.
func negative[T int | int64 | time.Duration](name string, v T) error {
	if v < 0 {
		return fmt.Errorf("ws: %s %v is negative", name, v)
	}
	return nil
}

// orDefault sets *v to def when it is zero or negative (unset).
func orDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Hub holds the live subscribers and fans changes out to them. It is an http.Handler for the
// upgrade endpoint. Its methods are safe for concurrent use.
type Hub struct {
	cfg      Config
	upgrader websocket.Upgrader

	// pubMu serialises Publish and filter replacement, so every subscriber sees changes in the
	// order Publish was called and a subscribe acknowledgement is ordered with the events.
	pubMu sync.Mutex

	// room is closed (and replaced) when a writer frees queue space or a client is kicked while
	// someone waits in deliver (waiters > 0): a broadcast, since Publish and a client's own
	// replies may wait at once.
	roomMu  sync.Mutex
	room    chan struct{}
	waiters atomic.Int32

	peakQueued atomic.Int64 // the most bytes any one connection has had queued

	mu       sync.RWMutex
	clients  map[*client]struct{}
	reserved int // upgrades in flight, counted against MaxClients
	closed   bool
	nextID   uint64

	wg sync.WaitGroup // connection goroutines
}

// NewHub returns a hub configured by cfg (zero fields take the defaults). It panics when
// cfg.Validate fails: check the configuration first.
func NewHub(cfg Config) *Hub {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	cfg = cfg.withDefaults()
	h := &Hub{cfg: cfg, clients: make(map[*client]struct{}), room: make(chan struct{})}
	h.upgrader = websocket.Upgrader{
		HandshakeTimeout: cfg.WriteWait,
		ReadBufferSize:   4096,
		WriteBufferSize:  4096,
		WriteBufferPool:  &sync.Pool{}, // idle connections hold no write buffer
		CheckOrigin:      cfg.CheckOrigin,
		Error:            h.handshakeError,
	}
	return h
}

// Clients returns the number of connected subscribers.
func (h *Hub) Clients() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.clients)
}

// eventMessage is the server's message for one change.
type eventMessage struct {
	Type       string          `json:"type"`
	Projection string          `json:"projection"`
	Severity   string          `json:"severity,omitempty"`
	AssetID    string          `json:"asset_id,omitempty"`
	Event      json.RawMessage `json:"event"`
}

// Publish fans changes out to every subscriber whose filter they match, in order, each change
// encoded once whatever the number of subscribers. It applies flow control rather than
// dropping: a subscriber whose queue (Config.QueueBytes) cannot take the whole batch gets what
// fits at once and the rest as its writer makes room, while the others get the batch at once.
// So Publish returns when every subscriber has the batch queued, and it waits only on a
// subscriber that is reading: one that took nothing for Config.StuckTimeout is closed with
// 1008 ReasonStuck and dropped.
func (h *Hub) Publish(changes []projections.Change) {
	if len(changes) == 0 {
		return
	}
	h.pubMu.Lock()
	defer h.pubMu.Unlock()

	// The matchers cannot change meanwhile: subscribe replaces them under pubMu.
	h.mu.RLock()
	ds := make([]delivery, 0, len(h.clients))
	var scoped []viewer
	for c := range h.clients {
		if !c.closing() {
			ds = append(ds, delivery{c: c, m: c.matcher.Load()})
			if c.viewer.scope != nil {
				scoped = append(scoped, c.viewer)
			}
		}
	}
	h.mu.RUnlock()
	if len(ds) == 0 {
		return
	}
	var owned map[string]map[string]bool
	if len(scoped) > 0 {
		owned = h.ownedAssets(scoped, changes)
	}
	for i := range changes {
		ch := &changes[i]
		var msg []byte
		for j := range ds {
			d := &ds[j]
			if !d.m.match(ch) || !d.c.viewer.sees(ch, owned[d.c.viewer.key()]) {
				continue
			}
			if msg == nil {
				var err error
				if msg, err = encodeChange(ch); err != nil {
					h.cfg.Log.Error("ws: cannot encode change; skipped", "event_id", ch.Event.EventID, "type", ch.Event.Type, "err", err)
					break
				}
			}
			d.msgs = append(d.msgs, msg)
		}
	}
	h.deliver(ds)
}

// SendTo queues v (encoded as JSON once) to every open session of user and returns how many
// sessions it was queued to. Like Publish it waits for a full session to make room, and closes
// one that is stuck.
func (h *Hub) SendTo(user string, v any) (int, error) {
	msg, err := json.Marshal(v)
	if err != nil {
		return 0, err
	}
	h.pubMu.Lock()
	defer h.pubMu.Unlock()
	var ds []delivery
	h.mu.RLock()
	for c := range h.clients {
		if c.user == user && user != "" && !c.closing() {
			ds = append(ds, delivery{c: c, msgs: [][]byte{msg}})
		}
	}
	h.mu.RUnlock()
	return h.deliver(ds), nil
}

// delivery is what one deliver call still has to queue to one client.
type delivery struct {
	c    *client
	m    *matcher
	msgs [][]byte
}

// deliver queues each delivery's messages to its client, in order, and returns how many
// clients received all of theirs. Clients with room take everything at once; deliver then
// waits for the others' writers to make room, closing (and removing) a client that is stuck —
// nothing taken for Config.StuckTimeout — or that closes meanwhile.
func (h *Hub) deliver(ds []delivery) int {
	h.waiters.Add(1)
	defer h.waiters.Add(-1)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	done := 0
	for {
		room := h.roomSignal() // before the offers: a room freed after them closes it
		now := time.Now()
		var next time.Time
		pending := ds[:0]
		for _, d := range ds {
			if len(d.msgs) == 0 {
				done++
				continue
			}
			taken, stuckAt := d.c.offer(d.msgs, now)
			d.msgs = d.msgs[taken:]
			switch {
			case len(d.msgs) == 0:
				done++
			case d.c.closing():
				h.remove(d.c)
			case !now.Before(stuckAt):
				d.c.kick(CloseStuck, ReasonStuck)
				h.cfg.Log.Warn("ws: stuck client disconnected", "client", d.c.id, "remote", d.c.conn.RemoteAddr().String(), "stuck_timeout", h.cfg.StuckTimeout)
				h.remove(d.c)
			default:
				pending = append(pending, d)
				if next.IsZero() || stuckAt.Before(next) {
					next = stuckAt
				}
			}
		}
		if len(pending) == 0 {
			return done
		}
		ds = pending
		if timer == nil {
			timer = time.NewTimer(next.Sub(now))
		} else {
			timer.Reset(next.Sub(now)) // since Go 1.23 a Reset timer never delivers a stale tick
		}
		select {
		case <-room:
		case <-timer.C:
		}
	}
}

func (h *Hub) roomSignal() <-chan struct{} {
	h.roomMu.Lock()
	defer h.roomMu.Unlock()
	return h.room
}

// roomFreed wakes the goroutines waiting in deliver, if any.
func (h *Hub) roomFreed() {
	if h.waiters.Load() == 0 {
		return
	}
	h.roomMu.Lock()
	close(h.room)
	h.room = make(chan struct{})
	h.roomMu.Unlock()
}

// notePeak records n queued bytes in the high-water mark.
func (h *Hub) notePeak(n int64) {
	for {
		p := h.peakQueued.Load()
		if n <= p || h.peakQueued.CompareAndSwap(p, n) {
			return
		}
	}
}

func encodeChange(ch *projections.Change) ([]byte, error) {
	ev, err := json.Marshal(&ch.Event)
	if err != nil {
		return nil, err
	}
	return json.Marshal(eventMessage{Type: "event", Projection: ch.Projection, Severity: ch.Severity, AssetID: ch.AssetID, Event: ev})
}

// ServeHTTP upgrades a GET request to a WebSocket subscription (see the package documentation).
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		problem.Error(w, r, h.cfg.Log, problem.MethodNotAllowed("use GET to open a WebSocket"))
		return
	}
	if !websocket.IsWebSocketUpgrade(r) {
		w.Header().Set("Upgrade", "websocket")
		w.Header().Set("Connection", "Upgrade")
		problem.Error(w, r, h.cfg.Log, problem.UpgradeRequired("this endpoint only serves WebSocket upgrades (RFC 6455)"))
		return
	}
	var user string
	if h.cfg.Authenticate != nil {
		u, err := h.cfg.Authenticate(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="soc"`)
			problem.Error(w, r, h.cfg.Log, problem.Unauthorized("%s", err.Error()))
			return
		}
		user = u
	}
	filter, err := FilterFromQuery(r.URL.Query())
	if err != nil {
		var field string
		var fe *FilterError
		if errors.As(err, &fe) {
			field = fe.Field
		}
		problem.Error(w, r, h.cfg.Log, problem.Invalid(field, "%s", err.Error()))
		return
	}

	h.mu.Lock()
	switch {
	case h.closed:
		h.mu.Unlock()
		problem.Error(w, r, h.cfg.Log, problem.Unavailable(0, "the live-updates hub is shutting down"))
		return
	case len(h.clients)+h.reserved >= h.cfg.MaxClients:
		h.mu.Unlock()
		problem.Error(w, r, h.cfg.Log, problem.Unavailable(5*time.Second,
			"too many live-update connections (limit %d); retry later", h.cfg.MaxClients))
		return
	}
	h.reserved++
	h.mu.Unlock()

	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil { // the upgrader has answered (handshakeError)
		h.mu.Lock()
		h.reserved--
		h.mu.Unlock()
		return
	}
	c := newClient(h, conn, filter)
	c.user = user
	c.viewer = viewerOf(r.Context())

	h.mu.Lock()
	h.reserved--
	if h.closed {
		h.mu.Unlock()
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(CloseShutdown, ReasonShutdown), time.Now().Add(h.cfg.WriteWait))
		_ = conn.Close()
		return
	}
	h.nextID++
	c.id = h.nextID
	h.clients[c] = struct{}{}
	h.wg.Add(2)
	h.mu.Unlock()

	h.cfg.Log.Debug("ws: client connected", "client", c.id, "remote", r.RemoteAddr)
	go c.readLoop()
	go c.writeLoop()
}

// handshakeError answers a failed upgrade with problem+json: the upgrader's status becomes
// the typed error of that kind (a server-side failure stays untyped: logged, not shown).
func (h *Hub) handshakeError(w http.ResponseWriter, r *http.Request, status int, reason error) {
	err := fmt.Errorf("ws: upgrade failed: %w", reason)
	switch status {
	case http.StatusForbidden:
		err = problem.Forbidden("%s", reason.Error())
	case http.StatusMethodNotAllowed:
		err = problem.MethodNotAllowed("%s", reason.Error())
	case http.StatusInternalServerError:
	default:
		err = problem.Invalid("", "%s", reason.Error())
	}
	problem.Error(w, r, h.cfg.Log, err)
}

func (h *Hub) remove(c *client) {
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
}

// Close closes every connection with 1001 going away, refuses new ones, and returns when every
// connection's goroutines have ended (each within a few times Config.WriteWait: a write in
// progress, the close frame, and the wait for the client's answer are each bounded by it).
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	cs := make([]*client, 0, len(h.clients))
	for c := range h.clients {
		cs = append(cs, c)
	}
	h.mu.Unlock()
	for _, c := range cs {
		c.kick(CloseShutdown, ReasonShutdown)
	}
	h.wg.Wait()
}
