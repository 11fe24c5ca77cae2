package sagas

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

// DispatcherConfig configures a Dispatcher.
type DispatcherConfig struct {
	Runtime *Runtime
	Bus     CommandBus
	// MaxAttempts is how many times a command is tried before it is dead (default 8).
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the wait between attempts (defaults 1s and 10m, doubling).
	MinBackoff, MaxBackoff time.Duration
	// AttemptTimeout bounds one Dispatch call (default 30s).
	AttemptTimeout time.Duration
}

// Validate reports every problem at once.
func (c DispatcherConfig) Validate() error {
	var errs []error
	if c.Runtime == nil {
		errs = append(errs, errors.New("sagas: dispatcher needs the runtime"))
	}
	if c.Bus == nil {
		errs = append(errs, errors.New("sagas: dispatcher needs a command bus"))
	}
	if c.MaxAttempts < 0 || c.MinBackoff < 0 || c.MaxBackoff < 0 || c.AttemptTimeout < 0 {
		errs = append(errs, errors.New("sagas: dispatcher attempts, backoffs and timeout must not be negative"))
	}
	if c.MaxBackoff > 0 && c.MinBackoff > c.MaxBackoff {
		errs = append(errs, errors.New("sagas: dispatcher min backoff exceeds max backoff"))
	}
	return errors.Join(errs...)
}

// Dispatcher sends the commands sagas issued (the outbox) through the CommandBus, at least once,
// with their deterministic ids as idempotency keys. Its methods are safe for concurrent use.
type Dispatcher struct {
	cfg DispatcherConfig
	rt  *Runtime
	s   *scheduler
}

// NewDispatcher validates cfg and returns a dispatcher.
func NewDispatcher(cfg DispatcherConfig) (*Dispatcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 8
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 10 * time.Minute
	}
	if cfg.AttemptTimeout == 0 {
		cfg.AttemptTimeout = 30 * time.Second
	}
	d := &Dispatcher{cfg: cfg, rt: cfg.Runtime}
	d.s = newScheduler(d.rt, "dispatcher", cfg.MinBackoff, indexCommand)
	return d, nil
}

// indexCommand keeps q's pending commands up to date with one event; an event whose payload does
// not decode changes nothing (the instance's own fold reports it).
func indexCommand(q *dueQueue, e *events.Envelope) {
	switch e.Type {
	case contracts.TypeSagaCommandIssued:
		_ = events.OnPayload(e.Data, func(d contracts.SagaCommandIssued) {
			q.upsert(d.CommandID, e.StreamID, time.Time{}) // due at once
		})
	case contracts.TypeSagaCommandFailed:
		_ = events.OnPayload(e.Data, func(d contracts.SagaCommandFailed) {
			if d.Final || d.NextAttemptAt.IsZero() {
				q.remove(d.CommandID)
			} else {
				q.upsert(d.CommandID, e.StreamID, d.NextAttemptAt)
			}
		})
	case contracts.TypeSagaCommandDispatched:
		_ = events.OnPayload(e.Data, func(d contracts.SagaCommandDispatched) { q.remove(d.CommandID) })
	}
}

// Backoff is the wait after the attempt-th failed attempt.
func (d *Dispatcher) Backoff(attempt int) time.Duration {
	b := d.cfg.MinBackoff
	for i := 1; i < attempt && b < d.cfg.MaxBackoff; i++ {
		b *= 2
	}
	return min(b, d.cfg.MaxBackoff)
}

// Sync brings the index of undispatched commands up to the store's head.
func (d *Dispatcher) Sync(ctx context.Context) error { return d.s.sync(ctx) }

// Pending is the number of commands in the index (waiting to be sent or retried).
func (d *Dispatcher) Pending() int { return d.s.pending() }

// Next is when the next command is due.
func (d *Dispatcher) Next() (time.Time, bool) { return d.s.next() }

// DispatchDue tries every indexed command that is due by the clock and returns how many
// attempts were recorded (dispatched or failed).
func (d *Dispatcher) DispatchDue(ctx context.Context) (int, error) {
	return d.s.runDue(ctx, d.dispatch)
}

// Run follows the store and dispatches commands as they are issued and retries fall due,
// until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) error { return d.s.run(ctx, d.DispatchDue) }

const maxErrorLen = 4096

