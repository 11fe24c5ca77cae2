// Package sqlite is the embedded event store: one SQLite file in WAL mode, pure Go
// (modernc.org/sqlite), the default when no PostgreSQL URL is configured.
//
// Ordering: SQLite admits one writer at a time (BEGIN IMMEDIATE), and each append assigns
// max(global_position)+1… inside its write transaction, so positions are gapless and become
// visible in commit order. A reader can therefore never see position n+1 before n, which is the
// guarantee catch-up subscriptions rely on. Appends from this process are additionally serialised
// by a mutex so they queue in Go instead of spinning on SQLITE_BUSY.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/internal/groupcommit"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Config configures the embedded store.
type Config struct {
	// Path of the database file; created if missing.
	Path string
	// Synchronous is SQLite's synchronous pragma: "FULL" (default: an acknowledged append survives
	// power loss) or "NORMAL" (survives a process crash only; faster).
	Synchronous string
	// PollInterval bounds how long WaitForAppend sleeps when another process writes the file
	// (appends from this process wake waiters at once). Default 100ms.
	PollInterval time.Duration
	// ReadConns is the size of the read pool. Default 4.
	ReadConns int
}

// Validate reports every problem with the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.Path == "" {
		errs = append(errs, errors.New("sqlite: path is required"))
	}
	switch strings.ToUpper(c.Synchronous) {
	case "", "FULL", "NORMAL":
	default:
		errs = append(errs, fmt.Errorf("sqlite: synchronous must be FULL or NORMAL, not %q", c.Synchronous))
	}
	if c.PollInterval < 0 {
		errs = append(errs, errors.New("sqlite: poll interval must not be negative"))
	}
	if c.ReadConns < 0 {
		errs = append(errs, errors.New("sqlite: read conns must not be negative"))
	}
	return errors.Join(errs...)
}

// Store implements events.EventStore on SQLite.
type Store struct {
	w, r    *sql.DB
	writeMu sync.Mutex
	cfg     Config

	notifyMu sync.Mutex
	notify   chan struct{} // closed and replaced after every commit
	closed   chan struct{}

	st        *stmts
	rd        readStmts                                              // ReadStream's statements on the read pool (parsed once, not per call)
	committer *groupcommit.Committer[appendReq, events.AppendResult] // group.go
}

const schema = `
CREATE TABLE IF NOT EXISTS streams (
  stream_id       TEXT PRIMARY KEY,
  stream_type     TEXT NOT NULL,
  version         INTEGER NOT NULL DEFAULT 0,
  truncate_before INTEGER NOT NULL DEFAULT 0,
  deleted         INTEGER NOT NULL DEFAULT 0,
  tombstoned      INTEGER NOT NULL DEFAULT 0,
  metadata        TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
  global_position INTEGER PRIMARY KEY,
  event_id        TEXT NOT NULL UNIQUE,
  stream_id       TEXT NOT NULL,
  version         INTEGER NOT NULL,
  type            TEXT NOT NULL,
  schema_version  INTEGER NOT NULL,
  occurred_at     INTEGER NOT NULL, -- Unix microseconds
  recorded_at     INTEGER NOT NULL, -- Unix microseconds
  correlation_id  TEXT NOT NULL DEFAULT '',
  causation_id    TEXT NOT NULL DEFAULT '',
  actor           TEXT NOT NULL DEFAULT '',
  tenant          TEXT NOT NULL DEFAULT '',
  trace_parent    TEXT NOT NULL DEFAULT '',
  data            TEXT NOT NULL,
  metadata        TEXT,
  UNIQUE (stream_id, version)
);
-- Audit queries (QueryEvents, query.go). global_position is the rowid, which every index of a
-- rowid table already ends with: (type) is the (type, global_position) order, without storing
-- the position twice. The correlation index leaves out the events without one. recorded_at has
-- no index: it never decreases along positions (runGroup), so a time is found by bisecting the
-- positions, and every index costs appends.
CREATE INDEX IF NOT EXISTS events_type ON events (type);
CREATE INDEX IF NOT EXISTS events_actor ON events (actor);
CREATE INDEX IF NOT EXISTS events_correlation ON events (correlation_id) WHERE correlation_id <> '';
-- Aggregate snapshots (snapshots.go): the latest per stream, a cache beside the events.
CREATE TABLE IF NOT EXISTS snapshots (
  stream_id      TEXT PRIMARY KEY,
  version        INTEGER NOT NULL,
  position       INTEGER NOT NULL,
  schema_version INTEGER NOT NULL,
  data           TEXT NOT NULL,
  saved_at       INTEGER NOT NULL -- Unix microseconds
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
  name       TEXT PRIMARY KEY,
  position   INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
`

