package cvss

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// sharedCVSSDir returns ../shared/testdata/cvss beside the repository root (the
// directory holding go.work, found by walking up from the package), or skips the
// test when it is absent.
func sharedCVSSDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			p := filepath.Join(dir, "..", "shared", "testdata", "cvss")
			if st, err := os.Stat(p); err != nil || !st.IsDir() {
				tb.Skipf("shared test data not found at %s (expected beside the repository root): skipping", p)
			}
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("no go.work above the package, so no ../shared/testdata: skipping")
		}
		dir = parent
	}
}

// csvRows reads a CSV file of the shared CVSS test data as maps keyed by the header.
func csvRows(tb testing.TB, name string) []map[string]string {
	tb.Helper()
	f, err := os.Open(filepath.Join(sharedCVSSDir(tb), name))
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
