// Package postgres is the PostgreSQL adapter of the events.EventStore port (pgx v5, pgxpool).
//
// # Global order: why ReadAll never skips an event
//
// A bigserial (or any sequence) is assigned when a row is inserted, not when its transaction
// commits. Two appends A and B can take positions 10 and 11, B can commit first, and a reader that
// sees 11 moves its cursor past 10 and never reads it once A commits. That is the classic bug of
// SQL-backed event stores.
//
// This adapter serialises the assignment of positions with commit order instead. Positions come
// from a single-row counter table, `UPDATE positions SET last = last + n RETURNING last`, executed
// inside the appending transaction. PostgreSQL releases that row lock only at the end of commit,
// after the committed transaction has become visible to new snapshots (ProcArrayEndTransaction runs
// before the lock manager releases the transaction's locks). So the next append obtains its
// positions only after every lower position is visible, and it becomes visible itself even later:
// any snapshot that shows position p also shows every position below p. A rolled-back append
// rolls its counter increment back too, so positions are gapless.
//
// The price is that appends to the store take turns for the span they hold the lock, so that span
// is kept as short as possible: the lock is taken late, after the stream row is locked, the
// idempotency probe is done, the expected version is checked and the stream row is updated, just
// before the events are inserted. It is then held for one multi-row INSERT … SELECT FROM unnest(…)
// and the commit, including its WAL flush. Throughput therefore scales with batch size, not with
// the number of writers. The whole append is one call of the plpgsql function append_events
// (schema.go): one statement, one implicit transaction, one network round trip, so the lock is
// never held across a round trip to the client. (COPY cannot run inside a function: an append that
// COPYs needs BEGIN, a locking call, COPY and COMMIT, holding the lock across three round trips;
// BenchmarkAppendBatchCopyVariant8x100 measures it at 0.55-0.85x the throughput of this design,
// although a plain COPY is usually faster than a plain unnest INSERT when nothing is locked.)
// The JSON of the batch is parsed when the call's parameters are bound, before the lock.
//
// The alternative (keep a sequence, and make readers stop below the oldest in-flight transaction,
// pg_snapshot_xmin(pg_current_snapshot())) lets writers commit in parallel but makes every reader
// pay for, and wait behind, the slowest open transaction on the whole server; it was not chosen.
//
// Lock order is always stream row, then counter row; deletes and metadata writes take only the
// stream row, so appends cannot deadlock. Idempotency races cannot leave the client with a raw
// unique violation: a concurrent identical append to the same stream waits on the stream row lock
// and then finds the batch stored (Duplicate=true); the same event id racing into two streams
// fails one transaction on the event_id unique index, which Append classifies and retries.
//
// # Time
//
// recorded_at is the database's clock_timestamp() read while the counter lock is held, the same
// value for a whole batch. Using the database clock keeps recorded_at comparable across writer
// processes; reading it under the lock (rather than now(), the transaction start, taken before
// waiting for the lock) makes it non-decreasing along global positions; the counter row also keeps
// the last recorded_at, and an append never records less (greatest), so that holds even when the
// server's clock steps back. "A stream as of time T" is a prefix of the stream, and a time window
// of QueryEvents is a range of positions.
//
// # Wake-ups
//
// Every append does pg_notify(<schema>_events, last_position); the notification is delivered at
// commit, in commit order. One dedicated connection per Store LISTENs and fans the position out to
// all WaitForAppend callers in-process; PollInterval bounds the wait, so a missed notification (a
// dropped listener connection) only costs latency. The listener connection is opened on the first
// WaitForAppend and is not counted in MaxConns.
package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/internal/groupcommit"
)

// Config configures the PostgreSQL event store.
type Config struct {
	// URL is a PostgreSQL connection URL or DSN ("postgres://user:pw@host:5432/db?sslmode=disable").
	URL string
	// Schema holds the store's tables. Default "soc".
	Schema string
	// MaxConns bounds the pool. Default: pgxpool's (the greater of 4 and the number of CPUs).
	MaxConns int32
	// PollInterval bounds how long WaitForAppend waits when no notification arrives. Default 200ms.
	PollInterval time.Duration
}

