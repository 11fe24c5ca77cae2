package render_test

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/socplatform/soc/query-api/reporting/render"
)

// pdfFile renders d to a PDF in a temporary directory. SOC_RENDER_OUT=dir keeps a copy there,
// to look at while developing.
func pdfFile(t *testing.T, r render.PDFRenderer, d *render.Document) string {
	t.Helper()
	b := renderBytes(t, r, d)
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", b[:min(len(b), 16)])
	}
	path := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("SOC_RENDER_OUT"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, t.Name()+".pdf"), b, 0o600)
	}
	return path
}

// pdfInfo returns pdfinfo's fields.
func pdfInfo(t *testing.T, path string) map[string]string {
	t.Helper()
	out, err := exec.Command(requireTool(t, "pdfinfo"), path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, out)
	}
	info := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			info[k] = strings.TrimSpace(v)
		}
	}
	return info
}

// pdfPages returns the text of each page (pdftotext -layout splits pages with a form feed).
func pdfPages(t *testing.T, path string) []string {
	t.Helper()
	out, err := exec.Command(requireTool(t, "pdftotext"), "-layout", "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\f"), "\f")
}

func TestPDFHoldsTitleFiguresRowsAndPageNumbers(t *testing.T) {
	const rows = 150
	path := pdfFile(t, render.PDFRenderer{}, executive(rows))
	info := pdfInfo(t, path)
	if info["Title"] != "Executive security report" || info["Author"] != "Acme Corp" {
		t.Errorf("pdfinfo Title %q Author %q", info["Title"], info["Author"])
	}
	pages, _ := strconv.Atoi(info["Pages"])
	if pages < 3 {
		t.Fatalf("pdfinfo Pages = %q, want the table over several pages", info["Pages"])
	}
	text := pdfPages(t, path)
	if len(text) != pages {
		t.Fatalf("pdftotext found %d pages, pdfinfo %d", len(text), pages)
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{
		"Acme Corp", "Executive security report", "Q4 2026, all teams",
		"Period: 2026-09-07 – 2026-11-30 (Europe/Paris)", "Generated 2026-12-07 06:00 CET by alice@example.com",
		// The figures, formatted.
		"1,234", "Open findings", "12", "Critical open", "4.5 days", "97.5%", "SLA compliance",
		// Charts: titles, axis label, legends, x labels.
		"Open findings by severity", "open findings", "critical", "Discovered", "Resolved", "2026-09-07",
		// First and last rows; the first row's date is shown in Paris (23:30 UTC is 00:30 there).
		"F-000001", "2026-12-01 00:30", "F-000150",
		// cp1252 holds these letters, and the em dash; the rest becomes "?".
		"Ünïcødé — ?? ?",
		"Acme Corp - confidential",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the PDF's text lacks %q", want)
		}
	}
	for i := range 150 {
		if id := fmt.Sprintf("F-%06d", i+1); !strings.Contains(all, id) {
			t.Fatalf("row %s is missing", id)
		}
	}
	// Every page is numbered "Page N of M"; every page holding rows repeats the header.
	header := regexp.MustCompile(`ID\s+Title\s+Severity\s+Asset\s+Opened\s+Age \(days\)\s+EPSS`)
	headers := 0
	for i, p := range text {
		if want := fmt.Sprintf("Page %d of %d", i+1, pages); !strings.Contains(p, want) {
			t.Errorf("page %d lacks %q", i+1, want)
		}
		hasRow := regexp.MustCompile(`F-\d{6}`).MatchString(p)
		if hasRow && !header.MatchString(p) {
			t.Errorf("page %d has rows but no table header:\n%s", i+1, p)
		}
		if header.MatchString(p) {
			headers++
		}
	}
	if headers < 2 {
		t.Errorf("the table header is on %d pages, want it repeated on each page of the table", headers)
	}
}

func TestPDFCutsLongTablesAndSaysHowManyRowsAreLeft(t *testing.T) {
	d := executive(80)
	path := pdfFile(t, render.PDFRenderer{MaxRows: 50}, d)
	all := strings.Join(pdfPages(t, path), "\n")
	if !strings.Contains(all, "F-000050") || strings.Contains(all, "F-000051") {
		t.Error("want rows 1 to 50 and no more")
	}
	if !strings.Contains(all, "30 more rows are not shown") {
		t.Error("the PDF does not say that 30 rows were left out")
	}
}

