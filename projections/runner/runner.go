// Package runner feeds a projection from the event log and keeps it consistent: one transaction
// per batch that applies the events, records the last applied version of every stream (so a
// redelivery changes nothing and a gap is noticed) and the projection's position; poison events
// park the projection with an audited alert until an operator retries or skips them; Rebuild
// fills a new generation beside the live one and swaps it in without downtime.
//
// Every durable fact lives in the read-model database (tables projection_live, projection_state,
// projection_skips and one streams table per projection generation), so the package-level
// functions (ReadStatus, Retry, Skip, WaitPosition, Rebuild) work from another process on the
// same database — the CLI beside a running server — and a running Runner notices their effect.
package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventlog"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/schemas/contracts"
)

// Config configures a Runner.
type Config struct {
	DB         *projections.DB
	Projection projections.Projection
	// Store is read for the embedded consumer ($all), the head position (lag), single-event
	// lookups (WaitFor, lag) and receives the audit events (ProjectionParked, …).
	Store events.EventStore
	// Consumer delivers the log. Nil: the embedded consumer, a catch-up subscription on Store
	// from the live generation's position, in global order. Non-nil (a Kafka consumer group):
	// only per-stream order is assumed; the version guard makes redeliveries harmless.
	Consumer eventlog.Consumer
	// BatchSize bounds one batch of the embedded consumer (default 1000).
	BatchSize int
	// OnChange is called after each commit with what the batch changed. It runs on the
	// consuming goroutine, so it paces the runner: it may wait for its readers (the WebSocket
	// hub's flow control), never indefinitely.
	OnChange func([]projections.Change)
	Log      *slog.Logger
	Now      func() time.Time
	// MinBackoff and MaxBackoff bound the wait between retries of a failing batch
	// (defaults 100ms and 30s, doubling).
	MinBackoff, MaxBackoff time.Duration
	// ParkPoll is how often a parked runner re-reads its state to notice a Retry or Skip made by
	// another process (default 500ms). In-process Retry/Skip wake it at once.
	ParkPoll time.Duration
}

var nameRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,47}$`)

// isolateAfter is the number of consecutive failures of one batch after which its events are
// applied one at a time to find (and park on) the one that fails.
const isolateAfter = 3

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.DB == nil || c.DB.SQL == nil {
		errs = append(errs, errors.New("runner: a read-model database is required"))
	} else if c.DB.Dialect != projections.SQLite && c.DB.Dialect != projections.Postgres {
		errs = append(errs, fmt.Errorf("runner: unsupported dialect %s", c.DB.Dialect))
	}
	if c.Projection == nil {
		errs = append(errs, errors.New("runner: a projection is required"))
	} else if !nameRe.MatchString(c.Projection.Name()) {
		errs = append(errs, fmt.Errorf("runner: projection name %q: want a lower-case identifier of at most 48 characters", c.Projection.Name()))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("runner: an event store is required"))
	}
	if c.BatchSize < 0 || c.BatchSize > events.MaxReadLimit {
		errs = append(errs, fmt.Errorf("runner: batch size %d: want 0 (default) to %d", c.BatchSize, events.MaxReadLimit))
	}
	if c.MinBackoff < 0 || c.MaxBackoff < 0 || c.ParkPoll < 0 {
		errs = append(errs, errors.New("runner: backoff and poll intervals must not be negative"))
	}
	if c.MinBackoff > 0 && c.MaxBackoff > 0 && c.MinBackoff > c.MaxBackoff {
		errs = append(errs, errors.New("runner: min backoff exceeds max backoff"))
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.BatchSize == 0 {
		c.BatchSize = 1000
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = 100 * time.Millisecond
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 30 * time.Second
	}
	if c.ParkPoll == 0 {
		c.ParkPoll = 500 * time.Millisecond
	}
	return c
}

// Runner feeds one projection. Its methods are safe for concurrent use; Run runs once at a time.
type Runner struct {
	cfg      Config
	p        projections.Projection
	name     string
	contexts []string
	embedded bool
	log      *slog.Logger

	running atomic.Bool
	wake    chan struct{} // Retry/Skip in this process: stop waiting while parked
	// version counts the commits that changed the read model (see Version).
	version atomic.Int64

	// consumerGen is the generation the embedded consumer started from (consuming goroutine only).
	consumerGen int64

	mu      sync.Mutex
	mem     memState
	changed chan struct{} // closed and replaced after every commit and state change
}

// Version is a number that increases after every commit of this runner that changed the read
// model, before WaitFor callers are released: response caches key their entries on it.
func (r *Runner) Version() int64 { return r.version.Load() }

// memState mirrors the durable state for cheap reads and waits.
type memState struct {
	gen, position, applied, recorded int64
	parked                           *ParkedState
	lastError                        string
	loaded                           bool
}

// New validates cfg and returns a runner. Call Init (or Run, which calls it) before use.
func New(cfg Config) (*Runner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Runner{
		cfg:      cfg,
		p:        cfg.Projection,
		name:     cfg.Projection.Name(),
		contexts: cfg.Projection.Contexts(),
		embedded: cfg.Consumer == nil,
		log:      cfg.Log.With("projection", cfg.Projection.Name()),
		wake:     make(chan struct{}, 1),
		changed:  make(chan struct{}),
	}, nil
}

// Name is the projection's name.
func (r *Runner) Name() string { return r.name }

// Init creates the runner's tables and, when the projection has none, its generation 1 and views.
// It is idempotent and safe when several processes race.
func (r *Runner) Init(ctx context.Context) error {
	if err := initProjection(ctx, r.cfg.DB, r.p, r.cfg.Now()); err != nil {
		return fmt.Errorf("projection %s: init: %w", r.name, err)
	}
	st, err := readLive(ctx, r.cfg.DB, r.name)
	if err != nil {
		return fmt.Errorf("projection %s: init: %w", r.name, err)
	}
	r.setState(st)
	return nil
}

// errGenerationChanged stops the embedded consumer so that it restarts from the new live
// generation's position (a rebuild swapped).
var errGenerationChanged = errors.New("runner: live generation changed")

// errParked stops the consumer: the projection waits for an operator.
var errParked = errors.New("runner: projection parked")

// Run consumes until ctx ends (returning nil). Transient failures are retried with backoff;
// a poison event parks the projection and Run waits, without consuming, until Retry or Skip
// (in this process or another) clears the park.
func (r *Runner) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	defer func() {
		r.running.Store(false)
		r.broadcast()
	}()
	failures := 0
	for ctx.Err() == nil {
		st, err := r.start(ctx)
		if err == nil && st.Parked != nil {
			r.waitUnparked(ctx)
			continue
		}
		if err == nil {
			err = r.consume(ctx, st)
		}
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, errGenerationChanged), errors.Is(err, errParked):
			failures = 0
			if errors.Is(err, errGenerationChanged) {
				r.log.Info("live generation changed; restarting from its position")
			}
			continue
		case err == nil:
			// A consumer that returns while ctx is live: restart it, but never in a hot loop.
			sleep(ctx, r.cfg.MinBackoff)
			continue
		}
		failures++
		r.setLastError(err)
		wait := backoff(r.cfg.MinBackoff, r.cfg.MaxBackoff, failures)
		r.log.Warn("projection consumer failed; retrying", "error", err, "attempt", failures, "backoff", wait)
		sleep(ctx, wait)
	}
	return nil
}

// start makes sure the projection exists and loads its live state.
func (r *Runner) start(ctx context.Context) (state, error) {
	if err := initProjection(ctx, r.cfg.DB, r.p, r.cfg.Now()); err != nil {
		return state{}, fmt.Errorf("init: %w", err)
	}
	st, err := readLive(ctx, r.cfg.DB, r.name)
	if err != nil {
		return st, err
	}
	r.setState(st)
	return st, nil
}

func (r *Runner) consume(ctx context.Context, st state) error {
	c := r.cfg.Consumer
	if r.embedded {
		r.consumerGen = st.Generation
		pos := st.Position
		// No filter in the consumer: the handler filters, so that batches of other contexts'
		// events still advance the position (lag and read-your-writes stay exact).
		c = &eventlog.StoreConsumer{
			Store:     r.cfg.Store,
			StartFrom: func(context.Context) (int64, error) { return pos, nil },
			BatchSize: r.cfg.BatchSize,
		}
	}
	return c.Run(ctx, r.handle)
}

// handle is the eventlog.Handler: it returns nil once the batch is durable, errParked when the
// projection parked on one of its events, and an error otherwise (the batch comes again).
func (r *Runner) handle(ctx context.Context, raw []events.Envelope) error {
	batch := filterContexts(raw, r.contexts)
	return r.handleFiltered(ctx, batch, maxPosition(raw))
}

func (r *Runner) handleFiltered(ctx context.Context, batch []events.Envelope, scanned int64) error {
	for failures := 1; ; failures++ {
		err := r.commit(ctx, batch, scanned)
		if err == nil || errors.Is(err, errGenerationChanged) || errors.Is(err, errParked) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ee *projections.EventError
		if errors.As(err, &ee) {
			return r.parkAfter(ctx, batch, ee.Event.EventID, err)
		}
		// A gap never heals by retrying: the event is parked so an operator sees it.
		var ge *eventlog.GapError
		if errors.As(err, &ge) {
			return r.parkAfter(ctx, batch, ge.EventID, err)
		}
		r.setLastError(err)
		if failures >= isolateAfter {
			r.log.Warn("batch keeps failing; applying its events one at a time", "error", err, "events", len(batch))
			return r.isolate(ctx, batch, scanned)
		}
		wait := backoff(r.cfg.MinBackoff, r.cfg.MaxBackoff, failures)
		r.log.Warn("applying batch failed; retrying", "error", err, "attempt", failures, "backoff", wait)
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

// parkAfter commits the events of batch before eventID, then parks on eventID: what precedes a
// poison event is not held back by it.
func (r *Runner) parkAfter(ctx context.Context, batch []events.Envelope, eventID string, cause error) error {
	idx := -1
	for i := range batch {
		if batch[i].EventID == eventID {
			idx = i
			break
		}
	}
	if idx < 0 {
		// The projection named an event that is not in the batch: find the culprit ourselves.
		return r.isolate(ctx, batch, maxPosition(batch))
	}
	if idx > 0 {
		if err := r.handleFiltered(ctx, batch[:idx], batch[idx].GlobalPosition-1); err != nil {
			return err
		}
	}
	return r.park(ctx, batch[idx], cause)
}

// isolate applies the events of batch one transaction each; the first that fails is parked.
func (r *Runner) isolate(ctx context.Context, batch []events.Envelope, scanned int64) error {
	for i := range batch {
		err := r.commit(ctx, batch[i:i+1], batch[i].GlobalPosition)
		if err == nil {
			continue
		}
		if errors.Is(err, errGenerationChanged) || errors.Is(err, errParked) || ctx.Err() != nil {
			return err
		}
		return r.park(ctx, batch[i], err)
	}
	r.setLastError(nil)
	return r.commit(ctx, nil, scanned)
}

// commit applies batch in one transaction on the live generation.
func (r *Runner) commit(ctx context.Context, batch []events.Envelope, scanned int64) (err error) {
	endSpans := r.traceApply(ctx, batch)
	defer func() { endSpans(err) }()
	tx, err := r.cfg.DB.Begin(ctx, 0)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	gen, err := liveGeneration(ctx, txq{tx}, r.name, lockShare)
	if err != nil {
		return err
	}
	if r.embedded && gen != r.consumerGen {
		return errGenerationChanged
	}
	tx.Generation = gen
	st, err := readState(ctx, txq{tx}, r.name, gen, false)
	if err != nil {
		return err
	}
	if st.Parked != nil {
		// Parked by another member of the group (or another process): stop too.
		r.setState(st)
		return errParked
	}
	res, err := applyInTx(ctx, tx, r.p, batch, scanned, nil, r.cfg.Now())
	if err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return err
	}
	if len(res.Changes) > 0 {
		r.version.Add(1) // before waiters are woken: a reader they release sees the new version
	}
	r.mu.Lock()
	r.mem = memState{gen: gen, position: res.Position, applied: res.Total, recorded: res.Recorded, loaded: true}
	r.mu.Unlock()
	r.broadcast()
	if r.cfg.OnChange != nil && len(res.Changes) > 0 {
		for i := range res.Changes {
			if res.Changes[i].Projection == "" {
				res.Changes[i].Projection = r.name
			}
		}
		r.cfg.OnChange(res.Changes)
	}
	return nil
}

// park records e as the parked event of the live generation, raises the audited alert and
// returns errParked.
func (r *Runner) park(ctx context.Context, e events.Envelope, cause error) error {
	// Before the park is visible: whoever sees the park in Status also sees its cause here.
	r.setLastError(cause)
	now := r.cfg.Now()
	pr := &parkedRow{EventID: e.EventID, Position: e.GlobalPosition, StreamID: e.StreamID, Version: e.Version,
		Type: e.Type, Error: cause.Error(), At: now.UnixMicro()}
	gen, err := r.persistPark(ctx, pr, now)
	if err != nil {
		return err
	}
	r.log.Error("projection parked on an event it cannot apply; run `soc projections retry` or `soc projections skip`",
		"generation", gen, "event_id", e.EventID, "position", e.GlobalPosition, "stream_id", e.StreamID,
		"type", e.Type, "version", e.Version, "error", cause)
	// The park is durable already; a failed alert is logged, not retried forever.
	if err := appendAudit(ctx, r.cfg.Store, contracts.TypeProjectionParked, "system:projections", auditData(r.name, gen, pr, cause.Error(), "")); err != nil {
		r.log.Error("recording ProjectionParked failed", "error", err)
	}
	st, err := readLive(ctx, r.cfg.DB, r.name)
	if err == nil {
		r.setState(st)
	}
	return errParked
}

func (r *Runner) persistPark(ctx context.Context, pr *parkedRow, now time.Time) (gen int64, err error) {
	tx, err := r.cfg.DB.Begin(ctx, 0)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if gen, err = liveGeneration(ctx, txq{tx}, r.name, lockShare); err != nil {
		return 0, err
	}
	if r.embedded && gen != r.consumerGen {
		return 0, errGenerationChanged
	}
	q := newQuery(tx.Dialect)
	text := "UPDATE projection_state SET parked_event_id = " + q.arg(pr.EventID) + ", parked_position = " + q.arg(pr.Position) +
		", parked_stream_id = " + q.arg(pr.StreamID) + ", parked_version = " + q.arg(pr.Version) + ", parked_type = " + q.arg(pr.Type) +
		", parked_error = " + q.arg(truncate(pr.Error, maxErrorLen)) + ", parked_at = " + q.arg(pr.At) + ", updated_at = " + q.arg(now.UnixMicro()) +
		" WHERE name = " + q.arg(r.name) + " AND generation = " + q.arg(gen) + " AND parked_event_id IS NULL"
	if _, err = tx.ExecContext(ctx, text, q.args...); err != nil {
		return 0, fmt.Errorf("parking %s: %w", r.name, err)
	}
	return gen, tx.Commit()
}

// waitUnparked waits until the park is cleared: woken by Retry/Skip in this process, or by
// polling the state row for another process's decision (or a rebuild's new generation).
func (r *Runner) waitUnparked(ctx context.Context) {
	t := time.NewTicker(r.cfg.ParkPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-t.C:
		}
		st, err := readLive(ctx, r.cfg.DB, r.name)
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("reading parked state failed", "error", err)
			}
			continue
		}
		r.setState(st)
		if st.Parked == nil {
			r.log.Info("projection resumed")
			return
		}
	}
}

func (r *Runner) setState(st state) {
	r.mu.Lock()
	r.mem.gen, r.mem.position, r.mem.applied, r.mem.recorded = st.Generation, st.Position, st.EventsApplied, st.LastRecorded
	r.mem.parked = st.Parked.public()
	r.mem.loaded = true
	r.mu.Unlock()
	r.broadcast()
}

func (r *Runner) setLastError(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		r.mem.lastError = ""
	} else {
		r.mem.lastError = err.Error()
	}
}

// broadcast wakes every WaitFor.
func (r *Runner) broadcast() {
	r.mu.Lock()
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

func (r *Runner) changes() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changed
}

func (r *Runner) nudge() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// backoff is min·2^(attempt-1), capped at max.
func backoff(minD, maxD time.Duration, attempt int) time.Duration {
	d := minD
	for i := 1; i < attempt && d < maxD; i++ {
		d *= 2
	}
	return min(d, maxD)
}

// sleep waits d or until ctx ends; it reports whether the full wait elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
