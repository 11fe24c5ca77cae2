package ws_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/query-api/ws"
	"github.com/socplatform/soc/schemas/problem"
)

// guard bounds every wait of these tests; it is a failure guard, never a timing assertion.
const guard = 20 * time.Second

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newHub(t *testing.T, cfg ws.Config) (*ws.Hub, *httptest.Server) {
	t.Helper()
	if cfg.Log == nil {
		cfg.Log = quietLog()
	}
	hub := ws.NewHub(cfg)
	mux := http.NewServeMux()
	mux.Handle("/ws", hub)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		hub.Close() // hijacked connections are not closed by srv.Close
		srv.Close()
	})
	return hub, srv
}

func wsURL(srv *httptest.Server, query string) string {
	u := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	if query != "" {
		u += "?" + query
	}
	return u
}

// dial connects and waits until the hub has registered the connection (a ping answered).
func dial(t *testing.T, srv *httptest.Server, query string) *websocket.Conn {
	t.Helper()
	return dialWith(t, srv, query, nil)
}

// dialWith is dial with the upgrade request's headers.
func dialWith(t *testing.T, srv *httptest.Server, query string, h http.Header) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial(wsURL(srv, query), h)
	if err != nil {
		t.Fatalf("dial %q: %v (response %v)", query, err, resp)
	}
	t.Cleanup(func() { c.Close() })
	if got := fence(t, c); len(got) != 0 {
		t.Fatalf("unexpected messages on connect: %+v", got)
	}
	return c
}

type serverMsg struct {
	Type       string           `json:"type"`
	Projection string           `json:"projection"`
	Severity   string           `json:"severity"`
	AssetID    string           `json:"asset_id"`
	Event      *events.Envelope `json:"event"`
	Filter     *ws.Filter       `json:"filter"`
	Error      string           `json:"error"`
}

func read(t *testing.T, c *websocket.Conn) serverMsg {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(guard))
	kind, data, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if kind != websocket.TextMessage {
		t.Fatalf("message kind %d, want text", kind)
	}
	var m serverMsg
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("server sent %q: %v", data, err)
	}
	return m
}

func send(t *testing.T, c *websocket.Conn, s string) {
	t.Helper()
	if err := c.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		t.Fatal(err)
	}
}

// fence sends a ping and returns every message received before its pong: since Publish queues
// synchronously, that is everything published before fence was called.
func fence(t *testing.T, c *websocket.Conn) []serverMsg {
	t.Helper()
	send(t, c, `{"type":"ping"}`)
	var got []serverMsg
	for {
		m := read(t, c)
		if m.Type == "pong" {
			return got
		}
		got = append(got, m)
	}
}

func eventIDs(ms []serverMsg) []string {
	var ids []string
	for _, m := range ms {
		if m.Type != "event" {
			ids = append(ids, "<"+m.Type+">")
			continue
		}
		ids = append(ids, m.Event.EventID)
	}
	return ids
}

func change(id, typ, stream, severity, projection string) projections.Change {
	return projections.Change{
		Projection: projection,
		Severity:   severity,
		AssetID:    "assets-asset-" + id,
		Event: events.Envelope{
			EventID: id, StreamID: stream, StreamType: events.StreamTypeOf(stream), Version: 1, GlobalPosition: 7,
			Type: typ, SchemaVersion: 1, OccurredAt: time.Unix(1700000000, 0).UTC(), RecordedAt: time.Unix(1700000001, 0).UTC(),
			Data: json.RawMessage(`{"id":"` + id + `"}`),
		},
	}
}

// closeCode reads until the connection fails and returns the close error.
func closeCode(t *testing.T, c *websocket.Conn) *websocket.CloseError {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(guard))
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) {
				t.Fatalf("connection ended with %v, want a close frame", err)
			}
			return ce
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func assertProblem(t *testing.T, resp *http.Response, status int) problem.Details {
	t.Helper()
	if resp == nil {
		t.Fatalf("no response, want %d", status)
	}
	defer resp.Body.Close()
	if resp.StatusCode != status || resp.Header.Get("Content-Type") != problem.ContentType {
		t.Fatalf("status %d %q, want %d problem+json", resp.StatusCode, resp.Header.Get("Content-Type"), status)
	}
	var d problem.Details
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatalf("problem body %q: %v", body, err)
	}
	if d.Status != status || d.Type == "" || d.Title == "" || d.Detail == "" {
		t.Fatalf("problem %+v", d)
	}
	return d
}

