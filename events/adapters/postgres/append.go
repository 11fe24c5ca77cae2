package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/socplatform/soc/events"
)

// Outcomes reported by append_events (schema.go).
const (
	statusAppended     = 0
	statusDuplicate    = 1
	statusConflict     = 2
	statusTombstoned   = 3
	statusIDElsewhere  = 4
	statusIDMismatched = 5
)

// maxAppendAttempts bounds the retries after an event-id unique violation (an id racing into
// another stream); the retry resolves it as a duplicate or a DuplicateEventError.
const maxAppendAttempts = 3

// batch is an append's envelopes as column arrays: append_events inserts them with one
// INSERT … SELECT FROM unnest(…).
type batch struct {
	ids                                         [][16]byte
	idText                                      []string
	types                                       []string
	schemaVers                                  []int32
	occurred                                    []pgtype.Timestamptz
	correlation, causation, actors, tenants, tp []string
	data, metadata                              [][]byte
}

var nulEscape = []byte(`\u0000`)

// newBatch converts and checks the envelopes. Batches normally come through events.Guard, which
// has validated all of this already; the adapter still refuses what PostgreSQL would reject with an
// untyped error, naming the event and field.
func newBatch(evs []events.Envelope) (*batch, error) {
	n := len(evs)
	b := &batch{
		ids: make([][16]byte, n), idText: make([]string, n), types: make([]string, n), schemaVers: make([]int32, n),
		occurred: make([]pgtype.Timestamptz, n), correlation: make([]string, n), causation: make([]string, n),
		actors: make([]string, n), tenants: make([]string, n), tp: make([]string, n),
		data: make([][]byte, n), metadata: make([][]byte, n),
	}
	for i := range evs {
		e := &evs[i]
		if e.EventID == "" {
			b.idText[i] = events.NewEventID()
		} else {
			b.idText[i] = e.EventID
		}
		u, err := uuid.Parse(b.idText[i])
		if err != nil || u.String() != b.idText[i] {
			return nil, &events.InvalidEventError{Index: i, Name: "event_id", Reason: "must be a lower-case hyphenated UUID"}
		}
		b.ids[i] = u
		if e.Type == "" {
			return nil, &events.InvalidEventError{Index: i, Name: "type", Reason: "is required"}
		}
		if len(e.Data) == 0 || !json.Valid(e.Data) {
			return nil, &events.InvalidEventError{Index: i, Name: "data", Reason: "must be JSON"}
		}
		if bytes.Contains(e.Data, nulEscape) {
			return nil, &events.InvalidEventError{Index: i, Name: "data", Reason: `must not contain \u0000 (PostgreSQL jsonb cannot store it)`}
		}
		if len(e.Metadata) > 0 {
			m := bytes.TrimLeft(e.Metadata, " \t\r\n")
			if len(m) == 0 || m[0] != '{' || !json.Valid(e.Metadata) {
				return nil, &events.InvalidEventError{Index: i, Name: "metadata", Reason: "must be a JSON object"}
			}
			if bytes.Contains(e.Metadata, nulEscape) {
				return nil, &events.InvalidEventError{Index: i, Name: "metadata", Reason: `must not contain \u0000 (PostgreSQL jsonb cannot store it)`}
			}
			b.metadata[i] = e.Metadata
		}
		b.types[i] = e.Type
		b.schemaVers[i] = int32(e.SchemaVersion)
		// A missing occurred_at becomes the recorded_at (coalesce in append_events).
		b.occurred[i] = pgtype.Timestamptz{Time: e.OccurredAt, Valid: !e.OccurredAt.IsZero()}
		b.correlation[i], b.causation[i], b.actors[i], b.tenants[i], b.tp[i] = e.CorrelationID, e.CausationID, e.Actor, e.Tenant, e.TraceParent
		b.data[i] = e.Data
	}
	return b, nil
}

func validExpected(e events.ExpectedVersion) bool {
	return e >= 0 || e == events.Any || e == events.NoStream || e == events.StreamExists
}

// Append implements events.EventStore. The whole append is one call of append_events: one
// statement, one transaction, one round trip (see the package comment). The caller's envelopes are
// not modified (a batch may be shared by goroutines retrying it): version i of the batch is
// NextExpectedVersion-len(evs)+1+i and, unless Duplicate, its position is FirstPosition+i. An
// envelope without an EventID (events.Guard always sets one) is stored under a fresh UUIDv7.
func (s *Store) Append(ctx context.Context, streamID string, expected events.ExpectedVersion, evs []events.Envelope) (events.AppendResult, error) {
	if err := s.check(); err != nil {
		return events.AppendResult{}, err
	}
	if streamID == "" {
		return events.AppendResult{}, &events.InvalidEventError{Index: -1, Name: "stream_id", Reason: "is required"}
	}
	if !validExpected(expected) {
		return events.AppendResult{}, &events.InvalidEventError{Index: -1, Name: "expected_version",
			Reason: fmt.Sprintf("%d is not a valid expected version", expected)}
	}
	if len(evs) == 0 {
		return events.AppendResult{}, &events.InvalidEventError{Index: -1, Name: "events", Reason: "batch is empty"}
	}
	b, err := newBatch(evs)
	if err != nil {
		return events.AppendResult{}, err
	}
	streamType := evs[0].StreamType
	if streamType == "" {
		streamType = events.StreamTypeOf(streamID)
	}
	return s.committer.Submit(ctx, appendReq{streamID: streamID, streamType: streamType, expected: expected, b: b})
}

