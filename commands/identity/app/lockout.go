package app

import (
	"slices"
	"sync"
	"time"
)

// lockout throttles password guessing per account and per source address: after threshold
// failures a key is locked for base, doubling with each further failure up to max. While a key
// is locked every attempt is refused before the password is looked at, so a correct password
// still waits (an attacker learns nothing from the answer during a lock). Failures are
// forgotten window after the last one. It is memory only: a restart forgets it, which costs an
// attacker a restart of the server per round.
type lockout struct {
	mu                sync.Mutex
	threshold         int
	base, max, window time.Duration
	now               func() time.Time
	keys              map[string]*strikes
	maxKeys           int
}

type strikes struct {
	failures int
	last     time.Time
	until    time.Time
}

// maxLockoutKeys bounds the memory a flood of attempts with made-up emails and addresses costs:
// past it, keys whose failures are forgotten are swept, then the oldest dropped.
const maxLockoutKeys = 100_000

func newLockout(cfg Config, now func() time.Time) *lockout {
	return &lockout{threshold: cfg.LockoutThreshold, base: cfg.LockoutBase, max: cfg.LockoutMax, window: cfg.LockoutWindow,
		now: now, keys: map[string]*strikes{}, maxKeys: maxLockoutKeys}
}

// wait is how long the longest lock among keys still runs (0: none).
func (l *lockout) wait(keys ...string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var w time.Duration
	for _, k := range keys {
		if s := l.keys[k]; s != nil && s.until.After(now) {
			w = max(w, s.until.Sub(now))
		}
	}
	return w
}

// fail records a failure on each key; from the threshold on, the key is locked.
func (l *lockout) fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range keys {
		s := l.keys[k]
		if s == nil || now.Sub(s.last) > l.window {
			if s == nil && len(l.keys) >= l.maxKeys {
				l.sweep(now)
			}
			s = &strikes{}
			l.keys[k] = s
		}
		s.failures++
		s.last = now
		if n := s.failures - l.threshold; n >= 0 {
			d := l.max
			if n < 32 && l.base<<n < l.max && l.base<<n > 0 {
				d = l.base << n
			}
			s.until = now.Add(d)
		}
	}
}

// succeed forgets key's failures (the account's, after a correct password; an address keeps its
// count: one good login must not buy an address more guesses at other accounts).
func (l *lockout) succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, key)
}

// sweep makes room: it drops the forgotten keys, then the keys not locked now (their counts
// restart), and, when every key is locked, the half whose locks end first. Callers hold mu.
func (l *lockout) sweep(now time.Time) {
	for _, drop := range []func(s *strikes) bool{
		func(s *strikes) bool { return now.Sub(s.last) > l.window && !s.until.After(now) },
		func(s *strikes) bool { return !s.until.After(now) },
	} {
		for k, s := range l.keys {
			if drop(s) {
				delete(l.keys, k)
			}
		}
		if len(l.keys) < l.maxKeys {
			return
		}
	}
	ends := make([]time.Time, 0, len(l.keys))
	for _, s := range l.keys {
		ends = append(ends, s.until)
	}
	slices.SortFunc(ends, time.Time.Compare)
	cut := ends[len(ends)/2]
	for k, s := range l.keys {
		if !s.until.After(cut) {
			delete(l.keys, k)
		}
	}
}
