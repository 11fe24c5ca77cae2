// Package sagas is the saga (process manager) runtime: events in, commands out, durable timers.
//
// # Model
//
// A Saga reacts to events of the bounded contexts it names. Correlate maps an event to an
// instance key (a finding id, a scan id…); each instance is an event-sourced stream
// "sagas-<saga>-<uuidv5 of saga and key>" in the "sagas" context, so the runtime needs nothing
// but the event store. Handle gets the instance's state and the event and returns a Decision:
// the new state, commands to issue, timers to schedule or cancel, and whether the instance is done.
//
// Handling one trigger appends ONE batch to the instance stream, at the instance's expected
// version: SagaEventHandled (trigger ids and the new state), SagaCommandIssued per command,
// SagaTimerCancelled / SagaTimerScheduled, and SagaCompleted. Every event id and command id of
// the batch is a uuidv5 of (saga, key, trigger event id, index), so:
//
//   - a redelivered trigger is recognised from the instance (the last handled version of each
//     source stream is part of its fold) and skipped; if two workers race on the same trigger,
//     the loser either re-appends the same ids (a no-op in the store, Duplicate=true) or hits a
//     version conflict, reloads and sees the trigger handled. Either way a command is issued once.
//   - checkpoints are an optimisation only: the runtime saves its position after each batch.
//
// # Commands: outbox, at least once, idempotency key
//
// A command is not sent by Handle: it is recorded (SagaCommandIssued) and a Dispatcher sends it
// through the CommandBus port after the batch is stored, recording SagaCommandDispatched, or
// SagaCommandFailed with the next attempt time (capped exponential backoff) and, after
// MaxAttempts, a final failure: the command is dead and, when the saga implements Compensator,
// its compensation decision is appended in the same batch. A process may crash after the bus
// accepted a command and before SagaCommandDispatched is stored, so the contract is AT LEAST
// ONCE: the bus receives Command.ID, which is stable across retries and restarts, and receivers
// must deduplicate on it (command handlers use it as their idempotency key).
//
// # Durable timers
//
// A timer is a SagaTimerScheduled event (its id is the timer id). A TimerService keeps a min-heap
// of pending timers (scheduled minus fired or cancelled), restored when it starts from its
// snapshot (Config.Snapshots) and the events after it, or rebuilt from the whole log without a
// usable one, and kept current by following the store through the eventlog consumer port; the
// Dispatcher keeps its queue of commands to send the same way. A due timer fires by appending, to the instance
// stream at its expected version, SagaTimerFired (event id uuidv5 of the timer id) followed by
// the saga's reaction in the same batch: Handle is called with a synthetic envelope of type
// contracts.TypeSagaTimerFired whose data is a TimerFired. Since the fired event's id is deterministic and the
// instance is reloaded before firing, a timer fires exactly once across restarts and replicas;
// cancelled timers, and timers of completed instances, never fire. Time comes from a Clock, so
// tests drive timers with ManualClock.
//
// # Inspection
//
// LoadStream and Show fold an instance stream into an Instance (state, timers, commands, history);
// List scans the sagas context for instance summaries (for `soc sagas list|show`).
package sagas
