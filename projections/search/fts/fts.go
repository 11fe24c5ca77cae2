// Package fts is the embedded default search backend: the search read model (package search) in
// a SQLite file of its own, with FTS5 for free text and plain indexed tables for everything the
// field operators, facets and sorts need.
//
// # Layout
//
// Every table exists per generation g (a rebuild fills g+1 beside the live one, see Generations):
//
//   - docs_g: one row per document — its id, kind, version, one column per facet and sort key,
//     and the case-folded value of each single-valued exact field (status, team, …);
//   - bodies_g: the document as JSON (without State) and State, by docs_g's rid;
//   - terms_g(field, value, rid): the values of the multi-valued exact fields (cve, host,
//     package, tag, …), case-folded, so that such an operator is one range of one index;
//   - ips_g(addr, rid): the addresses, as a family byte and the address's bytes, so that a CIDR
//     range is a BETWEEN over one index;
//   - fts_g: the FTS5 table (title, text, other), rowid = docs_g.rid.
//
// The table generations holds each generation's position and which one is live; readers look the
// live generation up in the read transaction of every search, so a swap is atomic for them.
//
// # Tokens
//
// The contract splits text at every rune that is not a letter or digit (search.Tokens). FTS5's
// unicode61 tokenizer nearly agrees, but keeps combining marks and private-use characters inside
// tokens: so the text given to FTS5 is normalised first, every rune search.Tokens splits at
// replaced by as many spaces as it has bytes. Byte offsets are kept, which lets highlight() marks
// be carried back onto the original text. The multi-valued "other" column (asset name,
// hostnames, CVEs, packages, team, environment, tags) separates its values with a sentinel token
// no query can contain, so that a phrase never runs from one value into the next.
package fts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/projections/search"
	"github.com/socplatform/soc/projections/sqldb"
)

// sentinel separates the values of the FTS column "other". It is made a token character of the
// tokenizer (tokenchars) while search.Tokens splits at it (it is a format character, neither
// letter nor digit), so it sits between two values' tokens as a token no query phrase holds.
const sentinel = "\u2063"

// tokenizer is FTS5's tokenizer: unicode61 without diacritic folding (the contract has none),
// letters and numbers as token characters, plus the sentinel.
const tokenizer = `unicode61 remove_diacritics 0 categories 'L* N*' tokenchars '` + sentinel + `'`

// Index is a search index in a SQLite file. The one Open returns follows the live generation;
// one Begin returns is bound to its own (not yet live) generation.
type Index struct {
	db    *sql.DB
	gen   int64             // 0: the live generation, looked up by every read and write
	cache *readkit.SQLCache // statement texts, shared by the generations
}

var (
	_ search.Index       = (*Index)(nil)
	_ search.Generations = (*Index)(nil)
)

// Open opens (creating if needed) the search index in the SQLite file at path, with the
// read-model databases' settings (WAL, busy timeout, write transactions that lock at BEGIN).
func Open(ctx context.Context, path string) (*Index, error) {
	pdb, err := sqldb.Open(ctx, sqldb.Config{SQLitePath: path})
	if err != nil {
		return nil, fmt.Errorf("search index: %w", err)
	}
	ix := &Index{db: pdb.SQL, cache: &readkit.SQLCache{}}
	if err := ix.init(ctx); err != nil {
		_ = ix.db.Close()
		return nil, fmt.Errorf("search index %s: %w", path, err)
	}
	return ix, nil
}

// Close closes the database. An Index from Begin shares the database of the one Open returned:
// closing it does nothing.
func (ix *Index) Close() error {
	if ix.gen != 0 {
		return nil
	}
	return ix.db.Close()
}

// init creates the generations table and, on a new file, generation 1 as the live one.
func (ix *Index) init(ctx context.Context) error {
	return ix.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS generations (
			gen INTEGER PRIMARY KEY,
			position INTEGER NOT NULL DEFAULT 0,
			live INTEGER NOT NULL DEFAULT 0)`); err != nil {
			return err
		}
		switch _, err := liveGeneration(ctx, tx); {
		case err == nil:
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		gen, err := newGeneration(ctx, tx)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE generations SET live = 1 WHERE gen = ?`, gen)
		return err
	})
}

// newGeneration creates the tables of the generation after the highest one.
func newGeneration(ctx context.Context, tx *sql.Tx) (int64, error) {
	var gen int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(gen), 0) + 1 FROM generations`).Scan(&gen); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO generations (gen) VALUES (?)`, gen); err != nil {
		return 0, err
	}
	t := tablesOf(gen)
	for _, stmt := range []string{
		`CREATE TABLE ` + t.docs + ` (
			rid INTEGER PRIMARY KEY,
			id TEXT NOT NULL UNIQUE,
			kind TEXT NOT NULL,
			version INTEGER NOT NULL,
			asset_id TEXT NOT NULL,
			severity TEXT NOT NULL,
			sev_rank INTEGER,
			status TEXT NOT NULL,
			team TEXT NOT NULL,
			environment TEXT NOT NULL,
			asset_kind TEXT NOT NULL,
			scanner TEXT NOT NULL,
			kev INTEGER NOT NULL,
			cvss REAL,
			epss REAL,
			at_ns INTEGER,
			title_key TEXT, ` + strings.Join(singleColumns(), " TEXT, ") + ` TEXT)`,
		// The documents themselves apart: docs_g's rows stay narrow for the scans of the matches.
		`CREATE TABLE ` + t.bodies + ` (rid INTEGER PRIMARY KEY, doc BLOB NOT NULL, state BLOB)`,
		`CREATE INDEX ` + t.docs + `_asset ON ` + t.docs + ` (asset_id) WHERE kind = 'finding'`,
		// The default order (at descending, ties by id) read from the index, without a sort.
		`CREATE INDEX ` + t.docs + `_at ON ` + t.docs + ` (at_ns DESC, id)`,
		`CREATE TABLE ` + t.terms + ` (field TEXT NOT NULL, value TEXT NOT NULL, rid INTEGER NOT NULL,
			PRIMARY KEY (field, value, rid)) WITHOUT ROWID`,
		`CREATE INDEX ` + t.terms + `_rid ON ` + t.terms + ` (rid)`,
		`CREATE TABLE ` + t.ips + ` (addr BLOB NOT NULL, rid INTEGER NOT NULL, PRIMARY KEY (addr, rid)) WITHOUT ROWID`,
		`CREATE INDEX ` + t.ips + `_rid ON ` + t.ips + ` (rid)`,
		`CREATE VIRTUAL TABLE ` + t.fts + ` USING fts5(title, text, other, tokenize="` + tokenizer + `")`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return 0, err
		}
	}
	return gen, nil
}