func TestFiltersEndToEnd(t *testing.T) {
	hub, srv := newHub(t, ws.Config{})
	all := dial(t, srv, "")
	byType := dial(t, srv, "types=FindingOpened,FindingReopened")
	bySeverity := dial(t, srv, "severity=critical,HIGH")
	byQueryCombo := dial(t, srv, "projections=findings&streams=vulns-finding-2")
	bySubscribe := dial(t, srv, "")
	send(t, bySubscribe, `{"type":"subscribe","filter":{"projections":["assets"],"types":["AssetRegistered","AssetRetired"]}}`)
	ack := read(t, bySubscribe)
	if ack.Type != "subscribed" || ack.Filter == nil || !slices.Equal(ack.Filter.Projections, []string{"assets"}) ||
		!slices.Equal(ack.Filter.Types, []string{"AssetRegistered", "AssetRetired"}) || ack.Filter.Streams == nil || ack.Filter.Severity == nil {
		t.Fatalf("ack %+v", ack)
	}
	if hub.Clients() != 5 {
		t.Fatalf("Clients() = %d", hub.Clients())
	}

	hub.Publish([]projections.Change{
		change("e1", "AssetRegistered", "assets-asset-1", "", "assets"),
		change("e2", "FindingOpened", "vulns-finding-1", "critical", "findings"),
		change("e3", "FindingOpened", "vulns-finding-2", "low", "findings"),
		change("e4", "FindingTriaged", "vulns-finding-2", "high", "findings"),
		change("e5", "AssetRegistered", "assets-asset-2", "", "inventory"),
	})
	hub.Publish([]projections.Change{change("e6", "FindingReopened", "vulns-finding-1", "high", "findings")})

	want := map[*websocket.Conn][]string{
		all:          {"e1", "e2", "e3", "e4", "e5", "e6"},
		byType:       {"e2", "e3", "e6"},
		bySeverity:   {"e2", "e4", "e6"},
		byQueryCombo: {"e3", "e4"},
		bySubscribe:  {"e1"},
	}
	for c, ids := range want {
		got := fence(t, c)
		if !slices.Equal(eventIDs(got), ids) {
			t.Errorf("%s got %v, want %v", c.LocalAddr(), eventIDs(got), ids)
		}
	}

	// The event message carries the change and the whole envelope.
	hub.Publish([]projections.Change{change("e7", "FindingOpened", "vulns-finding-9", "critical", "findings")})
	m := read(t, all)
	if m.Type != "event" || m.Projection != "findings" || m.Severity != "critical" || m.AssetID != "assets-asset-e7" ||
		m.Event == nil || m.Event.StreamID != "vulns-finding-9" || m.Event.StreamType != "vulns-finding" ||
		m.Event.Version != 1 || m.Event.GlobalPosition != 7 || string(m.Event.Data) != `{"id":"e7"}` || !m.Event.RecordedAt.Equal(time.Unix(1700000001, 0)) {
		t.Fatalf("event message %+v / %+v", m, m.Event)
	}
}

func TestUnencodableChangeIsSkipped(t *testing.T) {
	hub, srv := newHub(t, ws.Config{})
	c := dial(t, srv, "")
	bad := change("bad", "A", "s-a-1", "", "p")
	bad.Event.Data = json.RawMessage(`{not json`)
	hub.Publish([]projections.Change{change("1", "A", "s-a-1", "", "p"), bad, change("2", "A", "s-a-1", "", "p")})
	if got := eventIDs(fence(t, c)); !slices.Equal(got, []string{"1", "2"}) {
		t.Fatalf("got %v", got)
	}
}

