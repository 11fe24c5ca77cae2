package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/socplatform/soc/events"
)

// StreamInfo implements events.EventStore. An unknown stream is reported with Exists=false and
// no error.
func (s *Store) StreamInfo(ctx context.Context, streamID string) (events.StreamInfo, error) {
	if err := s.check(); err != nil {
		return events.StreamInfo{}, err
	}
	info := events.StreamInfo{StreamID: streamID, StreamType: events.StreamTypeOf(streamID)}
	var meta []byte
	err := s.pool.QueryRow(ctx, s.q.info, streamID).Scan(&info.StreamType, &info.Version, &info.TruncateBefore,
		&info.Deleted, &info.Tombstoned, &meta)
	if errors.Is(err, pgx.ErrNoRows) {
		return info, nil
	}
	if err != nil {
		return events.StreamInfo{}, s.wrap("stream info", err)
	}
	info.Exists = !info.Tombstoned && live(info.Version, info.TruncateBefore, info.Deleted)
	info.Metadata = compactJSON(meta)
	return info, nil
}

// SetStreamMetadata implements events.EventStore. The metadata must be a JSON object; it may be
// set before the stream's first event. A tombstoned stream refuses it with StreamDeletedError.
func (s *Store) SetStreamMetadata(ctx context.Context, streamID string, metadata json.RawMessage) error {
	if err := s.check(); err != nil {
		return err
	}
	if streamID == "" {
		return &events.InvalidEventError{Index: -1, Name: "stream_id", Reason: "is required"}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(metadata, &obj); err != nil || obj == nil {
		return &events.InvalidEventError{Index: -1, Name: "metadata", Reason: "must be a JSON object"}
	}
	if bytes.Contains(metadata, nulEscape) {
		return &events.InvalidEventError{Index: -1, Name: "metadata", Reason: `must not contain \u0000 (PostgreSQL jsonb cannot store it)`}
	}
	var ok bool
	err := s.pool.QueryRow(ctx, s.q.setMeta, streamID, events.StreamTypeOf(streamID), []byte(metadata)).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) { // the conflict row is tombstoned
		return &events.StreamDeletedError{StreamID: streamID}
	}
	return s.wrap("set stream metadata", err)
}

// DeleteStream implements events.EventStore (soft delete): the stream reads as not found, its
// events stay in $all, and a later append revives it with versions continuing.
func (s *Store) DeleteStream(ctx context.Context, streamID string, expected events.ExpectedVersion) error {
	return s.deleteStream(ctx, streamID, expected, false)
}

// TombstoneStream implements events.EventStore. The stream id can never be read or written again
// (a stream id that was never used can be tombstoned too, reserving it). Its events stay in $all.
func (s *Store) TombstoneStream(ctx context.Context, streamID string, expected events.ExpectedVersion) error {
	return s.deleteStream(ctx, streamID, expected, true)
}

func (s *Store) deleteStream(ctx context.Context, streamID string, expected events.ExpectedVersion, hard bool) error {
	if err := s.check(); err != nil {
		return err
	}
	if streamID == "" {
		return &events.InvalidEventError{Index: -1, Name: "stream_id", Reason: "is required"}
	}
	if !validExpected(expected) {
		return &events.InvalidEventError{Index: -1, Name: "expected_version", Reason: "is not a valid expected version"}
	}
	op := "delete stream"
	if hard {
		op = "tombstone stream"
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return s.wrap(op, err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // a no-op after Commit

	// Lock the stream row; for an unknown stream insert an empty one (locked by us until commit;
	// rolled back unless we tombstone it). If a concurrent writer creates it first, lock theirs.
	var (
		version, trunc      int64
		deleted, tombstoned bool
	)
	for {
		err = tx.QueryRow(ctx, s.q.lockStream, streamID).Scan(&version, &trunc, &deleted, &tombstoned)
		if err == nil {
			break
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return s.wrap(op, err)
		}
		tag, err := tx.Exec(ctx, s.q.createStream, streamID, events.StreamTypeOf(streamID))
		if err != nil {
			return s.wrap(op, err)
		}
		if tag.RowsAffected() == 1 {
			break // zero values describe the new, empty row
		}
	}
	if tombstoned {
		return &events.StreamDeletedError{StreamID: streamID}
	}
	exists := live(version, trunc, deleted)
	current := int64(0)
	if exists {
		current = version
	}
	if !expected.Check(current, exists) {
		return &events.VersionConflictError{StreamID: streamID, Expected: expected, Actual: current, Exists: exists}
	}
	if hard {
		_, err = tx.Exec(ctx, s.q.tombstone, streamID)
	} else {
		if !exists {
			return events.ErrStreamNotFound
		}
		_, err = tx.Exec(ctx, s.q.softDelete, streamID)
	}
	if err != nil {
		return s.wrap(op, err)
	}
	if _, err := tx.Exec(ctx, s.q.deleteSnap, streamID); err != nil {
		return s.wrap(op, err)
	}
	return s.wrap(op, tx.Commit(ctx))
}