// tables names a generation's tables (gen is a number the index chose: never user input).
type tables struct{ docs, bodies, terms, ips, fts string }

func tablesOf(gen int64) tables {
	g := fmt.Sprint(gen)
	return tables{docs: "docs_" + g, bodies: "bodies_" + g, terms: "terms_" + g, ips: "ips_" + g, fts: "fts_" + g}
}

func dropGeneration(ctx context.Context, tx *sql.Tx, gen int64) error {
	t := tablesOf(gen)
	for _, name := range []string{t.fts, t.ips, t.terms, t.bodies, t.docs} {
		if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+name); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM generations WHERE gen = ?`, gen)
	return err
}

// generation is the generation ix reads and writes inside tx: its own, or the live one.
func (ix *Index) generation(ctx context.Context, q rowQuerier) (int64, error) {
	if ix.gen != 0 {
		return ix.gen, nil
	}
	return liveGeneration(ctx, q)
}

type rowQuerier interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// liveGeneration is the generation searches read (sql.ErrNoRows, wrapped, in a new file).
func liveGeneration(ctx context.Context, q rowQuerier) (int64, error) {
	var gen int64
	if err := q.QueryRowContext(ctx, `SELECT gen FROM generations WHERE live = 1`).Scan(&gen); err != nil {
		return 0, fmt.Errorf("search index: live generation: %w", err)
	}
	return gen, nil
}

// write runs fn in a write transaction (it takes SQLite's write lock at BEGIN).
func (ix *Index) write(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return unavailable(err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := tempInMemory(ctx, tx); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return unavailable(err)
	}
	return nil
}

// read runs fn in a read transaction: one snapshot, so the live generation it looks up stays
// whole however a concurrent swap goes.
func (ix *Index) read(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := ix.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return unavailable(err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := tempInMemory(ctx, tx); err != nil {
		return err
	}
	return fn(tx)
}

// tempInMemory keeps the connection's temporary B-trees (a search's GROUP BY and ORDER BY, a
// multi-row write's statement journal) in memory rather than in temporary files, which cost
// a search over many matches most of its time. It is a setting of the connection: set in every
// transaction, as the pool hands out any connection.
func tempInMemory(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, "PRAGMA temp_store = MEMORY")
	return unavailable(err)
}

func unavailable(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %w", search.ErrUnavailable, err)
}

// Begin creates the next generation's tables beside the live one and returns an Index bound to
// them (search.Generations).
func (ix *Index) Begin(ctx context.Context) (search.Index, error) {
	var gen int64
	err := ix.write(ctx, func(tx *sql.Tx) error {
		var err error
		gen, err = newGeneration(ctx, tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("search index: new generation: %w", err)
	}
	return &Index{db: ix.db, gen: gen, cache: ix.cache}, nil
}

// Swap makes next's generation live and drops the one it replaces, in one transaction.
func (ix *Index) Swap(ctx context.Context, next search.Index) error {
	n, err := ix.own(next)
	if err != nil {
		return err
	}
	return ix.write(ctx, func(tx *sql.Tx) error {
		old, err := liveGeneration(ctx, tx)
		if err != nil {
			return err
		}
		if old == n.gen {
			return nil
		}
		res, err := tx.ExecContext(ctx, `UPDATE generations SET live = (gen = ?) WHERE gen IN (?, ?)`, n.gen, n.gen, old)
		if err != nil {
			return err
		}
		if k, err := res.RowsAffected(); err != nil || k != 2 {
			return fmt.Errorf("search index: swap: generation %d is gone", n.gen)
		}
		return dropGeneration(ctx, tx, old)
	})
}

// Abort drops a generation Begin created (never the live one).
func (ix *Index) Abort(ctx context.Context, next search.Index) error {
	n, err := ix.own(next)
	if err != nil {
		return err
	}
	return ix.write(ctx, func(tx *sql.Tx) error {
		var live int64
		if err := tx.QueryRowContext(ctx, `SELECT live FROM generations WHERE gen = ?`, n.gen).Scan(&live); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return nil // already dropped
			}
			return err
		}
		if live == 1 {
			return fmt.Errorf("search index: abort: generation %d is live", n.gen)
		}
		return dropGeneration(ctx, tx, n.gen)
	})
}

// own checks that next is a generation Begin returned for this database.
func (ix *Index) own(next search.Index) (*Index, error) {
	n, ok := next.(*Index)
	if !ok || n.db != ix.db || n.gen == 0 {
		return nil, fmt.Errorf("search index: %T is not a generation of this index", next)
	}
	return n, nil
}
