package ws_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/socplatform/soc/query-api/ws"
)

// tokenAuth authenticates "Authorization: Bearer <user>-token"; no header is anonymous.
func tokenAuth(calls *atomic.Int64) func(*http.Request) (string, error) {
	return func(r *http.Request) (string, error) {
		if calls != nil {
			calls.Add(1)
		}
		h := r.Header.Get("Authorization")
		if h == "" {
			return "", nil
		}
		tok, ok := strings.CutPrefix(h, "Bearer ")
		user, ok2 := strings.CutSuffix(tok, "-token")
		if !ok || !ok2 || user == "" {
			return "", errors.New("invalid bearer token")
		}
		return user, nil
	}
}

// dialAs connects with a bearer token (empty: anonymous) and waits until the hub registered it.
func dialAs(t *testing.T, srv *httptest.Server, token string) *websocket.Conn {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return dialWith(t, srv, "", h)
}

// fenceRaw returns every message received before the pong of a ping, as raw JSON.
func fenceRaw(t *testing.T, c *websocket.Conn) []string {
	t.Helper()
	send(t, c, `{"type":"ping"}`)
	var got []string
	for {
		_ = c.SetReadDeadline(time.Now().Add(guard))
		_, data, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		var m struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(data, &m)
		if m.Type == "pong" {
			return got
		}
		got = append(got, string(data))
	}
}

func TestAuthenticateRefusesWith401(t *testing.T) {
	var calls atomic.Int64
	hub, srv := newHub(t, ws.Config{Authenticate: tokenAuth(&calls)})
	_, resp, err := websocket.DefaultDialer.Dial(wsURL(srv, ""), http.Header{"Authorization": {"Bearer forged"}})
	if !errors.Is(err, websocket.ErrBadHandshake) {
		t.Fatalf("bad token: %v", err)
	}
	if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
		t.Fatalf("WWW-Authenticate %q", got)
	}
	d := assertProblem(t, resp, http.StatusUnauthorized)
	if d.Detail != "invalid bearer token" {
		t.Fatalf("problem %+v", d)
	}
	if calls.Load() != 1 || hub.Clients() != 0 {
		t.Fatalf("authenticate called %d times, %d clients", calls.Load(), hub.Clients())
	}
	// Not an upgrade or not a GET: refused before authenticating.
	resp, err = http.Get(srv.URL + "/ws")
	if err != nil {
		t.Fatal(err)
	}
	assertProblem(t, resp, http.StatusUpgradeRequired)
	if calls.Load() != 1 {
		t.Fatalf("authenticate called for a plain GET")
	}
	// A valid token is accepted.
	c := dialAs(t, srv, "alice-token")
	if hub.Clients() != 1 {
		t.Fatalf("Clients() = %d", hub.Clients())
	}
	if n, err := hub.SendTo("alice", map[string]string{"type": "notification", "id": "n1"}); n != 1 || err != nil {
		t.Fatalf("SendTo = %d, %v", n, err)
	}
	if got := fenceRaw(t, c); len(got) != 1 || got[0] != `{"id":"n1","type":"notification"}` {
		t.Fatalf("alice got %q", got)
	}
}

