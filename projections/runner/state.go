package runner

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/socplatform/soc/projections"
)

// The runner's own tables. They are shared by every projection in the database and created with
// IF NOT EXISTS, in portable SQL (BIGINT/TEXT work on both SQLite and PostgreSQL); times are
// BIGINT Unix microseconds so both dialects store and compare them the same way.
var stateDDL = []string{
	`CREATE TABLE IF NOT EXISTS projection_live (
  name       TEXT PRIMARY KEY,
  generation BIGINT NOT NULL,
  swapped_at BIGINT NOT NULL,
  contexts   TEXT NOT NULL DEFAULT ''
)`,
	`CREATE TABLE IF NOT EXISTS projection_state (
  name             TEXT NOT NULL,
  generation       BIGINT NOT NULL,
  position         BIGINT NOT NULL DEFAULT 0,
  last_recorded_at BIGINT NOT NULL DEFAULT 0,
  events_applied   BIGINT NOT NULL DEFAULT 0,
  parked_event_id  TEXT,
  parked_position  BIGINT,
  parked_stream_id TEXT,
  parked_version   BIGINT,
  parked_type      TEXT,
  parked_error     TEXT,
  parked_at        BIGINT,
  updated_at       BIGINT NOT NULL,
  PRIMARY KEY (name, generation)
)`,
	`CREATE TABLE IF NOT EXISTS projection_skips (
  name       TEXT NOT NULL,
  generation BIGINT NOT NULL,
  event_id   TEXT NOT NULL,
  position   BIGINT NOT NULL,
  stream_id  TEXT NOT NULL,
  type       TEXT NOT NULL,
  actor      TEXT NOT NULL,
  reason     TEXT NOT NULL,
  skipped_at BIGINT NOT NULL,
  PRIMARY KEY (name, generation, event_id)
)`,
}

// streamsTable is the physical name of the table of last applied stream versions of projection
// name at generation gen. It lives and dies with the generation's other tables.
func streamsTable(name string, gen int64) string { return projections.TableName(name+"_streams", gen) }

func createStreamsTable(ctx context.Context, tx *projections.Tx, name string) error {
	_, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+streamsTable(name, tx.Generation)+
		" (stream_id TEXT PRIMARY KEY, version BIGINT NOT NULL)")
	return err
}

// dropGeneration removes everything of generation gen: the projection's tables, the streams
// table and the state row.
func dropGeneration(ctx context.Context, tx *projections.Tx, p projections.Projection, gen int64) error {
	if err := projections.DropGeneration(ctx, tx, p, gen); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS "+streamsTable(p.Name(), gen)); err != nil {
		return fmt.Errorf("dropping %s: %w", streamsTable(p.Name(), gen), err)
	}
	q := newQuery(tx.Dialect)
	_, err := tx.ExecContext(ctx, "DELETE FROM projection_state WHERE name = "+q.arg(p.Name())+" AND generation = "+q.arg(gen), q.args...)
	return err
}

// query numbers bind parameters as they are added, so that one text serves both dialects.
type query struct {
	d    projections.Dialect
	args []any
}

func newQuery(d projections.Dialect) *query { return &query{d: d} }

func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return q.d.Placeholder(len(q.args))
}

// greatest is the two-argument maximum: GREATEST on PostgreSQL, the scalar MAX on SQLite.
func greatest(d projections.Dialect) string {
	if d == projections.Postgres {
		return "GREATEST"
	}
	return "MAX"
}

// lockInit serialises Init and generation allocation across processes on PostgreSQL:
// concurrent CREATE TABLE IF NOT EXISTS of the same table can fail there with a unique violation
// on the catalogue, and two rebuilds must not pick the same generation. On SQLite the write
// transaction is immediate, which serialises already.
func lockInit(ctx context.Context, tx *projections.Tx) error {
	if tx.Dialect != projections.Postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext('soc.projections.runner'))")
	return err
}

