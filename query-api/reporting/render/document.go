// Package render turns a report's content (Document) into a file: PDF, Excel workbook or CSV.
// It knows nothing of where the figures come from: the reporting package builds a Document from
// the read models (analytics, findings) and a template, off the request path.
package render

import (
	"io"
	"time"
)

// Format is a document format.
type Format string

const (
	PDF  Format = "pdf"
	XLSX Format = "xlsx"
	CSV  Format = "csv"
)

// ContentType returns the media type of f.
func (f Format) ContentType() string {
	switch f {
	case PDF:
		return "application/pdf"
	case XLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case CSV:
		return "text/csv; charset=utf-8"
	}
	return "application/octet-stream"
}

// Document is a report's content.
type Document struct {
	Title       string
	Subtitle    string // e.g. the period and filters in words
	GeneratedAt time.Time
	GeneratedBy string // the actor
	From, To    time.Time
	Location    *time.Location // dates are shown in it (nil: UTC)
	Branding    Branding
	Sections    []Section
}

// Branding is what a template may set of a document's look.
type Branding struct {
	Organisation string
	Color        string // accent colour, #RRGGBB ("" for the default)
	Footer       string
}

// Section is one part of a document. Exactly one of Figures, Chart and Table is set, or
// several for a section that shows figures above a chart or table.
type Section struct {
	ID      string // stable id from the template (e.g. "summary", "open_trend"); names the sheet
	Title   string
	Text    string // a short paragraph
	Figures []Figure
	Chart   *Chart
	Table   *Table
}

// Figure is a headline number.
type Figure struct {
	Label string
	Value float64
	Unit  string // "", "%", "days", …
	// Severity colours the figure ("" for none).
	Severity string
}

// ChartKind is how a chart draws its series.
type ChartKind string

const (
	Line        ChartKind = "line"
	StackedBars ChartKind = "stacked_bars"
	Bars        ChartKind = "bars"
)

// Chart is a chart over time buckets (X) or categories.
type Chart struct {
	Kind   ChartKind
	X      []string // labels: bucket starts formatted by the builder, or categories
	Series []Series
	YLabel string
}

// Series is one line or bar stack; a severity name gets its severity colour.
type Series struct {
	Name   string
	Values []float64 // len(X)
}

// ColumnType says how a cell is written: numbers as numbers and dates as dates in a workbook.
type ColumnType string

const (
	Text     ColumnType = "text"
	Int      ColumnType = "int"
	Float    ColumnType = "float"
	Date     ColumnType = "date"     // time.Time cells
	Severity ColumnType = "severity" // text coloured by severity
)

// Column is a table column.
type Column struct {
	Name string
	Type ColumnType
}

// Table is rows of cells: string for Text/Severity, int64 for Int, float64 for Float,
// time.Time for Date; nil for an empty cell.
type Table struct {
	Columns []Column
	Rows    [][]any
}

// Renderer writes a document in one format.
type Renderer interface {
	Format() Format
	Render(w io.Writer, d *Document) error
}
