package app

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/notifications/channels"
	"github.com/socplatform/soc/commands/notifications/domain"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventlog"
	"github.com/socplatform/soc/events/snapshot"
	"github.com/socplatform/soc/schemas/contracts"
)

// WorkerConfig configures a Worker. Zero fields take the defaults.
type WorkerConfig struct {
	Store events.EventStore
	// Senders maps a channel name (channels.ChannelEmail, …) to its client. A notification for a
	// channel without a sender is dead-lettered ("not configured"): nothing sends anywhere
	// unless configured.
	Senders     map[string]channels.Sender
	Preferences PreferenceSource // for digests (quiet hours); nil: none
	Now         func() time.Time // default time.Now
	Logger      *slog.Logger

	// MaxAttempts is how many attempts a notification gets before it is dead-lettered (default 8).
	MaxAttempts int
	// BaseBackoff and MaxBackoff bound the wait after a failed attempt: BaseBackoff·2^(n-1),
	// capped (defaults 30s and 1h). A server's Retry-After, when longer, wins.
	BaseBackoff, MaxBackoff time.Duration
	// Jitter in [0,1) shortens each backoff by up to that fraction, by an amount derived from the
	// message id and attempt (deterministic: the same notification always waits the same, and
	// different ones spread out). Default 0.
	Jitter float64
	// AttemptTimeout bounds one Send (default 30s).
	AttemptTimeout time.Duration
	// RecordTimeout bounds appending an attempt's outcome, which is done even when the worker is
	// stopping (default 10s).
	RecordTimeout time.Duration
	// Lease is how long an attempt may stay without an outcome before another pass treats it as
	// interrupted (default AttemptTimeout + RecordTimeout).
	Lease time.Duration
	// Concurrency is the number of sends in flight per channel (default 4). A channel that is
	// slow or hangs holds only its own slots.
	Concurrency map[string]int
	// DefaultConcurrency applies to channels not in Concurrency (default 4).
	DefaultConcurrency int
	// ReadBatch is the $all page size of the index (default 1000).
	ReadBatch int
	// PollInterval bounds how long Run sleeps when nothing is due (default 1s).
	PollInterval time.Duration
	// Snapshots is where the index is snapshotted, so that a restart reads only the events after
	// the snapshot instead of the whole log (zero: no snapshots, every start replays $all).
	Snapshots snapshot.Dir
	// SnapshotPolicy says how often syncs write a snapshot; Run also writes one when it stops.
	SnapshotPolicy snapshot.Policy
}

// Validate reports every problem at once.
func (c WorkerConfig) Validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("notifications: worker needs a store"))
	}
	if c.MaxAttempts < 0 || c.BaseBackoff < 0 || c.MaxBackoff < 0 || c.AttemptTimeout < 0 || c.RecordTimeout < 0 ||
		c.Lease < 0 || c.DefaultConcurrency < 0 || c.ReadBatch < 0 || c.PollInterval < 0 {
		errs = append(errs, errors.New("notifications: worker attempts, durations, concurrency and batch must not be negative"))
	}
	if c.MaxBackoff > 0 && c.BaseBackoff > c.MaxBackoff {
		errs = append(errs, errors.New("notifications: base backoff exceeds max backoff"))
	}
	if c.Jitter < 0 || c.Jitter >= 1 {
		errs = append(errs, fmt.Errorf("notifications: jitter %v is not in [0,1)", c.Jitter))
	}
	for ch, n := range c.Concurrency {
		if n < 1 {
			errs = append(errs, fmt.Errorf("notifications: concurrency of %s must be at least 1", ch))
		}
	}
	for ch, s := range c.Senders {
		if s == nil {
			errs = append(errs, fmt.Errorf("notifications: sender of %s is nil", ch))
		}
	}
	return errors.Join(errs...)
}

