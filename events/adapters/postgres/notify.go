package postgres

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/socplatform/soc/events"
)

// notifier fans the listener's news out to every waiter: head is the highest position known to be
// committed, and ch is closed (and replaced) whenever head grows.
type notifier struct {
	mu   sync.Mutex
	head int64
	ch   chan struct{}
}

func (n *notifier) init() { n.ch = make(chan struct{}) }

func (n *notifier) current() (<-chan struct{}, int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ch, n.head
}

func (n *notifier) publish(pos int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if pos <= n.head {
		return
	}
	n.head = pos
	close(n.ch)
	n.ch = make(chan struct{})
}

// WaitForAppend implements events.EventStore. It returns nil as soon as a position above after is
// known to be committed (at once if it already is), after PollInterval at the latest, or the
// context's error when ctx ends first.
func (s *Store) WaitForAppend(ctx context.Context, after int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.check(); err != nil {
		return err
	}
	s.startListener()
	timer := time.NewTimer(s.cfg.PollInterval)
	defer timer.Stop()
	for {
		ch, head := s.wake.current()
		if head > after {
			return nil
		}
		select {
		case <-ch:
		case <-timer.C:
			return nil // the fallback poll: the caller re-reads
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return events.ErrClosed
		}
	}
}

// startListener starts the LISTEN goroutine once, on the first wait.
func (s *Store) startListener() {
	s.listenMu.Lock()
	defer s.listenMu.Unlock()
	if s.listenOn || s.closed.Load() {
		return
	}
	s.listenOn = true
	ctx, cancel := context.WithCancel(context.Background())
	s.stopLsn = cancel
	s.listenWG.Add(1)
	go func() {
		defer s.listenWG.Done()
		s.listen(ctx)
	}()
}

// listen keeps one connection LISTENing, reconnecting with backoff. While it is down, waiters
// fall back to PollInterval.
func (s *Store) listen(ctx context.Context) {
	const maxBackoff = 5 * time.Second
	backoff := s.cfg.PollInterval
	for ctx.Err() == nil {
		connected, _ := s.listenSession(ctx) // the error only matters for the retry
		if connected {
			backoff = s.cfg.PollInterval
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// listenSession runs one listener connection until it fails or ctx ends. connected reports whether
// it got as far as listening.
func (s *Store) listenSession(ctx context.Context) (connected bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, s.connCfg.Copy())
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+quoteIdent(s.channel)); err != nil {
		return false, err
	}
	// Anything committed before LISTEN took effect is covered by the head read after it; anything
	// after is notified. Notifications missed while disconnected are thereby caught up too.
	var head int64
	if err := conn.QueryRow(ctx, s.q.head).Scan(&head); err != nil {
		return false, err
	}
	s.wake.publish(head)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		if pos, perr := strconv.ParseInt(n.Payload, 10, 64); perr == nil {
			s.wake.publish(pos)
		}
	}
}
