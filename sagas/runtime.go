package sagas

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventlog"
	"github.com/socplatform/soc/events/eventtrace"
	"github.com/socplatform/soc/events/snapshot"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
)

// Config configures a Runtime.
type Config struct {
	// Store holds the saga instance streams and, for the embedded consumer, is the log.
	// Wrap it with events.Guard so that the saga events are validated.
	Store events.EventStore
	Sagas []Saga
	// Consumer delivers the log. Nil: the embedded eventlog.StoreConsumer on Store, starting
	// after the checkpoint, filtered to the sagas' contexts. Non-nil (Kafka): only per-stream order
	// is assumed, which is all the redelivery guard needs; no checkpoint is saved here.
	Consumer eventlog.Consumer
	// Checkpoints stores the embedded consumer's position. Required when Consumer is nil.
	Checkpoints Checkpoints
	// Name names the checkpoint ("sagas" by default): one per set of sagas run together.
	Name  string
	Clock Clock
	Log   *slog.Logger
	// MinBackoff and MaxBackoff bound the wait before a failed batch is delivered again
	// (defaults 100ms and 30s, doubling).
	MinBackoff, MaxBackoff time.Duration
	// BatchSize bounds one batch of the embedded consumer (default 500).
	BatchSize int
	// Parallelism is how many instances of a batch are handled at once (default 8; 1: one after
	// the other). An instance's own events are always handled in order.
	Parallelism int
	// Snapshots is where the Dispatcher and the TimerService of this runtime snapshot their queues
	// of pending commands and timers, so that a restart reads only the events after the snapshot
	// instead of the whole log (zero: no snapshots). The runtime itself resumes from Checkpoints.
	Snapshots snapshot.Dir
	// SnapshotPolicy says how often they write a snapshot while following; they also write one
	// when they stop.
	SnapshotPolicy snapshot.Policy
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("sagas: an event store is required"))
	}
	if len(c.Sagas) == 0 {
		errs = append(errs, errors.New("sagas: at least one saga is required"))
	}
	seen := map[string]bool{}
	for i, s := range c.Sagas {
		switch {
		case s == nil:
			errs = append(errs, fmt.Errorf("sagas: saga %d is nil", i))
		case !ValidName(s.Name()):
			errs = append(errs, fmt.Errorf("sagas: saga name %q: want [a-z][a-z0-9_]{0,63}", s.Name()))
		case seen[s.Name()]:
			errs = append(errs, fmt.Errorf("sagas: saga %q registered twice", s.Name()))
		default:
			seen[s.Name()] = true
		}
	}
	if c.Consumer == nil && c.Checkpoints == nil {
		errs = append(errs, errors.New("sagas: the embedded consumer needs Checkpoints"))
	}
	if c.Name != "" && !ValidName(c.Name) {
		errs = append(errs, fmt.Errorf("sagas: runtime name %q: want [a-z][a-z0-9_]{0,63}", c.Name))
	}
	if c.MinBackoff < 0 || c.MaxBackoff < 0 || (c.MaxBackoff > 0 && c.MinBackoff > c.MaxBackoff) {
		errs = append(errs, errors.New("sagas: backoffs must be non-negative and min <= max"))
	}
	if c.Parallelism < 0 || c.Parallelism > 256 {
		errs = append(errs, fmt.Errorf("sagas: parallelism %d: want 0 (default) to 256", c.Parallelism))
	}
	if c.BatchSize < 0 || c.BatchSize > events.MaxReadLimit {
		errs = append(errs, fmt.Errorf("sagas: batch size %d: want 0 (default) to %d", c.BatchSize, events.MaxReadLimit))
	}
	return errors.Join(errs...)
}

// Runtime feeds events to sagas and appends their decisions. Dispatcher and TimerService use it
// for the sagas' reactions to command failures and timers.
type Runtime struct {
	cfg      Config
	store    events.EventStore
	clock    Clock
	log      *slog.Logger
	sagas    map[string]Saga
	order    []Saga
	contexts []string
}

// New validates cfg and returns a runtime.
func New(cfg Config) (*Runtime, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Name == "" {
		cfg.Name = "sagas"
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = 100 * time.Millisecond
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 500
	}
	if cfg.Parallelism == 0 {
		cfg.Parallelism = 8
	}
	r := &Runtime{cfg: cfg, store: cfg.Store, clock: cfg.Clock, log: cfg.Log.With("component", "sagas"), sagas: map[string]Saga{}}
	for _, s := range cfg.Sagas {
		r.sagas[s.Name()] = s
		r.order = append(r.order, s)
		for _, c := range s.Contexts() {
			if !slices.Contains(r.contexts, c) {
				r.contexts = append(r.contexts, c)
			}
		}
	}
	return r, nil
}

