package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/socplatform/soc/events"
)

// A snapshot older than the stored one never replaces it: two commands that loaded the same
// stream may save out of order. Nor is one stored for a stream that is deleted, or was deleted
// after the snapshot's version (a command that loaded before a delete saves late): its state is
// of events the stream no longer reads. Writes are serialised, so the check and the delete
// cannot interleave.
const (
	loadSnapshotSQL = `SELECT version, position, schema_version, data FROM snapshots WHERE stream_id = ?`
	saveSnapshotSQL = `INSERT INTO snapshots (stream_id, version, position, schema_version, data, saved_at)
		SELECT ?1, ?2, ?3, ?4, ?5, ?6 FROM streams
		 WHERE stream_id = ?1 AND deleted = 0 AND tombstoned = 0 AND truncate_before <= ?2 AND version >= ?2
		ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, position = excluded.position,
			schema_version = excluded.schema_version, data = excluded.data, saved_at = excluded.saved_at
		WHERE excluded.version >= snapshots.version`
	deleteSnapshotSQL = `DELETE FROM snapshots WHERE stream_id = ?`
)

// LoadSnapshot implements events.SnapshotStore.
func (s *Store) LoadSnapshot(ctx context.Context, streamID string) (events.Snapshot, bool, error) {
	snap := events.Snapshot{StreamID: streamID}
	var data string
	err := s.r.QueryRowContext(ctx, loadSnapshotSQL, streamID).Scan(&snap.Version, &snap.Position, &snap.SchemaVersion, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return events.Snapshot{}, false, nil
	}
	if err != nil {
		return events.Snapshot{}, false, fmt.Errorf("sqlite: load snapshot: %w", err)
	}
	snap.Data = json.RawMessage(data)
	return snap, true, nil
}

// SaveSnapshot implements events.SnapshotStore. It takes the write lock like the other
// writes outside the committer, so it queues in Go instead of spinning on SQLITE_BUSY.
func (s *Store) SaveSnapshot(ctx context.Context, snap events.Snapshot) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	_, err := s.w.ExecContext(ctx, saveSnapshotSQL, snap.StreamID, snap.Version, snap.Position, snap.SchemaVersion,
		string(snap.Data), time.Now().UnixMicro())
	if err != nil {
		return fmt.Errorf("sqlite: save snapshot: %w", err)
	}
	return nil
}

var _ events.SnapshotStore = (*Store)(nil)