// Open opens (creating if needed) the store at cfg.Path.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Synchronous == "" {
		cfg.Synchronous = "FULL"
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 100 * time.Millisecond
	}
	if cfg.ReadConns == 0 {
		cfg.ReadConns = 4
	}
	dsn := func(extra ...string) string {
		q := url.Values{}
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "synchronous("+strings.ToUpper(cfg.Synchronous)+")")
		for _, p := range extra {
			q.Add("_pragma", p)
		}
		return "file:" + cfg.Path + "?" + q.Encode() + "&_txlock=immediate"
	}
	w, err := sql.Open("sqlite", dsn())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", cfg.Path, err)
	}
	w.SetMaxOpenConns(1) // SQLite has one writer; a second connection would only wait on the lock
	w.SetConnMaxIdleTime(0)
	if _, err := w.ExecContext(ctx, schema); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: migrate %s: %w", cfg.Path, err)
	}
	r, err := sql.Open("sqlite", dsn("query_only(1)"))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(cfg.ReadConns)
	r.SetMaxIdleConns(cfg.ReadConns)
	st, err := prepare(ctx, w)
	if err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	s := &Store{w: w, r: r, cfg: cfg, st: st, notify: make(chan struct{}), closed: make(chan struct{})}
	// Every command handler loads its aggregate with ReadStream: parsing its two statements on
	// each call was a tenth of the notification worker's CPU. database/sql keeps a prepared copy
	// per connection of the pool, which tx.StmtContext reuses.
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{{&s.rd.loadStream, loadStreamSQL}, {&s.rd.forwards, readForwardsSQL}, {&s.rd.backwards, readBackwardsSQL}} {
		if *p.dst, err = r.PrepareContext(ctx, p.sql); err != nil {
			s.rd.close()
			st.close()
			r.Close()
			w.Close()
			return nil, fmt.Errorf("sqlite: prepare: %w", err)
		}
	}
	s.startCommitter()
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.notifyMu.Lock()
	select {
	case <-s.closed:
		s.notifyMu.Unlock()
		return nil
	default:
		close(s.closed)
	}
	s.notifyMu.Unlock()
	<-s.committer.Stopped() // the transaction in flight finishes and is answered first
	return errors.Join(s.st.close(), s.rd.close(), s.r.Close(), s.w.Close())
}

type readStmts struct{ loadStream, forwards, backwards *sql.Stmt }