func TestSendToReachesEverySessionOfTheUserOnly(t *testing.T) {
	hub, srv := newHub(t, ws.Config{Authenticate: tokenAuth(nil)})
	alice1 := dialAs(t, srv, "alice-token")
	alice2 := dialAs(t, srv, "alice-token")
	bob := dialAs(t, srv, "bob-token")
	anon := dialAs(t, srv, "")
	if hub.Clients() != 4 {
		t.Fatalf("Clients() = %d", hub.Clients())
	}

	n, err := hub.SendTo("alice", map[string]any{"type": "notification", "kind": "kev_alert", "n": 1})
	if n != 2 || err != nil {
		t.Fatalf("SendTo(alice) = %d, %v; want 2", n, err)
	}
	want := `{"kind":"kev_alert","n":1,"type":"notification"}`
	for i, c := range []*websocket.Conn{alice1, alice2} {
		if got := fenceRaw(t, c); len(got) != 1 || got[0] != want {
			t.Fatalf("alice session %d got %q, want [%s]", i+1, got, want)
		}
	}
	for name, c := range map[string]*websocket.Conn{"bob": bob, "anonymous": anon} {
		if got := fenceRaw(t, c); len(got) != 0 {
			t.Fatalf("%s got %q", name, got)
		}
	}

	if n, err := hub.SendTo("bob", "hello bob"); n != 1 || err != nil {
		t.Fatalf("SendTo(bob) = %d, %v", n, err)
	}
	if got := fenceRaw(t, bob); len(got) != 1 || got[0] != `"hello bob"` {
		t.Fatalf("bob got %q", got)
	}
	// Nobody, and the anonymous "user", are reached by no one.
	for _, u := range []string{"", "carol", "Alice"} {
		if n, err := hub.SendTo(u, "x"); n != 0 || err != nil {
			t.Fatalf("SendTo(%q) = %d, %v", u, n, err)
		}
	}
	for name, c := range map[string]*websocket.Conn{"alice1": alice1, "alice2": alice2, "bob": bob, "anonymous": anon} {
		if got := fenceRaw(t, c); len(got) != 0 {
			t.Fatalf("%s got %q", name, got)
		}
	}
	// An unencodable value is an error and reaches nobody.
	if n, err := hub.SendTo("alice", make(chan int)); n != 0 || err == nil {
		t.Fatalf("SendTo(chan) = %d, %v", n, err)
	}

	// A closed session is no longer counted.
	alice2.Close()
	waitFor(t, "the closed session to leave", func() bool { return hub.Clients() == 3 })
	if n, _ := hub.SendTo("alice", "again"); n != 1 {
		t.Fatalf("after one session closed: SendTo = %d, want 1", n)
	}
	if got := fenceRaw(t, alice1); len(got) != 1 || got[0] != `"again"` {
		t.Fatalf("alice1 got %q", got)
	}
}

func TestSendToWithoutAuthenticateReachesNobody(t *testing.T) {
	hub, srv := newHub(t, ws.Config{})
	c := dialAs(t, srv, "alice-token") // the header is ignored: anonymous
	if n, err := hub.SendTo("alice", "x"); n != 0 || err != nil {
		t.Fatalf("SendTo = %d, %v", n, err)
	}
	if got := fenceRaw(t, c); len(got) != 0 {
		t.Fatalf("got %q", got)
	}
}

func TestSendToStuckSessionIsClosedAfterStuckTimeout(t *testing.T) {
	hub, srv := newHub(t, ws.Config{Authenticate: tokenAuth(nil), QueueBytes: 128 << 10, StuckTimeout: 500 * time.Millisecond, WriteWait: guard})
	stuck := dialAs(t, srv, "alice-token") // never reads until dropped
	bob := dialAs(t, srv, "bob-token")
	pad := strings.Repeat("p", 64<<10)

	done := make(chan struct{})
	var sent int
	var dropped bool
	go func() {
		defer close(done)
		for i := range 5000 {
			n, err := hub.SendTo("alice", map[string]any{"i": i, "pad": pad})
			if err != nil {
				t.Error(err)
				return
			}
			if n == 0 {
				dropped = true
				return
			}
			if n != 1 {
				t.Errorf("SendTo = %d", n)
				return
			}
			sent++
		}
	}()
	select {
	case <-done:
	case <-time.After(guard):
		t.Fatal("SendTo kept waiting for a stuck session")
	}
	if t.Failed() {
		return
	}
	if !dropped {
		t.Fatalf("the stuck session was never dropped after %d messages", sent)
	}
	if hub.Clients() != 1 {
		t.Fatalf("Clients() = %d, want only bob", hub.Clients())
	}
	if n, _ := hub.SendTo("alice", "later"); n != 0 {
		t.Fatalf("SendTo after the drop = %d", n)
	}
	// bob is unaffected.
	if n, _ := hub.SendTo("bob", "still here"); n != 1 {
		t.Fatalf("SendTo(bob) = %d", n)
	}
	if got := fenceRaw(t, bob); len(got) != 1 || got[0] != `"still here"` {
		t.Fatalf("bob got %q", got)
	}
	// The stuck session reads a prefix of its messages, in order, then 1008.
	got := readUntilStuck(t, stuck, "stuck session", func(got int, data []byte) {
		var m struct{ I int }
		if err := json.Unmarshal(data, &m); err != nil || m.I != got {
			t.Fatalf("message %d: %s (%v)", got, truncateStr(string(data), 40), err)
		}
	})
	if got > sent {
		t.Fatalf("received %d of %d queued messages", got, sent)
	}
	t.Logf("dropped after %d messages, %d received", sent, got)
}

func truncateStr(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("%s…(%d bytes)", s[:n], len(s))
}
