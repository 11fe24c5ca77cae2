package reporting_test

import (
	"bytes"
	"encoding/csv"
	"os/exec"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/socplatform/soc/query-api/reporting"
	"github.com/socplatform/soc/query-api/reporting/render"
)

// TestDocumentsRenderInEveryFormat: the documents the builder makes render with the real
// renderers (a cell of the wrong type for its column would fail the job), and hold what the
// read models answered: the PDF's text (pdftotext, when poppler-utils is installed), the
// workbook's cells, the CSV's rows.
func TestDocumentsRenderInEveryFormat(t *testing.T) {
	h := newHarnessRendering(t, &fakeAnalytics{}, render.Renderers()...)
	generated := func(template, format string) []byte {
		t.Helper()
		id := h.requestReport("admin", map[string]any{"template": template, "format": format})
		if r := h.await("admin", id); r.Status != reporting.StatusGenerated {
			t.Fatalf("%s %s: %+v", template, format, r)
		}
		a := h.file("admin", id)
		if a.status != 200 {
			t.Fatalf("%s %s file: %d", template, format, a.status)
		}
		return a.body
	}

	pdf := generated("executive", "pdf")
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", pdf[:min(len(pdf), 16)])
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Log("pdftotext not installed (poppler-utils): the PDF's text is not checked")
	} else {
		cmd := exec.Command("pdftotext", "-layout", "-", "-")
		cmd.Stdin = bytes.NewReader(pdf)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		text := string(out)
		for _, want := range []string{"Executive summary", "Open findings", "Time to remediate", "SLA compliance", "Riskiest assets", "red-web", "blue-db"} {
			if !strings.Contains(text, want) {
				t.Errorf("the PDF does not say %q:\n%s", want, text)
			}
		}
	}

	book, err := excelize.OpenReader(bytes.NewReader(generated("executive", "xlsx")))
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	rows, err := book.GetRows("Riskiest assets")
	if err != nil {
		t.Fatalf("sheets %v: %v", book.GetSheetList(), err)
	}
	if len(rows) != 3 || rows[0][0] != "Asset" || rows[1][0] != "red-web" || rows[2][0] != "blue-db" {
		t.Errorf("Riskiest assets sheet %v", rows)
	}

	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(generated("findings", "csv"), []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+len(dataset) || recs[0][0] != "Severity" || recs[1][0] != "critical" {
		t.Errorf("findings CSV %v", recs)
	}
}