func TestSubscribeReplacesFilter(t *testing.T) {
	hub, srv := newHub(t, ws.Config{})
	c := dial(t, srv, "types=A&severity=high")

	hub.Publish([]projections.Change{change("1", "A", "s-a-1", "high", "p"), change("2", "B", "s-a-1", "high", "p")})
	send(t, c, `{"type":"subscribe","filter":{"types":["B"]}}`)
	var got []serverMsg
	for len(got) == 0 || got[len(got)-1].Type != "subscribed" {
		got = append(got, read(t, c))
	}
	if !slices.Equal(eventIDs(got), []string{"1", "<subscribed>"}) {
		t.Fatalf("got %v", eventIDs(got))
	}
	// The new filter replaced the whole old one (severity too).
	if f := got[1].Filter; f == nil || !slices.Equal(f.Types, []string{"B"}) || len(f.Severity) != 0 {
		t.Fatalf("ack filter %+v", f)
	}
	hub.Publish([]projections.Change{change("3", "A", "s-a-1", "high", "p"), change("4", "B", "s-a-1", "low", "p")})
	if got := eventIDs(fence(t, c)); !slices.Equal(got, []string{"4"}) {
		t.Fatalf("got %v", got)
	}

	// A subscribe without a filter receives everything.
	send(t, c, `{"type":"subscribe"}`)
	if m := read(t, c); m.Type != "subscribed" {
		t.Fatalf("%+v", m)
	}
	hub.Publish([]projections.Change{change("5", "A", "s-a-1", "", "p"), change("6", "C", "s-a-2", "info", "q")})
	if got := eventIDs(fence(t, c)); !slices.Equal(got, []string{"5", "6"}) {
		t.Fatalf("got %v", got)
	}
}

// While changes are being published, the acknowledgement of a subscribe separates the events of
// the old filter from those of the new one.
func TestSubscribeAckIsOrderedWithEvents(t *testing.T) {
	hub, srv := newHub(t, ws.Config{})
	c := dial(t, srv, "types=A")
	var acked atomic.Bool
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		after := 0
		for i := 0; after < 200; i++ { // until 200 publishes after the ack
			select {
			case <-stop:
				return
			default:
			}
			if acked.Load() {
				after++
			}
			hub.Publish([]projections.Change{change(fmt.Sprintf("a%d", i), "A", "s-a-1", "", "p"), change(fmt.Sprintf("b%d", i), "B", "s-a-1", "", "p")})
		}
	}()
	// Closing the connection ends a Publish waiting for it to make room.
	defer func() { close(stop); c.Close(); <-done }()
	// Let some A events through first.
	if m := read(t, c); m.Type != "event" || m.Event.Type != "A" {
		t.Fatalf("%+v", m)
	}
	send(t, c, `{"type":"subscribe","filter":{"types":["B"]}}`)
	for {
		m := read(t, c)
		if m.Type == "subscribed" {
			acked.Store(true)
			break
		}
		if m.Type != "event" || m.Event.Type != "A" {
			t.Fatalf("before the ack: %+v", m)
		}
	}
	for range 100 {
		if m := read(t, c); m.Type != "event" || m.Event.Type != "B" {
			t.Fatalf("after the ack: %+v", m)
		}
	}
}

