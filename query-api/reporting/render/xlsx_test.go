package render_test

import (
	"archive/zip"
	"bytes"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/socplatform/soc/query-api/reporting/render"
)

func openXLSX(t *testing.T, b []byte) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("excelize cannot open the workbook: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// zipPart returns one part of the workbook's zip, "" when absent.
func zipPart(t *testing.T, b []byte, name string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == name {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			data, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			return string(data)
		}
	}
	return ""
}

// excelSerial is the Excel date number of a wall clock (1900 date system, after March 1900).
func excelSerial(wall time.Time) float64 {
	y, m, d := wall.Date()
	days := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Sub(time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)).Hours() / 24
	secs := wall.Hour()*3600 + wall.Minute()*60 + wall.Second()
	return days + float64(secs)/86400
}

func TestXLSXSheetsHeadersPanesFiltersAndTypes(t *testing.T) {
	const rows = 40
	b := renderBytes(t, render.XLSXRenderer{}, executive(rows))
	f := openXLSX(t, b)

	want := []string{"Summary", "Open findings by severity", "Discovered vs resolved", "Open findings, stacked", "Findings"}
	if got := f.GetSheetList(); !slices.Equal(got, want) {
		t.Fatalf("sheets %q, want %q", got, want)
	}
	const sh = "Findings"
	header, err := f.GetRows(sh)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(header[0], []string{"ID", "Title", "Severity", "Asset", "Opened", "Age (days)", "EPSS"}) {
		t.Fatalf("header row %q", header[0])
	}
	if len(header) != rows+1 {
		t.Fatalf("%d rows, want %d and the header", len(header), rows)
	}
	bold := func(cell string) bool {
		id, err := f.GetCellStyle(sh, cell)
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		return st.Font != nil && st.Font.Bold
	}
	if !bold("A1") || !bold("G1") {
		t.Error("the header row is not bold")
	}
	panes, err := f.GetPanes(sh)
	if err != nil {
		t.Fatal(err)
	}
	if !panes.Freeze || panes.YSplit != 1 || panes.TopLeftCell != "A2" {
		t.Errorf("panes %+v: want frozen below the header", panes)
	}
	var filter string
	for _, dn := range f.GetDefinedName() {
		if dn.Name == "_xlnm._FilterDatabase" && dn.Scope == sh {
			filter = dn.RefersTo
		}
	}
	if !strings.Contains(filter, "$A$1:$G$41") {
		t.Errorf("autofilter defined name %q, want the header and every row", filter)
	}
	// excelize writes the range absolute ($A$1:$G$41), as it does for every sheet.
	if sheet := zipPart(t, b, "xl/worksheets/sheet5.xml"); !regexp.MustCompile(`<autoFilter ref="\$?A\$?1:\$?G\$?41"`).MatchString(sheet) {
		t.Errorf("the Findings sheet has no autoFilter over A1:G41")
	}

	// Numbers are numbers: an unset or "n" cell type and a raw numeric value.
	raw := func(cell string) string {
		v, err := f.GetCellValue(sh, cell, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	number := func(cell string) float64 {
		ct, err := f.GetCellType(sh, cell)
		if err != nil {
			t.Fatal(err)
		}
		if ct != excelize.CellTypeUnset && ct != excelize.CellTypeNumber {
			t.Errorf("%s has cell type %v, want a number", cell, ct)
		}
		v, err := strconv.ParseFloat(raw(cell), 64)
		if err != nil {
			t.Errorf("%s = %q is not a number", cell, raw(cell))
		}
		return v
	}
	if v := number("F4"); v != 2 {
		t.Errorf("F4 (age of row 3) = %v, want 2", v)
	}
	if v := number("G12"); v != 0.01 {
		t.Errorf("G12 (EPSS of row 11) = %v, want 0.01", v)
	}
	if raw("G3") != "" {
		t.Errorf("G3 (a nil cell) = %q, want empty", raw("G3"))
	}
	// Text stays text, even when it reads like a number or a formula.
	for _, cell := range []string{"A2", "B2", "B4"} {
		ct, _ := f.GetCellType(sh, cell)
		if ct != excelize.CellTypeSharedString && ct != excelize.CellTypeInlineString {
			t.Errorf("%s has cell type %v, want a string", cell, ct)
		}
	}
	if v, _ := f.GetCellValue(sh, "B2"); v != executive(1).Sections[4].Table.Rows[0][1] {
		t.Errorf("B2 = %q, want the title as written", v)
	}
	if formula, _ := f.GetCellFormula(sh, "B2"); formula != "" {
		t.Errorf("B2 became the formula %q", formula)
	}

	// Dates are dates: a date number format and the Paris wall clock as a serial number.
	id, _ := f.GetCellStyle(sh, "E2")
	st, _ := f.GetStyle(id)
	if st.CustomNumFmt == nil || *st.CustomNumFmt != "yyyy-mm-dd hh:mm" {
		t.Errorf("E2's number format %+v, want a date format", st.CustomNumFmt)
	}
	if v := number("E2"); math.Abs(v-excelSerial(openedAt.In(paris))) > 1e-6 {
		t.Errorf("E2 = %v, want %v (2026-12-01 00:30 in Paris)", v, excelSerial(openedAt.In(paris)))
	}
	if v, _ := f.GetCellValue(sh, "E2"); v != "2026-12-01 00:30" {
		t.Errorf("E2 shows %q", v)
	}

	// Severity cells are filled with their colour.
	for cell, color := range map[string]string{"C2": "7B1FA2", "C3": "D32F2F", "C4": "F57C00", "C5": "FBC02D", "C6": "1976D2"} {
		id, _ := f.GetCellStyle(sh, cell)
		st, _ := f.GetStyle(id)
		if len(st.Fill.Color) == 0 || !strings.EqualFold(strings.TrimPrefix(st.Fill.Color[0], "FF"), color) {
			t.Errorf("%s fill %v, want %s", cell, st.Fill.Color, color)
		}
	}
	if w, _ := f.GetColWidth(sh, "B"); w <= 20 {
		t.Errorf("the Title column is %v wide: want it sized to its text", w)
	}
}

func TestXLSXSummaryHoldsEveryFigure(t *testing.T) {
	d := executive(3)
	f := openXLSX(t, renderBytes(t, render.XLSXRenderer{}, d))
	rows, err := f.GetRows(render.SummarySheet)
	if err != nil {
		t.Fatal(err)
	}
	if rows[0][0] != d.Title || rows[1][0] != d.Subtitle {
		t.Errorf("summary starts %q", rows[:2])
	}
	// Each figure is a row: section, label, value (a number), unit.
	found := map[string]string{}
	for r, row := range rows {
		if len(row) >= 3 && row[0] == "Summary" {
			cell := "C" + strconv.Itoa(r+1)
			v, _ := f.GetCellValue(render.SummarySheet, cell, excelize.Options{RawCellValue: true})
			found[row[1]] = v
			if row[1] == "Critical open" {
				id, _ := f.GetCellStyle(render.SummarySheet, cell)
				st, _ := f.GetStyle(id)
				if len(st.Fill.Color) == 0 || !strings.HasSuffix(strings.ToUpper(st.Fill.Color[0]), "7B1FA2") {
					t.Errorf("the critical figure is not filled purple: %v", st.Fill.Color)
				}
			}
		}
	}
	for _, fg := range d.Sections[0].Figures {
		v, err := strconv.ParseFloat(found[fg.Label], 64)
		if err != nil || v != fg.Value {
			t.Errorf("figure %q = %q, want %v", fg.Label, found[fg.Label], fg.Value)
		}
	}
	// The period is written as dates.
	for r, row := range rows {
		if len(row) >= 2 && row[0] == "From" {
			cell := "B" + strconv.Itoa(r+1)
			v, _ := f.GetCellValue(render.SummarySheet, cell, excelize.Options{RawCellValue: true})
			if got, _ := strconv.ParseFloat(v, 64); got != excelSerial(d.From.In(paris)) {
				t.Errorf("From = %q, want the serial of 2026-09-07", v)
			}
		}
	}
}

func TestXLSXDrawsChartsFromTheSectionsData(t *testing.T) {
	b := renderBytes(t, render.XLSXRenderer{}, executive(3))
	f := openXLSX(t, b)
	// The line chart's data: a Period column and one column per severity.
	rows, err := f.GetRows("Open findings by severity")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], []string{"Period", "critical", "high", "medium", "low", "info"}) || len(rows) != 13 {
		t.Fatalf("chart data header %q, %d rows", rows[0], len(rows))
	}
	if rows[1][0] != "2026-09-07" || rows[1][1] != "50" {
		t.Errorf("first data row %q", rows[1])
	}
	charts := map[string]string{}
	for i := 1; i <= 3; i++ {
		charts[strconv.Itoa(i)] = zipPart(t, b, "xl/charts/chart"+strconv.Itoa(i)+".xml")
	}
	all := charts["1"] + charts["2"] + charts["3"]
	for _, want := range []string{"<lineChart>", `<grouping val="stacked"`, `<grouping val="clustered"`, "7B1FA2", "&#39;Open findings by severity&#39;!$B$2:$B$13"} {
		if !strings.Contains(all, want) {
			t.Errorf("the workbook's charts lack %q", want)
		}
	}
	// The findings sheet holds a table and no chart: no drawing.
	if strings.Contains(zipPart(t, b, "xl/worksheets/sheet5.xml"), "<drawing") {
		t.Error("the Findings sheet has a drawing")
	}
}

