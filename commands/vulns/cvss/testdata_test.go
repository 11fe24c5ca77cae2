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