func TestBadClientMessagesKeepTheConnection(t *testing.T) {
	hub, srv := newHub(t, ws.Config{})
	c := dial(t, srv, "types=A")
	tooMany := make([]string, ws.MaxFilterValues+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("T%d", i)
	}
	many, _ := json.Marshal(tooMany)
	bad := []struct{ msg, want string }{
		{`not json`, "invalid message"},
		{`{"type":"subscribe"`, "invalid message"},
		{`{"type":"unsubscribe"}`, "unknown message type"},
		{`{"filter":{}}`, "missing \"type\""},
		{`{"type":"subscribe","filter":{"types":` + string(many) + `}}`, "at most 100"},
		{`{"type":"subscribe","filter":{"streams":["` + strings.Repeat("s", ws.MaxFilterValueLen+1) + `"]}}`, "at most 200"},
		{`{"type":"subscribe","filter":{"severity":["urgent"]}}`, "unknown severity"},
		{`{"type":"subscribe","filter":{"typs":["B"]}}`, "unknown field"},
		{`{"type":"subscribe","filter":{"types":"B"}}`, "invalid message"},
		{`{"type":"ping"} {"type":"ping"}`, "one JSON object"},
	}
	for _, b := range bad {
		send(t, c, b.msg)
		m := read(t, c)
		if m.Type != "error" || !strings.Contains(m.Error, b.want) {
			t.Errorf("%s: got %+v, want an error containing %q", b.msg, m, b.want)
		}
	}
	if err := c.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if m := read(t, c); m.Type != "error" || !strings.Contains(m.Error, "binary") {
		t.Errorf("binary: %+v", m)
	}
	// Still open, and the filter is unchanged.
	hub.Publish([]projections.Change{change("1", "A", "s-a-1", "", "p"), change("2", "B", "s-a-1", "", "p")})
	if got := eventIDs(fence(t, c)); !slices.Equal(got, []string{"1"}) {
		t.Fatalf("after bad messages got %v", got)
	}
}