func (rd *readStmts) close() error {
	var errs []error
	for _, s := range []*sql.Stmt{rd.loadStream, rd.forwards, rd.backwards} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

const (
	readForwardsSQL = `SELECT ` + eventColumns + ` FROM events WHERE stream_id = ? AND version >= ? AND recorded_at <= ?
			ORDER BY version LIMIT ?`
	readBackwardsSQL = `SELECT ` + eventColumns + ` FROM events WHERE stream_id = ? AND version <= ? AND version >= ? AND recorded_at <= ?
			ORDER BY version DESC LIMIT ?`
)

func (s *Store) wake() {
	s.notifyMu.Lock()
	close(s.notify)
	s.notify = make(chan struct{})
	s.notifyMu.Unlock()
}

type streamRow struct {
	found                   bool
	version, truncateBefore int64
	deleted, tombstoned     bool
	metadata                sql.NullString
	streamType              string
}

func (r streamRow) exists() bool { return r.found && r.version > 0 && !r.deleted && !r.tombstoned }

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const loadStreamSQL = `SELECT stream_type, version, truncate_before, deleted, tombstoned, metadata FROM streams WHERE stream_id = ?`

func loadStream(ctx context.Context, q any, id string) (streamRow, error) {
	var r streamRow
	var row *sql.Row
	switch q := q.(type) {
	case *sql.Stmt:
		row = q.QueryRowContext(ctx, id)
	case queryer:
		row = q.QueryRowContext(ctx, loadStreamSQL, id)
	default:
		return r, fmt.Errorf("sqlite: loadStream on %T", q)
	}
	err := row.Scan(&r.streamType, &r.version, &r.truncateBefore, &r.deleted, &r.tombstoned, &r.metadata)
	if errors.Is(err, sql.ErrNoRows) {
		return streamRow{}, nil
	}
	r.found = err == nil
	return r, err
}

// Append implements events.EventStore. Appends queue for the committer (group.go), which runs
// the ones that queued together in one transaction.
func (s *Store) Append(ctx context.Context, streamID string, expected events.ExpectedVersion, evs []events.Envelope) (events.AppendResult, error) {
	if len(evs) == 0 {
		return events.AppendResult{}, &events.InvalidEventError{Index: -1, Name: "events", Reason: "batch is empty"}
	}
	return s.committer.Submit(ctx, appendReq{streamID: streamID, expected: expected, evs: evs})
}

// appendInTx runs one append inside the committer's transaction, after head, with recorded
// (Unix microseconds) as its recorded_at. It returns the
// result and the new head. On error the caller rolls back to the append's savepoint.
func (s *Store) appendInTx(ctx context.Context, tx *sql.Tx, st *stmts, head, recorded int64, r *appendReq) (events.AppendResult, int64, error) {
	streamID, evs := r.streamID, r.evs
	if res, dup, err := s.checkDuplicates(ctx, tx, st, streamID, evs); err != nil || dup {
		return res, head, err
	}
	row, err := loadStream(ctx, tx.StmtContext(ctx, st.loadStream), streamID)
	if err != nil {
		return events.AppendResult{}, head, fmt.Errorf("sqlite: load stream: %w", err)
	}
	if row.tombstoned {
		return events.AppendResult{}, head, &events.StreamDeletedError{StreamID: streamID}
	}
	current := row.version // versions continue after a soft delete
	if !r.expected.Check(liveVersion(row), row.exists()) {
		return events.AppendResult{}, head, &events.VersionConflictError{StreamID: streamID, Expected: r.expected, Actual: liveVersion(row), Exists: row.exists()}
	}
	insert := tx.StmtContext(ctx, st.insert)
	for i, e := range evs {
		var meta any
		if len(e.Metadata) > 0 {
			meta = string(e.Metadata)
		}
		if _, err := insert.ExecContext(ctx, head+int64(i)+1, e.EventID, streamID, current+int64(i)+1, e.Type, e.SchemaVersion,
			e.OccurredAt.UnixMicro(), recorded, e.CorrelationID, e.CausationID, e.Actor, e.Tenant, e.TraceParent,
			string(e.Data), meta); err != nil {
			if strings.Contains(err.Error(), "UNIQUE constraint failed: events.event_id") {
				return events.AppendResult{}, head, &events.DuplicateEventError{EventID: e.EventID, Reason: "already stored"}
			}
			return events.AppendResult{}, head, fmt.Errorf("sqlite: insert event %d: %w", i, err)
		}
	}
	next := current + int64(len(evs))
	if _, err := tx.StmtContext(ctx, st.upsertStream).ExecContext(ctx, streamID, events.StreamTypeOf(streamID), next); err != nil {
		return events.AppendResult{}, head, fmt.Errorf("sqlite: update stream: %w", err)
	}
	last := head + int64(len(evs))
	return events.AppendResult{NextExpectedVersion: next, FirstPosition: head + 1, LastPosition: last}, last, nil
}

// liveVersion is the version reported in a conflict: 0 when the stream has no live events
// (never written, or soft-deleted), as the port says.
func liveVersion(st streamRow) int64 {
	if !st.exists() {
		return 0
	}
	return st.version
}

// checkDuplicates implements idempotent re-append: when every event id of the batch is already
// stored in this stream at consecutive versions, the original positions are returned. A partial
// overlap or an id stored elsewhere is refused: silently dropping half a batch would lose intent.
func (s *Store) checkDuplicates(ctx context.Context, tx *sql.Tx, st *stmts, streamID string, evs []events.Envelope) (events.AppendResult, bool, error) {
	// Fast path: new events almost always are new. Probe the first id; only when it is stored
	// do the full check. (A later id already stored makes the insert fail on its unique index,
	// which is reported as a DuplicateEventError: a batch must not mix stored and new events.)
	var probe int
	switch err := tx.StmtContext(ctx, st.probeID).QueryRowContext(ctx, evs[0].EventID).Scan(&probe); {
	case errors.Is(err, sql.ErrNoRows):
		return events.AppendResult{}, false, nil
	case err != nil:
		return events.AppendResult{}, false, fmt.Errorf("sqlite: duplicate probe: %w", err)
	}
	ids := make([]any, len(evs))
	for i, e := range evs {
		ids[i] = e.EventID
	}
	rows, err := tx.QueryContext(ctx, `SELECT event_id, stream_id, version, global_position FROM events WHERE event_id IN (?`+
		strings.Repeat(",?", len(ids)-1)+`)`, ids...)
	if err != nil {
		return events.AppendResult{}, false, fmt.Errorf("sqlite: duplicate check: %w", err)
	}
	defer rows.Close()
	type hit struct {
		stream       string
		version, pos int64
	}
	found := map[string]hit{}
	for rows.Next() {
		var id string
		var h hit
		if err := rows.Scan(&id, &h.stream, &h.version, &h.pos); err != nil {
			return events.AppendResult{}, false, err
		}
		found[id] = h
	}
	if err := rows.Err(); err != nil {
		return events.AppendResult{}, false, err
	}
	if len(found) == 0 {
		return events.AppendResult{}, false, nil
	}
	var res events.AppendResult
	for i, e := range evs {
		h, ok := found[e.EventID]
		if !ok {
			return res, false, &events.DuplicateEventError{EventID: evs[0].EventID, Reason: "batch mixes already-stored events with new ones"}
		}
		if h.stream != streamID {
			return res, false, &events.DuplicateEventError{EventID: e.EventID, Reason: "already stored in another stream"}
		}
		if i == 0 {
			res.FirstPosition = h.pos
		} else if h.version != res.NextExpectedVersion+1 {
			return res, false, &events.DuplicateEventError{EventID: e.EventID, Reason: "already stored at a different place in the stream"}
		}
		res.NextExpectedVersion = h.version
		res.LastPosition = h.pos
	}
	res.Duplicate = true
	return res, true, nil
}

const eventColumns = `global_position, event_id, stream_id, version, type, schema_version, occurred_at, recorded_at,
	correlation_id, causation_id, actor, tenant, trace_parent, data, metadata`

func scanEvents(rows *sql.Rows, capHint int) ([]events.Envelope, error) {
	defer rows.Close()
	out := make([]events.Envelope, 0, capHint)
	for rows.Next() {
		var e events.Envelope
		var occurred, recorded int64
		var data string
		var meta sql.NullString
		if err := rows.Scan(&e.GlobalPosition, &e.EventID, &e.StreamID, &e.Version, &e.Type, &e.SchemaVersion, &occurred, &recorded,
			&e.CorrelationID, &e.CausationID, &e.Actor, &e.Tenant, &e.TraceParent, &data, &meta); err != nil {
			return nil, err
		}
		e.StreamType = events.StreamTypeOf(e.StreamID)
		e.OccurredAt = time.UnixMicro(occurred).UTC()
		e.RecordedAt = time.UnixMicro(recorded).UTC()
		e.Data = json.RawMessage(data)
		if meta.Valid {
			e.Metadata = json.RawMessage(meta.String)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ReadStream implements events.EventStore.
func (s *Store) ReadStream(ctx context.Context, streamID string, opts events.ReadStreamOptions) ([]events.Envelope, error) {
	limit := events.NormalizeLimit(opts.Limit)
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}) // one snapshot for the stream row and its events
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck
	st, err := loadStream(ctx, tx.StmtContext(ctx, s.rd.loadStream), streamID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: load stream: %w", err)
	}
	if st.tombstoned {
		return nil, &events.StreamDeletedError{StreamID: streamID}
	}
	if !st.exists() {
		return nil, events.ErrStreamNotFound
	}
	asOf := int64(1<<63 - 1)
	if !opts.AsOf.IsZero() {
		asOf = opts.AsOf.UnixMicro()
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM events WHERE stream_id = ? AND version >= ? AND recorded_at <= ? LIMIT 1)`,
			streamID, st.truncateBefore, asOf).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, events.ErrStreamNotFound
		}
	}
	var rows *sql.Rows
	if opts.Backwards {
		from := opts.From
		if from <= 0 {
			from = st.version
		}
		rows, err = tx.StmtContext(ctx, s.rd.backwards).QueryContext(ctx, streamID, from, st.truncateBefore, asOf, limit)
	} else {
		from := max(opts.From, st.truncateBefore, 1)
		rows, err = tx.StmtContext(ctx, s.rd.forwards).QueryContext(ctx, streamID, from, asOf, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read stream: %w", err)
	}
	return scanEvents(rows, min(limit, 64))
}

// ReadEvent implements events.EventStore.
func (s *Store) ReadEvent(ctx context.Context, eventID string) (events.Envelope, error) {
	out, err := s.queryRaw(ctx, readEventSQL, []any{eventID}, 1)
	if err != nil {
		return events.Envelope{}, fmt.Errorf("sqlite: read event: %w", err)
	}
	if len(out) == 0 {
		return events.Envelope{}, events.ErrEventNotFound
	}
	return out[0], nil
}

const readEventSQL = `SELECT ` + eventColumns + ` FROM events WHERE event_id = ?`

// ReadAll implements events.EventStore.
func (s *Store) ReadAll(ctx context.Context, after int64, limit int) ([]events.Envelope, error) {
	limit = events.NormalizeLimit(limit)
	out, err := s.queryRaw(ctx, readAllSQL, []any{after, int64(limit)}, min(limit, 512))
	if err != nil {
		return nil, fmt.Errorf("sqlite: read all: %w", err)
	}
	return out, nil
}

// queryRaw runs a query of eventColumns. $all is what relays and projections read in bulk: rows
// are read through the driver directly, skipping database/sql's per-column conversion, which was
// a third of the relay's CPU. One statement: one snapshot.
func (s *Store) queryRaw(ctx context.Context, query string, args []any, capHint int) ([]events.Envelope, error) {
	conn, err := s.r.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	var out []events.Envelope
	err = conn.Raw(func(dc any) error {
		q, ok := dc.(driver.QueryerContext)
		if !ok {
			return fmt.Errorf("driver %T cannot query", dc)
		}
		rows, err := q.QueryContext(ctx, query, named)
		if err != nil {
			return err
		}
		defer rows.Close()
		out = make([]events.Envelope, 0, capHint)
		dest := make([]driver.Value, 15)
		for {
			if err := rows.Next(dest); err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
			e, err := envelopeFromRow(dest)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

const readAllSQL = `SELECT ` + eventColumns + ` FROM events WHERE global_position > ? ORDER BY global_position LIMIT ?`

// envelopeFromRow converts a raw row in eventColumns order.
func envelopeFromRow(v []driver.Value) (events.Envelope, error) {
	var e events.Envelope
	var ok [8]bool
	e.GlobalPosition, ok[0] = v[0].(int64)
	e.EventID, ok[1] = v[1].(string)
	e.StreamID, ok[2] = v[2].(string)
	e.Version, ok[3] = v[3].(int64)
	e.Type, ok[4] = v[4].(string)
	sv, ok5 := v[5].(int64)
	occurred, ok6 := v[6].(int64)
	recorded, ok7 := v[7].(int64)
	ok[5], ok[6], ok[7] = ok5, ok6, ok7
	for i, good := range ok {
		if !good {
			return e, fmt.Errorf("row at position %v: column %d has type %T", v[0], i, v[i])
		}
	}
	// The optional text columns are NOT NULL DEFAULT '': a missing one reads as "".
	e.CorrelationID, _ = v[8].(string)
	e.CausationID, _ = v[9].(string)
	e.Actor, _ = v[10].(string)
	e.Tenant, _ = v[11].(string)
	e.TraceParent, _ = v[12].(string)
	e.SchemaVersion = int(sv)
	e.StreamType = events.StreamTypeOf(e.StreamID)
	e.OccurredAt = time.UnixMicro(occurred).UTC()
	e.RecordedAt = time.UnixMicro(recorded).UTC()
	switch d := v[13].(type) {
	case string:
		e.Data = json.RawMessage(d)
	case []byte:
		e.Data = append(json.RawMessage(nil), d...)
	default:
		return e, fmt.Errorf("row at position %d: data has type %T", e.GlobalPosition, v[13])
	}
	switch m := v[14].(type) {
	case string:
		e.Metadata = json.RawMessage(m)
	case []byte:
		e.Metadata = append(json.RawMessage(nil), m...)
	}
	return e, nil
}

// HeadPosition implements events.EventStore.
func (s *Store) HeadPosition(ctx context.Context) (int64, error) {
	var h int64
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(global_position), 0) FROM events`).Scan(&h)
	return h, err
}

// WaitForAppend implements events.EventStore.
func (s *Store) WaitForAppend(ctx context.Context, after int64) error {
	s.notifyMu.Lock()
	ch := s.notify
	s.notifyMu.Unlock()
	if h, err := s.HeadPosition(ctx); err != nil {
		return err
	} else if h > after {
		return nil
	}
	t := time.NewTimer(s.cfg.PollInterval)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closed:
		return events.ErrClosed
	case <-ch:
	case <-t.C:
	}
	return nil
}

