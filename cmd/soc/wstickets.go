package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/problem"
)

// WebSocket tickets: a browser cannot set Authorization on a WebSocket handshake, so it asks
// POST /v1/ws-tickets (with its bearer) for a ticket and passes it as ?ticket= on /ws or
// /v1/notifications/ws. A ticket is random, bound to the principal that asked, redeemable once
// and only for 30 s, on the node that issued it (tickets live in its memory: a balancer in
// front of several nodes needs sticky sessions for the handshake, or a ticket per node).
const (
	ticketTTL = 30 * time.Second
	// maxTickets bounds the store: issuing beyond it, once expired tickets are swept, is a 429.
	maxTickets = 10000
)

type wsTicket struct {
	principal access.Principal
	expires   time.Time
}

// ticketStore holds the unredeemed tickets by their SHA-256 (a ticket is a credential: the
// store keeps none in plain form).
type ticketStore struct {
	now func() time.Time
	max int

	mu      sync.Mutex
	tickets map[[sha256.Size]byte]wsTicket
}

func newTicketStore(now func() time.Time) *ticketStore {
	return &ticketStore{now: now, max: maxTickets, tickets: map[[sha256.Size]byte]wsTicket{}}
}

// Issue returns a new ticket for p.
func (s *ticketStore) Issue(p access.Principal) (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	t := base64.RawURLEncoding.EncodeToString(raw[:])
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tickets) >= s.max {
		for k, v := range s.tickets {
			if !now.Before(v.expires) {
				delete(s.tickets, k)
			}
		}
		if len(s.tickets) >= s.max {
			return "", problem.RateLimited(ticketTTL, "too many WebSocket tickets are outstanding; retry shortly")
		}
	}
	s.tickets[sha256.Sum256([]byte(t))] = wsTicket{principal: p, expires: now.Add(ticketTTL)}
	return t, nil
}

// Redeem consumes a ticket: the principal it was issued to, false when it is unknown, already
// used or expired.
func (s *ticketStore) Redeem(ticket string) (access.Principal, bool) {
	k := sha256.Sum256([]byte(ticket))
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tickets[k]
	if !ok {
		return access.Principal{}, false
	}
	delete(s.tickets, k)
	if !s.now().Before(t.expires) {
		return access.Principal{}, false
	}
	return t.principal, true
}

// issueTicket serves POST /v1/ws-tickets for the signed-in principal.
func issueTicket(s *ticketStore, log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := access.From(r.Context())
		if !ok {
			challenge(w, r, log, credentialError{problem.Unauthorized("sign in: a ticket is issued to a signed-in principal"), false})
			return
		}
		t, err := s.Issue(p)
		if err != nil {
			problem.Error(w, r, log, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusCreated, map[string]any{"ticket": t, "expires_in": int(ticketTTL.Seconds())})
	}
}
