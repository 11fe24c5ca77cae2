// Package codescan holds what the parsers of code scanners' JSON reports (semgrep, bandit,
// gitleaks) share: the report of a scan whose output names no repository, and the warnings
// gathered while reading it, the scanner's own errors among them.
package codescan

import (
	"fmt"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
)

// MaxScannerErrors is how many of the scanner's own errors become warnings of their own; the
// rest are counted in one more.
const MaxScannerErrors = 20

// Report starts the report of format, whose scanner names no repository, the scan root or
// anything else stronger than itself: one repository asset keyed and named format, and the
// Target {format, "tool_path"}, the weak identity a SARIF run without a source root also gets,
// so that the import service can tell scans of two repositories apart only by the user's choice
// of asset.
func Report(format string) *importers.Report {
	return &importers.Report{
		Format:      format,
		ScannerName: format,
		Assets:      []importers.Asset{{Key: format, Kind: importers.Repository, Name: format}},
		Findings:    []importers.Finding{},
		Target:      &importers.Target{Name: format, Hint: "tool_path"},
	}
}

// Warnings gathers the sentences a parse tolerated instead of refusing the report. The zero
// value is empty.
type Warnings struct {
	list          []string
	scannerErrors int
}

// Add records one warning.
func (w *Warnings) Add(msg string) { w.list = append(w.list, msg) }

// ScannerError records one of the scanner's own errors (a file it could not read, a rule it
// could not run: the scan went on without it); msg is called for the first MaxScannerErrors
// only.
func (w *Warnings) ScannerError(msg func() string) {
	if w.scannerErrors++; w.scannerErrors <= MaxScannerErrors {
		w.Add(msg())
	}
}

// Finish sets rep.Warnings: those added, a count of the scanner errors not shown (tool names
// the scanner in it), then what the walker cut; nil when there are none.
func (w *Warnings) Finish(rep *importers.Report, tool string, walker *jsonguard.Walker) {
	list := w.list
	if n := w.scannerErrors - MaxScannerErrors; n > 0 {
		list = append(list, fmt.Sprintf("%d more %s errors not shown", n, tool))
	}
	list = append(list, walker.Warnings()...)
	if len(list) == 0 {
		list = nil
	}
	rep.Warnings = list
}

// Results reads a report that is one JSON object holding a results array, the shape of Semgrep
// and Bandit reports: each element of results is decoded into a T (members of an unexpected type
// left out as t says) and handed to keep; every other member is handed to other, which must
// consume its value. A report without results is refused: it is not one of title's.
func Results[T any](w *jsonguard.Walker, title string, t jsonguard.Tolerant, keep func(T), other func(key string) error) error {
	saw := false
	err := w.Document("report", func(key string) error {
		if key != "results" {
			return other(key)
		}
		saw = true
		return jsonguard.Each(w, "results", t, keep)
	})
	if err == nil && !saw {
		err = w.ErrAt(jsonguard.Pos{}, "not a "+title+" report: no results array")
	}
	return err
}