func TestPDFTruncatesLongCellsWithAnEllipsis(t *testing.T) {
	d := executive(3)
	long := strings.Repeat("very long finding title ", 40) + "THE END"
	d.Sections[4].Table.Rows[2][1] = long
	all := strings.Join(pdfPages(t, pdfFile(t, render.PDFRenderer{}, d)), "\n")
	if strings.Contains(all, "THE END") {
		t.Error("a long cell was written whole, over its neighbours")
	}
	if !strings.Contains(all, "very long finding title very") || !strings.Contains(all, "…") {
		t.Error("a long cell should start as written and end with an ellipsis")
	}
}

func TestPDFThinsTheLabelsOfLongSeries(t *testing.T) {
	x := make([]string, 120)
	v := make([]float64, len(x))
	for i := range x {
		x[i] = fmt.Sprintf("day-%03d", i)
		v[i] = float64(i % 17)
	}
	d := &render.Document{Title: "Daily", Sections: []render.Section{{Title: "Daily opened", Chart: &render.Chart{Kind: render.Line, X: x, Series: []render.Series{{Name: "opened", Values: v}}}}}}
	all := strings.Join(pdfPages(t, pdfFile(t, render.PDFRenderer{}, d)), "\n")
	shown := regexp.MustCompile(`day-\d{3}`).FindAllString(all, -1)
	if len(shown) == 0 || len(shown) >= len(x)/2 {
		t.Errorf("%d of %d x labels shown: want some, thinned so they do not overlap", len(shown), len(x))
	}
	if !strings.Contains(all, "day-000") {
		t.Error("the first x label is missing")
	}
	if touching := regexp.MustCompile(`\dday-`).FindString(all); touching != "" {
		t.Errorf("x labels overlap: %q", touching)
	}
	if strings.Contains(all, "Generated") {
		t.Error("a document without generation time or actor says \"Generated\" alone")
	}
	// The nice scale: 0 to 16 in steps of 5 becomes 0, 5, 10, 15, 20.
	for _, tick := range []string{"20", "15", "10", "5", "0"} {
		if !regexp.MustCompile(`(?m)^\s*` + tick + `\s`).MatchString(all) {
			t.Errorf("y tick %s missing", tick)
		}
	}
}

// TestPDFPaintsSeverities renders the first page and looks for the critical purple of the
// "Critical open" tile and the chart series: colour is how severities read on paper.
func TestPDFPaintsSeverities(t *testing.T) {
	path := pdfFile(t, render.PDFRenderer{}, executive(5))
	prefix := filepath.Join(t.TempDir(), "page")
	if out, err := exec.Command(requireTool(t, "pdftoppm"), "-png", "-r", "60", "-f", "1", "-l", "1", path, prefix).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	matches, _ := filepath.Glob(prefix + "*.png")
	if len(matches) != 1 {
		t.Fatalf("pdftoppm wrote %v", matches)
	}
	f, err := os.Open(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	count := func(r0, g0, b0 uint32) int {
		n := 0
		bd := img.Bounds()
		for y := bd.Min.Y; y < bd.Max.Y; y++ {
			for x := bd.Min.X; x < bd.Max.X; x++ {
				r, g, b, _ := img.At(x, y).RGBA()
				if near(r>>8, r0) && near(g>>8, g0) && near(b>>8, b0) {
					n++
				}
			}
		}
		return n
	}
	// A 60 dpi tile is about 100×50 pixels.
	if n := count(0x7B, 0x1F, 0xA2); n < 2000 {
		t.Errorf("%d critical-purple pixels on page 1, want the critical tile's", n)
	}
	if n := count(0xD3, 0x2F, 0x2F); n < 2000 {
		t.Errorf("%d high-red pixels on page 1, want the KEV tile's", n)
	}
	if n := count(0x00, 0x69, 0x5C); n < 2000 {
		t.Errorf("%d accent pixels on page 1, want the branding band's", n)
	}
}

func near(a, b uint32) bool { return a+6 >= b && b+6 >= a }

// TestPDFIsTheSameForTheSameDocument: the creation date comes from the document, so a
// re-rendered report is byte-identical (a stored report can be compared, cached, signed).
func TestPDFIsTheSameForTheSameDocument(t *testing.T) {
	a := renderBytes(t, render.PDFRenderer{}, executive(20))
	b := renderBytes(t, render.PDFRenderer{}, executive(20))
	if !bytes.Equal(a, b) {
		t.Error("two renderings of one document differ")
	}
}