func TestHTTPErrors(t *testing.T) {
	_, srv := newHub(t, ws.Config{})

	resp, err := http.Get(srv.URL + "/ws")
	if err != nil {
		t.Fatal(err)
	}
	if assertProblem(t, resp, http.StatusUpgradeRequired); resp.Header.Get("Upgrade") != "websocket" {
		t.Errorf("426 without Upgrade header: %v", resp.Header)
	}

	resp, err = http.Post(srv.URL+"/ws", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	if assertProblem(t, resp, http.StatusMethodNotAllowed); resp.Header.Get("Allow") != "GET" {
		t.Errorf("405 without Allow: %v", resp.Header)
	}

	_, resp, err = websocket.DefaultDialer.Dial(wsURL(srv, "severity=high,urgent"), nil)
	if !errors.Is(err, websocket.ErrBadHandshake) {
		t.Fatalf("bad query filter: %v", err)
	}
	if d := assertProblem(t, resp, http.StatusBadRequest); d.Field != "severity" || !strings.Contains(d.Detail, "urgent") {
		t.Fatalf("%+v", d)
	}
}

func TestCrossOriginRefusedByDefault(t *testing.T) {
	_, srv := newHub(t, ws.Config{})
	_, resp, err := websocket.DefaultDialer.Dial(wsURL(srv, ""), http.Header{"Origin": {"https://evil.example"}})
	if !errors.Is(err, websocket.ErrBadHandshake) {
		t.Fatalf("cross-origin dial: %v", err)
	}
	assertProblem(t, resp, http.StatusForbidden)

	same, _, err := websocket.DefaultDialer.Dial(wsURL(srv, ""), http.Header{"Origin": {srv.URL}})
	if err != nil {
		t.Fatalf("same-origin dial: %v", err)
	}
	same.Close()

	_, open := newHub(t, ws.Config{CheckOrigin: func(r *http.Request) bool { return r.Header.Get("Origin") == "https://console.example" }})
	c, _, err := websocket.DefaultDialer.Dial(wsURL(open, ""), http.Header{"Origin": {"https://console.example"}})
	if err != nil {
		t.Fatalf("allowed origin: %v", err)
	}
	c.Close()
}

func TestMaxClients(t *testing.T) {
	hub, srv := newHub(t, ws.Config{MaxClients: 2})
	first := dial(t, srv, "")
	dial(t, srv, "")
	_, resp, err := websocket.DefaultDialer.Dial(wsURL(srv, ""), nil)
	if !errors.Is(err, websocket.ErrBadHandshake) {
		t.Fatalf("third client: %v", err)
	}
	if assertProblem(t, resp, http.StatusServiceUnavailable); resp.Header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
	// A slot frees when a client leaves.
	_ = first.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"))
	waitFor(t, "the first client to be removed", func() bool { return hub.Clients() == 1 })
	dial(t, srv, "")
}

func TestCloseSendsGoingAway(t *testing.T) {
	hub, srv := newHub(t, ws.Config{})
	a := dial(t, srv, "")
	b := dial(t, srv, "types=X")
	done := make(chan struct{})
	go func() { hub.Close(); close(done) }()
	for _, c := range []*websocket.Conn{a, b} {
		if ce := closeCode(t, c); ce.Code != websocket.CloseGoingAway || ce.Text != ws.ReasonShutdown {
			t.Errorf("close %v, want 1001 %q", ce, ws.ReasonShutdown)
		}
	}
	select {
	case <-done:
	case <-time.After(guard):
		t.Fatal("Close did not return")
	}
	if hub.Clients() != 0 {
		t.Fatalf("Clients() = %d after Close", hub.Clients())
	}
	_, resp, err := websocket.DefaultDialer.Dial(wsURL(srv, ""), nil)
	if !errors.Is(err, websocket.ErrBadHandshake) {
		t.Fatalf("dial after Close: %v", err)
	}
	assertProblem(t, resp, http.StatusServiceUnavailable)
	hub.Publish([]projections.Change{change("1", "A", "s-a-1", "", "p")}) // no-op, no panic
	hub.Close()                                                           // idempotent
}

func TestOversizedMessageCloses1009(t *testing.T) {
	hub, srv := newHub(t, ws.Config{MaxMessageBytes: 1024})
	c := dial(t, srv, "")
	// A message of exactly the limit is fine.
	msg := `{"type":"ping"}`
	send(t, c, msg+strings.Repeat(" ", 1024-len(msg)))
	if m := read(t, c); m.Type != "pong" {
		t.Fatalf("%+v", m)
	}
	send(t, c, `{"type":"subscribe","filter":{"types":["`+strings.Repeat("x", 1100)+`"]}}`)
	if ce := closeCode(t, c); ce.Code != websocket.CloseMessageTooBig {
		t.Fatalf("close %v, want 1009", ce)
	}
	waitFor(t, "the client to be removed", func() bool { return hub.Clients() == 0 })
}

// bigChange carries a padded payload, so that a client that does not read fills the socket
// buffers after a bounded number of messages.
func bigChange(i int) projections.Change {
	c := change(fmt.Sprintf("big-%06d", i), "ScanCompleted", "scans-scan-1", "", "scans")
	c.Event.Data = json.RawMessage(`{"pad":"` + strings.Repeat("p", 64<<10) + `"}`)
	return c
}

// A client that stops reading is closed once it has taken nothing for StuckTimeout; Publish
// waits for it until then, and a client reading on the same hub gets every event meanwhile.
func TestStuckClientIsClosedReadingClientKeepsUp(t *testing.T) {
	hub, srv := newHub(t, ws.Config{QueueBytes: 256 << 10, StuckTimeout: time.Second, WriteWait: guard})
	stuck := dial(t, srv, "") // never reads after connecting, until it has been dropped
	reading := dial(t, srv, "")

	n := 0
	publishAndReceive := func() {
		t.Helper()
		ch := bigChange(n)
		hub.Publish([]projections.Change{ch})
		m := read(t, reading)
		if m.Type != "event" || m.Event.EventID != ch.Event.EventID {
			t.Fatalf("reading client got %s, want %s", m.Event.EventID, ch.Event.EventID)
		}
		n++
	}
	// The socket buffers between the hub and the stuck client hold some megabytes, then its
	// queue; then it takes nothing for StuckTimeout, and it is dropped.
	for hub.Clients() == 2 {
		if n == 5000 {
			t.Fatal("the stuck client was never dropped")
		}
		publishAndReceive()
	}
	if hub.Clients() != 1 {
		t.Fatalf("Clients() = %d", hub.Clients())
	}
	dropped := n
	for range 50 {
		publishAndReceive()
	}

	// The stuck client now reads: a prefix of the events, in order, then the close frame.
	got := readUntilStuck(t, stuck, "stuck client", func(got int, data []byte) {
		var m serverMsg
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("big-%06d", got); m.Event == nil || m.Event.EventID != want {
			t.Fatalf("stuck client message %d is %+v, want %s", got, m.Event, want)
		}
	})
	if got >= dropped {
		t.Fatalf("stuck client received %d of %d events before it was dropped", got, dropped)
	}
	t.Logf("stuck client dropped after %d publishes, having received %d", dropped, got)
}

// readUntilStuck reads c's messages, passing each with its index to check, until the hub
// closes c as stuck (failing t on any other end), and returns how many it read.
func readUntilStuck(t *testing.T, c *websocket.Conn, who string, check func(i int, data []byte)) int {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(guard))
	for got := 0; ; got++ {
		_, data, err := c.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != ws.CloseStuck || ce.Text != ws.ReasonStuck {
				t.Fatalf("%s ended with %v, want close %d %q", who, err, ws.CloseStuck, ws.ReasonStuck)
			}
			return got
		}
		check(got, data)
	}
}

