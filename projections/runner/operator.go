package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/schemas/contracts"
)

var (
	// ErrNotInitialized: the projection has no live generation (or the generation's state row is
	// gone). Init creates it.
	ErrNotInitialized = errors.New("projection not initialized")
	// ErrNotParked: Retry or Skip on a projection that is not parked.
	ErrNotParked = errors.New("projection is not parked")
	// ErrAlreadyRunning: Run called while it runs.
	ErrAlreadyRunning = errors.New("runner already running")
)

// WrongEventError: Skip named an event other than the one the projection is parked on. Nothing
// was skipped: an operator may only skip what they have looked at.
type WrongEventError struct {
	Projection string
	Parked     string // the parked event's id
	Given      string
}

func (e *WrongEventError) Error() string {
	return fmt.Sprintf("projection %s is parked on event %s, not %s", e.Projection, e.Parked, e.Given)
}

// ParkedState describes the event a projection is parked on (the operator's view, with the
// stream version and since when; the ProjectionParked alert is contracts.ProjectionParked).
type ParkedState struct {
	EventID  string    `json:"event_id"`
	Position int64     `json:"position"`
	StreamID string    `json:"stream_id"`
	Version  int64     `json:"version"`
	Type     string    `json:"type"`
	Error    string    `json:"error"`
	Since    time.Time `json:"since"`
}

// Status is how far a projection is and whether it is healthy.
type Status struct {
	Name       string `json:"name"`
	Generation int64  `json:"generation"`
	// Position is the highest global position applied (or passed over as not the projection's).
	// With a Kafka consumer, which delivers only per-stream order, it is the highest applied so
	// far and the lag figures are approximate.
	Position int64 `json:"position"`
	Head     int64 `json:"head"`
	// LagEvents is Head − Position, never negative.
	LagEvents int64 `json:"lag_events"`
	// LagSeconds is 0 when caught up; otherwise how long the first unapplied event (the one just
	// after Position, in $all) has been waiting: now − its recorded time. That is the age of the
	// oldest work still to do, which is what an alert on staleness wants.
	LagSeconds    float64 `json:"lag_seconds"`
	EventsApplied int64   `json:"events_applied"`
	// LastRecordedAt is the recorded time of the last applied event (zero when none).
	LastRecordedAt time.Time    `json:"last_recorded_at,omitzero"`
	Parked         *ParkedState `json:"parked,omitempty"`
	// LastError is the last transient failure, cleared by the next successful batch. Only a
	// Runner knows it; ReadStatus leaves it empty.
	LastError string `json:"last_error,omitempty"`
	// Running reports whether this Runner's Run is active (always false from ReadStatus).
	Running bool `json:"running"`
}

// ReadStatus reads a projection's status from the database, from any process. store is used for
// the head and the lag; with a nil store Head and the lag figures are zero.
func ReadStatus(ctx context.Context, db *projections.DB, store events.EventStore, name string) (Status, error) {
	return readStatus(ctx, db, store, name, time.Now())
}

func readStatus(ctx context.Context, db *projections.DB, store events.EventStore, name string, now time.Time) (Status, error) {
	st, err := readLive(ctx, db, name)
	if err != nil {
		return Status{Name: name}, err
	}
	s := Status{Name: name, Generation: st.Generation, Position: st.Position, EventsApplied: st.EventsApplied, Parked: st.Parked.public()}
	if st.LastRecorded > 0 {
		s.LastRecordedAt = time.UnixMicro(st.LastRecorded).UTC()
	}
	if store == nil {
		return s, nil
	}
	if s.Head, err = store.HeadPosition(ctx); err != nil {
		return s, fmt.Errorf("reading head position: %w", err)
	}
	s.LagEvents = max(0, s.Head-s.Position)
	if s.LagEvents > 0 {
		next, err := store.ReadAll(ctx, s.Position, 1)
		if err != nil {
			return s, fmt.Errorf("reading the first unapplied event: %w", err)
		}
		if len(next) > 0 && !next[0].RecordedAt.IsZero() {
			s.LagSeconds = max(0, now.Sub(next[0].RecordedAt).Seconds())
		}
	}
	return s, nil
}

// Status reports the runner's status (durable state plus what only this process knows).
func (r *Runner) Status(ctx context.Context) (Status, error) {
	s, err := readStatus(ctx, r.cfg.DB, r.cfg.Store, r.name, r.cfg.Now())
	r.mu.Lock()
	s.LastError = r.mem.lastError
	r.mu.Unlock()
	s.Running = r.running.Load()
	return s, err
}

// Retry clears the park of r's projection and wakes it: it applies the parked event again
// (presumably after a fix). actor is the operator, recorded in the audit event.
func (r *Runner) Retry(ctx context.Context, actor string) error {
	err := Retry(ctx, r.cfg.DB, r.cfg.Store, r.name, actor)
	if err == nil {
		r.nudge()
	}
	return err
}

// Skip gives up on the parked event eventID for good and wakes the runner.
func (r *Runner) Skip(ctx context.Context, eventID, actor, reason string) error {
	err := Skip(ctx, r.cfg.DB, r.cfg.Store, r.name, eventID, actor, reason)
	if err == nil {
		r.nudge()
	}
	return err
}

