package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ddl is the store's schema. Every statement is idempotent (IF NOT EXISTS, ON CONFLICT DO NOTHING,
// CREATE OR REPLACE), so Open runs all of it every time; migrate serialises concurrent runs with an
// advisory lock. {S} is the quoted schema name, {CHANNEL} the NOTIFY channel (a string literal).
//
// A later change to a table is appended here as another idempotent statement
// (ALTER TABLE … ADD COLUMN IF NOT EXISTS …), never by editing an existing one.
const ddl = `
CREATE SCHEMA IF NOT EXISTS {S};

CREATE TABLE IF NOT EXISTS {S}.streams (
    stream_id       text        PRIMARY KEY,
    stream_type     text        NOT NULL,
    version         bigint      NOT NULL DEFAULT 0,     -- last written version; continues after a soft delete
    truncate_before bigint      NOT NULL DEFAULT 0,     -- versions below it are hidden from stream reads
    deleted         boolean     NOT NULL DEFAULT false, -- soft-deleted and not written since
    tombstoned      boolean     NOT NULL DEFAULT false, -- deleted for good
    metadata        jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 80); -- room for HOT updates: every append rewrites its stream's row

-- The single-row position counter. Appends take its row lock late in their transaction, which
-- serialises position assignment with commit order (see the package comment).
CREATE TABLE IF NOT EXISTS {S}.positions (
    id   boolean PRIMARY KEY DEFAULT true CHECK (id),
    last bigint  NOT NULL
) WITH (fillfactor = 10, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000);
INSERT INTO {S}.positions (id, last) VALUES (true, 0) ON CONFLICT (id) DO NOTHING;

CREATE TABLE IF NOT EXISTS {S}.events (
    global_position bigint      PRIMARY KEY,
    event_id        uuid        NOT NULL CONSTRAINT events_event_id_key UNIQUE,
    stream_id       text        NOT NULL,
    stream_type     text        NOT NULL,
    version         bigint      NOT NULL,
    type            text        NOT NULL,
    schema_version  integer     NOT NULL,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL,
    correlation_id  text,
    causation_id    text,
    actor           text,
    tenant          text,
    trace_parent    text,
    data            jsonb       NOT NULL,
    metadata        jsonb,
    -- Also the index for reading a stream as of a time: recorded_at is carried in the index
    -- (INCLUDE), so "which versions existed at T" is an index-only scan, at the cost of 8 bytes per
    -- entry instead of a fourth index to maintain on every insert (inserts run under the position
    -- lock, so every index costs throughput).
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, version) INCLUDE (recorded_at)
);

-- Audit queries (QueryEvents, query.go): each filter in (column, position) order, so a filter and
-- a position bound read one page in order. Events without a correlation id (NULL) are left out.
-- recorded_at has no index: it never decreases along positions (append_events), so a time is
-- found by bisecting the positions, and every index is maintained under the position lock.
CREATE INDEX IF NOT EXISTS events_type_position_idx ON {S}.events (type, global_position);
CREATE INDEX IF NOT EXISTS events_actor_position_idx ON {S}.events (actor, global_position);
CREATE INDEX IF NOT EXISTS events_correlation_position_idx ON {S}.events (correlation_id, global_position)
    WHERE correlation_id <> '';

-- The recorded_at of the last append, so that recorded_at never decreases along positions even if
-- the server's clock steps back (append_events); a time window is then a range of positions.
ALTER TABLE {S}.positions ADD COLUMN IF NOT EXISTS recorded_at timestamptz NOT NULL DEFAULT '-infinity';

CREATE TABLE IF NOT EXISTS {S}.checkpoints (
    name       text        PRIMARY KEY,
    position   bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- append_events is a whole append in one statement, hence one round trip and one implicit
-- transaction. It never raises for an outcome the caller must handle; it reports it in o_status:
--   0 appended, 1 idempotent duplicate (original positions), 2 version conflict (o_version is the
--   live version, o_exists whether the stream has live events), 3 tombstoned,
--   4 the first event id is stored in another stream, 5 the first event id is stored in this
--   stream but the batch does not match the stored events.
-- A refused append writes nothing: nothing has been written when it returns a refusal.
CREATE OR REPLACE FUNCTION {S}.append_events(
    p_stream_id   text,
    p_stream_type text,
    p_expected    bigint,
    p_event_ids   uuid[],
    p_types       text[],
    p_schema_vers integer[],
    p_occurred_at timestamptz[],
    p_correlation text[],
    p_causation   text[],
    p_actors      text[],
    p_tenants     text[],
    p_traces      text[],
    p_data        jsonb[],
    p_metadata    jsonb[],
    OUT o_status   integer,
    OUT o_version  bigint,
    OUT o_exists   boolean,
    OUT o_first    bigint,
    OUT o_last     bigint,
    OUT o_recorded timestamptz
) LANGUAGE plpgsql AS $fn$
DECLARE
    n         integer := cardinality(p_event_ids);
    s_found   boolean;
    s_type    text;
    s_version bigint;
    s_trunc   bigint;
    s_deleted boolean;
    s_tomb    boolean;
    live      boolean;
    ok        boolean;
    d_stream  text;
    d_version bigint;
    d_count   integer;
BEGIN
    LOOP
        -- 1. Lock the stream row (or learn that the stream is new).
        SELECT s.stream_type, s.version, s.truncate_before, s.deleted, s.tombstoned
          INTO s_type, s_version, s_trunc, s_deleted, s_tomb
          FROM {S}.streams s
         WHERE s.stream_id = p_stream_id
           FOR UPDATE;
        s_found := FOUND;
        IF NOT s_found THEN
            s_type := p_stream_type; s_version := 0; s_trunc := 0; s_deleted := false; s_tomb := false;
        END IF;
        IF s_tomb THEN
            o_status := 3;
            RETURN;
        END IF;

        -- 2. Idempotency. Each statement of this (volatile) function takes a fresh snapshot, so after
        -- the row lock above it sees every batch committed to this stream before us.
        SELECT e.stream_id, e.version INTO d_stream, d_version
          FROM {S}.events e WHERE e.event_id = p_event_ids[1];
        IF FOUND THEN
            IF d_stream <> p_stream_id THEN
                o_status := 4;
                RETURN;
            END IF;
            SELECT count(*), min(e.global_position), max(e.global_position), max(e.version)
              INTO d_count, o_first, o_last, o_version
              FROM unnest(p_event_ids) WITH ORDINALITY AS u(id, ord)
              JOIN {S}.events e ON e.event_id = u.id
             WHERE e.stream_id = p_stream_id AND e.version = d_version + u.ord - 1;
            IF d_count = n THEN
                o_status := 1;
            ELSE
                o_status := 5; o_first := NULL; o_last := NULL; o_version := NULL;
            END IF;
            RETURN;
        END IF;

        -- 3. Expected version: the same rule as events.ExpectedVersion.Check. A soft-deleted stream
        -- has no live events (live version 0) but keeps numbering from its last version.
        live := NOT s_deleted AND s_version > 0 AND s_version >= s_trunc;
        ok := CASE p_expected
                  WHEN -2 THEN true         -- Any
                  WHEN -1 THEN NOT live     -- NoStream
                  WHEN -4 THEN live         -- StreamExists
                  ELSE CASE WHEN live THEN p_expected = s_version ELSE p_expected = 0 END
              END;
        IF NOT ok THEN
            o_status := 2;
            o_version := CASE WHEN live THEN s_version ELSE 0 END;
            o_exists := live;
            RETURN;
        END IF;

        -- 4. Advance the stream. A new stream's row is inserted now; if a concurrent append created
        -- it first, lock that row and decide again.
        IF s_found THEN
            UPDATE {S}.streams
               SET version = s_version + n, deleted = false, updated_at = now()
             WHERE stream_id = p_stream_id;
            EXIT;
        END IF;
        INSERT INTO {S}.streams (stream_id, stream_type, version)
        VALUES (p_stream_id, p_stream_type, n)
        ON CONFLICT (stream_id) DO NOTHING;
        EXIT WHEN FOUND;
    END LOOP;

    -- 5. Positions, as late as possible: from here to commit this transaction holds the counter's row
    -- lock, so the next append gets its positions only once this one is visible.
    -- recorded_at is the database clock read under the counter lock, and never less than the
    -- previous append's, so it never decreases along global positions (nor along a stream's
    -- versions), even if the clock steps back.
    UPDATE {S}.positions SET last = last + n, recorded_at = greatest(recorded_at, clock_timestamp())
    RETURNING last, recorded_at INTO o_last, o_recorded;
    o_first := o_last - n + 1;
    INSERT INTO {S}.events (global_position, event_id, stream_id, stream_type, version, type, schema_version,
                            occurred_at, recorded_at, correlation_id, causation_id, actor, tenant, trace_parent,
                            data, metadata)
    SELECT o_first + u.ord - 1, u.id, p_stream_id, s_type, s_version + u.ord, u.typ, u.sv,
           coalesce(u.occ, o_recorded), o_recorded, NULLIF(u.corr, ''), NULLIF(u.caus, ''), NULLIF(u.act, ''), NULLIF(u.ten, ''),
           NULLIF(u.tp, ''), u.dat, u.meta
      FROM unnest(p_event_ids, p_types, p_schema_vers, p_occurred_at, p_correlation, p_causation,
                  p_actors, p_tenants, p_traces, p_data, p_metadata)
           WITH ORDINALITY AS u(id, typ, sv, occ, corr, caus, act, ten, tp, dat, meta, ord);
    -- Delivered at commit, in commit order (= position order).
    PERFORM pg_notify({CHANNEL}, o_last::text);
    o_status := 0;
    o_version := s_version + n;
    o_exists := true;
END
$fn$;

-- Aggregate snapshots (snapshots.go): the latest per stream, a cache beside the events.
CREATE TABLE IF NOT EXISTS {S}.snapshots (
    stream_id      text        PRIMARY KEY,
    version        bigint      NOT NULL,
    position       bigint      NOT NULL,
    schema_version integer     NOT NULL,
    data           jsonb       NOT NULL,
    saved_at       timestamptz NOT NULL DEFAULT now()
);
`

// renderDDL substitutes the schema and channel names.
func renderDDL(schema, channel string) string {
	r := strings.NewReplacer("{S}", quoteIdent(schema), "{CHANNEL}", quoteLiteral(channel))
	return r.Replace(ddl)
}

func quoteIdent(s string) string { return pgx.Identifier{s}.Sanitize() }

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// migrateLockKey is the advisory lock taken while migrating one schema. Different schemas do not
// wait for each other.
func migrateLockKey(schema string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("soc/events/postgres/migrate:" + schema))
	return int64(h.Sum64())
}

// migrate creates or completes the schema. Two processes opening the store at once both run it;
// the transaction-scoped advisory lock makes the second wait and then find everything in place
// (IF NOT EXISTS alone is not enough: concurrent CREATEs of the same name can fail on the catalogs'
// unique indexes).
func migrate(ctx context.Context, pool *pgxpool.Pool, schema, channel string) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLockKey(schema)); err != nil {
		return fmt.Errorf("advisory lock: %w", err)
	}
	// Simple protocol: several statements in one message, no parameters.
	if _, err := tx.Exec(ctx, renderDDL(schema, channel), pgx.QueryExecModeSimpleProtocol); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