// StreamInfo implements events.EventStore.
func (s *Store) StreamInfo(ctx context.Context, streamID string) (events.StreamInfo, error) {
	st, err := loadStream(ctx, s.r, streamID)
	if err != nil {
		return events.StreamInfo{}, fmt.Errorf("sqlite: stream info: %w", err)
	}
	info := events.StreamInfo{StreamID: streamID, StreamType: events.StreamTypeOf(streamID), Version: st.version,
		Exists: st.exists(), Deleted: st.deleted, Tombstoned: st.tombstoned, TruncateBefore: st.truncateBefore}
	if st.metadata.Valid {
		info.Metadata = json.RawMessage(st.metadata.String)
	}
	return info, nil
}

// SetStreamMetadata implements events.EventStore.
func (s *Store) SetStreamMetadata(ctx context.Context, streamID string, metadata json.RawMessage) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(metadata, &obj); err != nil || obj == nil {
		return &events.InvalidEventError{Index: -1, Name: "metadata", Reason: "must be a JSON object"}
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	_, err := s.w.ExecContext(ctx, `INSERT INTO streams (stream_id, stream_type, metadata) VALUES (?, ?, ?)
		ON CONFLICT (stream_id) DO UPDATE SET metadata = excluded.metadata`, streamID, events.StreamTypeOf(streamID), string(metadata))
	if err != nil {
		return fmt.Errorf("sqlite: set metadata: %w", err)
	}
	return nil
}

