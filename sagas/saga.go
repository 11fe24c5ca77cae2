package sagas

import (
	"context"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

// Context is the bounded context of saga instance streams and of the events in this package.
const Context = "sagas"

// Saga is a process manager. Its methods must be deterministic functions of their inputs (no
// clock, no I/O besides reading ctx): the runtime may call Handle again for the same trigger
// after a crash or a lost race and relies on getting the same decision.
type Saga interface {
	// Name identifies the saga: a lower-case identifier ([a-z][a-z0-9_]{0,63}) used in stream ids.
	Name() string
	// Contexts lists the bounded contexts whose events the saga wants (the runtime's filter).
	Contexts() []string
	// Correlate returns the instance key for an event, or ok=false to ignore the event.
	Correlate(e *events.Envelope) (key string, ok bool)
	// Handle decides what the instance does about e. state is the instance's current state
	// (nil for an instance that has not started). now is the runtime clock's time.
	//
	// Timer firings arrive here too, as a synthetic envelope of type contracts.TypeSagaTimerFired on the
	// instance stream whose Data is a TimerFired (see TimerOf).
	//
	// An instance starts when Handle first returns a non-empty Decision; an empty Decision for an
	// instance that does not exist appends nothing. Returning an error leaves everything as it
	// was; the runtime retries the trigger with backoff.
	Handle(ctx context.Context, state json.RawMessage, e events.Envelope, now time.Time) (Decision, error)
}

// Compensator is optionally implemented by a Saga: Compensate is called once when one of its
// commands is dead (failed MaxAttempts times), and its decision is appended in the same batch as
// the final SagaCommandFailed. It is not called for instances that are already done.
type Compensator interface {
	Compensate(ctx context.Context, state json.RawMessage, failed FailedCommand, now time.Time) (Decision, error)
}

// FailedCommand is a command that will not be retried any more.
type FailedCommand struct {
	Command  Command
	Attempts int
	Error    string
}

// Decision is what an instance does about one trigger.
type Decision struct {
	// State replaces the instance's state (any JSON value). Nil keeps the current state.
	State json.RawMessage
	// Commands are issued (recorded, then dispatched) in order.
	Commands []CommandRequest
	// Schedule starts timers. Scheduling a name that already has a pending timer replaces it.
	Schedule []TimerRequest
	// Cancel names timers to cancel (every pending timer with that name).
	Cancel []string
	// Done completes the instance: its pending timers are cancelled and later triggers ignored.
	Done bool
}

// IsZero reports whether the decision changes nothing.
func (d Decision) IsZero() bool {
	return d.State == nil && len(d.Commands) == 0 && len(d.Schedule) == 0 && len(d.Cancel) == 0 && !d.Done
}

// CommandRequest is a command a saga wants to send.
type CommandRequest struct {
	Type string
	// Payload is encoded with encoding/json (a json.RawMessage is kept as is).
	Payload any
}

// TimerRequest asks for a durable timer.
type TimerRequest struct {
	Name    string
	DueAt   time.Time
	Payload any // optional; encoded with encoding/json and given back in FiredTimer
}

// FiredTimer is the Data of the synthetic contracts.TypeSagaTimerFired envelope that Handle
// receives: the stored SagaTimerFired plus the payload the timer was scheduled with, so a saga
// need not read its own SagaTimerScheduled back.
type FiredTimer struct {
	contracts.SagaTimerFired
	Payload json.RawMessage `json:"payload,omitempty"`
}

// TimerOf decodes a timer firing; ok is false when e is not one.
func TimerOf(e *events.Envelope) (FiredTimer, bool) {
	if e.Type != contracts.TypeSagaTimerFired || events.StreamContext(e.StreamID) != Context {
		return FiredTimer{}, false
	}
	var t FiredTimer
	if err := json.Unmarshal(e.Data, &t); err != nil {
		return FiredTimer{}, false
	}
	return t, true
}

// Command is what the CommandBus receives.
type Command struct {
	// ID is deterministic and stable across retries and restarts: the idempotency key.
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
	Saga    string          `json:"saga"`
	// Instance is the saga instance's stream id.
	Instance      string `json:"instance"`
	CausationID   string `json:"causation_id,omitempty"`
	CorrelationID string `json:"correlation_id,omitempty"`
}

// CommandBus is the port through which sagas send commands. Delivery is at least once:
// Dispatch may be called again with the same Command.ID (after a crash between the bus accepting
// the command and the runtime recording it), so the receiver must deduplicate on ID.
// A returned error is retried with backoff until the dispatcher's MaxAttempts, unless it has a
// method Permanent() bool that returns true: that command fails for good at once.
type CommandBus interface {
	Dispatch(ctx context.Context, cmd Command) error
}

// CommandBusFunc adapts a function to CommandBus.
type CommandBusFunc func(ctx context.Context, cmd Command) error

// Dispatch implements CommandBus.
func (f CommandBusFunc) Dispatch(ctx context.Context, cmd Command) error { return f(ctx, cmd) }

// Checkpoints stores named consumer positions (the sqlite and postgres event store adapters
// implement it).
type Checkpoints interface {
	LoadCheckpoint(ctx context.Context, name string) (int64, error)
	SaveCheckpoint(ctx context.Context, name string, pos int64) error
}

var nameRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// ValidName reports whether name can name a saga.
func ValidName(name string) bool { return nameRe.MatchString(name) }

var idNamespace = uuid.MustParse("0b7c1d52-8f3e-4a61-9c2d-7e5a4f1b3c90")

func hashID(parts ...string) string {
	return uuid.NewHash(sha1.New(), idNamespace, []byte(strings.Join(parts, "\x00")), 5).String()
}

// StreamID is the stream of the instance of saga with key: sagas-<saga>-<uuidv5(saga, key)>.
func StreamID(saga, key string) string {
	return Context + "-" + saga + "-" + hashID("instance", saga, key)
}

// SagaOfStream returns the saga name of an instance stream id, or ok=false.
func SagaOfStream(streamID string) (string, bool) {
	if !events.ValidStreamID(streamID) || events.StreamContext(streamID) != Context {
		return "", false
	}
	st := events.StreamTypeOf(streamID)
	return st[len(Context)+1:], true
}

// eventID is the id of the i-th event appended for a trigger of an instance.
func eventID(saga, key, triggerID string, i int) string {
	return hashID("event", saga, key, triggerID, fmt.Sprint(i))
}

// CommandID is the id of the i-th command issued for a trigger of an instance.
func CommandID(saga, key, triggerID string, i int) string {
	return hashID("command", saga, key, triggerID, fmt.Sprint(i))
}

func firedEventID(timerID string) string { return hashID("timer-fired", timerID) }

func dispatchedEventID(commandID string) string { return hashID("command-dispatched", commandID) }

func failedEventID(commandID string, attempt int) string {
	return hashID("command-failed", commandID, fmt.Sprint(attempt))
}

// Clock is the time source of the runtime, the dispatcher and the timer service.
type Clock interface {
	Now() time.Time
	// At returns a channel that receives once the clock reaches t (at once if it has).
	At(t time.Time) <-chan time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now implements Clock.
func (SystemClock) Now() time.Time { return time.Now() }

// At implements Clock.
func (SystemClock) At(t time.Time) <-chan time.Time { return time.After(time.Until(t)) }
