package sso

import (
	"sync"
	"time"
)

// pendingLogin is what a sign-in started by the login handler leaves for its callback: the PKCE
// verifier and the nonce never leave the server, so a code intercepted on its way back is useless
// without them.
type pendingLogin struct {
	verifier    string
	nonce       string
	redirectURI string // the CLI's loopback redirect_uri; empty: Config.RedirectURL
	expires     time.Time
}

// pendingLogins holds sign-ins in progress, keyed by their state. It is bounded in time (ttl) and
// in count (max): anyone may start a sign-in, so an unbounded store would be a memory leak on
// demand. When full, new sign-ins are refused rather than evicting started ones, which would let
// a flood cancel every real user's sign-in.
type pendingLogins struct {
	mu  sync.Mutex
	m   map[string]pendingLogin
	max int
	ttl time.Duration
	now func() time.Time
}

func newPendingLogins(max int, ttl time.Duration, now func() time.Time) *pendingLogins {
	return &pendingLogins{m: map[string]pendingLogin{}, max: max, ttl: ttl, now: now}
}

// put stores p under state. When the store is full it returns false and how long until its
// oldest entry expires.
func (s *pendingLogins) put(state string, p pendingLogin) (ok bool, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if len(s.m) >= s.max {
		oldest := now.Add(s.ttl)
		for k, v := range s.m {
			if !now.Before(v.expires) {
				delete(s.m, k)
			} else if v.expires.Before(oldest) {
				oldest = v.expires
			}
		}
		if len(s.m) >= s.max {
			return false, oldest.Sub(now)
		}
	}
	p.expires = now.Add(s.ttl)
	s.m[state] = p
	return true, 0
}

// take removes and returns the sign-in started under state: a state is good for one callback.
func (s *pendingLogins) take(state string) (pendingLogin, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.m[state]
	delete(s.m, state)
	if !ok || !s.now().Before(p.expires) {
		return pendingLogin{}, false
	}
	return p, true
}

func (s *pendingLogins) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