// DeleteStream implements events.EventStore (soft delete).
func (s *Store) DeleteStream(ctx context.Context, streamID string, expected events.ExpectedVersion) error {
	return s.delete(ctx, streamID, expected, false)
}

// TombstoneStream implements events.EventStore.
func (s *Store) TombstoneStream(ctx context.Context, streamID string, expected events.ExpectedVersion) error {
	return s.delete(ctx, streamID, expected, true)
}

func (s *Store) delete(ctx context.Context, streamID string, expected events.ExpectedVersion, hard bool) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck
	st, err := loadStream(ctx, tx, streamID)
	if err != nil {
		return err
	}
	if st.tombstoned {
		return &events.StreamDeletedError{StreamID: streamID}
	}
	if !expected.Check(liveVersion(st), st.exists()) {
		return &events.VersionConflictError{StreamID: streamID, Expected: expected, Actual: liveVersion(st), Exists: st.exists()}
	}
	if hard {
		_, err = tx.ExecContext(ctx, `INSERT INTO streams (stream_id, stream_type, tombstoned) VALUES (?, ?, 1)
			ON CONFLICT (stream_id) DO UPDATE SET tombstoned = 1`, streamID, events.StreamTypeOf(streamID))
	} else {
		if !st.exists() {
			return events.ErrStreamNotFound
		}
		_, err = tx.ExecContext(ctx, `UPDATE streams SET deleted = 1, truncate_before = version + 1 WHERE stream_id = ?`, streamID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete stream: %w", err)
	}
	if _, err := tx.ExecContext(ctx, deleteSnapshotSQL, streamID); err != nil {
		return fmt.Errorf("sqlite: delete stream: %w", err)
	}
	return tx.Commit()
}

// LoadCheckpoint returns a named consumer position (0 when none is stored).
func (s *Store) LoadCheckpoint(ctx context.Context, name string) (int64, error) {
	var pos int64
	err := s.r.QueryRowContext(ctx, `SELECT position FROM checkpoints WHERE name = ?`, name).Scan(&pos)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return pos, err
}

// SaveCheckpoint durably stores a named consumer position.
func (s *Store) SaveCheckpoint(ctx context.Context, name string, pos int64) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	_, err := s.w.ExecContext(ctx, `INSERT INTO checkpoints (name, position, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
		name, pos, time.Now().UnixMicro())
	return err
}

// DB returns the write handle, for benchmarks that measure a raw baseline on the same file settings.
func (s *Store) DB() *sql.DB { return s.w }