// Saga returns the registered saga named name, or nil.
func (r *Runtime) Saga(name string) Saga { return r.sagas[name] }

// Store returns the event store.
func (r *Runtime) Store() events.EventStore { return r.store }

// Clock returns the runtime's clock.
func (r *Runtime) Clock() Clock { return r.clock }

// CheckpointName is the name under which the embedded consumer's position is saved.
func (r *Runtime) CheckpointName() string { return "saga:" + r.cfg.Name }

// Filter is what the runtime consumes: the union of the sagas' contexts.
func (r *Runtime) Filter() eventlog.Filter {
	return eventlog.Filter{Contexts: slices.Clone(r.contexts)}
}

// Run consumes the log until ctx ends (returning nil). A failing batch (a saga error, the store
// unavailable) is delivered again after a capped exponential backoff.
func (r *Runtime) Run(ctx context.Context) error {
	consumer := r.cfg.Consumer
	if consumer == nil {
		consumer = &eventlog.StoreConsumer{Store: r.store, BatchSize: r.cfg.BatchSize, Filter: r.Filter(),
			StartFrom: func(ctx context.Context) (int64, error) {
				return r.cfg.Checkpoints.LoadCheckpoint(ctx, r.CheckpointName())
			}}
	}
	backoff := r.cfg.MinBackoff
	for {
		err := consumer.Run(ctx, r.handleAndCheckpoint)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			return nil
		}
		r.log.Warn("saga batch failed; retrying", "error", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-r.clock.At(r.clock.Now().Add(backoff)):
		}
		backoff = min(backoff*2, r.cfg.MaxBackoff)
	}
}

func (r *Runtime) handleAndCheckpoint(ctx context.Context, batch []events.Envelope) error {
	if err := r.HandleBatch(ctx, batch); err != nil {
		return err
	}
	if r.cfg.Consumer == nil && len(batch) > 0 {
		return r.cfg.Checkpoints.SaveCheckpoint(ctx, r.CheckpointName(), batch[len(batch)-1].GlobalPosition)
	}
	return nil
}

// Drain handles everything after the checkpoint up to the store's head, saves the checkpoint and
// returns how many events it read. It needs Checkpoints; tests and one-shot tools use it.
func (r *Runtime) Drain(ctx context.Context) (int, error) {
	if r.cfg.Checkpoints == nil {
		return 0, errors.New("sagas: Drain needs Checkpoints")
	}
	after, err := r.cfg.Checkpoints.LoadCheckpoint(ctx, r.CheckpointName())
	if err != nil {
		return 0, err
	}
	n := 0
	filter := r.Filter()
	for {
		batch, err := r.store.ReadAll(ctx, after, r.cfg.BatchSize)
		if err != nil {
			return n, err
		}
		if len(batch) == 0 {
			return n, nil
		}
		n += len(batch)
		last := batch[len(batch)-1].GlobalPosition
		if err := r.HandleBatch(ctx, filter.Apply(batch)); err != nil {
			return n, err
		}
		if err := r.cfg.Checkpoints.SaveCheckpoint(ctx, r.CheckpointName(), last); err != nil {
			return n, err
		}
		after = last
	}
}

