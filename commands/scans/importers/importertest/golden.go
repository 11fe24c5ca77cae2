package importertest

import (
	"maps"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
)

// Golden builds Spec.Golden from tables of expectations keyed by testdata file base name: each
// file's check is check called with the file's row. A format whose files need different checks
// (XML and CSV exports, current and legacy shapes) passes one Table per kind.
func Golden(tables ...map[string]func(*testing.T, *importers.Report)) map[string]func(*testing.T, *importers.Report) {
	m := map[string]func(*testing.T, *importers.Report){}
	for _, t := range tables {
		maps.Copy(m, t)
	}
	return m
}

// Table is one table of Golden: for each file of want, check(t, rep, want[file]).
func Table[T any](want map[string]T, check func(t *testing.T, rep *importers.Report, want T)) map[string]func(*testing.T, *importers.Report) {
	m := make(map[string]func(*testing.T, *importers.Report), len(want))
	for file, w := range want {
		m[file] = func(t *testing.T, rep *importers.Report) {
			t.Helper()
			check(t, rep, w)
		}
	}
	return m
}
