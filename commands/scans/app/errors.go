package app

import (
	"fmt"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers/sniff"
	"github.com/socplatform/soc/schemas/problem"
)

// FormatError: the report's format could not be told from its first 64 KiB, because no parser
// claimed it (Candidates empty) or several did (Candidates names them), or
// ImportScanReport.Format names no known parser.
type FormatError struct {
	Requested  string   // ImportScanReport.Format when it named an unknown parser
	Candidates []string // the parsers whose Detect claimed the report
	Known      []string // every format the importer reads
	// Seen says, when no parser claimed the report, what its head looks like (JSON keys, XML
	// root, CSV columns) and which formats it resembles: a user with a cut or re-exported report
	// learns what is wrong with it, not only what would have been right.
	Seen string
}

// detectError is the FormatError of a report whose head no parser, or more than one, claimed.
// An empty report is never detected (it could be any format's); emptyIsReport, the formats that
// read one as a report with no findings, tell the user which format to name.
func detectError(head []byte, candidates, known, emptyIsReport []string) *FormatError {
	e := &FormatError{Candidates: candidates, Known: known}
	if len(candidates) == 0 {
		e.Seen = sniff.Explain(head)
		if sniff.Describe(head).Kind == sniff.Empty && len(emptyIsReport) > 0 {
			e.Seen += "; an empty report of " + strings.Join(emptyIsReport, " or ") + " (a scan that found nothing) is imported with its format named, as a report with no findings"
		}
	}
	return e
}

func (e *FormatError) Error() string {
	switch {
	case e.Requested != "":
		return fmt.Sprintf("unknown report format %q (known: %s)", e.Requested, strings.Join(e.Known, ", "))
	case len(e.Candidates) == 0 && e.Seen != "":
		return fmt.Sprintf("report format not recognised: %s; known formats: %s", e.Seen, strings.Join(e.Known, ", "))
	case len(e.Candidates) == 0:
		return fmt.Sprintf("report format not recognised (known: %s)", strings.Join(e.Known, ", "))
	}
	return fmt.Sprintf("report format is ambiguous: %s all claim it; name one in format", strings.Join(e.Candidates, ", "))
}

// Kind implements problem.KindError: the input is not something the importer can read.
func (e *FormatError) Kind() problem.Kind { return problem.KindInvalid }

// Field implements problem.FieldError.
func (e *FormatError) Field() string { return "/format" }

// RequestError: a field of the ImportScanReport command is malformed.
type RequestError struct {
	Path   string
	Reason string
}

func (e *RequestError) Error() string      { return e.Path + ": " + e.Reason }
func (e *RequestError) Kind() problem.Kind { return problem.KindInvalid }
func (e *RequestError) Field() string      { return e.Path }

// AlreadyImportedError: the scan id was used by an earlier import (its stream exists).
type AlreadyImportedError struct{ ScanID string }

func (e *AlreadyImportedError) Error() string {
	return fmt.Sprintf("scan %s was already imported", e.ScanID)
}
func (e *AlreadyImportedError) Kind() problem.Kind { return problem.KindConflict }
func (e *AlreadyImportedError) Field() string      { return "/scan_id" }

// UnknownAssetError: ImportScanReport.Asset names no live asset, by id or by exact name, or a
// name several live assets share. Nothing is written.
type UnknownAssetError struct {
	Ref    string
	Reason string
}

func (e *UnknownAssetError) Error() string      { return fmt.Sprintf("asset %q: %s", e.Ref, e.Reason) }
func (e *UnknownAssetError) Kind() problem.Kind { return problem.KindInvalid }
func (e *UnknownAssetError) Field() string      { return "/asset" }

// IncompleteImportError: the import could not account for every parsed finding (Parsed !=
// Stored + Duplicates + Ignored): findings whose asset could not be identified, findings with no
// fingerprint, or a recorder that stored fewer than it was given. The import is recorded as
// ScanImportFailed and resolves nothing.
type IncompleteImportError struct {
	Parsed, Stored, Duplicates, Ignored int
	// Reasons say why findings were not stored (at most MaxWarnings).
	Reasons []string
}

func (e *IncompleteImportError) Error() string {
	msg := fmt.Sprintf("%d findings parsed but %d stored, %d duplicates, %d ignored: %d not accounted for",
		e.Parsed, e.Stored, e.Duplicates, e.Ignored, e.Parsed-e.Stored-e.Duplicates-e.Ignored)
	if len(e.Reasons) > 0 {
		msg += " (" + strings.Join(e.Reasons, "; ") + ")"
	}
	return msg
}

// Kind implements problem.KindError: the report is readable but cannot be recorded whole.
func (e *IncompleteImportError) Kind() problem.Kind { return problem.KindRejected }
