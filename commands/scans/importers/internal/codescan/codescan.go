// Package codescan holds what the parsers of code scanners' JSON reports (semgrep, bandit,
// gitleaks) share: the report of a scan whose output names no repository, and the warnings
// gathered while reading it, the scanner's own errors among them.
package codescan

import (
	"context"
	"fmt"
	"io"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
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
	return w.DocumentWith("report", "results", "not a "+title+" report: no results array", func(key string) error {
		if key != "results" {
			return other(key)
		}
		return jsonguard.Each(w, "results", t, keep)
	})
}

// Scan is one parse of a code scanner's report: the walker over it, the report being built (see
// Report), the warnings gathered, the tolerance of its records and the occurrence count that
// keeps their fingerprints unique. Semgrep, Bandit and Gitleaks start and finish alike; only
// what they read in between differs.
type Scan struct {
	W        *jsonguard.Walker
	Report   *importers.Report
	Warnings Warnings
	// Tolerant leaves out, with a warning, a member of a record of an unexpected type, unless
	// the record's fingerprint is made of it.
	Tolerant    jsonguard.Tolerant
	Occurrences parseutil.Occurrences
}

// Open starts the parse of a report of format (the scanner's name too) read from r within
// limits; required are the members of a record its fingerprint is made of.
func Open(ctx context.Context, format string, r io.Reader, limits jsonguard.Limits, required ...string) (*Scan, error) {
	w, err := jsonguard.Open(ctx, format, r, limits.MaxBytes, limits.MaxDepth)
	if err != nil {
		return nil, err
	}
	s := &Scan{W: w, Report: Report(format)}
	s.Tolerant = jsonguard.Tolerant{Required: required, Warn: s.Warnings.Add}
	return s, nil
}

// ScannerErrors reads the scanner's errors array: each element, decoded into a T, is one of the
// scanner's own errors (see Warnings.ScannerError), worded by msg.
func ScannerErrors[T any](s *Scan, msg func(e *T) string) error {
	return jsonguard.Each(s.W, "errors", jsonguard.Tolerant{Warn: s.Warnings.Add}, func(e T) {
		s.Warnings.ScannerError(func() string { return msg(&e) })
	})
}

// Done finishes the report (Warnings.Finish) and returns it bounded.
func (s *Scan) Done() (*importers.Report, error) {
	s.Warnings.Finish(s.Report, s.Report.Format, s.W)
	return importers.Bounded(s.Report, nil)
}
