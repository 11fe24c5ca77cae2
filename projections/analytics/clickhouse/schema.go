package clickhouse

import (
	"context"
	"fmt"
	"strings"

	"github.com/socplatform/soc/projections/analytics"
)

// The model lives in generations: every table's name ends in _g<N>, and the one-row table
// analytics_live names the generation readers and the Projector use. Rebuild fills generation
// N+1 beside the live one and flips analytics_live to it (one INSERT), so queries during a
// rebuild keep answering from generation N; the old tables are dropped after the flip.
//
// Idempotency without transactions: ClickHouse has none, so a batch is several INSERTs and a
// crash can fall between them. The facts go first, the dimensions after them, the position
// last: a redelivered batch then meets dimensions that do not yet know its events and folds
// them again. The writer stores only the facts (and scan facts) whose event id the table does
// not hold yet (one lookup by primary key per batch; an INSERT block is atomic, so a batch's
// facts are all there or none), so the fact tables hold each fact once and are read without
// FINAL: reading them with FINAL, or deduplicating with GROUP BY event_id, seq, cost seconds
// per query over a million facts on 18.16. They are still ReplacingMergeTree ordered by
// (event_id, seq), so that a row two writers stored at once (a Kafka rebalance handing a batch
// to two nodes) is collapsed by the next merge. Partitioning by month would not help: every
// answer sums the facts up to an instant, so every query reads every partition.
//
// Dimensions are ReplacingMergeTree(version) ordered by their id, read with FINAL: the highest
// stream version wins, whatever order the rows arrived in. Version columns are UInt64: 18.16
// takes no signed version column. All of this is plain MergeTree-family DDL that current
// ClickHouse accepts unchanged.
const liveDDL = `CREATE TABLE IF NOT EXISTS analytics_live (
	id UInt8,
	generation UInt64
) ENGINE = ReplacingMergeTree(generation) ORDER BY id`

// severityArray is analytics.Severities as an SQL array literal. The facts' sev column (1 for
// critical … 5 for info, 0 for none) is computed by the server on INSERT: grouping by it costs
// a third of grouping by the severity string on 18.16.
var severityArray = "['" + strings.Join(analytics.Severities, "', '") + "']"

// tables are the generation's tables: name (without the _g<N> suffix), columns, engine clause.
var tables = []struct{ name, columns, engine string }{
	{"analytics_facts", `event_id String, seq UInt8, position Int64, at Int64, finding_id String, asset_id String,
	type String, severity String, status_before String, status_after String, open_delta Int8, risk_delta Int64,
	scanner String, cve String, kev UInt8, epss Float64, has_epss UInt8, due_at Int64, duration Int64,
	sev UInt8 DEFAULT indexOf(` + severityArray + `, severity)`,
		`ReplacingMergeTree() ORDER BY (event_id, seq)`},
	{"analytics_findings", `finding_id String, asset_id String, severity String, status String, scanner String,
	cve String, kev UInt8, epss Float64, has_epss UInt8, due_at Int64, opened_at Int64, first_seen Int64,
	triaged_at Int64, risk Int64, version UInt64`,
		`ReplacingMergeTree(version) ORDER BY finding_id`},
	{"analytics_assets", `asset_id String, name String, kind String, team String, environment String,
	tags Array(String), criticality String, merged_into String, version UInt64`,
		`ReplacingMergeTree(version) ORDER BY asset_id`},
	{"analytics_scans", `event_id String, at Int64, scan_id String, scanner String, failed UInt8`,
		`ReplacingMergeTree() ORDER BY event_id`},
	// The latest scan of an asset by a scanner wins (at as the version).
	{"analytics_scanned", `asset_id String, scanner String, at UInt64`,
		`ReplacingMergeTree(at) ORDER BY (asset_id, scanner)`},
	// One row; the largest position is the one applied (max() at read: monotone whatever the
	// order of the INSERTs and merges).
	{"analytics_position", `id UInt8, position UInt64`,
		`ReplacingMergeTree(position) ORDER BY id`},
}

// table is the name of a generation's table.
func table(name string, gen uint64) string { return fmt.Sprintf("%s_g%d", name, gen) }

// liveGeneration returns the generation readers and writers use (0: none yet).
func (db *DB) liveGeneration(ctx context.Context) (uint64, error) {
	var gen uint64
	// argMax, not FINAL: correct before the flip rows are merged, on every version.
	if err := db.conn.QueryRow(ctx, "SELECT argMax(generation, generation) FROM analytics_live").Scan(&gen); err != nil {
		return 0, db.wrap("reading the live generation", err)
	}
	return gen, nil
}

// ensureSchema creates analytics_live and, when no generation is live, generation 1.
func (db *DB) ensureSchema(ctx context.Context) error {
	if err := db.conn.Exec(ctx, liveDDL); err != nil {
		return db.wrap("creating analytics_live", err)
	}
	gen, err := db.liveGeneration(ctx)
	if err != nil || gen != 0 {
		return err
	}
	if err := db.createGeneration(ctx, 1); err != nil {
		return err
	}
	return db.flip(ctx, 1)
}

// createGeneration creates the tables of generation gen (IF NOT EXISTS: two nodes starting at
// once create them once).
func (db *DB) createGeneration(ctx context.Context, gen uint64) error {
	for _, t := range tables {
		ddl := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s) ENGINE = %s", table(t.name, gen), t.columns, t.engine)
		if err := db.conn.Exec(ctx, ddl); err != nil {
			return db.wrap("creating "+table(t.name, gen), err)
		}
	}
	return nil
}

// dropGeneration drops the tables of generation gen.
func (db *DB) dropGeneration(ctx context.Context, gen uint64) error {
	var errs []string
	for _, t := range tables {
		if err := db.conn.Exec(ctx, "DROP TABLE IF EXISTS "+table(t.name, gen)); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return db.wrap(fmt.Sprintf("dropping generation %d", gen), fmt.Errorf("%s", strings.Join(errs, "; ")))
	}
	return nil
}

// flip makes gen the live generation: one row, the highest generation wins.
func (db *DB) flip(ctx context.Context, gen uint64) error {
	b, err := db.conn.PrepareBatch(ctx, "INSERT INTO analytics_live (id, generation)")
	if err != nil {
		return db.wrap("flipping the live generation", err)
	}
	if err := b.Append(uint8(0), gen); err != nil {
		_ = b.Abort()
		return db.wrap("flipping the live generation", err)
	}
	return db.wrap("flipping the live generation", b.Send())
}
