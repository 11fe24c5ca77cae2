package postgres

import (
	"bytes"
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/socplatform/soc/events"
)

// ReadEvent implements events.EventStore. A string that is no UUID names no stored event.
func (s *Store) ReadEvent(ctx context.Context, eventID string) (events.Envelope, error) {
	if err := s.check(); err != nil {
		return events.Envelope{}, err
	}
	id, err := uuid.Parse(eventID)
	if err != nil {
		return events.Envelope{}, events.ErrEventNotFound
	}
	var r eventScan
	err = s.pool.QueryRow(ctx, s.q.readEvent, [16]byte(id)).Scan(r.dest()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return events.Envelope{}, events.ErrEventNotFound
	}
	if err != nil {
		return events.Envelope{}, s.wrap("read event", err)
	}
	return r.envelope(), nil
}

// LoadSnapshot implements events.SnapshotStore.
func (s *Store) LoadSnapshot(ctx context.Context, streamID string) (events.Snapshot, bool, error) {
	if err := s.check(); err != nil {
		return events.Snapshot{}, false, err
	}
	snap := events.Snapshot{StreamID: streamID}
	var data []byte
	err := s.pool.QueryRow(ctx, s.q.loadSnap, streamID).Scan(&snap.Version, &snap.Position, &snap.SchemaVersion, &data)
	if errors.Is(err, pgx.ErrNoRows) {
		return events.Snapshot{}, false, nil
	}
	if err != nil {
		return events.Snapshot{}, false, s.wrap("load snapshot", err)
	}
	snap.Data = compactJSON(data)
	return snap, true, nil
}

// SaveSnapshot implements events.SnapshotStore.
func (s *Store) SaveSnapshot(ctx context.Context, snap events.Snapshot) error {
	if err := s.check(); err != nil {
		return err
	}
	if bytes.Contains(snap.Data, nulEscape) {
		return &events.InvalidEventError{Index: -1, Name: "data", Reason: `must not contain \u0000 (PostgreSQL jsonb cannot store it)`}
	}
	_, err := s.pool.Exec(ctx, s.q.saveSnap, snap.StreamID, snap.Version, snap.Position, snap.SchemaVersion, []byte(snap.Data))
	return s.wrap("save snapshot", err)
}

var _ events.SnapshotStore = (*Store)(nil)
