package render

import (
	"bufio"
	"encoding/csv"
	"io"
	"strconv"
	"time"
)

// utf8BOM starts every CSV: Excel reads a CSV without it in the machine's ANSI code page and
// garbles every non-ASCII name, while encoding/csv, Python's "utf-8-sig", pandas and
// LibreOffice all skip it. A consumer that does not must strip three bytes.
const utf8BOM = "\uFEFF"

// CSVRenderer writes one table as RFC 4180 CSV (encoding/csv, CRLF line ends): a header row of
// the column names, then one record per row. A line break inside a field is written as CRLF, so
// a lone CR in a text cell is dropped (encoding/csv's UseCRLF). Numbers are written plainly (no separators), dates
// as RFC 3339 in the document's Location, empty cells as empty fields.
type CSVRenderer struct {
	// Section is the id of the section whose table is written; "" writes the first table.
	Section string
}

// Format implements Renderer.
func (CSVRenderer) Format() Format { return CSV }

// Render implements Renderer: a document (or section) without a table is a *NoTableError.
func (c CSVRenderer) Render(w io.Writer, d *Document) error {
	if d == nil {
		return ErrNoDocument
	}
	sec, err := firstTable(d, c.Section)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString(utf8BOM); err != nil {
		return err
	}
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	tb, loc := sec.Table, d.location()
	rec := make([]string, len(tb.Columns))
	for i, col := range tb.Columns {
		rec[i] = defuse(col.Name)
	}
	if err := cw.Write(rec); err != nil {
		return err
	}
	var cells []cell
	for r := range tb.Rows {
		if cells, err = rowCells(sec.ID, tb, r, cells); err != nil {
			return err
		}
		for i, cl := range cells {
			rec[i] = csvField(tb.Columns[i].Type, cl, loc)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// csvField is a cell as a CSV field: machine-readable numbers and dates, defused text.
func csvField(t ColumnType, c cell, loc *time.Location) string {
	if c.empty {
		return ""
	}
	switch t {
	case Int:
		return strconv.FormatInt(c.i, 10)
	case Float:
		return strconv.FormatFloat(c.f, 'f', -1, 64)
	case Date:
		return c.t.In(loc).Format(time.RFC3339)
	}
	return defuse(c.s)
}

// defuse keeps a spreadsheet from reading text as a formula (OWASP "CSV injection"): a field
// that starts with = + - @, a tab or a carriage return gets a leading single quote, which
// Excel and LibreOffice show as text. Scanner output is attacker-controlled (a finding's title
// or an asset's name can be "=HYPERLINK(…)"), so every text field passes here; numbers and
// dates are written by us and need not.
func defuse(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