// Publish waits for a stuck client only until StuckTimeout, however many publish at once.
func TestStuckClientsHoldPublishOnlyUntilStuckTimeout(t *testing.T) {
	hub, srv := newHub(t, ws.Config{QueueBytes: 64 << 10, StuckTimeout: 200 * time.Millisecond, WriteWait: guard})
	for range 3 {
		dial(t, srv, "") // stuck: never read
	}
	var published atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 500 {
					c := change(fmt.Sprintf("g%d-%d", g, i), "ScanCompleted", "scans-scan-1", "", "scans")
					c.Event.Data = json.RawMessage(`{"pad":"` + strings.Repeat("p", 16<<10) + `"}`)
					hub.Publish([]projections.Change{c, c, c, c})
					published.Add(4)
				}
			}()
		}
		wg.Wait()
	}()
	select {
	case <-done:
	case <-time.After(guard):
		t.Fatalf("Publish blocked: %d changes published", published.Load())
	}
	if hub.Clients() != 0 {
		t.Fatalf("stuck clients still connected: %d", hub.Clients())
	}
}

func TestKeepAlive(t *testing.T) {
	cfg := ws.Config{PingInterval: 25 * time.Millisecond, PongWait: 150 * time.Millisecond}

	t.Run("answered pings keep an idle connection open", func(t *testing.T) {
		hub, srv := newHub(t, cfg)
		c := dial(t, srv, "")
		var pings atomic.Int64
		c.SetPingHandler(func(data string) error {
			pings.Add(1)
			return c.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		})
		msgs := make(chan serverMsg, 1)
		errc := make(chan error, 1)
		_ = c.SetReadDeadline(time.Time{}) // no deadline: the server decides
		go func() {
			for {
				_, data, err := c.ReadMessage()
				if err != nil {
					errc <- err
					return
				}
				var m serverMsg
				_ = json.Unmarshal(data, &m)
				msgs <- m
			}
		}()
		// 30 pings span five times PongWait.
		waitFor(t, "30 pings", func() bool {
			select {
			case err := <-errc:
				t.Fatalf("connection closed after %d pings: %v", pings.Load(), err)
			default:
			}
			return pings.Load() >= 30
		})
		if hub.Clients() != 1 {
			t.Fatalf("Clients() = %d", hub.Clients())
		}
		hub.Publish([]projections.Change{change("alive", "A", "s-a-1", "", "p")})
		select {
		case m := <-msgs:
			if m.Event == nil || m.Event.EventID != "alive" {
				t.Fatalf("%+v", m)
			}
		case err := <-errc:
			t.Fatal(err)
		case <-time.After(guard):
			t.Fatal("no event")
		}
	})

	t.Run("a client that does not answer pings is dropped", func(t *testing.T) {
		hub, srv := newHub(t, cfg)
		c := dial(t, srv, "")
		c.SetPingHandler(func(string) error { return nil }) // reads, but never pongs
		if ce := closeCode(t, c); ce.Code != ws.CloseKeepAlive || ce.Text != ws.ReasonKeepAlive {
			t.Fatalf("close %v, want %d %q", ce, ws.CloseKeepAlive, ws.ReasonKeepAlive)
		}
		waitFor(t, "the client to be removed", func() bool { return hub.Clients() == 0 })
	})
}
