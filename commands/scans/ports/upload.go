package ports

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/socplatform/soc/schemas/problem"
)

// Compressed uploads. Reports compress 10–20×, so users send them gzip'd: with Content-Encoding:
// gzip, or as the .gz file itself. Both are decompressed here, before the spool, so the spool
// file, its SHA-256 and size in ScanImportRequested, and the parsers all see the report itself.

var (
	// gzipMagic opens a gzip member (RFC 1952: ID1 ID2, CM 8 = deflate, the only method).
	gzipMagic = []byte{0x1f, 0x8b, 0x08}
	// A ZIP archive opens with a local file header, or the end record when it is empty. Every
	// format is JSON, XML, YAML or CSV text, in which \x03 and \x05 do not occur.
	zipLocalMagic = []byte("PK\x03\x04")
	zipEmptyMagic = []byte("PK\x05\x06")
)

// acceptEncoding is the Accept-Encoding of a 415: the codings an upload may be sent in.
const acceptEncoding = "gzip"

// uploadGzipped reads the request's Content-Encoding (RFC 9110 §8.4, a list): whether the body is
// gzip-coded. Identity (or none) is the body as is; any other coding, or several, is a 415 before
// a byte is read, since the endpoint would only spool bytes no parser reads.
func uploadGzipped(h http.Header) (bool, error) {
	var codings []string
	for _, v := range h.Values("Content-Encoding") {
		for _, c := range strings.Split(v, ",") {
			if c = strings.ToLower(strings.TrimSpace(c)); c != "" && c != "identity" {
				codings = append(codings, c)
			}
		}
	}
	switch {
	case len(codings) == 0:
		return false, nil
	case len(codings) == 1 && (codings[0] == "gzip" || codings[0] == "x-gzip"):
		return true, nil
	}
	return false, problem.UnsupportedMedia("Content-Encoding", "Content-Encoding %q is not read here: send the report uncompressed or with Content-Encoding: gzip",
		strings.Join(codings, ", "))
}

// openReport returns the report in the request body, decompressed and bounded: the body decoded
// from its Content-Encoding, then its first file part when it is a multipart form, then that
// decompressed when it is a gzip file sent as is. Each decompressed stream is bounded by limit,
// as the raw body is. What comes out is refused when it is a ZIP archive.
func openReport(r *http.Request, body io.Reader, gzipped bool, limit int64) (io.Reader, error) {
	if gzipped {
		var err error
		if body, err = gunzip(body, limit); err != nil {
			return nil, err
		}
	}
	part, err := reportPart(r, body)
	if err != nil {
		return nil, err
	}
	report, head, err := peek(part)
	if err == nil && bytes.HasPrefix(head, gzipMagic) {
		var z io.Reader
		if z, err = gunzip(report, limit); err == nil {
			report, head, err = peek(z)
		}
	}
	switch {
	case err != nil:
		return nil, err
	case bytes.HasPrefix(head, zipLocalMagic), bytes.HasPrefix(head, zipEmptyMagic):
		return nil, errZIPArchive
	}
	return report, nil
}

// peek returns r buffered with its first bytes, enough to tell a gzip or ZIP file (fewer when r
// is shorter).
func peek(r io.Reader) (*bufio.Reader, []byte, error) {
	br := bufio.NewReader(r)
	head, err := br.Peek(len(zipLocalMagic))
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return br, head, err
}

// errZIPArchive: no format reads a ZIP archive, so one is refused before it is spooled instead
// of failing later as a binary file.
var errZIPArchive = errors.New("the report is a ZIP archive, which no format reads: extract the report and import it")

// gunzip decompresses the gzip stream r (every member, as gzip(1) does), yielding at most limit
// bytes.
func gunzip(r io.Reader, limit int64) (io.Reader, error) {
	zr, err := gzip.NewReader(r)
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF // not even a header
	}
	if err != nil {
		return nil, &gzipError{err}
	}
	return &inflater{zr: zr, left: limit, limit: limit}, nil
}

// inflater reads a gzip stream, failing once it yields more than limit bytes: a few KiB can
// inflate to gigabytes, which the raw body's MaxBytesReader never sees.
type inflater struct {
	zr    *gzip.Reader
	left  int64 // what it may still yield
	limit int64
	err   error // sticky, so a retried Read cannot go past the limit
}

func (z *inflater) Read(p []byte) (int, error) {
	if z.err != nil {
		return 0, z.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if z.left < int64(len(p)) {
		p = p[:z.left+1] // one byte past the limit tells that the report is over it
	}
	n, err := z.zr.Read(p)
	if int64(n) > z.left {
		n, z.left, z.err = int(z.left), 0, &inflatedTooLarge{limit: z.limit}
		return n, z.err
	}
	z.left -= int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		z.err = &gzipError{err}
		return n, z.err
	}
	return n, err
}

// inflatedTooLarge is a decompressed report over the limit (413).
type inflatedTooLarge struct{ limit int64 }

func (e *inflatedTooLarge) Error() string {
	return fmt.Sprintf("the decompressed report is over the limit of %d bytes", e.limit)
}

// gzipError is a gzip stream that does not decode: corrupt, cut short or trailed by other bytes
// (400). It wraps the cause, so a raw body over its limit (*http.MaxBytesError) still shows.
type gzipError struct{ err error }

func (e *gzipError) Error() string {
	return "the gzip-compressed report is corrupt or cut short: " + e.err.Error()
}
func (e *gzipError) Unwrap() error { return e.err }
