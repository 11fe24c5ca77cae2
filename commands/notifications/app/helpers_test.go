package app

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/notifications/channels"
	"github.com/socplatform/soc/commands/notifications/domain"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/schemas/contracts"
)

// fakeSender stands in for a channel client (the channels package tests the real ones): it
// records every message it accepts, and can fail the first N calls, fail permanently, or block.
type fakeSender struct {
	mu        sync.Mutex
	calls     int
	accepted  []channels.Message
	failFirst int           // transient failures before accepting
	permanent bool          // every call fails permanently
	retryAft  time.Duration // Retry-After of the transient failures
	block     chan struct{} // when set, Send waits for it to close (or ctx)
	started   chan string   // when set, receives the message id as Send starts
}

func (f *fakeSender) Send(ctx context.Context, m channels.Message) error {
	if f.started != nil {
		f.started <- m.ID
	}
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			f.mu.Lock()
			f.calls++
			f.mu.Unlock()
			return &channels.TransientError{Channel: "fake", Err: ctx.Err()}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	switch {
	case f.permanent:
		return &channels.PermanentError{Channel: "fake", Code: 550, Err: errors.New("mailbox unavailable")}
	case f.calls <= f.failFirst:
		return &channels.TransientError{Channel: "fake", Code: 503, RetryAfter: f.retryAft, Err: errors.New("service unavailable")}
	}
	f.accepted = append(f.accepted, m)
	return nil
}

func (f *fakeSender) stats() (calls int, accepted []channels.Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, slices.Clone(f.accepted)
}

// wantAccepted fails t unless the sender accepted n messages.
func (f *fakeSender) wantAccepted(t *testing.T, n int) {
	t.Helper()
	if _, acc := f.stats(); len(acc) != n {
		t.Fatalf("accepted %d messages, want %d", len(acc), n)
	}
}

// crashingStore appends like the real store, except that the first append of crashType fails
// as if the process had died just before it.
type crashingStore struct {
	*events.Guarded
	crashType string
	mu        sync.Mutex
	crashed   bool
}

func (c *crashingStore) Append(ctx context.Context, id string, exp events.ExpectedVersion, evs []events.Envelope) (events.AppendResult, error) {
	c.mu.Lock()
	for _, e := range evs {
		if e.Type == c.crashType && !c.crashed {
			c.crashed = true
			c.mu.Unlock()
			return events.AppendResult{}, errors.New("process killed")
		}
	}
	c.mu.Unlock()
	return c.Guarded.Append(ctx, id, exp, evs)
}

var start = time.Date(2026, 5, 4, 10, 5, 0, 0, time.UTC)

type env struct {
	t     *testing.T
	path  string
	store *events.Guarded
	clock *testsupport.Clock
	prefs *StaticPreferences
	svc   *Service
}

func newEnv(t *testing.T) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	e := &env{t: t, path: path, store: testsupport.OpenSQLiteStore(t, sqlite.Config{Path: path}),
		clock: testsupport.NewClock(start), prefs: NewStaticPreferences()}
	e.svc = NewService(e.store, e.prefs, e.clock.Now)
	return e
}

// reopen opens the same database file again, as a restarted process would.
func (e *env) reopen() *events.Guarded {
	return testsupport.OpenSQLiteStore(e.t, sqlite.Config{Path: e.path})
}

func (e *env) worker(store events.EventStore, senders map[string]channels.Sender, mod func(*WorkerConfig)) *Worker {
	e.t.Helper()
	cfg := WorkerConfig{Store: store, Senders: senders, Preferences: e.prefs, Now: e.clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxAttempts: 5, BaseBackoff: time.Minute, MaxBackoff: 10 * time.Minute, AttemptTimeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	w, err := NewWorker(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return w
}

// pass runs one dispatch pass and waits for its sends; it returns how many it started.
func (e *env) pass(w *Worker) int {
	e.t.Helper()
	n, err := w.DispatchDue(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	w.Wait()
	return n
}

var alice = channels.Recipient{UserID: "alice", Name: "Alice", Email: "alice@example.com", Phone: "+14155550100"}

func (e *env) request(trigger, channel, severity, subject string) Result {
	e.t.Helper()
	r, err := e.svc.Request(context.Background(), Request{Trigger: trigger, Recipient: alice, Channel: channel,
		Kind: channels.KindKEVAlert, Severity: severity, Subject: subject, Text: "body of " + subject})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// stream returns the event types of a stream and their data.
func (e *env) stream(id string) ([]string, []map[string]any) {
	e.t.Helper()
	evs, err := e.store.ReadStream(context.Background(), id, events.ReadStreamOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	var types []string
	var data []map[string]any
	for _, ev := range evs {
		types = append(types, ev.Type)
		var d map[string]any
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			e.t.Fatal(err)
		}
		data = append(data, d)
	}
	return types, data
}

func (e *env) wantTypes(id string, want ...string) []map[string]any {
	e.t.Helper()
	types, data := e.stream(id)
	if !slices.Equal(types, want) {
		e.t.Fatalf("stream %s:\n got %v\nwant %v", id, types, want)
	}
	return data
}

// eventually polls cond in real time (for goroutines), failing after 5s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

const (
	req   = contracts.TypeNotificationRequested
	def   = contracts.TypeNotificationDeferred
	sup   = contracts.TypeNotificationSuppressed
	att   = contracts.TypeNotificationAttempted
	sent  = contracts.TypeNotificationSent
	fail  = contracts.TypeNotificationFailed
	dead  = contracts.TypeNotificationDeadLettered
	email = channels.ChannelEmail
	slack = channels.ChannelSlack
)

func asRule(err error, target **domain.RuleError) bool { return errors.As(err, target) }
