// Package projections holds the contracts of the read side: a Projection turns events into rows of
// a read model in a SQL database (SQLite for the embedded default, PostgreSQL in production), and
// the runner (package runner) feeds it from the log, one transaction per batch that also records
// how far the projection got.
//
// # Generations and the atomic swap
//
// Every table a projection owns exists per generation: the projection "findings" at generation 3
// writes table findings_g3. Queries never name a generation: they read the view findings, which
// the runner points at the live generation. A rebuild (soc replay) fills generation 4 beside the
// live one from position 0 and then, in one transaction, catches up, replaces the views and drops
// generation 3. SQLite and PostgreSQL both have transactional DDL, so a query sees either the old
// tables or the new ones, never a half-built model.
//
// # Idempotence
//
// Delivery is at least once. Every projection has a table of the last applied version of each
// stream it has seen (kept by the runner, in the batch's transaction), so a redelivered event is
// dropped before Apply sees it and a gap is detected (eventlog.VersionGuard).
package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/socplatform/soc/events"
)

// Projection is one read model fed by the log.
type Projection interface {
	// Name is the projection's stable name: a lower-case identifier (it prefixes table names and
	// names the Kafka consumer group).
	Name() string
	// Contexts are the bounded contexts whose events the projection reads. Events of a type the
	// projection does not handle are ignored (their streams still advance), never an error.
	Contexts() []string
	// Tables are the base names of the tables the projection owns, the names queries use (views).
	Tables() []string
	// Create creates the projection's tables and indexes for tx.Generation (names via tx.Table,
	// index names via tx.Index).
	Create(ctx context.Context, tx *Tx) error
	// Apply applies events, in order, inside tx. The runner has already dropped redeliveries.
	// An event the projection cannot apply (undecodable data, a broken invariant) is reported as
	// an *EventError so that the runner parks on it; any other error is treated as transient.
	Apply(ctx context.Context, tx *Tx, batch []events.Envelope) ([]Change, error)
}

// Upgrader is a projection whose tables gained columns after generations of it were created. The
// runner calls Upgrade on the live generation at start, in the transaction that then re-points the
// views (a PostgreSQL view's columns are fixed when it is created), so a read model written by an
// older binary keeps working without a rebuild; rows projected before hold the new columns'
// defaults until one (soc replay). Upgrade must be idempotent: it runs at every start.
type Upgrader interface {
	Upgrade(ctx context.Context, tx *Tx) error
}

// Change is what a projection tells live subscribers (WebSocket) after a batch commits: the event
// it applied and what the read model knows about its subject that the event itself may not carry.
type Change struct {
	Projection string          `json:"projection"`
	Event      events.Envelope `json:"event"`
	// Severity of the finding the event is about ("" when not a finding or unknown).
	Severity string `json:"severity,omitempty"`
	// AssetID the event is about (the asset itself, or a finding's asset).
	AssetID string `json:"asset_id,omitempty"`
}

// EventError reports that one event cannot be applied: a poison event.
type EventError struct {
	Event events.Envelope
	Err   error
}

func (e *EventError) Error() string {
	return fmt.Sprintf("event %s (%s, stream %s v%d, position %d): %v", e.Event.EventID, e.Event.Type, e.Event.StreamID, e.Event.Version, e.Event.GlobalPosition, e.Err)
}

func (e *EventError) Unwrap() error { return e.Err }

// Poison wraps err as the EventError of e.
func Poison(e *events.Envelope, err error) error { return &EventError{Event: *e, Err: err} }

// Dialect is the SQL flavour of a read-model database.
type Dialect int

const (
	SQLite Dialect = iota + 1
	Postgres
)

func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "unknown"
}

// Placeholder is the n-th (1-based) bind parameter: "?" on SQLite, "$n" on PostgreSQL.
func (d Dialect) Placeholder(n int) string {
	if d == Postgres {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// Placeholders returns "(p1, …, pn)" starting at parameter first, for IN lists and VALUES rows.
func (d Dialect) Placeholders(first, n int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.Placeholder(first + i))
	}
	b.WriteByte(')')
	return b.String()
}

// DB is a read-model database.
type DB struct {
	SQL     *sql.DB
	Dialect Dialect
}

// Tx is the transaction of one batch (or of a rebuild step), bound to one generation.
type Tx struct {
	*sql.Tx
	Dialect    Dialect
	Generation int64
}

// Table is the physical name of a projection table in the transaction's generation.
func (t *Tx) Table(base string) string { return TableName(base, t.Generation) }

// Index is the name of an index of a table in the transaction's generation (index names are
// schema-wide in PostgreSQL, so they carry the generation too).
func (t *Tx) Index(base, suffix string) string { return TableName(base, t.Generation) + "_" + suffix }

// P is the dialect's n-th placeholder.
func (t *Tx) P(n int) string { return t.Dialect.Placeholder(n) }

// TableName is base's physical name at generation gen.
func TableName(base string, gen int64) string { return base + "_g" + strconv.FormatInt(gen, 10) }

// ErrUnknownProjection is returned for a projection name that is not registered.
var ErrUnknownProjection = errors.New("unknown projection")

// Begin starts a transaction bound to generation gen. On SQLite it takes the write lock at once
// (the database is opened with _txlock=immediate).
func (db *DB) Begin(ctx context.Context, gen int64) (*Tx, error) {
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &Tx{Tx: tx, Dialect: db.Dialect, Generation: gen}, nil
}

// PointViews (re)creates the view of each of p's tables over the transaction's generation: after
// the transaction commits, queries read that generation.
func PointViews(ctx context.Context, tx *Tx, p Projection) error {
	for _, base := range p.Tables() {
		if _, err := tx.ExecContext(ctx, "DROP VIEW IF EXISTS "+base); err != nil {
			return fmt.Errorf("dropping view %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, "CREATE VIEW "+base+" AS SELECT * FROM "+tx.Table(base)); err != nil {
			return fmt.Errorf("creating view %s: %w", base, err)
		}
	}
	return nil
}

// DropGeneration drops p's tables of generation gen (their indexes go with them).
func DropGeneration(ctx context.Context, tx *Tx, p Projection, gen int64) error {
	for _, base := range p.Tables() {
		if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS "+TableName(base, gen)); err != nil {
			return fmt.Errorf("dropping %s: %w", TableName(base, gen), err)
		}
	}
	return nil
}
