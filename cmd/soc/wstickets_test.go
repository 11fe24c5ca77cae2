package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/socplatform/soc/sagas"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/problem"
)

func TestTicketStore(t *testing.T) {
	clock := sagas.NewManualClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s := newTicketStore(clock.Now)
	alice := rolePrincipal(access.RoleAnalyst)

	t1, err := s.Issue(alice)
	if err != nil || len(t1) < 40 {
		t.Fatalf("issue: %q %v", t1, err)
	}
	if t2, _ := s.Issue(alice); t2 == t1 {
		t.Fatal("two tickets are the same")
	}
	if p, ok := s.Redeem(t1); !ok || p.Actor() != alice.Actor() {
		t.Fatalf("redeem: %v %v", p, ok)
	}
	if _, ok := s.Redeem(t1); ok {
		t.Fatal("a ticket was redeemed twice")
	}
	if _, ok := s.Redeem("not-a-ticket"); ok {
		t.Fatal("an unknown ticket was redeemed")
	}

	late, _ := s.Issue(alice)
	clock.Advance(ticketTTL - time.Millisecond)
	onTime, _ := s.Issue(alice)
	clock.Advance(time.Millisecond)
	if _, ok := s.Redeem(late); ok {
		t.Fatal("an expired ticket was redeemed")
	}
	if _, ok := s.Redeem(onTime); !ok {
		t.Fatal("a ticket within its 30 s was refused")
	}

	// Bounded: once full, expired tickets are swept; when none has expired, issuing is a 429.
	s = newTicketStore(clock.Now)
	s.max = 3
	for range 3 {
		if _, err := s.Issue(alice); err != nil {
			t.Fatal(err)
		}
	}
	_, err = s.Issue(alice)
	if problem.From(err).Status != http.StatusTooManyRequests {
		t.Fatalf("a full store: %v", err)
	}
	clock.Advance(ticketTTL)
	kept, err := s.Issue(alice)
	if err != nil || len(s.tickets) != 1 {
		t.Fatalf("after expiry the store is swept: %v, %d held", err, len(s.tickets))
	}
	if _, ok := s.Redeem(kept); !ok {
		t.Fatal("the ticket issued after the sweep")
	}
}

// TestWebSocketTickets: a signed-in client gets a ticket and opens a WebSocket with it once;
// the ticket is refused a second time, on any other route, and grants no permission its
// principal lacks.
func TestWebSocketTickets(t *testing.T) {
	n := authNode(t, allTargetsConfig(t))
	base := n.base
	ticket := func(who string) string {
		t.Helper()
		bearer := n.tokens[who]
		r := call(t, http.MethodPost, base+"/v1/ws-tickets", bearer, "")
		var body struct {
			Ticket    string `json:"ticket"`
			ExpiresIn int    `json:"expires_in"`
		}
		if r.status != http.StatusCreated || json.Unmarshal([]byte(r.body), &body) != nil || body.Ticket == "" || body.ExpiresIn != 30 {
			t.Fatalf("POST /v1/ws-tickets: %d %s", r.status, r.body)
		}
		return body.Ticket
	}
	if r := call(t, http.MethodPost, base+"/v1/ws-tickets", "", ""); r.status != http.StatusUnauthorized {
		t.Fatalf("a ticket for nobody: %d", r.status)
	}
	wsBase := "ws" + strings.TrimPrefix(base, "http")
	dial := func(path, ticket string) (int, error) {
		t.Helper()
		c, resp, err := websocket.DefaultDialer.Dial(wsBase+path+"?ticket="+url.QueryEscape(ticket), nil)
		if err == nil {
			c.Close()
			return http.StatusSwitchingProtocols, nil
		}
		if resp == nil {
			return 0, err
		}
		if !errors.Is(err, websocket.ErrBadHandshake) {
			return resp.StatusCode, err
		}
		return resp.StatusCode, nil
	}

	for _, path := range []string{"/ws", "/v1/notifications/ws"} {
		tk := ticket("role-analyst")
		if code, err := dial(path, tk); code != http.StatusSwitchingProtocols {
			t.Fatalf("%s with a fresh ticket: %d %v", path, code, err)
		}
		if code, _ := dial(path, tk); code != http.StatusUnauthorized {
			t.Errorf("%s with a used ticket: %d", path, code)
		}
	}
	// On any other route a ticket is no credential (and is not spent there).
	tk := ticket("role-analyst")
	if r := call(t, http.MethodGet, base+"/v1/findings?ticket="+url.QueryEscape(tk), "", ""); r.status != http.StatusUnauthorized {
		t.Errorf("a ticket on /v1/findings: %d", r.status)
	}
	if code, err := dial("/ws", tk); code != http.StatusSwitchingProtocols {
		t.Errorf("the ticket after /v1/findings refused it: %d %v", code, err)
	}
	// A ticket carries its principal's permissions, no more: a scanner does not read events.
	if code, _ := dial("/ws", ticket("role-scanner")); code != http.StatusForbidden {
		t.Errorf("a scanner's ticket on /ws: %d", code)
	}
	if code, _ := dial("/ws", "forged"); code != http.StatusUnauthorized {
		t.Errorf("an unknown ticket: %d", code)
	}
}
