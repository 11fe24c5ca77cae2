package mapped

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"

	"github.com/socplatform/soc/commands/scans/importers"
)

// An upload of the mapped format carries its mapping: the mapping's JSON object first, then the
// report (one line break between them is dropped). `soc import --mapping FILE REPORT` sends that;
// with curl, `cat mapping.json report.csv | curl --data-binary @- …/v1/scans/imports?format=mapped`.
// The upload stays one self-contained file, so the import's durability (spool file, SHA-256,
// resume after a restart) is that of every other format, and the mapping that read a report is
// kept with it. The report's ParseErrors count lines and bytes from the report's start.

// Upload is the parser registered for ?format=mapped: it reads the mapping at the head of the
// upload, then the report through it.
type Upload struct {
	// MaxBytes is the most the report part may hold (DefaultMaxBytes when 0).
	MaxBytes int64
}

// NewUpload returns the parser of mapping-headed uploads.
func NewUpload() importers.Parser { return &Upload{} }

// Format implements importers.Parser.
func (*Upload) Format() string { return Format }

// Detect never claims a file (see Parser.Detect).
func (*Upload) Detect([]byte) bool { return false }

// Info implements importers.Describer.
func (*Upload) Info() importers.FormatInfo { return Info() }

// Parse implements importers.Parser.
func (u *Upload) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m, rest, err := SplitUpload(r)
	if err != nil {
		return nil, err
	}
	return (&Parser{m: m, MaxBytes: u.MaxBytes}).Parse(ctx, rest)
}

// SplitUpload reads the mapping at the head of r and returns it with the report that follows.
// A head that is not a valid mapping is a *importers.ParseError quoting the MappingError.
func SplitUpload(r io.Reader) (*Mapping, io.Reader, error) {
	br := bufio.NewReader(r)
	lr := &io.LimitedReader{R: br, N: MaxMappingBytes}
	dec := json.NewDecoder(lr)
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		msg := "the upload does not start with a mapping (a JSON object of at most 64 KiB before the report): " + err.Error()
		if errors.Is(err, io.ErrUnexpectedEOF) && lr.N == 0 {
			msg = "the mapping at the head of the upload is over 64 KiB (or is not closed)"
		}
		return nil, nil, &importers.ParseError{Format: Format, Offset: dec.InputOffset(), Msg: msg}
	}
	m, err := Load(raw)
	if err != nil {
		return nil, nil, &importers.ParseError{Format: Format, Offset: 0, Msg: err.Error()}
	}
	rest := bufio.NewReader(io.MultiReader(dec.Buffered(), lr, br))
	if b, _ := rest.Peek(2); bytes.HasPrefix(b, []byte("\r\n")) {
		_, _ = rest.Discard(2)
	} else if bytes.HasPrefix(b, []byte("\n")) {
		_, _ = rest.Discard(1)
	}
	return m, rest, nil
}

// UploadBody is what `soc import --mapping` sends: the mapping, a line break, the report.
func UploadBody(mapping []byte, report io.Reader) io.Reader {
	return io.MultiReader(bytes.NewReader(bytes.TrimSpace(mapping)), bytes.NewReader([]byte("\n")), report)
}
