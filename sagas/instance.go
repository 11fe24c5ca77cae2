package sagas

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

// Status values of timers (pending, fired, cancelled) and commands (pending, retrying,
// dispatched, dead).
const (
	StatusPending    = "pending"    // a timer that may fire; a command issued, not yet tried
	StatusFired      = "fired"      // a timer that fired
	StatusCancelled  = "cancelled"  // a timer that will never fire
	StatusRetrying   = "retrying"   // a command that failed and will be tried again
	StatusDispatched = "dispatched" // a command the bus accepted
	StatusDead       = "dead"       // a command that failed MaxAttempts times
)

// Instance is the fold of a saga instance stream.
type Instance struct {
	Saga      string          `json:"saga"`
	Key       string          `json:"key"`
	StreamID  string          `json:"stream_id"`
	Version   int64           `json:"version"` // 0: the instance does not exist
	State     json.RawMessage `json:"state,omitempty"`
	Done      bool            `json:"done"`
	StartedAt time.Time       `json:"started_at,omitzero"`
	UpdatedAt time.Time       `json:"updated_at,omitzero"`
	Timers    []Timer         `json:"timers"`
	Commands  []CommandRecord `json:"commands"`
	History   []HistoryEntry  `json:"history"`

	// handled: per source stream, the last handled version (redelivery guard).
	handled map[string]int64
}

// Timer is a durable timer of an instance.
type Timer struct {
	ID      string          `json:"id"`
	Name    string          `json:"name"`
	DueAt   time.Time       `json:"due_at"`
	Payload json.RawMessage `json:"payload,omitempty"`
	Status  string          `json:"status"`
	FiredAt time.Time       `json:"fired_at,omitzero"`
}

// CommandRecord is a command an instance issued and what became of it.
type CommandRecord struct {
	Command       Command   `json:"command"`
	Status        string    `json:"status"`
	Attempts      int       `json:"attempts"`
	LastError     string    `json:"last_error,omitempty"`
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	IssuedAt      time.Time `json:"issued_at"`
}

// HistoryEntry is one event of the instance stream.
type HistoryEntry struct {
	Version    int64           `json:"version"`
	Position   int64           `json:"global_position"`
	EventID    string          `json:"event_id"`
	Type       string          `json:"type"`
	RecordedAt time.Time       `json:"recorded_at"`
	Data       json.RawMessage `json:"data"`
}

