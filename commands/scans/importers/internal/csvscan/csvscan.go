// Package csvscan is the bounded, cancellable reader of the CSV exports the nessus and openvas
// parsers read beside their XML: a header row naming the columns, then one record per result.
// encoding/csv does the quoting (LazyQuotes off: a stray quote is an error, not a guess;
// multi-line quoted fields, which both exports write, are normal); this package adds what a report
// needs around it: a UTF-8 byte order mark and CRLF line ends are accepted, every record must have
// the header's number of fields, invalid UTF-8 and records over readguard.MaxTokenBytes are
// refused as the bytes arrive, and errors are *importers.ParseError with line and column.
package csvscan

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
	"github.com/socplatform/soc/commands/scans/importers/internal/readguard"
)

// Reader reads the records of a CSV export after its header.
type Reader struct {
	ctx      context.Context
	format   string
	g        *readguard.Reader
	r        *csv.Reader
	cols     map[string]int
	header   []string
	required []string
	n        int
	warnings []string
}

// Open reads the header row of r and checks that it names every column of required (compared
// case-insensitively, surrounding white space ignored); Next refuses a record where one of them
// is empty.
func Open(ctx context.Context, r io.Reader, format string, required ...string) (*Reader, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	g := &readguard.Reader{R: r, MaxSinceMark: readguard.MaxTokenBytes, CheckUTF8: true}
	cr := csv.NewReader(readguard.SkipBOM(g))
	cr.ReuseRecord = false
	c := &Reader{ctx: ctx, format: format, g: g, r: cr, cols: map[string]int{}, required: required}
	g.Mark()
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &importers.ParseError{Format: format, Offset: 0, Msg: "empty file: no CSV header"}
	}
	if err != nil {
		return nil, c.wrap(err)
	}
	c.header = header
	for i, h := range header {
		k := Norm(h)
		if _, dup := c.cols[k]; !dup {
			c.cols[k] = i
		}
	}
	cr.FieldsPerRecord = len(header)
	var missing []string
	for _, name := range required {
		if _, ok := c.cols[Norm(name)]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, &importers.ParseError{Format: format, Offset: 0, Line: 1, Column: 1,
			Msg: fmt.Sprintf("CSV header lacks the column(s) %s (it has: %s)", strings.Join(missing, ", "), strings.Join(header, ", "))}
	}
	return c, nil
}

