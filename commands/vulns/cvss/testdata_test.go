package cvss

import (
	"encoding/csv"
	"os"
	"strconv"
	"testing"

	"github.com/socplatform/soc/commands/internal/testsupport"
)

// csvRows reads a CSV file of the shared CVSS test data as maps keyed by the header.
func csvRows(tb testing.TB, name string) []map[string]string {
	tb.Helper()
	f, err := os.Open(testsupport.SharedTestdata(tb, "cvss", name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	if len(recs) < 2 {
		tb.Fatalf("%s: no rows", name)
	}
	header := recs[0]
	rows := make([]map[string]string, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		row := make(map[string]string, len(header))
		for i, h := range header {
			row[h] = rec[i]
		}
		rows = append(rows, row)
	}
	return rows
}

// fmtScore writes a score as the test files do: one decimal.
func fmtScore(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// eachVector parses the vector of every row of the shared CSV file name with parse and hands
// each vector that parses to check with its row; want > 0 is the number of rows the file must
// hold.
func eachVector[V any](t *testing.T, name string, want int, parse func(string) (V, error), check func(row map[string]string, v V)) {
	t.Helper()
	rows := csvRows(t, name)
	if want > 0 && len(rows) != want {
		t.Fatalf("%s: %d rows, want %d", name, len(rows), want)
	}
	checked := 0
	for _, row := range rows {
		v, err := parse(row["vector"])
		if err != nil {
			t.Errorf("%s: %v", row["vector"], err)
			continue
		}
		check(row, v)
		checked++
	}
	t.Logf("%s: %d rows checked", name, checked)
}

// wantColumn fails t unless got is the value of the row's column col; what names the value.
func wantColumn(t *testing.T, row map[string]string, what, got, col string) {
	t.Helper()
	if got != row[col] {
		t.Errorf("%s: %s %s, want %s", row["vector"], what, got, row[col])
	}
}
