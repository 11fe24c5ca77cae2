package fts

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/search"
)

// Write stores docs in one transaction (an older version than the stored one is dropped, an
// equal one replaces it) with position, which only grows. They are searchable once it returns.
func (ix *Index) Write(ctx context.Context, docs []search.Doc, position int64) error {
	return ix.write(ctx, func(tx *sql.Tx) error {
		gen, err := ix.generation(ctx, tx)
		if err != nil {
			return err
		}
		w, err := prepareWriter(ctx, tx, tablesOf(gen))
		if err != nil {
			return unavailable(err)
		}
		defer w.close()
		for i := range docs {
			if err := w.put(ctx, &docs[i]); err != nil {
				return fmt.Errorf("search index: writing %s: %w", docs[i].ID, err)
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE generations SET position = MAX(position, ?) WHERE gen = ?`, position, gen)
		return err
	})
}

// docColumns are docs_g's columns as Write fills them (rid is SQLite's).
var docColumns = []string{"id", "kind", "version", "asset_id", "severity", "sev_rank", "status", "team",
	"environment", "asset_kind", "scanner", "kev", "cvss", "epss", "at_ns", "title_key", "doc", "state"}

// writer holds one Write's prepared statements.
type writer struct {
	upsert, delTerms, delIPs, delFTS, term, ip, fts *sql.Stmt
}

func prepareWriter(ctx context.Context, tx *sql.Tx, t tables) (*writer, error) {
	sets := make([]string, 0, len(docColumns)-1)
	for _, c := range docColumns[1:] {
		sets = append(sets, c+" = excluded."+c)
	}
	w := &writer{}
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&w.upsert, `INSERT INTO ` + t.docs + ` (` + strings.Join(docColumns, ", ") + `) VALUES ` +
			projections.SQLite.Placeholders(1, len(docColumns)) +
			` ON CONFLICT (id) DO UPDATE SET ` + strings.Join(sets, ", ") +
			` WHERE excluded.version >= ` + t.docs + `.version RETURNING rid`},
		{&w.delTerms, `DELETE FROM ` + t.terms + ` WHERE rid = ?`},
		{&w.delIPs, `DELETE FROM ` + t.ips + ` WHERE rid = ?`},
		{&w.delFTS, `DELETE FROM ` + t.fts + ` WHERE rowid = ?`},
		{&w.term, `INSERT OR IGNORE INTO ` + t.terms + ` (field, value, rid) VALUES (?, ?, ?)`},
		{&w.ip, `INSERT OR IGNORE INTO ` + t.ips + ` (addr, rid) VALUES (?, ?)`},
		{&w.fts, `INSERT INTO ` + t.fts + ` (rowid, title, text, other) VALUES (?, ?, ?, ?)`},
	} {
		st, err := tx.PrepareContext(ctx, p.sql)
		if err != nil {
			w.close()
			return nil, err
		}
		*p.st = st
	}
	return w, nil
}

func (w *writer) close() {
	for _, st := range []*sql.Stmt{w.upsert, w.delTerms, w.delIPs, w.delFTS, w.term, w.ip, w.fts} {
		if st != nil {
			_ = st.Close()
		}
	}
}

// put upserts one document and, when it replaced or added a row, rewrites its terms, addresses
// and FTS row.
func (w *writer) put(ctx context.Context, d *search.Doc) error {
	if d.ID == "" {
		return fmt.Errorf("document without an id")
	}
	stored := *d
	stored.State = nil
	body, err := json.Marshal(stored)
	if err != nil {
		return err
	}
	var state any
	if len(d.State) > 0 {
		state = []byte(d.State)
	}
	var rid int64
	err = w.upsert.QueryRowContext(ctx, d.ID, string(d.Kind), d.Version, d.AssetID, d.Severity, nullRank(d.Severity),
		d.Status, d.Team, d.Environment, d.AssetKind, d.Scanner, boolInt(d.KEV), nullFloat(d.CVSS), nullFloat(d.EPSS),
		nullTime(d.At), nullString(d.Title), body, state).Scan(&rid)
	switch {
	case err == sql.ErrNoRows:
		return nil // older than the stored version
	case err != nil:
		return err
	}
	for _, st := range []*sql.Stmt{w.delTerms, w.delIPs, w.delFTS} {
		if _, err := st.ExecContext(ctx, rid); err != nil {
			return err
		}
	}
	for _, t := range termsOf(d) {
		if _, err := w.term.ExecContext(ctx, t[0], t[1], rid); err != nil {
			return err
		}
	}
	for _, s := range d.IPs {
		if a, err := netip.ParseAddr(s); err == nil {
			if _, err := w.ip.ExecContext(ctx, addrKey(a), rid); err != nil {
				return err
			}
		}
	}
	_, err = w.fts.ExecContext(ctx, rid, ftsText(d.Title), ftsText(d.Text), ftsOther(d))
	return err
}

// termsOf lists the (field, folded value) pairs a document answers field operators with: the
// value of every exact-match operator (query.Field names), empty values left out.
func termsOf(d *search.Doc) [][2]string {
	var out [][2]string
	add := func(field string, vals ...string) {
		for _, v := range vals {
			if v != "" {
				out = append(out, [2]string{field, fold(v)})
			}
		}
	}
	add("type", string(d.Kind))
	add("cve", d.CVEs...)
	add("cwe", d.CWEs...)
	add("severity", d.Severity)
	add("status", d.Status)
	add("asset", d.AssetName, d.AssetID)
	add("asset", d.Hostnames...)
	add("host", d.Hostnames...)
	add("package", d.Packages...)
	add("team", d.Team)
	add("environment", d.Environment)
	add("kind", d.AssetKind)
	add("scanner", d.Scanner)
	add("tag", d.Tags...)
	add("actor", d.Actor)
	add("event", d.EventType)
	return out
}

// fold is the case-insensitive key of a value: each rune replaced by the smallest rune of its
// case-folding orbit, so two values have the same key exactly when strings.EqualFold says they
// are equal.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteByte(byte(r))
			continue
		}
		min := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < min {
				min = f
			}
		}
		b.WriteRune(min)
	}
	return b.String()
}

// addrKey is an address as stored in ips_g: a family byte (4 or 6) and the address's bytes. An
// IPv4-mapped IPv6 address is stored as IPv4 (the contract compares it as such).
func addrKey(a netip.Addr) []byte {
	a = a.Unmap().WithZone("")
	if a.Is4() {
		b := a.As4()
		return append([]byte{4}, b[:]...)
	}
	b := a.As16()
	return append([]byte{6}, b[:]...)
}

// nullRank is the severity's sort rank (search.SeverityRank), NULL without a severity.
func nullRank(sev string) any {
	if r := search.SeverityRank(sev); r > 0 {
		return r
	}
	return nil
}

func nullFloat(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// ftsText is text as FTS5 indexes it: every rune that search.Tokens splits at replaced by as
// many spaces as its UTF-8 bytes (an invalid byte by one), so that FTS5's tokens are exactly the
// contract's and byte offsets into it are offsets into the original text.
func ftsText(s string) string {
	clean := true
	for _, r := range s {
		if !isTokenRune(r) && r != ' ' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError && isTokenRune(r) {
			b = append(b, s[i:i+n]...)
		} else {
			for range n {
				b = append(b, ' ')
			}
		}
		i += n
	}
	return string(b)
}

// ftsOther is the FTS column of the other free-text fields: each value apart, with the sentinel
// token between two values.
func ftsOther(d *search.Doc) string {
	var b strings.Builder
	add := func(vals ...string) {
		for _, v := range vals {
			if v == "" {
				continue
			}
			if b.Len() > 0 {
				b.WriteString(" " + sentinel + " ")
			}
			b.WriteString(ftsText(v))
		}
	}
	add(d.AssetName)
	add(d.Hostnames...)
	add(d.CVEs...)
	add(d.Packages...)
	add(d.Team, d.Environment)
	add(d.Tags...)
	return b.String()
}

// Load returns the stored documents with these ids, State included.
func (ix *Index) Load(ctx context.Context, ids []string) (map[string]search.Doc, error) {
	out := make(map[string]search.Doc, len(ids))
	err := ix.eachIn(ctx, `SELECT doc, state FROM %s WHERE id IN %s`, ids, func(d search.Doc) { out[d.ID] = d })
	return out, err
}

// FindingsOf returns the finding documents of these assets, State included, ordered by id.
func (ix *Index) FindingsOf(ctx context.Context, assetIDs []string) ([]search.Doc, error) {
	var out []search.Doc
	err := ix.eachIn(ctx, `SELECT doc, state FROM %s WHERE kind = 'finding' AND asset_id IN %s ORDER BY id`, assetIDs,
		func(d search.Doc) { out = append(out, d) })
	return out, err
}

// maxIn bounds the values of one IN list (SQLite's bind parameters are bounded).
const maxIn = 500

// eachIn runs query (docs table and IN list as %s) over vals in chunks, in one read transaction.
func (ix *Index) eachIn(ctx context.Context, query string, vals []string, fn func(search.Doc)) error {
	if len(vals) == 0 {
		return nil
	}
	return ix.read(ctx, func(tx *sql.Tx) error {
		gen, err := ix.generation(ctx, tx)
		if err != nil {
			return unavailable(err)
		}
		for start := 0; start < len(vals); start += maxIn {
			chunk := vals[start:min(start+maxIn, len(vals))]
			args := make([]any, len(chunk))
			for i, v := range chunk {
				args[i] = v
			}
			q := fmt.Sprintf(query, tablesOf(gen).docs, projections.SQLite.Placeholders(1, len(chunk)))
			if err := scanDocs(ctx, tx, q, args, fn); err != nil {
				return err
			}
		}
		return nil
	})
}

func scanDocs(ctx context.Context, tx *sql.Tx, q string, args []any, fn func(search.Doc)) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return unavailable(err)
	}
	defer rows.Close()
	for rows.Next() {
		var body, state []byte
		if err := rows.Scan(&body, &state); err != nil {
			return err
		}
		var d search.Doc
		if err := json.Unmarshal(body, &d); err != nil {
			return fmt.Errorf("search index: stored document: %w", err)
		}
		if len(state) > 0 {
			d.State = json.RawMessage(state)
		}
		fn(d)
	}
	return rows.Err()
}

// Position is the highest position written to the generation (0 when empty).
func (ix *Index) Position(ctx context.Context) (int64, error) {
	var pos int64
	err := ix.read(ctx, func(tx *sql.Tx) error {
		gen, err := ix.generation(ctx, tx)
		if err != nil {
			return unavailable(err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT position FROM generations WHERE gen = ?`, gen).Scan(&pos); err != nil {
			return unavailable(err)
		}
		return nil
	})
	return pos, err
}