// appendSolo is one append in its own transaction, with the classification and retry of an
// event-id unique violation.
func (s *Store) appendSolo(ctx context.Context, streamID, streamType string, expected events.ExpectedVersion, b *batch) (events.AppendResult, error) {
	for attempt := 1; ; attempt++ {
		res, err := s.appendOnce(ctx, streamID, streamType, expected, b)
		if err == nil || !isUniqueViolation(err, "events_event_id_key") {
			return res, err
		}
		// One of the ids was committed by another append between our probe and our insert (only
		// possible for another stream: same-stream appends are serialised by the stream row lock),
		// or a later id of the batch was stored before. Find which, without the failed transaction.
		var ord int64
		var other string
		qerr := s.pool.QueryRow(ctx, s.q.firstStored, b.ids).Scan(&ord, &other)
		switch {
		case qerr == nil && ord > 1:
			return events.AppendResult{}, &events.DuplicateEventError{EventID: b.idText[ord-1], Reason: mixedReason(other == streamID)}
		case qerr == nil && attempt < maxAppendAttempts:
			continue // the first id is stored now: append_events tells a duplicate from a clash
		case qerr == nil || errors.Is(qerr, errNoRows):
			return events.AppendResult{}, &events.DuplicateEventError{EventID: b.idText[0], Reason: "stored concurrently by another append"}
		default:
			return events.AppendResult{}, s.wrap("append: classify duplicate", qerr)
		}
	}
}

func mixedReason(sameStream bool) string {
	if sameStream {
		return "already stored: a batch must not mix stored and new events (re-send the original batch unchanged)"
	}
	return "already stored in another stream"
}

func (s *Store) appendOnce(ctx context.Context, streamID, streamType string, expected events.ExpectedVersion, b *batch) (events.AppendResult, error) {
	var o outcome
	err := s.pool.QueryRow(ctx, s.q.append, appendArgs(streamID, streamType, expected, b)...).
		Scan(&o.status, &o.version, &o.exists, &o.first, &o.last, &o.recorded)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && len(pgErr.Code) == 5 && pgErr.Code[:2] == "22" { // data exception
			return events.AppendResult{}, &events.InvalidEventError{Index: -1, Name: "events", Reason: "rejected by PostgreSQL: " + pgErr.Message}
		}
		if isUniqueViolation(err, "events_event_id_key") {
			return events.AppendResult{}, err
		}
		return events.AppendResult{}, s.wrap("append", err)
	}
	return o.result(streamID, expected, b)
}

func appendArgs(streamID, streamType string, expected events.ExpectedVersion, b *batch) []any {
	return []any{streamID, streamType, int64(expected),
		b.ids, b.types, b.schemaVers, b.occurred, b.correlation, b.causation, b.actors, b.tenants, b.tp,
		b.data, b.metadata}
}

// outcome is the row append_events returns.
type outcome struct {
	status      int32
	version     pgtype.Int8
	exists      pgtype.Bool
	first, last pgtype.Int8
	recorded    pgtype.Timestamptz // the batch's recorded_at: events.AppendResult has no field for it (yet)
}

func (o *outcome) result(streamID string, expected events.ExpectedVersion, b *batch) (events.AppendResult, error) {
	switch o.status {
	case statusAppended, statusDuplicate:
		return events.AppendResult{
			NextExpectedVersion: o.version.Int64,
			FirstPosition:       o.first.Int64,
			LastPosition:        o.last.Int64,
			Duplicate:           o.status == statusDuplicate,
		}, nil
	case statusConflict:
		return events.AppendResult{}, &events.VersionConflictError{StreamID: streamID, Expected: expected, Actual: o.version.Int64, Exists: o.exists.Bool}
	case statusTombstoned:
		return events.AppendResult{}, &events.StreamDeletedError{StreamID: streamID}
	case statusIDElsewhere:
		return events.AppendResult{}, &events.DuplicateEventError{EventID: b.idText[0], Reason: mixedReason(false)}
	case statusIDMismatched:
		return events.AppendResult{}, &events.DuplicateEventError{EventID: b.idText[0],
			Reason: "already stored, but the batch differs from the stored one: a batch must not mix stored and new events (re-send the original batch unchanged)"}
	}
	return events.AppendResult{}, fmt.Errorf("postgres: append: unknown outcome %d", o.status)
}

func isUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == constraint
}
