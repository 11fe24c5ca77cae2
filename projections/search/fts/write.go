package fts

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/projections/search"
	"github.com/socplatform/soc/projections/search/query"
)

// Write stores docs in one transaction (an older version than the stored one is dropped, an
// equal one replaces it) with position, which only grows. They are searchable once it returns.
//
// Rows are written with multi-row statements (readkit.WriteRows): the stored versions are read
// first, so that only the documents that win are written and only those replaced have their
// terms, addresses and FTS row deleted.
func (ix *Index) Write(ctx context.Context, docs []search.Doc, position int64) error {
	docs = latest(docs)
	return ix.write(ctx, func(sqlTx *sql.Tx) error {
		gen, err := ix.generation(ctx, sqlTx)
		if err != nil {
			return err
		}
		t := tablesOf(gen)
		tx := &projections.Tx{Tx: sqlTx, Dialect: projections.SQLite, Generation: gen}
		ids := make([]string, len(docs))
		for i := range docs {
			ids[i] = docs[i].ID
		}
		type storedDoc struct{ rid, version int64 }
		stored := make(map[string]storedDoc, len(docs))
		err = readkit.EachIn(ctx, tx, ix.cache, "SELECT id, rid, version FROM "+t.docs+" WHERE id IN ", "", ids, func(rows *sql.Rows) error {
			var id string
			var s storedDoc
			if err := rows.Scan(&id, &s.rid, &s.version); err != nil {
				return err
			}
			stored[id] = s
			return nil
		})
		if err != nil {
			return unavailable(err)
		}
		var nextRid int64
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(rid), 0) FROM "+t.docs).Scan(&nextRid); err != nil {
			return unavailable(err)
		}
		var rows rowSet
		var replaced []string
		for i := range docs {
			d := &docs[i]
			if d.ID == "" {
				return fmt.Errorf("search index: a document without an id")
			}
			s, ok := stored[d.ID]
			switch {
			case ok && s.version > d.Version:
				continue // older than the stored one
			case ok:
				replaced = append(replaced, d.ID)
			default:
				nextRid++
				s.rid = nextRid
			}
			if err := rows.add(s.rid, d); err != nil {
				return fmt.Errorf("search index: writing %s: %w", d.ID, err)
			}
		}
		for _, del := range []string{
			"DELETE FROM " + t.terms + " WHERE rid IN (SELECT rid FROM " + t.docs + " WHERE id IN ",
			"DELETE FROM " + t.ips + " WHERE rid IN (SELECT rid FROM " + t.docs + " WHERE id IN ",
			"DELETE FROM " + t.fts + " WHERE rowid IN (SELECT rid FROM " + t.docs + " WHERE id IN ",
			"DELETE FROM " + t.bodies + " WHERE rid IN (SELECT rid FROM " + t.docs + " WHERE id IN ",
		} {
			if err := readkit.EachIn(ctx, tx, ix.cache, del, ")", replaced, nil); err != nil {
				return unavailable(err)
			}
		}
		for _, w := range []struct {
			table  string
			cols   []string
			suffix string
			rows   [][]any
		}{
			{t.docs, docColumns, readkit.UpsertSuffix(docColumns, "id") + " WHERE excluded.version >= " + t.docs + ".version", rows.docs},
			{t.bodies, []string{"rid", "doc", "state"}, "", rows.bodies},
			{t.terms, []string{"field", "value", "rid"}, " ON CONFLICT DO NOTHING", rows.terms},
			{t.ips, []string{"addr", "rid"}, " ON CONFLICT DO NOTHING", rows.ips},
			{t.fts, []string{"rowid", "title", "text", "other"}, "", rows.fts},
		} {
			if err := readkit.WriteRows(ctx, tx, ix.cache, w.table, w.cols, w.suffix, w.rows); err != nil {
				return unavailable(err)
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE generations SET position = MAX(position, ?) WHERE gen = ?`, position, gen)
		return err
	})
}

// latest keeps, of the documents sharing an id, the one the stored index would hold after
// writing them in order: the last of those with the highest version.
func latest(docs []search.Doc) []search.Doc {
	at := make(map[string]int, len(docs))
	out := make([]search.Doc, 0, len(docs))
	for _, d := range docs {
		i, ok := at[d.ID]
		switch {
		case !ok:
			at[d.ID] = len(out)
			out = append(out, d)
		case d.Version >= out[i].Version:
			out[i] = d
		}
	}
	return out
}

// docColumns are docs_g's columns: the facets and sort keys, then one folded column per
// single-valued exact field (singleFields).
var docColumns = append([]string{"rid", "id", "kind", "version", "asset_id", "severity", "sev_rank", "status", "team",
	"environment", "asset_kind", "scanner", "kev", "cvss", "epss", "at_ns", "title_key"}, singleColumns()...)

// singleFields are the exact-match operators over a single value of a document: each compares
// with a column of docs_g holding the value folded (NULL when empty), which a scan of docs_g
// reads faster than a lookup of each match in terms_g would be.
var singleFields = []query.Field{query.FieldType, query.FieldSeverity, query.FieldStatus, query.FieldTeam,
	query.FieldEnvironment, query.FieldKind, query.FieldScanner, query.FieldActor, query.FieldEvent}

// singleColumn is the column of a single-valued field ("" for the others).
func singleColumn(f query.Field) string {
	if slices.Contains(singleFields, f) {
		return "x_" + string(f)
	}
	return ""
}

func singleColumns() []string {
	out := make([]string, len(singleFields))
	for i, f := range singleFields {
		out[i] = singleColumn(f)
	}
	return out
}

// rowSet is the rows one Write inserts, per table.
type rowSet struct{ docs, bodies, terms, ips, fts [][]any }

// add adds the rows of document d, stored at rid.
func (s *rowSet) add(rid int64, d *search.Doc) error {
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
	s.docs = append(s.docs, []any{rid, d.ID, string(d.Kind), d.Version, d.AssetID, d.Severity, nullRank(d.Severity),
		d.Status, d.Team, d.Environment, d.AssetKind, d.Scanner, boolInt(d.KEV), nullFloat(d.CVSS), nullFloat(d.EPSS),
		nullTime(d.At), nullString(d.Title)})
	row := s.docs[len(s.docs)-1]
	for _, f := range singleFields {
		row = append(row, nullString(fold(search.ExactFields[f](*d)[0])))
	}
	s.docs[len(s.docs)-1] = row
	s.bodies = append(s.bodies, []any{rid, body, state})
	for _, t := range termsOf(d) {
		s.terms = append(s.terms, []any{t[0], t[1], rid})
	}
	for _, ip := range d.IPs {
		if a, err := netip.ParseAddr(ip); err == nil {
			s.ips = append(s.ips, []any{addrKey(a), rid})
		}
	}
	s.fts = append(s.fts, []any{rid, ftsText(d.Title), ftsText(d.Text), ftsOther(d)})
	return nil
}

// termsOf lists the (field, folded value) pairs a document answers the multi-valued exact-match
// operators with (query.Field names), empty values left out.
func termsOf(d *search.Doc) [][2]string {
	var out [][2]string
	add := func(field query.Field, vals ...string) {
		for _, v := range vals {
			if v != "" {
				out = append(out, [2]string{string(field), fold(v)})
			}
		}
	}
	add(query.FieldCVE, d.CVEs...)
	add(query.FieldCWE, d.CWEs...)
	add(query.FieldAsset, search.ExactFields[query.FieldAsset](*d)...)
	add(query.FieldHost, d.Hostnames...)
	add(query.FieldPackage, d.Packages...)
	add(query.FieldTag, d.Tags...)
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
	err := ix.eachIn(ctx, "SELECT b.doc, b.state FROM %[1]s d JOIN %[2]s b ON b.rid = d.rid WHERE d.id IN ", "", ids, func(d search.Doc) { out[d.ID] = d })
	return out, err
}

// FindingsOf returns the finding documents of these assets, State included, ordered by id.
func (ix *Index) FindingsOf(ctx context.Context, assetIDs []string) ([]search.Doc, error) {
	var out []search.Doc
	err := ix.eachIn(ctx, "SELECT b.doc, b.state FROM %[1]s d JOIN %[2]s b ON b.rid = d.rid WHERE d.kind = 'finding' AND d.asset_id IN ", "", assetIDs,
		func(d search.Doc) { out = append(out, d) })
	slices.SortFunc(out, func(a, b search.Doc) int { return strings.Compare(a.ID, b.ID) })
	return out, err
}

// eachIn runs prefix + "(ids…)" + suffix (selecting doc and state) over ids in chunks, in one
// read transaction; prefix names the docs and bodies tables with %[1]s and %[2]s.
func (ix *Index) eachIn(ctx context.Context, prefix, suffix string, ids []string, fn func(search.Doc)) error {
	if len(ids) == 0 {
		return nil
	}
	return ix.read(ctx, func(sqlTx *sql.Tx) error {
		gen, err := ix.generation(ctx, sqlTx)
		if err != nil {
			return unavailable(err)
		}
		tx := &projections.Tx{Tx: sqlTx, Dialect: projections.SQLite, Generation: gen}
		err = readkit.EachIn(ctx, tx, ix.cache, fmt.Sprintf(prefix, tablesOf(gen).docs, tablesOf(gen).bodies), suffix, ids, func(rows *sql.Rows) error {
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
			return nil
		})
		return unavailable(err)
	})
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
