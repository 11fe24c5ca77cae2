package sagas

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

// TimerService fires the durable timers of the runtime's sagas. See the package documentation.
// Its methods are safe for concurrent use.
type TimerService struct {
	rt *Runtime
	s  *scheduler
}

// NewTimerService returns a timer service for rt's sagas, on rt's store and clock. A timer that
// fails to fire (the saga's Handle errs, the store is down) is retried after retry (0: 1s).
func NewTimerService(rt *Runtime, retry time.Duration) *TimerService {
	if retry <= 0 {
		retry = time.Second
	}
	t := &TimerService{rt: rt}
	t.s = newScheduler(rt, "timers", retry, indexTimer)
	return t
}

// indexTimer keeps q's pending timers up to date with one event; an event whose payload does not
// decode changes nothing (the instance's own fold reports it).
func indexTimer(q *dueQueue, e *events.Envelope) {
	switch e.Type {
	case contracts.TypeSagaTimerScheduled:
		_ = events.OnPayload(e.Data, func(d contracts.SagaTimerScheduled) { q.upsert(d.TimerID, e.StreamID, d.DueAt) })
	case contracts.TypeSagaTimerFired, contracts.TypeSagaTimerCancelled:
		_ = events.OnPayload(e.Data, func(d timerRef) { q.remove(d.TimerID) })
	}
}

// timerRef is the part of SagaTimerFired and SagaTimerCancelled that ends a pending timer.
type timerRef struct {
	TimerID string `json:"timer_id"`
}

// Sync brings the in-memory index of pending timers up to the store's head (the first call
// restores it from its snapshot, Config.Snapshots, or rebuilds it from the whole log).
func (t *TimerService) Sync(ctx context.Context) error { return t.s.sync(ctx) }

// Pending is the number of timers in the index.
func (t *TimerService) Pending() int { return t.s.pending() }

// Next is the due time of the earliest indexed timer.
func (t *TimerService) Next() (time.Time, bool) { return t.s.next() }

// FireDue fires every indexed timer that is due by the clock and returns how many fired here
// (a timer already fired or cancelled, as the store tells, is dropped and not counted).
func (t *TimerService) FireDue(ctx context.Context) (int, error) { return t.s.runDue(ctx, t.fire) }

// Run follows the store and fires timers when they are due, until ctx ends.
func (t *TimerService) Run(ctx context.Context) error {
	return t.s.run(ctx, t.FireDue)
}

func (t *TimerService) fire(ctx context.Context, it dueItem) (bool, error) {
	name, _ := SagaOfStream(it.stream)
	s := t.rt.Saga(name)
	if s == nil {
		t.s.log.Warn("sagas: timer of an unregistered saga left pending", "saga", name, "stream", it.stream, "timer", it.id)
		return false, nil
	}
	fired, err := t.rt.execute(ctx, s, "", it.stream, func(in *Instance) (*trigger, error) {
		tm := in.Timer(it.id)
		now := t.rt.clock.Now().UTC()
		if tm == nil || tm.Status != StatusPending || in.Done || tm.DueAt.After(now) {
			return nil, nil
		}
		firedID := firedEventID(tm.ID)
		data, err := json.Marshal(contracts.SagaTimerFired{TimerID: tm.ID, Name: tm.Name, DueAt: tm.DueAt, FiredAt: now})
		if err != nil {
			return nil, err
		}
		seen, err := json.Marshal(FiredTimer{SagaTimerFired: contracts.SagaTimerFired{TimerID: tm.ID, Name: tm.Name, DueAt: tm.DueAt, FiredAt: now}, Payload: tm.Payload})
		if err != nil {
			return nil, err
		}
		lead := events.Envelope{EventID: firedID, Type: contracts.TypeSagaTimerFired, Data: data, CausationID: tm.ID}
		env := events.Envelope{EventID: firedID, StreamID: in.StreamID, StreamType: events.StreamTypeOf(in.StreamID),
			Version: in.Version + 1, Type: contracts.TypeSagaTimerFired, SchemaVersion: 1, OccurredAt: now, RecordedAt: now, Data: seen}
		return &trigger{lead: []events.Envelope{lead}, env: env, firedTimer: tm.ID,
			decide: func(ctx context.Context, state json.RawMessage, now time.Time) (Decision, error) {
				return s.Handle(ctx, state, env, now)
			}}, nil
	})
	if err != nil {
		return false, fmt.Errorf("sagas: firing timer %s of %s: %w", it.id, it.stream, err)
	}
	return fired, nil
}