// Retry clears the park of projection name, from any process: the runner (polling its state)
// resumes and applies the parked event again. The ProjectionRetried audit event is appended
// first; if that fails nothing changes.
func Retry(ctx context.Context, db *projections.DB, store events.EventStore, name, actor string) error {
	st, err := readLive(ctx, db, name)
	if err != nil {
		return err
	}
	if st.Parked == nil {
		return fmt.Errorf("%w: %s", ErrNotParked, name)
	}
	if err := appendAudit(ctx, store, contracts.TypeProjectionRetried, actor, auditData(name, st.Generation, st.Parked, st.Parked.Error, "")); err != nil {
		return fmt.Errorf("recording ProjectionRetried: %w", err)
	}
	q := newQuery(db.Dialect)
	_, err = db.SQL.ExecContext(ctx, `UPDATE projection_state SET parked_event_id = NULL, parked_position = NULL, parked_stream_id = NULL,
  parked_version = NULL, parked_type = NULL, parked_error = NULL, parked_at = NULL, updated_at = `+q.arg(time.Now().UnixMicro())+
		" WHERE name = "+q.arg(name)+" AND generation = "+q.arg(st.Generation)+" AND parked_event_id = "+q.arg(st.Parked.EventID), q.args...)
	return err
}

// Skip gives up on the event projection name is parked on, from any process. eventID must be
// the parked event's id (else *WrongEventError). The ProjectionEventSkipped audit event is
// appended first — if that fails, nothing is skipped — then, in one transaction, the event's
// stream is marked applied up to the event, the position moves past it, a projection_skips row
// records the decision and the park is cleared.
func Skip(ctx context.Context, db *projections.DB, store events.EventStore, name, eventID, actor, reason string) error {
	if actor == "" || reason == "" {
		return errors.New("skip: an actor and a reason are required")
	}
	st, err := readLive(ctx, db, name)
	if err != nil {
		return err
	}
	if st.Parked == nil {
		return fmt.Errorf("%w: %s", ErrNotParked, name)
	}
	if st.Parked.EventID != eventID {
		return &WrongEventError{Projection: name, Parked: st.Parked.EventID, Given: eventID}
	}
	pk := st.Parked
	if err := appendAudit(ctx, store, contracts.TypeProjectionEventSkipped, actor, auditData(name, st.Generation, pk, pk.Error, reason)); err != nil {
		return fmt.Errorf("recording ProjectionEventSkipped: %w", err)
	}
	tx, err := db.Begin(ctx, st.Generation)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	// Re-check under the row lock: a concurrent Retry, Skip or rebuild may have changed things.
	gen, err := liveGeneration(ctx, txq{tx}, name, lockShare)
	if err != nil {
		return err
	}
	cur, err := readState(ctx, txq{tx}, name, gen, true)
	if err != nil {
		return err
	}
	if gen != st.Generation || cur.Parked == nil || cur.Parked.EventID != eventID {
		return fmt.Errorf("%w: %s changed while skipping (the audit event was recorded, nothing was skipped)", ErrNotParked, name)
	}
	now := time.Now().UnixMicro()
	table := streamsTable(name, gen)
	q := newQuery(tx.Dialect)
	if _, err := tx.ExecContext(ctx, "INSERT INTO "+table+" (stream_id, version) VALUES ("+q.arg(pk.StreamID)+", "+q.arg(pk.Version)+
		") ON CONFLICT (stream_id) DO UPDATE SET version = "+greatest(tx.Dialect)+"("+table+".version, excluded.version)", q.args...); err != nil {
		return fmt.Errorf("skip: %w", err)
	}
	q = newQuery(tx.Dialect)
	if _, err := tx.ExecContext(ctx, "INSERT INTO projection_skips (name, generation, event_id, position, stream_id, type, actor, reason, skipped_at) VALUES ("+
		q.arg(name)+", "+q.arg(gen)+", "+q.arg(eventID)+", "+q.arg(pk.Position)+", "+q.arg(pk.StreamID)+", "+q.arg(pk.Type)+", "+
		q.arg(actor)+", "+q.arg(reason)+", "+q.arg(now)+") ON CONFLICT DO NOTHING", q.args...); err != nil {
		return fmt.Errorf("skip: %w", err)
	}
	q = newQuery(tx.Dialect)
	if _, err := tx.ExecContext(ctx, "UPDATE projection_state SET position = "+greatest(tx.Dialect)+"(position, "+q.arg(pk.Position)+
		`), parked_event_id = NULL, parked_position = NULL, parked_stream_id = NULL, parked_version = NULL, parked_type = NULL,
  parked_error = NULL, parked_at = NULL, updated_at = `+q.arg(now)+" WHERE name = "+q.arg(name)+" AND generation = "+q.arg(gen), q.args...); err != nil {
		return fmt.Errorf("skip: %w", err)
	}
	return tx.Commit()
}

// AuditStreamID is the stream of a projection's operational events (ProjectionParked, …): a
// fixed id per projection (UUIDv5 of its name), so its history reads as one stream.
func AuditStreamID(name string) string {
	return "monitoring-projection-" + uuid.NewSHA1(uuid.NameSpaceOID, []byte(name)).String()
}

const (
	maxErrorLen  = 4096 // the schemas' maxLength of error
	maxReasonLen = 1024
)

func auditData(name string, gen int64, pk *parkedRow, errText, reason string) map[string]any {
	d := map[string]any{"projection": name, "generation": gen, "event_id": pk.EventID, "position": pk.Position,
		"stream_id": pk.StreamID, "type": pk.Type, "error": truncate(errText, maxErrorLen)}
	if reason != "" {
		d["reason"] = truncate(reason, maxReasonLen)
	}
	return d
}

func appendAudit(ctx context.Context, store events.EventStore, typ, actor string, data map[string]any) error {
	if store == nil {
		return errors.New("no event store to record the audit event in")
	}
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	name, _ := data["projection"].(string)
	_, err = store.Append(ctx, AuditStreamID(name), events.Any, []events.Envelope{{
		EventID: events.NewEventID(), Type: typ, Data: b, Actor: truncate(actor, 256),
	}})
	return err
}

// truncate cuts s to at most n bytes on a rune boundary (the schemas bound lengths).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