// Worker delivers due notifications. See the package documentation for the delivery sequence.
// Its methods are safe for concurrent use; run one Worker per store.
type Worker struct {
	cfg WorkerConfig
	svc *Service
	idx *index
	log *slog.Logger

	// chMu guards senders and sems: SetSenders replaces the senders while the worker runs, and
	// a channel it adds gets its slots.
	chMu    sync.RWMutex
	senders map[string]channels.Sender
	sems    map[string]chan struct{}

	mu   sync.Mutex
	busy map[string]bool
	wg   sync.WaitGroup
	wake chan struct{}
	pass sync.Mutex // one DispatchDue at a time

	snapMu    sync.Mutex // restore and snapshot writes, one at a time
	restored  bool
	snapTrack snapshot.Tracker
}

// NewWorker validates cfg and returns a worker. Nothing is read until the first DispatchDue or Run.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 8
	}
	def(&cfg.BaseBackoff, 30*time.Second)
	def(&cfg.MaxBackoff, time.Hour)
	if cfg.BaseBackoff > cfg.MaxBackoff {
		cfg.MaxBackoff = cfg.BaseBackoff
	}
	def(&cfg.AttemptTimeout, 30*time.Second)
	def(&cfg.RecordTimeout, 10*time.Second)
	def(&cfg.Lease, cfg.AttemptTimeout+cfg.RecordTimeout)
	def(&cfg.PollInterval, time.Second)
	if cfg.DefaultConcurrency == 0 {
		cfg.DefaultConcurrency = 16
	}
	if cfg.ReadBatch == 0 {
		cfg.ReadBatch = 1000
	}
	w := &Worker{cfg: cfg, svc: NewService(cfg.Store, cfg.Preferences, cfg.Now), idx: newIndex(),
		log: cfg.Logger.With("service", "notifications"), sems: map[string]chan struct{}{},
		busy: map[string]bool{}, wake: make(chan struct{}, 1), snapTrack: snapshot.Tracker{Policy: cfg.SnapshotPolicy}}
	w.setSenders(cfg.Senders)
	return w, nil
}

// SetSenders replaces the channels' senders while the worker runs (a channel's settings
// changed): attempts in flight finish on the sender they started with, the next attempts use
// these. A channel left out is no longer configured: its notifications are dead-lettered like
// any unconfigured channel's. A nil sender is refused and nothing changes.
func (w *Worker) SetSenders(senders map[string]channels.Sender) error {
	for ch, s := range senders {
		if s == nil {
			return fmt.Errorf("notifications: sender of %s is nil", ch)
		}
	}
	w.setSenders(senders)
	w.poke() // a channel just configured may have notifications due
	return nil
}

func (w *Worker) setSenders(senders map[string]channels.Sender) {
	w.chMu.Lock()
	defer w.chMu.Unlock()
	w.senders = maps.Clone(senders)
	for ch := range senders {
		if w.sems[ch] != nil {
			continue // a channel keeps its slots: its sends in flight hold some of them
		}
		n := w.cfg.Concurrency[ch]
		if n == 0 {
			n = w.cfg.DefaultConcurrency
		}
		w.sems[ch] = make(chan struct{}, n)
	}
}

// sender returns the sender of channel ch in force now, and its slots.
func (w *Worker) sender(ch string) (channels.Sender, chan struct{}) {
	w.chMu.RLock()
	defer w.chMu.RUnlock()
	return w.senders[ch], w.sems[ch]
}

// Backoff is the wait after the attempt-th failed attempt of the message msgID.
func (w *Worker) Backoff(msgID string, attempt int) time.Duration {
	b := w.cfg.BaseBackoff
	for i := 1; i < attempt && b < w.cfg.MaxBackoff; i++ {
		b *= 2
	}
	b = min(b, w.cfg.MaxBackoff)
	if w.cfg.Jitter > 0 {
		h := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d", msgID, attempt)))
		frac := float64(binary.BigEndian.Uint64(h[:8])>>11) / float64(1<<53)
		b -= time.Duration(float64(b) * w.cfg.Jitter * frac)
	}
	return b
}

