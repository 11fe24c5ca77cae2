package render

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/socplatform/soc/schemas/problem"
)

// Bounds on what a renderer draws (see the package doc).
const (
	MaxPDFRows     = 250_000
	MaxChartPoints = 400
	MaxChartSeries = 12
	MaxCellRunes   = 2_000
)

// Renderers returns one renderer per format, in the order PDF, XLSX, CSV.
func Renderers() []Renderer { return []Renderer{PDFRenderer{}, XLSXRenderer{}, CSVRenderer{}} }

// ForFormat returns the renderer of f, or an *UnknownFormatError.
func ForFormat(f Format) (Renderer, error) {
	for _, r := range Renderers() {
		if r.Format() == f {
			return r, nil
		}
	}
	return nil, &UnknownFormatError{Format: f}
}

// ErrNoDocument is a nil *Document handed to a renderer (a caller's bug).
var ErrNoDocument = errors.New("render: no document")

// UnknownFormatError is a format no renderer writes (a 400 naming the "format" parameter).
type UnknownFormatError struct{ Format Format }

func (e *UnknownFormatError) Error() string {
	return fmt.Sprintf("unknown report format %q: want pdf, xlsx or csv", string(e.Format))
}
func (e *UnknownFormatError) Kind() problem.Kind { return problem.KindInvalid }
func (e *UnknownFormatError) Field() string      { return "format" }

// NoTableError is a CSV asked of a document (or a section) that holds no table: CSV holds rows,
// and figures or charts have none. Section is the section asked for ("" for any).
type NoTableError struct{ Section string }

func (e *NoTableError) Error() string {
	if e.Section != "" {
		return fmt.Sprintf("section %q has no table to write as CSV", e.Section)
	}
	return "the report has no table to write as CSV: choose pdf or xlsx"
}
func (e *NoTableError) Kind() problem.Kind { return problem.KindRejected }
func (e *NoTableError) Field() string      { return "format" }

// CellError is a table cell whose Go type does not match its column: a builder bug, reported
// rather than written as something a reader would take for data.
type CellError struct {
	Section  string
	Row, Col int
	Reason   string
}

func (e *CellError) Error() string {
	return fmt.Sprintf("section %q row %d column %d: %s", e.Section, e.Row, e.Col, e.Reason)
}

// cell is one table cell checked against its column type: exactly one of the value fields is
// meaningful, as the column type says; empty is a nil cell.
type cell struct {
	empty bool
	s     string
	i     int64
	f     float64
	t     time.Time
}

// cellOf checks v against the column type.
func cellOf(t ColumnType, v any) (cell, error) {
	if v == nil {
		return cell{empty: true}, nil
	}
	switch t {
	case Int:
		switch n := v.(type) {
		case int64:
			return cell{i: n}, nil
		case int:
			return cell{i: int64(n)}, nil
		case int32:
			return cell{i: int64(n)}, nil
		}
	case Float:
		switch n := v.(type) {
		case float64:
			if math.IsNaN(n) || math.IsInf(n, 0) {
				return cell{empty: true}, nil
			}
			return cell{f: n}, nil
		case int64:
			return cell{f: float64(n)}, nil
		case int:
			return cell{f: float64(n)}, nil
		}
	case Date:
		if d, ok := v.(time.Time); ok {
			if d.IsZero() {
				return cell{empty: true}, nil
			}
			return cell{t: d}, nil
		}
	default: // Text, Severity and any type a newer template names
		switch s := v.(type) {
		case string:
			return cell{s: clip(s)}, nil
		case fmt.Stringer:
			return cell{s: clip(s.String())}, nil
		}
	}
	return cell{}, fmt.Errorf("a %s column holds %T", t, v)
}

// rowCells checks one row against the table's columns.
func rowCells(sec string, tb *Table, r int, dst []cell) ([]cell, error) {
	row := tb.Rows[r]
	if len(row) != len(tb.Columns) {
		return nil, &CellError{Section: sec, Row: r, Col: len(row), Reason: fmt.Sprintf("%d cells for %d columns", len(row), len(tb.Columns))}
	}
	dst = dst[:0]
	for c, v := range row {
		cl, err := cellOf(tb.Columns[c].Type, v)
		if err != nil {
			return nil, &CellError{Section: sec, Row: r, Col: c, Reason: err.Error()}
		}
		dst = append(dst, cl)
	}
	return dst, nil
}

// clip bounds a cell's text.
func clip(s string) string {
	if len(s) <= MaxCellRunes || utf8.RuneCountInString(s) <= MaxCellRunes {
		return s
	}
	return cutRunes(s, MaxCellRunes-1) + "…"
}