func ensureStateTables(ctx context.Context, tx *projections.Tx) error {
	for _, ddl := range stateDDL {
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return fmt.Errorf("creating runner tables: %w", err)
		}
	}
	return nil
}

// initProjection creates the runner's tables and, if p has no live generation yet, generation 1
// with its views, in one transaction. It is idempotent.
func initProjection(ctx context.Context, db *projections.DB, p projections.Projection, now time.Time) (err error) {
	tx, err := db.Begin(ctx, 1)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = lockInit(ctx, tx); err != nil {
		return err
	}
	if err = ensureStateTables(ctx, tx); err != nil {
		return err
	}
	contexts := strings.Join(p.Contexts(), ",")
	live, err := liveGeneration(ctx, txq{tx}, p.Name(), lockNone)
	switch {
	case errors.Is(err, ErrNotInitialized):
		if err = createGeneration(ctx, tx, p, now); err != nil {
			return err
		}
		if err = projections.PointViews(ctx, tx, p); err != nil {
			return err
		}
		q := newQuery(tx.Dialect)
		_, err = tx.ExecContext(ctx, "INSERT INTO projection_live (name, generation, swapped_at, contexts) VALUES ("+
			q.arg(p.Name())+", "+q.arg(tx.Generation)+", "+q.arg(now.UnixMicro())+", "+q.arg(contexts)+")", q.args...)
		if err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		// Keep the recorded contexts current: another process (WaitPosition) reads them.
		q := newQuery(tx.Dialect)
		_, err = tx.ExecContext(ctx, "UPDATE projection_live SET contexts = "+q.arg(contexts)+" WHERE name = "+q.arg(p.Name())+
			" AND contexts <> "+q.arg(contexts), q.args...)
		if err != nil {
			return err
		}
		if u, ok := p.(projections.Upgrader); ok {
			tx.Generation = live
			if err = u.Upgrade(ctx, tx); err != nil {
				return fmt.Errorf("upgrading %s generation %d: %w", p.Name(), live, err)
			}
			if err = projections.PointViews(ctx, tx, p); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

// createGeneration creates p's tables, the streams table and the state row of tx.Generation.
func createGeneration(ctx context.Context, tx *projections.Tx, p projections.Projection, now time.Time) error {
	if err := p.Create(ctx, tx); err != nil {
		return fmt.Errorf("creating %s generation %d: %w", p.Name(), tx.Generation, err)
	}
	if err := createStreamsTable(ctx, tx, p.Name()); err != nil {
		return fmt.Errorf("creating %s generation %d streams table: %w", p.Name(), tx.Generation, err)
	}
	q := newQuery(tx.Dialect)
	_, err := tx.ExecContext(ctx, "INSERT INTO projection_state (name, generation, updated_at) VALUES ("+
		q.arg(p.Name())+", "+q.arg(tx.Generation)+", "+q.arg(now.UnixMicro())+")", q.args...)
	if err != nil {
		return fmt.Errorf("creating %s generation %d state: %w", p.Name(), tx.Generation, err)
	}
	return nil
}

type rowLock int

const (
	lockNone rowLock = iota
	lockShare
	lockUpdate
)

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// liveGeneration reads the live generation of name. On PostgreSQL lockShare lets batches run
// side by side but waits for (and then sees the result of) a rebuild's swap, which takes
// lockUpdate; SQLite's immediate write transactions exclude each other anyway.
func liveGeneration(ctx context.Context, tx queryerTx, name string, lock rowLock) (int64, error) {
	d := tx.dialect()
	q := newQuery(d)
	text := "SELECT generation FROM projection_live WHERE name = " + q.arg(name)
	if d == projections.Postgres {
		switch lock {
		case lockShare:
			text += " FOR SHARE"
		case lockUpdate:
			text += " FOR UPDATE"
		}
	}
	var gen int64
	err := tx.QueryRowContext(ctx, text, q.args...).Scan(&gen)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%w: %s", ErrNotInitialized, name)
	}
	return gen, err
}

// queryerTx is what the state readers need: a *projections.Tx or a database handle with its dialect.
type queryerTx interface {
	queryer
	dialect() projections.Dialect
}

type txq struct{ *projections.Tx }

func (t txq) dialect() projections.Dialect { return t.Dialect }

type dbq struct{ *projections.DB }

func (d dbq) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return d.SQL.QueryRowContext(ctx, query, args...)
}
func (d dbq) dialect() projections.Dialect { return d.Dialect }

// state is one projection_state row.
type state struct {
	Generation    int64
	Position      int64
	LastRecorded  int64
	EventsApplied int64
	UpdatedAt     int64
	Parked        *parkedRow
}

type parkedRow struct {
	EventID  string
	Position int64
	StreamID string
	Version  int64
	Type     string
	Error    string
	At       int64
}

func (p *parkedRow) public() *ParkedState {
	if p == nil {
		return nil
	}
	return &ParkedState{EventID: p.EventID, Position: p.Position, StreamID: p.StreamID, Version: p.Version, Type: p.Type,
		Error: p.Error, Since: time.UnixMicro(p.At).UTC()}
}

func readState(ctx context.Context, tx queryerTx, name string, gen int64, forUpdate bool) (state, error) {
	d := tx.dialect()
	q := newQuery(d)
	text := `SELECT position, last_recorded_at, events_applied, updated_at, parked_event_id, parked_position,
  parked_stream_id, parked_version, parked_type, parked_error, parked_at
FROM projection_state WHERE name = ` + q.arg(name) + " AND generation = " + q.arg(gen)
	if forUpdate && d == projections.Postgres {
		text += " FOR UPDATE"
	}
	st := state{Generation: gen}
	var (
		id, stream, typ, perr sql.NullString
		pos, ver, at          sql.NullInt64
	)
	err := tx.QueryRowContext(ctx, text, q.args...).Scan(&st.Position, &st.LastRecorded, &st.EventsApplied, &st.UpdatedAt,
		&id, &pos, &stream, &ver, &typ, &perr, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("%w: %s generation %d has no state", ErrNotInitialized, name, gen)
	}
	if err != nil {
		return st, err
	}
	if id.Valid {
		st.Parked = &parkedRow{EventID: id.String, Position: pos.Int64, StreamID: stream.String, Version: ver.Int64,
			Type: typ.String, Error: perr.String, At: at.Int64}
	}
	return st, nil
}

// readLive reads the live generation and its state outside a transaction (status, waits).
func readLive(ctx context.Context, db *projections.DB, name string) (state, error) {
	gen, err := liveGeneration(ctx, dbq{db}, name, lockNone)
	if err != nil {
		return state{}, err
	}
	st, err := readState(ctx, dbq{db}, name, gen, false)
	if errors.Is(err, ErrNotInitialized) {
		// A rebuild swapped between the two reads and dropped gen: read again.
		if gen, err = liveGeneration(ctx, dbq{db}, name, lockNone); err != nil {
			return state{}, err
		}
		return readState(ctx, dbq{db}, name, gen, false)
	}
	return st, err
}

// liveContexts reads the contexts recorded for name at Init.
func liveContexts(ctx context.Context, db *projections.DB, name string) ([]string, error) {
	q := newQuery(db.Dialect)
	var s string
	err := db.SQL.QueryRowContext(ctx, "SELECT contexts FROM projection_live WHERE name = "+q.arg(name), q.args...).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", ErrNotInitialized, name)
	}
	if err != nil || s == "" {
		return nil, err
	}
	return strings.Split(s, ","), nil
}

// streamVersion reads the last applied version of one stream at generation gen (0 when none).
func streamVersion(ctx context.Context, db *projections.DB, name string, gen int64, streamID string) (int64, error) {
	q := newQuery(db.Dialect)
	var v int64
	err := db.SQL.QueryRowContext(ctx, "SELECT version FROM "+streamsTable(name, gen)+" WHERE stream_id = "+q.arg(streamID), q.args...).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}
