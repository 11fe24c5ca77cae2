package postgres

import (
	"context"
	"math"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/socplatform/soc/events"
)

var errNoRows = pgx.ErrNoRows

// eventScan receives one row of eventCols.
type eventScan struct {
	e          events.Envelope
	id         [16]byte
	data, meta []byte
}

func (r *eventScan) dest() []any {
	e := &r.e
	return []any{&e.GlobalPosition, &r.id, &e.StreamID, &e.StreamType, &e.Version, &e.Type, &e.SchemaVersion,
		&e.OccurredAt, &e.RecordedAt, &e.CorrelationID, &e.CausationID, &e.Actor, &e.Tenant, &e.TraceParent,
		&r.data, &r.meta}
}

func (r *eventScan) envelope() events.Envelope {
	e := r.e
	e.EventID = uuid.UUID(r.id).String()
	e.OccurredAt = e.OccurredAt.UTC()
	e.RecordedAt = e.RecordedAt.UTC()
	e.Data = compactJSON(r.data)
	e.Metadata = compactJSON(r.meta)
	return e
}

// ReadAll implements events.EventStore. See the package comment for why a position can never
// become visible after a higher one: a plain ordered range scan is enough.
func (s *Store) ReadAll(ctx context.Context, after int64, limit int) ([]events.Envelope, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	limit = events.NormalizeLimit(limit)
	rows, err := s.pool.Query(ctx, s.q.readAll, after, limit)
	if err != nil {
		return nil, s.wrap("read all", err)
	}
	out, err := scanEvents(rows, min(limit, 512))
	return out, s.wrap("read all", err)
}

// scanEvents reads every row of rows (of eventCols) as an envelope and closes rows; capacity
// sizes the result for the rows expected.
func scanEvents(rows pgx.Rows, capacity int) ([]events.Envelope, error) {
	defer rows.Close()
	out := make([]events.Envelope, 0, capacity)
	var r eventScan
	dest := r.dest()
	for rows.Next() {
		r = eventScan{}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out = append(out, r.envelope())
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// HeadPosition implements events.EventStore: the counter's committed value, which is the highest
// position ReadAll can return (the counter and the events commit together).
func (s *Store) HeadPosition(ctx context.Context) (int64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	var h int64
	if err := s.pool.QueryRow(ctx, s.q.head).Scan(&h); err != nil {
		return 0, s.wrap("head position", err)
	}
	return h, nil
}

// ReadStream implements events.EventStore. The stream's state and the page of events are read by
// one statement, so they come from one snapshot.
func (s *Store) ReadStream(ctx context.Context, streamID string, opts events.ReadStreamOptions) ([]events.Envelope, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	limit := events.NormalizeLimit(opts.Limit)
	q, from := s.q.readFwd, max(opts.From, 1)
	if opts.Backwards {
		q, from = s.q.readBack, opts.From
		if from <= 0 {
			from = math.MaxInt64
		}
	}
	var asOf any // NULL: no time bound
	if !opts.AsOf.IsZero() {
		asOf = opts.AsOf
	}
	rows, err := s.pool.Query(ctx, q, streamID, from, limit, asOf)
	if err != nil {
		return nil, s.wrap("read stream", err)
	}
	defer rows.Close()
	var (
		out                          []events.Envelope
		first                        = true
		streamType                   string
		version, truncBefore         int64
		deleted, tombstoned, existed bool
		r                            eventScan
	)
	dest := append([]any{&streamType, &version, &truncBefore, &deleted, &tombstoned, &existed}, r.dest()...)
	for rows.Next() {
		r = eventScan{}
		if err := rows.Scan(dest...); err != nil {
			return nil, s.wrap("read stream", err)
		}
		if first {
			first = false
			switch {
			case tombstoned:
				return nil, &events.StreamDeletedError{StreamID: streamID}
			case !live(version, truncBefore, deleted), !existed:
				return nil, events.ErrStreamNotFound
			}
			out = make([]events.Envelope, 0, min(limit, 64))
		}
		if r.e.GlobalPosition == 0 { // the stream exists but the page is empty
			break
		}
		out = append(out, r.envelope())
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("read stream", err)
	}
	if first { // no stream row
		return nil, events.ErrStreamNotFound
	}
	return out, nil
}

// live reports whether a stream has live events; the same rule as append_events.
func live(version, truncBefore int64, deleted bool) bool {
	return !deleted && version > 0 && version >= truncBefore
}