// cutRunes keeps the first n runes of s.
func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	k := 0
	for i := range s {
		if k == n {
			return s[:i]
		}
		k++
	}
	return s
}

// location is where a document's dates are shown.
func (d *Document) location() *time.Location {
	if d.Location == nil {
		return time.UTC
	}
	return d.Location
}

// formatDate writes a date for reading: the day alone at local midnight, else day and minute.
func formatDate(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
		return t.Format("2006-01-02")
	}
	return t.Format("2006-01-02 15:04")
}

// formatFloat writes at most two decimals, without trailing zeros.
func formatFloat(f float64) string {
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
}

// formatInt writes n with thousands separators.
func formatInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// formatFigure writes a headline number with its unit: integers with separators, else one
// decimal.
func formatFigure(f Figure) string {
	var v string
	switch {
	case math.IsNaN(f.Value) || math.IsInf(f.Value, 0):
		v = "n/a"
	case f.Value == math.Trunc(f.Value) && math.Abs(f.Value) < 1e15:
		v = formatInt(int64(f.Value))
	default:
		v = strconv.FormatFloat(f.Value, 'f', 1, 64)
	}
	switch f.Unit {
	case "":
		return v
	case "%":
		return v + "%"
	}
	return v + " " + f.Unit
}

// cellText is a cell as text for reading (PDF): dates in loc.
func cellText(t ColumnType, c cell, loc *time.Location) string {
	if c.empty {
		return ""
	}
	switch t {
	case Int:
		return formatInt(c.i)
	case Float:
		return formatFloat(c.f)
	case Date:
		return formatDate(c.t, loc)
	}
	return c.s
}

// rgb is a colour.
type rgb struct{ r, g, b int }

func (c rgb) hex() string { return fmt.Sprintf("%02X%02X%02X", c.r, c.g, c.b) }

// parseHex reads #RRGGBB (or RRGGBB).
func parseHex(s string) (rgb, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "#")
	if len(s) != 6 {
		return rgb{}, false
	}
	n, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return rgb{}, false
	}
	return rgb{int(n >> 16), int(n >> 8 & 0xff), int(n & 0xff)}, true
}

// The palette (documented in the package doc).
var (
	severityColors = map[string]rgb{
		"critical": {0x7B, 0x1F, 0xA2},
		"high":     {0xD3, 0x2F, 0x2F},
		"medium":   {0xF5, 0x7C, 0x00},
		"low":      {0xFB, 0xC0, 0x2D},
		"info":     {0x19, 0x76, 0xD2},
		"unknown":  {0x75, 0x75, 0x75},
	}
	defaultAccent = rgb{0x1F, 0x4E, 0x79}
	// seriesColors follow the accent for series that are not severities.
	seriesColors = []rgb{
		{0x00, 0x89, 0x7B}, {0xE6, 0x4A, 0x19}, {0x5D, 0x40, 0x37}, {0xC2, 0x18, 0x5B},
		{0x68, 0x9F, 0x38}, {0x45, 0x5A, 0x64}, {0x30, 0x3F, 0x9F}, {0xAF, 0xB4, 0x2B},
	}
)

// severityColor is the colour of a severity name (case-insensitive), if it is one.
func severityColor(s string) (rgb, bool) {
	c, ok := severityColors[strings.ToLower(strings.TrimSpace(s))]
	return c, ok
}

// onColor is the text colour readable on a fill: black on light fills, white on dark ones.
func onColor(fill rgb) rgb {
	// Relative luminance (ITU-R BT.601 weights), enough to pick black or white.
	if 299*fill.r+587*fill.g+114*fill.b > 150_000 {
		return rgb{0x21, 0x21, 0x21}
	}
	return rgb{0xFF, 0xFF, 0xFF}
}

// accent is the document's accent colour.
func (d *Document) accent() rgb {
	if c, ok := parseHex(d.Branding.Color); ok {
		return c
	}
	return defaultAccent
}

// seriesColor colours series i: its severity colour, else the accent, then the palette.
func seriesColor(d *Document, i int, name string) rgb {
	if c, ok := severityColor(name); ok {
		return c
	}
	if i == 0 {
		return d.accent()
	}
	return seriesColors[(i-1)%len(seriesColors)]
}

// firstTable returns the section holding the first table, or the section with id (its table
// required).
func firstTable(d *Document, id string) (*Section, error) {
	for i := range d.Sections {
		s := &d.Sections[i]
		if id != "" && s.ID != id {
			continue
		}
		if s.Table != nil {
			return s, nil
		}
		if id != "" {
			break
		}
	}
	return nil, &NoTableError{Section: id}
}