// DefaultSchema and DefaultPollInterval are the defaults of Config.
const (
	DefaultSchema       = "soc"
	DefaultPollInterval = 200 * time.Millisecond
)

// The schema name must be a plain lower-case identifier; the NOTIFY channel "<schema>_events" must
// fit PostgreSQL's 63-byte identifiers.
var schemaRe = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,55}$`)

// Validate reports every problem with the configuration at once. It never quotes the URL: it may
// carry a password.
func (c Config) Validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("postgres: url is required"))
	} else if _, err := pgxpool.ParseConfig(c.URL); err != nil {
		errs = append(errs, errors.New("postgres: url is not a valid PostgreSQL URL or DSN (details withheld: they may contain the password)"))
	}
	if c.Schema != "" && !schemaRe.MatchString(c.Schema) {
		errs = append(errs, fmt.Errorf("postgres: schema %q must be a lower-case identifier ([a-z_][a-z0-9_]*) of at most 56 bytes", c.Schema))
	}
	if c.MaxConns < 0 {
		errs = append(errs, fmt.Errorf("postgres: max conns must not be negative (got %d)", c.MaxConns))
	}
	if c.PollInterval < 0 {
		errs = append(errs, fmt.Errorf("postgres: poll interval must not be negative (got %s)", c.PollInterval))
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.Schema == "" {
		c.Schema = DefaultSchema
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	return c
}

// Store implements events.EventStore on PostgreSQL. It is safe for concurrent use.
type Store struct {
	cfg     Config
	pool    *pgxpool.Pool
	connCfg *pgx.ConnConfig // for the listener connection
	channel string
	q       queries

	closed   atomic.Bool
	done     chan struct{} // closed by Close
	closeMu  sync.Mutex
	listenMu sync.Mutex
	listenOn bool
	listenWG sync.WaitGroup
	stopLsn  context.CancelFunc
	wake     notifier

	committer *groupcommit.Committer[appendReq, events.AppendResult] // group.go
}

var _ events.EventStore = (*Store)(nil)

// Open connects, runs the idempotent migrations and returns the store.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	pcfg, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil { // unreachable after Validate; never echo the parser's message, it may quote the URL
		return nil, errors.New("postgres: url is not a valid PostgreSQL URL or DSN")
	}
	if cfg.MaxConns > 0 {
		pcfg.MaxConns = cfg.MaxConns
	}
	if _, ok := pcfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		pcfg.ConnConfig.RuntimeParams["application_name"] = "soc-events"
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: pool: %w", safeErr(err))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", safeErr(err))
	}
	channel := cfg.Schema + "_events"
	if err := migrate(ctx, pool, cfg.Schema, channel); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrate schema %s: %w", cfg.Schema, safeErr(err))
	}
	s := &Store{
		cfg:     cfg,
		pool:    pool,
		connCfg: pcfg.ConnConfig.Copy(),
		channel: channel,
		q:       newQueries(quoteIdent(cfg.Schema)),
		done:    make(chan struct{}),
	}
	s.wake.init()
	s.startCommitter()
	return s, nil
}

// Pool returns the connection pool (for benchmarks and tests that need a raw baseline on the same
// connection settings).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Schema returns the schema holding the store's tables.
func (s *Store) Schema() string { return s.cfg.Schema }

// Close stops the listener and closes the pool. Later calls return events.ErrClosed.
func (s *Store) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed.Swap(true) {
		return nil
	}
	close(s.done)
	<-s.committer.Stopped() // the transaction in flight finishes and is answered before the pool closes
	s.listenMu.Lock()
	if s.stopLsn != nil {
		s.stopLsn()
	}
	s.listenMu.Unlock()
	s.listenWG.Wait()
	s.pool.Close()
	return nil
}

// check returns ErrClosed once the store is closed.
func (s *Store) check() error {
	if s.closed.Load() {
		return events.ErrClosed
	}
	return nil
}

// wrap turns a driver error into the store's error: ErrClosed after Close, context errors as they
// are, anything else prefixed with the operation. Driver errors never carry the password.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if s.closed.Load() {
		return events.ErrClosed
	}
	return fmt.Errorf("postgres: %s: %w", op, safeErr(err))
}

// safeErr drops a ParseConfigError (whose message is built from the connection string); other
// pgx errors name at most the user, database and host.
func safeErr(err error) error {
	var pce *pgconn.ParseConfigError
	if errors.As(err, &pce) {
		return errors.New("invalid connection configuration (details withheld)")
	}
	return err
}

// queries holds the SQL texts, schema-qualified once at Open. pgx prepares and caches each text
// per connection, so after the first use each is one Bind/Execute round trip.
type queries struct {
	append, readAll, head, readFwd, readBack, info, setMeta, lockStream, createStream string
	softDelete, tombstone, firstStored, loadCkpt, saveCkpt                            string
	readEvent, loadSnap, saveSnap, deleteSnap                                         string
}

const eventCols = `e.global_position, e.event_id, e.stream_id, e.stream_type, e.version, e.type, e.schema_version,
	e.occurred_at, e.recorded_at, coalesce(e.correlation_id, ''), coalesce(e.causation_id, ''), coalesce(e.actor, ''),
	coalesce(e.tenant, ''), coalesce(e.trace_parent, ''), e.data, e.metadata`

func newQueries(s string) queries {
	// readStream: the stream row and a page of its events in one statement (one snapshot). The
	// LEFT JOIN yields one row with NULL event columns when the page is empty; the event columns
	// are coalesced so that they scan into plain Go values (position 0 = no event).
	readStream := func(order, cmp string) string {
		return `WITH s AS MATERIALIZED ( -- the stream row, and whether it had live events at AsOf: once, not per event row
        SELECT s.stream_id, s.stream_type, s.version, s.truncate_before, s.deleted, s.tombstoned,
               $4::timestamptz IS NULL OR EXISTS (
                   SELECT 1 FROM ` + s + `.events x
                    WHERE x.stream_id = s.stream_id AND x.version >= s.truncate_before AND x.recorded_at <= $4) AS existed
          FROM ` + s + `.streams s
         WHERE s.stream_id = $1)
