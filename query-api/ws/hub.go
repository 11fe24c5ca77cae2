package ws

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/schemas/problem"
)

// Defaults of Config.
const (
	DefaultMaxClients      = 1000
	DefaultSendBuffer      = 256
	DefaultPingInterval    = 30 * time.Second
	DefaultPongWait        = 60 * time.Second
	DefaultWriteWait       = 10 * time.Second
	DefaultMaxMessageBytes = 16 << 10
)

// Close codes and reasons the hub uses (see the package documentation).
const (
	CloseSlowClient = websocket.ClosePolicyViolation // 1008
	CloseKeepAlive  = websocket.ClosePolicyViolation // 1008
	CloseTooBig     = websocket.CloseMessageTooBig   // 1009
	CloseShutdown   = websocket.CloseGoingAway       // 1001

	ReasonSlowClient = "slow client: send buffer full"
	ReasonKeepAlive  = "keep-alive timeout: no pong"
	ReasonShutdown   = "server shutting down"
)

// Config configures a Hub. Zero values take the defaults.
type Config struct {
	// MaxClients bounds the connections served at once; more are refused with 503 (default 1000).
	MaxClients int
	// SendBuffer is the number of messages queued per connection; a subscriber whose buffer is
	// full is disconnected (default 256).
	SendBuffer int
	// PingInterval is how often the server pings (default 30s); it must be below PongWait.
	PingInterval time.Duration
	// PongWait is how long a connection may stay silent (no pong, no message) before it is
	// closed (default 60s).
	PongWait time.Duration
	// WriteWait bounds each write to a connection (default 10s).
	WriteWait time.Duration
	// MaxMessageBytes bounds a message from a client; a larger one closes the connection with
	// 1009 (default 16 KiB).
	MaxMessageBytes int64
	// CheckOrigin decides whether an upgrade's Origin is allowed; nil allows requests with no
	// Origin header or an Origin whose host is the request's Host (gorilla's default).
	CheckOrigin func(*http.Request) bool
	// Log receives connection-level events (default slog.Default()).
	Log *slog.Logger
	// Authenticate, when set, identifies the user of an upgrade request before it is upgraded; an
	// error refuses it with 401. The user's sessions are then addressed by SendTo (the
	// notification channel "websocket"). Nil: anonymous subscribers (the live-updates hub).
	Authenticate func(*http.Request) (user string, err error)
}

// Validate reports every problem of c at once (zero values are fine: they take defaults).
func (c Config) Validate() error {
	errs := []error{ // errors.Join drops the nils
		negative("MaxClients", c.MaxClients),
		negative("SendBuffer", c.SendBuffer),
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
	orDefault(&c.SendBuffer, DefaultSendBuffer)
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
	h := &Hub{cfg: cfg, clients: make(map[*client]struct{})}
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

// Publish fans changes out to every subscriber whose filter they match, in order. It never
// blocks on a client: a subscriber whose send buffer is full is removed and closed with 1008.
// Each change is encoded once, whatever the number of subscribers.
func (h *Hub) Publish(changes []projections.Change) {
	if len(changes) == 0 {
		return
	}
	h.pubMu.Lock()
	defer h.pubMu.Unlock()

	var dropped []*client
	h.mu.RLock()
	if len(h.clients) > 0 {
		for i := range changes {
			ch := &changes[i]
			var msg []byte
			for c := range h.clients {
				if c.closing() || !c.matcher.Load().match(ch) {
					continue
				}
				if msg == nil {
					var err error
					if msg, err = encodeChange(ch); err != nil {
						h.cfg.Log.Error("ws: cannot encode change; skipped", "event_id", ch.Event.EventID, "type", ch.Event.Type, "err", err)
						break
					}
				}
				if !c.enqueue(msg) {
					dropped = append(dropped, c)
				}
			}
		}
	}
	h.mu.RUnlock()
	for _, c := range dropped {
		h.remove(c)
	}
}

// SendTo queues v (encoded as JSON once) to every open session of user and returns how many
// sessions it was queued to. Like Publish it never blocks: a session whose buffer is full is
// closed with 1008.
func (h *Hub) SendTo(user string, v any) (int, error) {
	msg, err := json.Marshal(v)
	if err != nil {
		return 0, err
	}
	h.pubMu.Lock()
	defer h.pubMu.Unlock()
	var dropped []*client
	n := 0
	h.mu.RLock()
	for c := range h.clients {
		if c.user != user || user == "" || c.closing() {
			continue
		}
		if c.enqueue(msg) {
			n++
		} else {
			dropped = append(dropped, c)
		}
	}
	h.mu.RUnlock()
	for _, c := range dropped {
		h.remove(c)
	}
	return n, nil
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
