package feeds

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Sentinel causes wrapped by *ParseError; test them with errors.Is.
var (
	ErrSyntax        = errors.New("syntax error")
	ErrTruncated     = fmt.Errorf("truncated input: %w", io.ErrUnexpectedEOF)
	ErrTooDeep       = errors.New("nesting too deep")
	ErrTooLarge      = errors.New("too large")
	ErrInvalidUTF8   = errors.New("invalid UTF-8")
	ErrInvalidValue  = errors.New("invalid value")
	ErrUnknownFormat = errors.New("not this feed's format")
)

// ParseError is input that could not be read, with where it is.
type ParseError struct {
	Feed   Feed
	Line   int    // 1-based line, 0 when unknown
	Column int    // 1-based byte column in Line, 0 when unknown
	Offset int64  // byte offset in the (decompressed) input, -1 when unknown
	Record int    // 0-based index of the record (array element or CSV data row), -1 when not in one
	Field  string // JSON path ("vulnerabilities[3].cve.id") or CSV column ("epss"), "" when none
	Msg    string
	Err    error // the sentinel cause (ErrSyntax, ErrTooDeep, …) or the reader's error
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Feed))
	b.WriteString(" feed")
	switch {
	case e.Line > 0:
		fmt.Fprintf(&b, ": line %d, column %d", e.Line, e.Column)
		if e.Offset >= 0 {
			fmt.Fprintf(&b, " (byte %d)", e.Offset)
		}
	case e.Offset >= 0:
		fmt.Fprintf(&b, ": byte %d", e.Offset)
	}
	if e.Record >= 0 {
		fmt.Fprintf(&b, ", record %d", e.Record)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ", field %s", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

// isRecordLevel reports whether e is a validation failure of one well-formed record, which
// Options.SkipInvalid may skip.
func (e *ParseError) isRecordLevel() bool {
	return e.Record >= 0 && errors.Is(e.Err, ErrInvalidValue)
}

// skipOrFail returns err, unless it is a record-level *ParseError and SkipInvalid is set: then
// the record is counted as skipped and reported as a warning.
func skipOrFail(o Options, st *Stats, err error) error {
	var pe *ParseError
	if o.SkipInvalid && errors.As(err, &pe) && pe.isRecordLevel() {
		st.skip(o, pe)
		return nil
	}
	return err
}