SELECT s.stream_type, s.version, s.truncate_before, s.deleted, s.tombstoned, s.existed,
       coalesce(e.global_position, 0), coalesce(e.event_id, '00000000-0000-0000-0000-000000000000'),
       coalesce(e.stream_id, ''), coalesce(e.stream_type, ''), coalesce(e.version, 0), coalesce(e.type, ''),
       coalesce(e.schema_version, 0), coalesce(e.occurred_at, 'epoch'), coalesce(e.recorded_at, 'epoch'),
       coalesce(e.correlation_id, ''), coalesce(e.causation_id, ''), coalesce(e.actor, ''), coalesce(e.tenant, ''),
       coalesce(e.trace_parent, ''), coalesce(e.data, 'null'), e.metadata
  FROM s
  LEFT JOIN LATERAL (
        SELECT * FROM ` + s + `.events ev
         WHERE ev.stream_id = s.stream_id AND NOT s.deleted AND NOT s.tombstoned
           AND ev.version ` + cmp + ` $2 AND ev.version >= s.truncate_before
           AND ev.recorded_at <= coalesce($4::timestamptz, 'infinity')
         ORDER BY ev.version ` + order + `
         LIMIT $3) e ON true
 ORDER BY e.version ` + order
	}
	return queries{
		append: `SELECT o_status, o_version, o_exists, o_first, o_last, o_recorded
			FROM ` + s + `.append_events($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		readAll:  `SELECT ` + eventCols + ` FROM ` + s + `.events e WHERE e.global_position > $1 ORDER BY e.global_position LIMIT $2`,
		head:     `SELECT last FROM ` + s + `.positions`,
		readFwd:  readStream("ASC", ">="),
		readBack: readStream("DESC", "<="),
		info: `SELECT stream_type, version, truncate_before, deleted, tombstoned, metadata
			FROM ` + s + `.streams WHERE stream_id = $1`,
		// Insert-or-update, refused (no row returned) for a tombstoned stream.
		setMeta: `INSERT INTO ` + s + `.streams AS t (stream_id, stream_type, metadata) VALUES ($1, $2, $3)
			ON CONFLICT (stream_id) DO UPDATE SET metadata = EXCLUDED.metadata, updated_at = now()
			WHERE NOT t.tombstoned
			RETURNING true`,
		lockStream: `SELECT version, truncate_before, deleted, tombstoned FROM ` + s + `.streams
			WHERE stream_id = $1 FOR UPDATE`,
		createStream: `INSERT INTO ` + s + `.streams (stream_id, stream_type) VALUES ($1, $2)
			ON CONFLICT (stream_id) DO NOTHING`,
		softDelete: `UPDATE ` + s + `.streams SET deleted = true, truncate_before = version + 1, updated_at = now()
			WHERE stream_id = $1`,
		tombstone: `UPDATE ` + s + `.streams SET tombstoned = true, updated_at = now() WHERE stream_id = $1`,
		// The first stored event id of a batch (by batch index, 1-based), after a unique violation.
		firstStored: `SELECT u.ord, e.stream_id FROM unnest($1::uuid[]) WITH ORDINALITY AS u(id, ord)
			JOIN ` + s + `.events e ON e.event_id = u.id ORDER BY u.ord LIMIT 1`,
		readEvent: `SELECT ` + eventCols + ` FROM ` + s + `.events e WHERE e.event_id = $1`,
		loadSnap:  `SELECT version, position, schema_version, data FROM ` + s + `.snapshots WHERE stream_id = $1`,
		// A snapshot older than the stored one never replaces it: two commands that loaded the
		// same stream may save out of order. Nor is one stored for a stream that is deleted, or
		// was deleted after the snapshot's version (a command that loaded before a delete saves
		// late). The stream row is share-locked: a delete in flight (which locks it for update
		// and drops the snapshot) finishes first, and the condition is checked on what it wrote.
		saveSnap: `WITH live AS (
				SELECT 1 FROM ` + s + `.streams
				 WHERE stream_id = $1::text AND NOT deleted AND NOT tombstoned AND truncate_before <= $2::bigint AND version >= $2::bigint
				   FOR SHARE)
			INSERT INTO ` + s + `.snapshots AS t (stream_id, version, position, schema_version, data)
			SELECT $1::text, $2::bigint, $3::bigint, $4::integer, $5::jsonb FROM live
			ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version, position = EXCLUDED.position,
				schema_version = EXCLUDED.schema_version, data = EXCLUDED.data, saved_at = now()
			WHERE EXCLUDED.version >= t.version`,
		deleteSnap: `DELETE FROM ` + s + `.snapshots WHERE stream_id = $1`,
		loadCkpt:   `SELECT position FROM ` + s + `.checkpoints WHERE name = $1`,
		saveCkpt: `INSERT INTO ` + s + `.checkpoints (name, position) VALUES ($1, $2)
			ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now()`,
	}
}

// LoadCheckpoint returns a named consumer position (0 when none is stored).
func (s *Store) LoadCheckpoint(ctx context.Context, name string) (int64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	var pos int64
	err := s.pool.QueryRow(ctx, s.q.loadCkpt, name).Scan(&pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return pos, s.wrap("load checkpoint", err)
}

// SaveCheckpoint durably stores a named consumer position.
func (s *Store) SaveCheckpoint(ctx context.Context, name string, pos int64) error {
	if err := s.check(); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, s.q.saveCkpt, name, pos)
	return s.wrap("save checkpoint", err)
}

// compactJSON undoes jsonb's output spacing ({"a": 1} → {"a":1}); key order is jsonb's.
func compactJSON(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	out := make([]byte, 0, len(b))
	inStr, esc := false, false
	for _, c := range b {
		if inStr {
			out = append(out, c)
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch c {
		case ' ', '\n', '\t', '\r':
			continue
		case '"':
			inStr = true
		}
		out = append(out, c)
	}
	return out
}