func TestXLSXSheetNamesFollowExcelsRules(t *testing.T) {
	chart := &render.Chart{Kind: render.Bars, X: []string{"a"}, Series: []render.Series{{Name: "n", Values: []float64{1}}}}
	d := &render.Document{Title: "names", Sections: []render.Section{
		{Title: "Risk: top/assets [by team]?*", Chart: chart},
		{Title: "A title that is much longer than thirty-one characters", Chart: chart},
		{Title: "A title that is much longer than thirty-one characters", Chart: chart},
		{ID: "summary", Chart: chart}, // the Summary sheet's name is taken
		{Title: "'quoted'", Chart: chart},
		{Chart: chart},
		{Title: "figures only", Figures: []render.Figure{{Label: "x", Value: 1}}},
		{Title: "history", Chart: chart}, // Excel reserves History
		{Title: "odd kind", Chart: &render.Chart{Kind: "pie", X: []string{"a"}, Series: chart.Series}},
	}}
	b := renderBytes(t, render.XLSXRenderer{}, d)
	f := openXLSX(t, b)
	if !strings.Contains(zipPart(t, b, "xl/charts/chart8.xml"), "<barChart>") {
		t.Error("a chart kind the renderer does not know should draw as bars")
	}
	want := []string{
		"Summary",
		"Risk- top-assets -by team---",
		"A title that is much longer tha",
		"A title that is much longer (2)",
		"summary (2)",
		"quoted",
		"Section 6",
		"history Section 8",
		"odd kind",
	}
	if got := f.GetSheetList(); !slices.Equal(got, want) {
		t.Errorf("sheets\n%q\nwant\n%q", got, want)
	}
}