func (d *Dispatcher) dispatch(ctx context.Context, it dueItem) (bool, error) {
	in, err := LoadStream(ctx, d.rt.store, it.stream)
	if err != nil {
		return false, err
	}
	rec := in.CommandByID(it.id)
	if rec == nil || rec.Status == StatusDispatched || rec.Status == StatusDead {
		return false, nil
	}
	now := d.rt.clock.Now().UTC()
	if rec.Status == StatusRetrying && rec.NextAttemptAt.After(now) {
		d.s.requeue(it, rec.NextAttemptAt)
		return false, nil
	}
	s := d.rt.Saga(in.Saga)
	if s == nil {
		d.s.log.Warn("sagas: command of an unregistered saga left pending", "saga", in.Saga, "command", it.id)
		return false, nil
	}
	attempt := rec.Attempts + 1
	cmd := rec.Command
	actx, cancel := context.WithTimeout(ctx, d.cfg.AttemptTimeout)
	derr := d.cfg.Bus.Dispatch(actx, cmd)
	cancel()
	if derr != nil && ctx.Err() != nil {
		return false, ctx.Err() // we are stopping: not the command's fault
	}
	// stillOpen: the attempt is not recorded yet (another dispatcher may have raced us).
	stillOpen := func(in *Instance) bool {
		c := in.CommandByID(cmd.ID)
		return c != nil && c.Status != StatusDispatched && c.Status != StatusDead && c.Attempts < attempt
	}
	if derr == nil {
		_, err := d.rt.execute(ctx, s, "", it.stream, func(in *Instance) (*trigger, error) {
			if !stillOpen(in) {
				return nil, nil
			}
			return &trigger{lead: []events.Envelope{lead(dispatchedEventID(cmd.ID), contracts.TypeSagaCommandDispatched, cmd.ID,
				contracts.SagaCommandDispatched{CommandID: cmd.ID, Attempt: attempt, DispatchedAt: now})}, env: events.Envelope{EventID: dispatchedEventID(cmd.ID)}}, nil
		})
		if err != nil {
			return false, fmt.Errorf("sagas: recording dispatch of %s: %w", cmd.ID, err)
		}
		return true, nil
	}
	msg := derr.Error()
	if len(msg) > maxErrorLen {
		msg = msg[:maxErrorLen]
	}
	failed := contracts.SagaCommandFailed{CommandID: cmd.ID, Attempt: attempt, Error: msg}
	final := attempt >= d.cfg.MaxAttempts || isPermanent(derr)
	var next time.Time
	if final {
		failed.Final = true
	} else {
		next = now.Add(d.Backoff(attempt)).Truncate(time.Microsecond)
		failed.NextAttemptAt = next
	}
	id := failedEventID(cmd.ID, attempt)
	_, err = d.rt.execute(ctx, s, "", it.stream, func(in *Instance) (*trigger, error) {
		if !stillOpen(in) {
			return nil, nil
		}
		tr := &trigger{lead: []events.Envelope{lead(id, contracts.TypeSagaCommandFailed, cmd.ID, failed)}}
		tr.env = events.Envelope{EventID: id, StreamID: in.StreamID, StreamType: events.StreamTypeOf(in.StreamID),
			Version: in.Version + 1, Type: contracts.TypeSagaCommandFailed, SchemaVersion: 1, OccurredAt: now, RecordedAt: now, Data: tr.lead[0].Data}
		if comp, ok := s.(Compensator); ok && final {
			fc := FailedCommand{Command: cmd, Attempts: attempt, Error: msg}
			tr.decide = func(ctx context.Context, state json.RawMessage, now time.Time) (Decision, error) {
				return comp.Compensate(ctx, state, fc, now)
			}
		}
		return tr, nil
	})
	if err != nil {
		return false, fmt.Errorf("sagas: recording failure of %s: %w", cmd.ID, err)
	}
	if !final {
		d.s.requeue(it, next)
	}
	return true, nil
}

// permanent is implemented by an error no retry can cure (a payload its schema refuses): the
// command fails for good at once instead of after MaxAttempts, and its saga compensates.
type permanent interface {
	error
	Permanent() bool
}

func isPermanent(err error) bool {
	p, ok := errors.AsType[permanent](err)
	return ok && p.Permanent()
}

// lead builds a bookkeeping event caused by the command cause.
func lead(id, typ, cause string, data any) events.Envelope {
	b, err := json.Marshal(data)
	if err != nil {
		panic(fmt.Sprintf("sagas: encoding %s: %v", typ, err)) // our own plain structs: cannot fail
	}
	return events.Envelope{EventID: id, Type: typ, Data: b, CausationID: cause}
}