// InstanceSummary is one line of List.
type InstanceSummary struct {
	Saga            string    `json:"saga"`
	Key             string    `json:"key"`
	StreamID        string    `json:"stream_id"`
	Version         int64     `json:"version"`
	Done            bool      `json:"done"`
	PendingTimers   int       `json:"pending_timers"`
	PendingCommands int       `json:"pending_commands"`
	DeadCommands    int       `json:"dead_commands"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// Exists reports whether the instance has any event.
func (in *Instance) Exists() bool { return in.Version > 0 }

// Timer returns the timer with id, or nil.
func (in *Instance) Timer(id string) *Timer {
	for i := range in.Timers {
		if in.Timers[i].ID == id {
			return &in.Timers[i]
		}
	}
	return nil
}

// CommandByID returns the command record with id, or nil.
func (in *Instance) CommandByID(id string) *CommandRecord {
	for i := range in.Commands {
		if in.Commands[i].Command.ID == id {
			return &in.Commands[i]
		}
	}
	return nil
}

// PendingTimers returns the timers that may still fire.
func (in *Instance) PendingTimers() []Timer {
	var out []Timer
	for _, t := range in.Timers {
		if t.Status == StatusPending {
			out = append(out, t)
		}
	}
	return out
}

// Handled reports whether a trigger from another stream was already handled.
func (in *Instance) Handled(e *events.Envelope) bool {
	return e.Version > 0 && e.Version <= in.handled[e.StreamID]
}

// Summary condenses the instance.
func (in *Instance) Summary() InstanceSummary {
	s := InstanceSummary{Saga: in.Saga, Key: in.Key, StreamID: in.StreamID, Version: in.Version, Done: in.Done, UpdatedAt: in.UpdatedAt}
	s.PendingTimers = len(in.PendingTimers())
	for _, c := range in.Commands {
		switch c.Status {
		case StatusPending, StatusRetrying:
			s.PendingCommands++
		case StatusDead:
			s.DeadCommands++
		}
	}
	return s
}

// Apply folds one event of the instance stream.
func (in *Instance) Apply(e *events.Envelope) error {
	if in.handled == nil {
		in.handled = map[string]int64{}
	}
	in.Version = e.Version
	if in.StreamID == "" {
		in.StreamID = e.StreamID
	}
	if in.StartedAt.IsZero() {
		in.StartedAt = e.RecordedAt
	}
	in.UpdatedAt = e.RecordedAt
	in.History = append(in.History, HistoryEntry{Version: e.Version, Position: e.GlobalPosition, EventID: e.EventID,
		Type: e.Type, RecordedAt: e.RecordedAt, Data: e.Data})
	if err := in.apply(e); err != nil {
		return fmt.Errorf("sagas: %s v%d of %s: %w", e.Type, e.Version, e.StreamID, err)
	}
	return nil
}

// apply folds what the event of type e.Type says into the instance's sagas, commands and timers.
func (in *Instance) apply(e *events.Envelope) error {
	switch e.Type {
	case contracts.TypeSagaEventHandled:
		return events.OnPayload(e.Data, func(d contracts.SagaEventHandled) {
			in.Saga, in.Key = d.Saga, d.Key
			if d.State != nil {
				in.State = d.State
			}
			if d.TriggerStreamID != in.StreamID && int64(d.TriggerVersion) > in.handled[d.TriggerStreamID] {
				in.handled[d.TriggerStreamID] = int64(d.TriggerVersion)
			}
		})
	case contracts.TypeSagaCommandIssued:
		return events.OnPayload(e.Data, func(d contracts.SagaCommandIssued) {
			in.Commands = append(in.Commands, CommandRecord{
				Command: Command{ID: d.CommandID, Type: d.CommandType, Payload: d.Payload, Saga: d.Saga, Instance: in.StreamID,
					CausationID: d.CausationID, CorrelationID: d.CorrelationID},
				Status: StatusPending, IssuedAt: e.RecordedAt,
			})
		})
	case contracts.TypeSagaCommandDispatched:
		return events.OnPayload(e.Data, func(d contracts.SagaCommandDispatched) {
			if c := in.CommandByID(d.CommandID); c != nil {
				c.Status, c.Attempts, c.NextAttemptAt = StatusDispatched, d.Attempt, time.Time{}
			}
		})
	case contracts.TypeSagaCommandFailed:
		return events.OnPayload(e.Data, func(d contracts.SagaCommandFailed) {
			if c := in.CommandByID(d.CommandID); c != nil {
				c.Attempts, c.LastError, c.NextAttemptAt = d.Attempt, d.Error, time.Time{}
				c.Status = StatusRetrying
				if d.Final {
					c.Status = StatusDead
				} else if !d.NextAttemptAt.IsZero() {
					c.NextAttemptAt = d.NextAttemptAt
				}
			}
		})
	case contracts.TypeSagaTimerScheduled:
		return events.OnPayload(e.Data, func(d contracts.SagaTimerScheduled) {
			in.Timers = append(in.Timers, Timer{ID: d.TimerID, Name: d.Name, DueAt: d.DueAt, Payload: d.Payload, Status: StatusPending})
		})
	case contracts.TypeSagaTimerCancelled:
		return events.OnPayload(e.Data, func(d contracts.SagaTimerCancelled) {
			if t := in.Timer(d.TimerID); t != nil && t.Status == StatusPending {
				t.Status = StatusCancelled
			}
		})
	case contracts.TypeSagaTimerFired:
		return events.OnPayload(e.Data, func(d contracts.SagaTimerFired) {
			if t := in.Timer(d.TimerID); t != nil {
				t.Status, t.FiredAt = StatusFired, d.FiredAt
			}
		})
	case contracts.TypeSagaCompleted:
		return events.OnPayload(e.Data, func(d contracts.SagaCompleted) { in.Saga, in.Key, in.Done = d.Saga, d.Key, true })
	}
	return nil
}

// Reader is the part of the event store that inspection needs.
type Reader interface {
	ReadStream(ctx context.Context, streamID string, opts events.ReadStreamOptions) ([]events.Envelope, error)
	ReadAll(ctx context.Context, after int64, limit int) ([]events.Envelope, error)
}

// LoadStream folds an instance stream (an instance with Version 0 when it does not exist).
func LoadStream(ctx context.Context, store Reader, streamID string) (*Instance, error) {
	in := &Instance{StreamID: streamID, handled: map[string]int64{}}
	if name, ok := SagaOfStream(streamID); ok {
		in.Saga = name
	}
	from := int64(1)
	for {
		evs, err := store.ReadStream(ctx, streamID, events.ReadStreamOptions{From: from})
		if errors.Is(err, events.ErrStreamNotFound) {
			return in, nil
		}
		if err != nil {
			return nil, fmt.Errorf("sagas: reading %s: %w", streamID, err)
		}
		for i := range evs {
			if err := in.Apply(&evs[i]); err != nil {
				return nil, err
			}
		}
		if len(evs) < events.MaxReadLimit {
			return in, nil
		}
		from = in.Version + 1
	}
}

// ErrInstanceNotFound is returned by Show for an instance that has no events.
var ErrInstanceNotFound = errors.New("saga instance not found")

// Show folds one instance, named by its stream id, or by a saga name and a correlation key.
func Show(ctx context.Context, store Reader, saga, keyOrStreamID string) (*Instance, error) {
	streamID := keyOrStreamID
	if _, ok := SagaOfStream(keyOrStreamID); !ok {
		if !ValidName(saga) {
			return nil, fmt.Errorf("sagas: %q is neither an instance stream id nor a key of a named saga", keyOrStreamID)
		}
		streamID = StreamID(saga, keyOrStreamID)
	}
	in, err := LoadStream(ctx, store, streamID)
	if err != nil {
		return nil, err
	}
	if !in.Exists() {
		return nil, fmt.Errorf("%w: %s", ErrInstanceNotFound, streamID)
	}
	return in, nil
}

// List summarises every saga instance (of saga only, when it is not empty), most recently
// updated first. It scans the store's log for the sagas context: fine for the CLI and small
// installations; a read model should replace it when instances number in the millions.
func List(ctx context.Context, store Reader, saga string) ([]InstanceSummary, error) {
	insts := map[string]*Instance{}
	after := int64(0)
	for {
		evs, err := store.ReadAll(ctx, after, events.MaxReadLimit)
		if err != nil {
			return nil, fmt.Errorf("sagas: list: %w", err)
		}
		for i := range evs {
			e := &evs[i]
			after = e.GlobalPosition
			name, ok := SagaOfStream(e.StreamID)
			if !ok || (saga != "" && name != saga) {
				continue
			}
			in := insts[e.StreamID]
			if in == nil {
				in = &Instance{StreamID: e.StreamID, Saga: name}
				insts[e.StreamID] = in
			}
			if err := in.Apply(e); err != nil {
				return nil, err
			}
		}
		if len(evs) < events.MaxReadLimit {
			break
		}
	}
	out := make([]InstanceSummary, 0, len(insts))
	for _, in := range insts {
		out = append(out, in.Summary())
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].UpdatedAt.Equal(out[j].UpdatedAt) {
			return out[i].UpdatedAt.After(out[j].UpdatedAt)
		}
		return out[i].StreamID < out[j].StreamID
	})
	return out, nil
}