// HandleBatch is the eventlog.Handler of the runtime: every saga whose contexts include an
// event's context correlates it and, for a key, handles it on that instance. Events already
// handled by an instance (a redelivery) are skipped. It saves no checkpoint.
//
// Instances are independent, so the batch is split into lanes by instance stream (Parallelism of
// them): each lane handles its events in log order, the lanes run concurrently, and their appends
// share the store's group commits. An instance's events always fall in the same lane, so it sees
// them in order. On an error the whole batch is delivered again; what was handled is skipped.
func (r *Runtime) HandleBatch(ctx context.Context, batch []events.Envelope) error {
	type job struct {
		s   Saga
		key string
		e   *events.Envelope
	}
	lanes := make([][]job, r.cfg.Parallelism)
	for i := range batch {
		e := &batch[i]
		if _, own := SagaOfStream(e.StreamID); own {
			continue // never react to saga bookkeeping of an instance stream (including one's own)
		}
		for _, s := range r.order {
			if !slices.Contains(s.Contexts(), e.Context()) {
				continue
			}
			key, ok := s.Correlate(e)
			if !ok {
				continue
			}
			if key == "" || len(key) > 1024 {
				return fmt.Errorf("sagas: %s: correlation key of event %s must be 1 to 1024 bytes", s.Name(), e.EventID)
			}
			h := fnv.New32a()
			_, _ = h.Write([]byte(StreamID(s.Name(), key)))
			l := int(h.Sum32() % uint32(len(lanes)))
			lanes[l] = append(lanes[l], job{s, key, e})
		}
	}
	run := func(jobs []job) error {
		for _, j := range jobs {
			if err := r.handleOn(ctx, j.s, j.key, *j.e); err != nil {
				return err
			}
		}
		return nil
	}
	busy := 0
	for _, l := range lanes {
		if len(l) > 0 {
			busy++
		}
	}
	if busy <= 1 {
		for _, l := range lanes {
			if err := run(l); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, len(lanes))
	var wg sync.WaitGroup
	for i, l := range lanes {
		if len(l) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = run(l)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// HandleEvent handles one event (a batch of one).
func (r *Runtime) HandleEvent(ctx context.Context, e events.Envelope) error {
	return r.HandleBatch(ctx, []events.Envelope{e})
}

// handleOn handles e on the instance of s with key.
func (r *Runtime) handleOn(ctx context.Context, s Saga, key string, e events.Envelope) (err error) {
	ctx, span := startHandleSpan(ctx, s.Name(), key, &e)
	defer func() { eventtrace.End(span, err) }()
	streamID := StreamID(s.Name(), key)
	_, err = r.execute(ctx, s, key, streamID, func(in *Instance) (*trigger, error) {
		if in.Done || in.Handled(&e) {
			return nil, nil
		}
		return &trigger{env: e, decide: func(ctx context.Context, state json.RawMessage, now time.Time) (Decision, error) {
			return s.Handle(ctx, state, e, now)
		}}, nil
	})
	if err != nil {
		return fmt.Errorf("sagas: %s handling %s %s: %w", s.Name(), e.Type, e.EventID, err)
	}
	return nil
}

// startHandleSpan starts the `saga <name> handle` span of e on the instance keyed key, in e's
// trace (the Kafka record's traceparent when delivered with one, else the envelope's).
func startHandleSpan(ctx context.Context, saga, key string, e *events.Envelope) (context.Context, trace.Span) {
	if !eventtrace.Enabled() {
		return ctx, trace.SpanFromContext(context.Background()) // the no-op span
	}
	return eventtrace.StartHandling(ctx, otel.Tracer("github.com/socplatform/soc/sagas"), "saga "+saga+" handle", e,
		attribute.String("soc.saga", saga), attribute.String("soc.saga.key", key))
}

// trigger is one thing an instance reacts to.
type trigger struct {
	// lead are events recorded before the reaction in the same batch (their ids set).
	lead []events.Envelope
	// env is the trigger as the saga sees it; its EventID seeds the ids of the reaction.
	env events.Envelope
	// decide computes the reaction; nil: none (only lead is appended).
	decide func(ctx context.Context, state json.RawMessage, now time.Time) (Decision, error)
	// firedTimer is the timer that fired (it must not be cancelled by the same batch).
	firedTimer string
}

const maxConflictRetries = 16

// execute loads the instance, asks plan what to do (nil: nothing), builds the batch and appends
// it at the instance's version, reloading and re-planning on a version conflict.
func (r *Runtime) execute(ctx context.Context, s Saga, key, streamID string, plan func(*Instance) (*trigger, error)) (bool, error) {
	for attempt := 0; ; attempt++ {
		in, err := LoadStream(ctx, r.store, streamID)
		if err != nil {
			return false, err
		}
		if in.Key != "" {
			key = in.Key
		}
		tr, err := plan(in)
		if err != nil || tr == nil {
			return false, err
		}
		batch, err := r.build(ctx, s, key, in, tr)
		if err != nil || len(batch) == 0 {
			return false, err
		}
		res, err := r.store.Append(ctx, streamID, events.Exact(in.Version), batch)
		var conflict *events.VersionConflictError
		if errors.As(err, &conflict) && attempt < maxConflictRetries {
			continue
		}
		if err != nil {
			return false, err
		}
		return !res.Duplicate, nil
	}
}

func (r *Runtime) build(ctx context.Context, s Saga, key string, in *Instance, tr *trigger) ([]events.Envelope, error) {
	now := r.clock.Now().UTC()
	var d Decision
	react := tr.decide != nil && !in.Done
	if react {
		var err error
		if d, err = tr.decide(ctx, in.State, now); err != nil {
			return nil, err
		}
		if !in.Exists() && len(tr.lead) == 0 && d.IsZero() {
			return nil, nil // not started, nothing to start
		}
		if d.Done && len(d.Schedule) > 0 {
			return nil, errors.New("a decision cannot both complete the instance and schedule timers")
		}
	}
	name := s.Name()
	trigID := tr.env.EventID
	corr := tr.env.CorrelationID
	if corr == "" {
		corr = trigID
	}
	batch := slices.Clone(tr.lead)
	add := func(typ string, data any) error {
		b, err := json.Marshal(data)
		if err != nil {
			return fmt.Errorf("encoding %s: %w", typ, err)
		}
		batch = append(batch, events.Envelope{EventID: eventID(name, key, trigID, len(batch)), Type: typ, Data: b})
		return nil
	}
	if react {
		trigVersion := tr.env.Version
		if tr.env.StreamID == in.StreamID {
			trigVersion = in.Version + int64(len(tr.lead)) // the lead event is the trigger
		}
		h := contracts.SagaEventHandled{Saga: name, Key: key, TriggerEventID: trigID, TriggerStreamID: tr.env.StreamID,
			TriggerVersion: int(trigVersion), TriggerPosition: int(tr.env.GlobalPosition), TriggerType: tr.env.Type, State: d.State}
		if err := add(contracts.TypeSagaEventHandled, h); err != nil {
			return nil, err
		}
		for i, c := range d.Commands {
			if c.Type == "" {
				return nil, fmt.Errorf("command %d has no type", i)
			}
			p, err := json.Marshal(c.Payload)
			if err != nil {
				return nil, fmt.Errorf("encoding command %d (%s): %w", i, c.Type, err)
			}
			if err := add(contracts.TypeSagaCommandIssued, contracts.SagaCommandIssued{Saga: name, CommandID: CommandID(name, key, trigID, i), CommandType: c.Type,
				Payload: p, CausationID: trigID, CorrelationID: corr}); err != nil {
				return nil, err
			}
		}
		cancelNames := map[string]string{}
		for _, n := range d.Cancel {
			cancelNames[n] = "cancelled by the saga"
		}
		for _, t := range d.Schedule {
			if _, ok := cancelNames[t.Name]; !ok {
				cancelNames[t.Name] = "rescheduled"
			}
		}
		for _, t := range in.Timers {
			if t.Status != StatusPending || t.ID == tr.firedTimer {
				continue
			}
			reason, ok := cancelNames[t.Name]
			if d.Done && !ok {
				reason, ok = "saga completed", true
			}
			if ok {
				if err := add(contracts.TypeSagaTimerCancelled, contracts.SagaTimerCancelled{TimerID: t.ID, Reason: reason}); err != nil {
					return nil, err
				}
			}
		}
		for i, t := range d.Schedule {
			if t.Name == "" || len(t.Name) > 128 || t.DueAt.IsZero() {
				return nil, fmt.Errorf("timer %d: a name (1 to 128 bytes) and a due time are required", i)
			}
			var p json.RawMessage
			if t.Payload != nil {
				var err error
				if p, err = json.Marshal(t.Payload); err != nil {
					return nil, fmt.Errorf("encoding timer %d payload: %w", i, err)
				}
			}
			id := eventID(name, key, trigID, len(batch))
			if err := add(contracts.TypeSagaTimerScheduled, contracts.SagaTimerScheduled{TimerID: id, Name: t.Name, DueAt: t.DueAt.UTC().Truncate(time.Microsecond), Payload: p}); err != nil {
				return nil, err
			}
		}
		if d.Done {
			if err := add(contracts.TypeSagaCompleted, contracts.SagaCompleted{Saga: name, Key: key}); err != nil {
				return nil, err
			}
		}
	}
	for i := range batch {
		e := &batch[i]
		e.OccurredAt = now
		if e.CausationID == "" {
			e.CausationID = trigID
		}
		if e.CorrelationID == "" {
			e.CorrelationID = corr
		}
		e.Actor = access.System(name).Actor() // "system:<saga>", the actor of its commands' events too
		e.Tenant = tr.env.Tenant
		// The reaction continues the trace under the saga's span (tracing on), else the trigger's.
		e.TraceParent = eventtrace.Current(ctx, tr.env.TraceParent)
	}
	return batch, nil
}