// Sync brings the index up to the store's head. The first one restores the index from its
// snapshot (WorkerConfig.Snapshots) and reads only the events after it.
func (w *Worker) Sync(ctx context.Context) error {
	if err := w.restore(ctx); err != nil {
		return err
	}
	if err := w.idx.sync(ctx, w.cfg.Store, w.cfg.ReadBatch); err != nil {
		return err
	}
	w.warnLate()
	w.snapshotIfDue()
	return nil
}

// warnLate logs the notifications the index found joining a digest already requested.
func (w *Worker) warnLate() {
	for _, id := range w.idx.takeLate() {
		w.log.Warn("notifications: a notification joined a digest after the digest was requested; it is not delivered", "notification", id)
	}
}

// follow applies a batch the eventlog consumer delivered and wakes the dispatch loop.
func (w *Worker) follow(_ context.Context, batch []events.Envelope) error {
	if err := w.idx.follow(batch); err != nil {
		return err
	}
	w.warnLate()
	w.snapshotIfDue()
	w.poke()
	return nil
}

// Pending reports how many notifications are live (not yet sent, dead-lettered or suppressed)
// and how many digest windows are open, as of the last sync.
func (w *Worker) Pending() (notifications, digests int) { return w.idx.counts() }

// DispatchDue syncs the index, requests the digests whose window has closed, and starts an
// attempt for every due notification whose channel has a free slot. It does not wait for the
// sends: it returns how many it started (Wait waits for them). A notification whose channel is
// full stays due for the next pass.
func (w *Worker) DispatchDue(ctx context.Context) (int, error) {
	w.pass.Lock()
	defer w.pass.Unlock()
	if err := w.Sync(ctx); err != nil {
		return 0, err
	}
	now := w.cfg.Now().UTC()
	if bs := w.idx.dueBuckets(now); len(bs) > 0 {
		var first error
		for _, b := range bs {
			if err := w.requestDigest(ctx, b); err != nil && first == nil {
				first = err
			}
		}
		if err := w.Sync(ctx); err != nil {
			return 0, err
		}
		if first != nil {
			w.log.Warn("notifications: requesting a digest failed; will retry", "error", first)
		}
	}
	w.mu.Lock()
	busy := make(map[string]bool, len(w.busy))
	for id := range w.busy {
		busy[id] = true
	}
	w.mu.Unlock()
	started := 0
	free := func(ch string) int {
		if _, sem := w.sender(ch); sem != nil {
			return cap(sem) - len(sem)
		}
		return -1
	}
	for _, en := range w.idx.due(now, w.cfg.Lease, busy, free) {
		_, sem := w.sender(en.channel)
		if sem != nil {
			select {
			case sem <- struct{}{}:
			default:
				continue // the channel is full; others go on
			}
		}
		w.mu.Lock()
		w.busy[en.id] = true
		w.mu.Unlock()
		w.wg.Add(1)
		started++
		go func(id string) {
			defer func() {
				if sem != nil {
					<-sem
				}
				w.mu.Lock()
				delete(w.busy, id)
				w.mu.Unlock()
				w.wg.Done()
				w.poke()
			}()
			if err := w.process(ctx, id); err != nil && ctx.Err() == nil {
				w.log.Warn("notifications: delivery step failed; will retry", "notification", id, "error", err)
			}
		}(en.id)
	}
	return started, nil
}

// Wait blocks until every attempt started by DispatchDue has finished.
func (w *Worker) Wait() { w.wg.Wait() }

