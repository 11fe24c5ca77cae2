package nmap

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/xmlscan"
)

const (
	// DefaultMaxBytes is the largest report Parse accepts when Parser.MaxBytes is zero.
	DefaultMaxBytes = 512 << 20
	// DefaultMaxDepth is the deepest element nesting Parse accepts when Parser.MaxDepth is zero.
	// Nmap output nests about ten levels (script tables a few more).
	DefaultMaxDepth = 64
)

var errTooBig = errors.New("report is larger than the byte limit")

// guardReader counts bytes, refuses more than max and checks the context on every read.
type guardReader struct {
	ctx context.Context
	r   io.Reader
	n   int64
	max int64
}

func (g *guardReader) Read(p []byte) (int, error) {
	if err := g.ctx.Err(); err != nil {
		return 0, err
	}
	if len(p) > 64<<10 {
		p = p[:64<<10]
	}
	n, err := g.r.Read(p)
	g.n += int64(n)
	if g.n > g.max {
		return n, errTooBig
	}
	return n, err
}

// guardTokens sits between the byte-level decoder and the decoder the parser uses (through
// xml.NewTokenDecoder), so that every token, including those consumed inside DecodeElement, is
// counted: it bounds the element depth, refuses entity declarations and checks the context.
type guardTokens struct {
	raw   *xml.Decoder
	guard xmlscan.Guard
}

func (g *guardTokens) Token() (xml.Token, error) {
	if err := g.guard.Tick(); err != nil {
		return nil, err
	}
	tok, err := g.raw.Token()
	if err != nil {
		return nil, err
	}
	if err := g.guard.Check(tok); err != nil {
		return nil, err
	}
	return tok, nil
}

// fail turns an error met while decoding into a ParseError at the raw decoder's position, or
// returns the context's error unwrapped.
func (g *guardTokens) fail(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pe *importers.ParseError
	if errors.As(err, &pe) {
		return pe
	}
	line, col := g.pos()
	off := g.raw.InputOffset()
	msg := strings.TrimPrefix(err.Error(), "xml: ")
	switch {
	case errors.Is(err, errTooBig):
		msg = errTooBig.Error()
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		msg = "unexpected end of input (truncated report?)"
	default:
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			msg = strings.TrimPrefix(xmlscan.SyntaxMsg(se), "xml: ")
		}
	}
	return &importers.ParseError{Format: formatName, Offset: off, Line: line, Column: col, Msg: msg}
}

// pos is the raw decoder's line and 1-based column (InputPos gives column 0 just after a newline).
func (g *guardTokens) pos() (int, int) {
	line, col := g.raw.InputPos()
	return max(line, 1), max(col, 1)
}

// errAt is a ParseError at the raw decoder's current position.
func (g *guardTokens) errAt(msg string) error {
	line, col := g.pos()
	return &importers.ParseError{Format: formatName, Offset: g.raw.InputOffset(), Line: line, Column: col, Msg: msg}
}

// charsetReader accepts the single-byte encodings an Nmap report may declare; UTF-8 needs none,
// and UTF-16 was decoded to UTF-8 before the parser (xmlscan.DecodedUTF16).
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	if xmlscan.DecodedUTF16(label) {
		return in, nil
	}
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii":
		return xmlscan.NewLatin1Reader(in), nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", label)
}

// detectRoot reports whether the first element of head is <nmaprun>.
func detectRoot(head []byte) bool {
	head = bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF"))
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '<' {
		return false
	}
	d := xml.NewDecoder(bytes.NewReader(head))
	d.Strict = false
	d.CharsetReader = charsetReader
	for i := 0; i < 1000; i++ {
		off := d.InputOffset()
		tok, err := d.RawToken()
		if err != nil {
			// The head may end inside the root's start tag.
			rest := bytes.TrimLeft(head[off:], " \t\r\n")
			if r, ok := bytes.CutPrefix(rest, []byte("<nmaprun")); ok {
				return len(r) == 0 || strings.IndexByte(" \t\r\n>/", r[0]) >= 0
			}
			return false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t.Name.Local == "nmaprun"
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return false
			}
		}
	}
	return false
}
