package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/internal/groupcommit"
)

// Group commit.
//
// SQLite has one writer, so concurrent appends queue anyway. Instead of one transaction (and one
// fsync) each, a committer goroutine runs the appends that queued together in ONE transaction,
// each inside its own savepoint: a refused append (version conflict, duplicate id, tombstone)
// rolls back to its savepoint and writes nothing, its neighbours commit. Statements are prepared
// once. A lone append runs at once, so single-writer latency does not wait for company.

const maxGroupAppends = 256

type appendReq struct {
	streamID string
	expected events.ExpectedVersion
	evs      []events.Envelope
}

type pending = groupcommit.Pending[appendReq, events.AppendResult]

// stmts are the append path's prepared statements (on the single write connection).
type stmts struct {
	probeID, loadStream, insert, upsertStream, head *sql.Stmt
}

func prepare(ctx context.Context, db *sql.DB) (*stmts, error) {
	var st stmts
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&st.probeID, `SELECT 1 FROM events WHERE event_id = ?`},
		{&st.loadStream, loadStreamSQL},
		{&st.insert, `INSERT INTO events (global_position, event_id, stream_id, version, type, schema_version,
			occurred_at, recorded_at, correlation_id, causation_id, actor, tenant, trace_parent, data, metadata)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&st.upsertStream, `INSERT INTO streams (stream_id, stream_type, version) VALUES (?, ?, ?)
			ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, deleted = 0`},
		{&st.head, `SELECT global_position, recorded_at FROM events ORDER BY global_position DESC LIMIT 1`},
	} {
		stmt, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			st.close()
			return nil, fmt.Errorf("sqlite: prepare: %w", err)
		}
		*p.dst = stmt
	}
	return &st, nil
}

func (st *stmts) close() error {
	var errs []error
	for _, s := range []*sql.Stmt{st.probeID, st.loadStream, st.insert, st.upsertStream, st.head} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

func (s *Store) startCommitter() {
	s.committer = groupcommit.Start(groupcommit.Config[appendReq]{MaxCalls: maxGroupAppends}, s.closed, events.ErrClosed, s.commitGroup)
}

func (s *Store) commitGroup(group []*pending) {
	resps, err := s.runGroup(group)
	for i, p := range group {
		if err != nil {
			p.Reply(events.AppendResult{}, err)
			continue
		}
		p.Reply(resps[i].res, resps[i].err)
	}
	if err == nil {
		s.wake()
	}
}

type appendResp struct {
	res events.AppendResult
	err error
}

// runGroup commits the group; an error means nothing of it was committed.
func (s *Store) runGroup(group []*pending) ([]appendResp, error) {
	// Not tied to one caller: the transaction serves them all.
	ctx := context.Background()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	// The head, and the time recorded for it: recorded_at never decreases along positions, even
	// if the clock steps back or another process with another clock wrote last, so a time window
	// is a range of positions (QueryEvents relies on it). One recorded_at for the whole group: its
	// appends commit together.
	var head, lastRecorded int64
	err = tx.StmtContext(ctx, s.st.head).QueryRowContext(ctx).Scan(&head, &lastRecorded)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: head: %w", err)
	}
	recorded := max(time.Now().UTC().Truncate(time.Microsecond).UnixMicro(), lastRecorded)
	resps := make([]appendResp, len(group))
	single := len(group) == 1
	for i, r := range group {
		if !single {
			if _, err := tx.ExecContext(ctx, "SAVEPOINT append"); err != nil {
				return nil, fmt.Errorf("sqlite: savepoint: %w", err)
			}
		}
		res, next, err := s.appendInTx(ctx, tx, s.st, head, recorded, &r.In)
		resps[i] = appendResp{res, err}
		switch {
		case err != nil && single:
			return resps, nil // the deferred rollback undoes it; the caller gets its own error
		case err != nil:
			if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO append"); rerr != nil {
				return nil, fmt.Errorf("sqlite: rollback to savepoint: %w", rerr)
			}
			if _, rerr := tx.ExecContext(ctx, "RELEASE append"); rerr != nil {
				return nil, fmt.Errorf("sqlite: release savepoint: %w", rerr)
			}
		default:
			head = next
			if !single {
				if _, err := tx.ExecContext(ctx, "RELEASE append"); err != nil {
					return nil, fmt.Errorf("sqlite: release savepoint: %w", err)
				}
			}
		}
	}
	if single && resps[0].err != nil {
		return resps, nil
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: commit: %w", err)
	}
	return resps, nil
}