func (w *Worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers notifications as they are requested and fall due, until ctx ends; then it waits
// for the attempts in flight (their outcome is recorded even while stopping).
func (w *Worker) Run(ctx context.Context) error {
	defer func() {
		if err := w.SaveSnapshot(); err != nil {
			w.log.Warn("notifications: the index's snapshot could not be written; the next start replays more", "error", err)
		}
	}()
	defer w.wg.Wait()
	var follow sync.WaitGroup
	follow.Add(1)
	go func() { // keep the index current and wake the loop on appends
		defer follow.Done()
		c := &eventlog.StoreConsumer{Store: w.cfg.Store, BatchSize: w.cfg.ReadBatch, StartFrom: func(ctx context.Context) (int64, error) {
			if err := w.restore(ctx); err != nil {
				return 0, err
			}
			return w.idx.position(), nil
		}}
		for ctx.Err() == nil {
			if err := c.Run(ctx, w.follow); err != nil && ctx.Err() == nil {
				w.log.Warn("notifications: following the log failed; will retry", "error", err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(w.cfg.PollInterval):
			}
		}
	}()
	defer follow.Wait()
	for {
		if _, err := w.DispatchDue(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn("notifications: dispatch pass failed; will retry", "error", err)
		}
		wait := w.cfg.PollInterval
		if next := w.idx.next(w.cfg.Lease); !next.IsZero() {
			wait = min(wait, max(next.Sub(w.cfg.Now()), time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-w.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// process runs one delivery step of a notification:
//
//  1. an attempt left in flight by a stopped worker is closed (NotificationFailed{interrupted},
//     due at once) so the message is resent, once, with the same id;
//  2. NotificationAttempted{n} is appended (durable before the channel is called);
//  3. Send, bounded by AttemptTimeout;
//  4. NotificationSent{n}, or NotificationFailed{n} with the next attempt's time, or
//     NotificationFailed + NotificationDeadLettered (permanent error, or attempt MaxAttempts).
//
// Every append uses the version just read, so two workers never record the same attempt.
func (w *Worker) process(ctx context.Context, id string) error {
	var n domain.Notification
	v, err := es.Load(ctx, w.cfg.Store, id, &n)
	if err != nil {
		return err
	}
	if !n.Exists() || n.Status.Terminal() {
		return nil
	}
	meta := es.Meta{Actor: "system:notifications", CausationID: id}
	save := func(ctx context.Context, changes []es.Change) (bool, error) {
		_, err := es.Save(ctx, w.cfg.Store, id, events.Exact(v), meta, changes)
		var vc *events.VersionConflictError
		if errors.As(err, &vc) {
			return false, nil // another worker moved it: the next pass decides again
		}
		if err != nil {
			return false, err
		}
		if err := applyChanges(&n, id, changes); err != nil {
			return false, err
		}
		v += int64(len(changes))
		return true, nil
	}
	now := w.cfg.Now().UTC()
	if n.Status == domain.StatusInFlight {
		if n.LastAttemptAt.Add(w.cfg.Lease).After(now) {
			return nil // still within its lease: its worker may be alive
		}
		changes, err := n.Interrupt(w.cfg.MaxAttempts, now)
		if err != nil {
			return err
		}
		w.log.Warn("notifications: attempt interrupted, outcome unknown; resending with the same message id",
			"notification", id, "attempt", n.InFlight, "message_id", n.MessageID())
		if ok, err := save(ctx, changes); !ok || err != nil {
			return err
		}
		if n.Status.Terminal() {
			return nil
		}
	}
	sender, _ := w.sender(n.Request.Channel) // this attempt's sender, even if SetSenders replaces it meanwhile
	if sender == nil {
		changes, err := n.DeadLetter(fmt.Sprintf("channel %q is not configured", n.Request.Channel), now)
		if err != nil {
			return err
		}
		_, err = save(ctx, changes)
		return err
	}
	changes, attempt, err := n.Attempt(now)
	if err != nil {
		var re *domain.RuleError
		if errors.As(err, &re) {
			return nil // not due yet (the index was ahead of the stream, or a deferral)
		}
		return err
	}
	if ok, err := save(ctx, changes); !ok || err != nil {
		return err
	}

	actx, cancel := context.WithTimeout(ctx, w.cfg.AttemptTimeout)
	serr := sender.Send(actx, n.Message())
	cancel()

	// Record the outcome even when ctx ended meanwhile: a recorded send is a duplicate avoided.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.RecordTimeout)
	defer rcancel()
	done := w.cfg.Now().UTC()
	if serr == nil {
		changes, err = n.RecordSent(attempt, "", done)
	} else if errors.Is(serr, ErrNoSession) {
		changes, err = n.RecordHeld(attempt, serr.Error(), done)
	} else {
		retryable, after := channels.Retryable(serr)
		if serr != nil && ctx.Err() != nil && actx.Err() != nil {
			retryable, after = true, 0 // stopped, not the channel's fault
		}
		next := done.Add(max(w.Backoff(n.MessageID(), attempt), after))
		changes, err = n.RecordFailure(attempt, serr.Error(), retryable, next, w.cfg.MaxAttempts, done)
	}
	if err != nil {
		return err
	}
	if _, err := save(rctx, changes); err != nil {
		return fmt.Errorf("recording the outcome of attempt %d (it stays in flight and will be resent once with the same message id): %w", attempt, err)
	}
	return nil
}

// applyChanges applies appended changes to the in-memory aggregate, as a reload would.
func applyChanges(n *domain.Notification, id string, changes []es.Change) error {
	for _, c := range changes {
		b, err := json.Marshal(c.Data)
		if err != nil {
			return err
		}
		if err := n.Apply(&events.Envelope{StreamID: id, Type: c.Type, Data: b}); err != nil {
			return err
		}
	}
	return nil
}

// maxDigestItems bounds the items listed in one digest (the schema's maxItems).
const maxDigestItems = 1000

// requestDigest records the digest notification of a closed window (idempotent: its stream id
// derives from recipient, channel and window).
func (w *Worker) requestDigest(ctx context.Context, b bucket) error {
	items := b.items
	sort.Slice(items, func(i, j int) bool {
		if !items[i].RequestedAt.Equal(items[j].RequestedAt) {
			return items[i].RequestedAt.Before(items[j].RequestedAt)
		}
		return items[i].NotificationID < items[j].NotificationID
	})
	omitted := 0
	if len(items) > maxDigestItems {
		omitted, items = len(items)-maxDigestItems, items[:maxDigestItems]
	}
	top := "info"
	for _, it := range b.items {
		if domain.SeverityRank(string(it.Severity)) > domain.SeverityRank(top) {
			top = string(it.Severity)
		}
	}
	total := len(items) + omitted
	subject := fmt.Sprintf("SOC digest: %d notification%s (highest severity: %s)", total, plural(total), top)
	if allKind(b.items, channels.KindSLABreach) { // the planner's coalesced escalations
		subject = fmt.Sprintf("[SOC ESCALATION] SLA breached: %d finding%s (highest severity: %s)", total, plural(total), top)
	}
	var text strings.Builder
	text.WriteString(subject + "\n\n")
	for _, it := range items {
		title := it.Subject
		if title == "" {
			title = it.Kind
		}
		fmt.Fprintf(&text, "- [%s] %s (%s, %s)\n", strings.ToUpper(string(it.Severity)), title, it.Kind, it.RequestedAt.UTC().Format("2006-01-02 15:04 MST"))
	}
	if omitted > 0 {
		fmt.Fprintf(&text, "… and %d more\n", omitted)
	}
	key := domain.DigestKey(b.recipient, b.channel, b.due)
	if id := domain.StreamID(key); id != b.id {
		return fmt.Errorf("notifications: digest %s does not match its key %q", b.id, key)
	}
	req := domain.Requested{DedupKey: key, Recipient: domain.ToRecipient(b.recipient), Channel: b.channel, Kind: domain.KindDigest,
		Severity: contracts.Severity(top), Subject: subject, Text: text.String(), DigestItems: items}
	if omitted > 0 { // written only when some were left out, as before (omitempty)
		req.DigestOmitted = &omitted
	}
	_, err := w.svc.record(ctx, b.id, req, es.Meta{Actor: "system:notifications-digest"}, 0)
	return err
}

// allKind reports whether every item is of kind.
func allKind(items []domain.DigestItem, kind string) bool {
	for _, it := range items {
		if it.Kind != kind {
			return false
		}
	}
	return len(items) > 0
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