// Norm is a header name as the columns are looked up: lower case, white space trimmed.
func Norm(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// Has reports whether the header names the column.
func (c *Reader) Has(name string) bool {
	_, ok := c.cols[Norm(name)]
	return ok
}

// Row is one record with its header.
type Row struct {
	rec  []string
	cols map[string]int
	// Line is the line the record starts on (1-based; the header is line 1).
	Line int
}

// Next returns the next record; io.EOF after the last. Blank lines are skipped (encoding/csv).
func (c *Reader) Next() (Row, error) {
	c.n++
	if c.n&255 == 0 {
		if err := c.ctx.Err(); err != nil {
			return Row{}, err
		}
	}
	c.g.Mark()
	rec, err := c.r.Read()
	if err == io.EOF {
		if err := c.ctx.Err(); err != nil {
			return Row{}, err
		}
		return Row{}, io.EOF
	}
	if err != nil {
		return Row{}, c.wrap(err)
	}
	line, _ := c.r.FieldPos(0)
	row := Row{rec: rec, cols: c.cols, Line: line}
	for _, col := range c.required {
		if row.Get(col) == "" {
			return Row{}, c.Errorf(row, col, "empty")
		}
	}
	return row, nil
}

// Parse is a CSV export read whole: Open, then fn with each record, then the report that report
// builds from what fn kept, with the warnings fn recorded through Ignoref.
func Parse(ctx context.Context, r io.Reader, format string, required []string, fn func(c *Reader, row Row) error, report func() *importers.Report) (*importers.Report, error) {
	c, err := Open(ctx, r, format, required...)
	if err != nil {
		return nil, err
	}
	if err := c.Each(func(row Row) error { return fn(c, row) }); err != nil {
		return nil, err
	}
	rep := report()
	rep.Warnings = c.Warnings()
	return rep, nil
}

// Each calls fn with each record, until the end of the file or an error.
func (c *Reader) Each(fn func(Row) error) error {
	for {
		row, err := c.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(row); err != nil {
			return err
		}
	}
}

// Get is the value of the first of names the header has, white space trimmed; "" when none.
func (r Row) Get(names ...string) string {
	for _, n := range names {
		if i, ok := r.cols[Norm(n)]; ok && i < len(r.rec) {
			return strings.TrimSpace(r.rec[i])
		}
	}
	return ""
}

// Errorf is a ParseError naming the row's line and the column name.
func (c *Reader) Errorf(row Row, column, format string, args ...any) error {
	col := 1
	if i, ok := c.cols[Norm(column)]; ok {
		_, col = c.r.FieldPos(i)
	}
	return &importers.ParseError{Format: c.format, Offset: -1, Line: row.Line, Column: col,
		Msg: fmt.Sprintf("column %q: ", column) + fmt.Sprintf(format, args...)}
}

// Port is v, the value of the row's column, as a port number; a value that is not a number in
// 0..65535 refuses the file, since the port is part of a finding's identity.
func (c *Reader) Port(row Row, column, v string) (int, error) {
	port, err := strconv.Atoi(v)
	if err != nil || port < 0 || port > 65535 {
		return 0, c.Errorf(row, column, "%q is not a number in 0..65535", parseutil.Truncate(v, 64))
	}
	return port, nil
}

// Ignoref records a warning that the row's column was left out (an optional field the parser
// could not read: the rest of the row still counts). Warnings returns them.
func (c *Reader) Ignoref(row Row, column, format string, args ...any) {
	c.warnings = append(c.warnings, fmt.Sprintf("line %d, column %q: %s: ignored", row.Line, column, fmt.Sprintf(format, args...)))
}

// Warnings are the warnings Ignoref recorded, in row order.
func (c *Reader) Warnings() []string { return c.warnings }

func (c *Reader) wrap(err error) error {
	var le *readguard.LimitError
	if errors.As(err, &le) {
		msg := le.Msg
		if strings.Contains(msg, "since") || strings.Contains(msg, "larger") {
			msg = fmt.Sprintf("a CSV record larger than %d bytes", readguard.MaxTokenBytes)
		}
		return &importers.ParseError{Format: c.format, Offset: le.Off, Msg: msg}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		msg := "malformed CSV: " + pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			msg = fmt.Sprintf("malformed CSV: the record has a different number of fields than the header's %d", len(c.header))
		}
		if pe.StartLine != pe.Line {
			msg += fmt.Sprintf(" (in the record starting on line %d)", pe.StartLine)
		}
		return &importers.ParseError{Format: c.format, Offset: c.r.InputOffset(), Line: pe.Line, Column: pe.Column, Msg: msg}
	}
	return &importers.ParseError{Format: c.format, Offset: c.r.InputOffset(), Msg: err.Error()}
}

// Header returns the first record of head (the start of a file, which may be cut anywhere after
// its first line), or nil when head does not start with a CSV header of at least min fields.
func Header(head []byte, min int) []string {
	head = readguard.TrimBOM(head)
	if i := strings.IndexAny(string(head), "\r\n"); i >= 0 {
		head = head[:i]
	} else if len(head) >= 64<<10 {
		return nil // a first line longer than the head is no header
	}
	r := csv.NewReader(strings.NewReader(string(head)))
	rec, err := r.Read()
	if err != nil || len(rec) < min {
		return nil
	}
	return rec
}

// HasColumns reports whether header names every one of names (compared as Norm does).
func HasColumns(header []string, names ...string) bool {
	have := map[string]bool{}
	for _, h := range header {
		have[Norm(h)] = true
	}
	for _, n := range names {
		if !have[Norm(n)] {
			return false
		}
	}
	return true
}
