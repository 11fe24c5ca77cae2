package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/schemas/contracts"
)

// reportFiles lists every report of the supported formats: the shared real reports
// (../shared/testdata/<format>/ and variants/<format>/) and the project's own samples
// (commands/scans/importers/testdata/<format>/), as format → paths.
//
// SOC_HELDOUT_REPORTS names a folder of further reports kept outside the repository (a held-out
// set of real reports: <folder>/<format>/<file>); they are walked too, so that a set gathered by
// hand checks the same promise without being committed.
func reportFiles(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, format := range formats {
		out[format] = importertest.Reports(t, format)
	}
	if dir := os.Getenv("SOC_HELDOUT_REPORTS"); dir != "" {
		for _, format := range formats {
			more, _ := filepath.Glob(filepath.Join(dir, format, "*"))
			out[format] = append(out[format], more...)
		}
	}
	return out
}

// TestEveryReportIsStoredWhole: every report file of a supported format, imported into a fresh
// store without naming an asset, stores every finding it parses: parsed == stored + listed
// duplicates + ignored (license results), the stored ones being the finding streams opened. An
// import that cannot hold that must fail (ScanImportFailed, an error for the caller), never
// complete: a report that names nothing its asset could be known by fails, and stores whole
// once attached to a known asset. Failures are reported as one table.
func TestEveryReportIsStoredWhole(t *testing.T) {
	var bad []string
	files := 0
	for format, paths := range reportFiles(t) {
		for _, path := range paths {
			files++
			b := readFile(t, path)
			rep, perr := parseReport(format, b)
			if perr != nil {
				bad = append(bad, fmt.Sprintf("%s (%s): refused: %v", filepath.Base(path), format, perr))
				continue
			}
			store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
			im := newImporter(t, store)
			sum, err := im.Import(context.Background(), app.ImportScanReport{Report: bytes.NewReader(b), Format: format, Actor: "test"})
			var inc *app.IncompleteImportError
			if errors.As(err, &inc) && rep.Target == nil {
				// The report names nothing its asset could be known by: the import failed
				// loudly, as it must; attached to a known asset, it stores every finding.
				if n := countTypes(allEvents(t, store)); n[contracts.TypeScanImportFailed] != 1 || n[contracts.TypeFindingOpened] != 0 {
					bad = append(bad, filepath.Base(path)+": a failed import recorded findings or no failure")
				}
				store = testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
				asset := registerAsset(t, store, "walk")
				im = newImporter(t, store)
				sum, err = im.Import(context.Background(), app.ImportScanReport{Report: bytes.NewReader(b), Format: format, Asset: asset})
			}
			if bad1 := storedWhole(t, store, filepath.Base(path), len(rep.Findings), sum, err); bad1 != "" {
				bad = append(bad, bad1)
			}
		}
	}
	if files < 30 {
		t.Errorf("only %d report files found", files)
	}
	if len(bad) > 0 {
		t.Errorf("%d of %d reports not stored whole:\n%s", len(bad), files, strings.Join(bad, "\n"))
	}
}

// storedWhole checks one import against the store: "" when it stored every parsed finding, else
// why not.
func storedWhole(t *testing.T, store events.EventStore, name string, parsed int, sum app.Summary, err error) string {
	n := countTypes(allEvents(t, store))
	row := fmt.Sprintf("%s: parsed %d (report %d), stored %d, duplicates %d, ignored %d, opened %d", name,
		sum.Parsed, parsed, sum.Stored, sum.DuplicateCount, sum.Ignored, n[contracts.TypeFindingOpened])
	listed := 0
	for _, d := range sum.Duplicates {
		listed += d.Listed - 1
	}
	switch {
	case err != nil:
		return row + ": import failed: " + err.Error()
	case sum.Parsed != parsed || !sum.AddsUp():
		return row + ": counts do not add up"
	case sum.Stored != n[contracts.TypeFindingOpened] || sum.New != sum.Stored:
		return row + ": stored is not what the store holds"
	case len(sum.Duplicates) < app.MaxWarnings && listed != sum.DuplicateCount:
		return fmt.Sprintf("%s: duplicates listed %d, counted %d", row, listed, sum.DuplicateCount)
	case n[contracts.TypeScanImportCompleted] != 1 || n[contracts.TypeScanImportFailed] != 0:
		return row + ": not recorded as completed"
	}
	return ""
}
