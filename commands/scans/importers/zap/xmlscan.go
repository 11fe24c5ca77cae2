package zap

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/socplatform/soc/commands/scans/importers"
)

// scanner is a bounded, cancellable token loop over an XML document. It never builds a tree:
// callers pull tokens and keep only what they need. It refuses DTDs that declare entities, nesting
// deeper than maxDepth and single tokens larger than maxTokenBytes; encoding/xml itself never
// expands entities beyond the five predefined ones and rejects invalid UTF-8 in text.
type scanner struct {
	ctx    context.Context
	g      *guardReader
	d      *xml.Decoder
	format string
	depth  int
	ntok   int
}

func newScanner(ctx context.Context, r io.Reader, format string) *scanner {
	g := &guardReader{r: r, maxRun: maxTokenBytes}
	d := xml.NewDecoder(skipBOM(g))
	d.Strict = true
	d.CharsetReader = charsetReader
	return &scanner{ctx: ctx, g: g, d: d, format: format}
}

// charsetReader accepts the encodings old exports declare besides UTF-8.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1":
		return &latin1Reader{r: bufio.NewReader(in)}, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q (UTF-8, US-ASCII and ISO-8859-1 are supported)", label)
}

type latin1Reader struct {
	r   *bufio.Reader
	buf []byte
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	for len(l.buf) == 0 {
		b, err := l.r.ReadByte()
		if err != nil {
			return 0, err
		}
		l.buf = utf8.AppendRune(l.buf[:0], rune(b))
	}
	n := copy(p, l.buf)
	l.buf = l.buf[n:]
	return n, nil
}

func (s *scanner) pos() (line, col int, off int64) {
	line, col = s.d.InputPos()
	return line, col, s.d.InputOffset()
}

// errorf is a ParseError at the decoder's current position.
func (s *scanner) errorf(format string, args ...any) error {
	line, col, off := s.pos()
	return &importers.ParseError{Format: s.format, Offset: off, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

func (s *scanner) wrap(err error) error {
	var le *limitError
	if errors.As(err, &le) {
		return &importers.ParseError{Format: s.format, Offset: le.off, Msg: le.msg}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		line, col, off := s.pos()
		if se.Line != line {
			line, col = se.Line, 0
		}
		return &importers.ParseError{Format: s.format, Offset: off, Line: line, Column: col, Msg: "malformed XML: " + se.Msg}
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return s.errorf("%v", err)
}

// next returns the next token. CharData is only valid until the following call.
func (s *scanner) next() (xml.Token, error) {
	s.ntok++
	if s.ntok&255 == 0 {
		if err := s.ctx.Err(); err != nil {
			return nil, err
		}
	}
	tok, err := s.d.Token()
	if err != nil {
		if err == io.EOF {
			return nil, err
		}
		return nil, s.wrap(err)
	}
	switch t := tok.(type) {
	case xml.StartElement:
		s.depth++
		if s.depth > maxDepth {
			return nil, s.errorf("elements nested deeper than %d", maxDepth)
		}
	case xml.EndElement:
		s.depth--
	case xml.Directive:
		if bytes.Contains(bytes.ToUpper(t), []byte("<!ENTITY")) || bytes.HasPrefix(bytes.ToUpper(bytes.TrimSpace(t)), []byte("ENTITY")) {
			return nil, s.errorf("DTD entity declarations are refused")
		}
	}
	return tok, nil
}

// root reads up to and including the document element.
func (s *scanner) root() (xml.StartElement, error) {
	if err := s.ctx.Err(); err != nil {
		return xml.StartElement{}, err
	}
	for {
		tok, err := s.next()
		if err == io.EOF {
			return xml.StartElement{}, &importers.ParseError{Format: s.format, Offset: s.d.InputOffset(), Msg: "no root element (empty or not XML)"}
		}
		if err != nil {
			return xml.StartElement{}, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t.Copy(), nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return xml.StartElement{}, s.errorf("text before the root element (not an XML report)")
			}
		}
	}
}

// trailing checks that nothing but whitespace, comments and processing instructions follows the
// root element.
func (s *scanner) trailing() error {
	for {
		tok, err := s.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return s.errorf("a second root element <%s>", t.Name.Local)
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return s.errorf("text after the root element")
			}
		}
	}
}

// children calls fn for each child element of the element just opened, until its end tag. fn
// must consume the child (read it, or call skip). Text directly inside the element is ignored.
func (s *scanner) children(fn func(se xml.StartElement) error) error {
	for {
		tok, err := s.next()
		if err == io.EOF {
			return s.wrap(io.ErrUnexpectedEOF)
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := fn(t); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		}
	}
}

// skip consumes the rest of the element just opened.
func (s *scanner) skip() error {
	depth := 1
	for depth > 0 {
		tok, err := s.next()
		if err == io.EOF {
			return s.wrap(io.ErrUnexpectedEOF)
		}
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return nil
}

// text reads the text content of the element just opened (text of nested elements included),
// keeping at most max bytes, and consumes its end tag. The result is trimmed.
func (s *scanner) text(max int) (string, error) {
	var b strings.Builder
	depth := 1
	for depth > 0 {
		tok, err := s.next()
		if err == io.EOF {
			return "", s.wrap(io.ErrUnexpectedEOF)
		}
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if room := max + 1 - b.Len(); room > 0 {
				b.Write(t[:min(len(t), room)])
			}
		}
	}
	if b.Len() > max {
		return cut(strings.TrimSpace(b.String()), max), nil
	}
	return strings.TrimSpace(b.String()), nil
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// rootElement returns the document element of an XML head (which may be cut anywhere after it),
// or false when head does not start as an XML document.
func rootElement(head []byte) (xml.StartElement, bool) {
	d := xml.NewDecoder(bytes.NewReader(trimBOM(head)))
	d.Strict = true
	d.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	for i := 0; i < 256; i++ {
		tok, err := d.RawToken()
		if err != nil {
			return xml.StartElement{}, false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, true
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return xml.StartElement{}, false
			}
		}
	}
	return xml.StartElement{}, false
}