// TestXLSXPutsAChartsDataBesideItsTable: a section with a table and a chart keeps the table
// at A1 (filter and panes on it alone) and the chart's data one column after it.
func TestXLSXPutsAChartsDataBesideItsTable(t *testing.T) {
	d := &render.Document{Title: "both", Sections: []render.Section{{
		ID: "assets", Title: "Top assets",
		Chart: &render.Chart{Kind: render.Bars, X: []string{"db-1", "web-1", "app-1"}, Series: []render.Series{{Name: "risk", Values: []float64{9.5, 7, 3}}}},
		Table: &render.Table{
			Columns: []render.Column{{Name: "Asset", Type: render.Text}, {Name: "Risk", Type: render.Float}},
			Rows:    [][]any{{"db-1", 9.5}, {"web-1", 7.0}},
		},
	}}}
	b := renderBytes(t, render.XLSXRenderer{}, d)
	f := openXLSX(t, b)
	rows, err := f.GetRows("Top assets")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Asset", "Risk", "", "Category", "risk"},
		{"db-1", "9.5", "", "db-1", "9.5"},
		{"web-1", "7", "", "web-1", "7"},
		{"", "", "", "app-1", "3"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %q", rows)
	}
	for i := range want {
		if !slices.Equal(rows[i], want[i]) {
			t.Errorf("row %d %q, want %q", i+1, rows[i], want[i])
		}
	}
	sheet := zipPart(t, b, "xl/worksheets/sheet2.xml")
	if !regexp.MustCompile(`<autoFilter ref="\$?A\$?1:\$?B\$?3"`).MatchString(sheet) {
		t.Error("the autofilter should cover the table A1:B3 alone")
	}
	if !strings.Contains(sheet, "<drawing") || !strings.Contains(zipPart(t, b, "xl/charts/chart1.xml"), "&#39;Top assets&#39;!$E$2:$E$4") {
		t.Error("the chart should be drawn from E2:E4")
	}
}
