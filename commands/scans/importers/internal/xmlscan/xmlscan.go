// Package xmlscan is the bounded, cancellable XML token loop shared by the nessus, openvas and zap
// parsers. (The nmap parser reads through xml.NewTokenDecoder so that it can use DecodeElement,
// with configurable limits; its tokens pass the same Guard, see nmap/xmlguard.go.) Format
// (format.go) is the importers.Parser of the XML formats whose parsers keep no settings.
package xmlscan

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
	"github.com/socplatform/soc/commands/scans/importers/internal/readguard"
)

// Scanner is a bounded, cancellable token loop over an XML document. It never builds a tree:
// callers pull tokens and keep only what they need. It refuses DTDs that declare entities, nesting
// deeper than readguard.MaxDepth and single tokens larger than readguard.MaxTokenBytes; encoding/xml itself never
// expands entities beyond the five predefined ones and rejects invalid UTF-8 in text.
type Scanner struct {
	ctx    context.Context
	g      *readguard.Reader
	d      *xml.Decoder
	format string
	guard  Guard
}

// New returns a Scanner over r whose errors name format.
func New(ctx context.Context, r io.Reader, format string) *Scanner {
	g := &readguard.Reader{R: r, MaxRun: readguard.MaxTokenBytes}
	d := xml.NewDecoder(readguard.SkipBOM(g))
	d.Strict = true
	d.CharsetReader = CharsetReader
	return &Scanner{ctx: ctx, g: g, d: d, format: format, guard: Guard{Ctx: ctx, MaxDepth: readguard.MaxDepth}}
}

// Report reads a report of format that is an XML document or, when its first byte starts neither
// XML nor JSON ('<', '{', '['; JSON gets the XML reader's "not an XML report"), a CSV export,
// which csv reads. doc reads the XML document from its root element and returns its report;
// Report then checks that nothing follows the root. Either report is bounded (importers.Bounded).
func Report(ctx context.Context, r io.Reader, format string,
	csv func(context.Context, io.Reader) (*importers.Report, error),
	doc func(s *Scanner, root xml.StartElement) (*importers.Report, error)) (*importers.Report, error) {
	br, first := readguard.Sniff(r)
	if !strings.ContainsRune("<{[\x00", rune(first)) {
		return importers.Bounded(csv(ctx, br))
	}
	s := New(ctx, br, format)
	root, err := s.Root()
	if err != nil {
		return nil, err
	}
	rep, err := doc(s, root)
	if err != nil {
		return nil, err
	}
	if err := s.Trailing(); err != nil {
		return nil, err
	}
	return importers.Bounded(rep, nil)
}

// Open starts reading the XML document r holds, for formats that tell XML from JSON themselves:
// the Scanner after the document element, which isRoot must accept, or the refusal of a document
// that is not what (e.g. "a CycloneDX <bom>").
func Open(ctx context.Context, r io.Reader, format string, isRoot func(xml.StartElement) bool, what string) (*Scanner, xml.StartElement, error) {
	s := New(ctx, r, format)
	root, err := s.Root()
	if err != nil {
		return nil, root, err
	}
	if !isRoot(root) {
		return nil, root, s.Errorf("root element <%s> (namespace %q) is not %s", root.Name.Local, root.Name.Space, what)
	}
	return s, root, nil
}

// CharsetReader accepts the encodings old exports declare besides UTF-8, and UTF-16 (DecodedUTF16).
func CharsetReader(label string, in io.Reader) (io.Reader, error) {
	if DecodedUTF16(label) {
		return in, nil
	}
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1":
		return NewLatin1Reader(in), nil
	}
	return nil, fmt.Errorf("unsupported encoding %q (UTF-8, UTF-16, US-ASCII and ISO-8859-1 are supported)", label)
}

// DecodedUTF16 reports whether an XML declaration's encoding label names UTF-16. Such a document
// reaches the XML decoder already in UTF-8 (the import decodes UTF-16 first, see
// importers.DecodeUTF16), so the label describes the file, not the bytes read, and the decoder is
// to read them as they are. Undecoded UTF-16 never gets this far: its declaration is unreadable.
func DecodedUTF16(label string) bool {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-16", "utf16", "utf-16le", "utf-16be":
		return true
	}
	return false
}

// NewLatin1Reader converts ISO-8859-1 read from r to UTF-8.
func NewLatin1Reader(r io.Reader) io.Reader { return &latin1Reader{r: bufio.NewReader(r)} }

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

// Pos is the decoder's line, column and byte offset.
func (s *Scanner) Pos() (line, col int, off int64) {
	line, col = s.d.InputPos()
	return line, col, s.d.InputOffset()
}

// Errorf is a ParseError at the decoder's current position.
func (s *Scanner) Errorf(format string, args ...any) error {
	line, col, off := s.Pos()
	return &importers.ParseError{Format: s.format, Offset: off, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

// Wrap turns an error met while decoding into a ParseError (the context's error is returned as
// is).
func (s *Scanner) Wrap(err error) error {
	var le *readguard.LimitError
	if errors.As(err, &le) {
		return &importers.ParseError{Format: s.format, Offset: le.Off, Msg: le.Msg}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		line, col, off := s.Pos()
		if se.Line != line {
			line, col = se.Line, 0
		}
		return &importers.ParseError{Format: s.format, Offset: off, Line: line, Column: col, Msg: "malformed XML: " + SyntaxMsg(se)}
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return s.Errorf("%v", err)
}

// SyntaxMsg is what an encoding/xml syntax error says, but invalid UTF-8 is told as the other
// readers tell it (readguard.InvalidUTF8), with what to do about it.
func SyntaxMsg(se *xml.SyntaxError) string {
	if se.Msg == "invalid UTF-8" {
		return readguard.InvalidUTF8
	}
	return se.Msg
}

// Next returns the next token. CharData is only valid until the following call.
func (s *Scanner) Next() (xml.Token, error) {
	if err := s.guard.Tick(); err != nil {
		return nil, err
	}
	tok, err := s.d.Token()
	if err != nil {
		if err == io.EOF {
			return nil, err
		}
		return nil, s.Wrap(err)
	}
	if err := s.guard.Check(tok); err != nil {
		return nil, s.Errorf("%v", err)
	}
	return tok, nil
}

// Root reads up to and including the document element.
func (s *Scanner) Root() (xml.StartElement, error) {
	if err := s.ctx.Err(); err != nil {
		return xml.StartElement{}, err
	}
	for {
		tok, err := s.Next()
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
				return xml.StartElement{}, s.Errorf("text before the root element (not an XML report)")
			}
		}
	}
}

// Trailing checks that nothing but whitespace, comments and processing instructions follows the
// root element.
func (s *Scanner) Trailing() error {
	for {
		tok, err := s.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return s.Errorf("a second root element <%s>", t.Name.Local)
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return s.Errorf("text after the root element")
			}
		}
	}
}

// Children calls fn for each child element of the element just opened, until its end tag. fn
// must consume the child (read it, or call Skip). Text directly inside the element is ignored.
func (s *Scanner) Children(fn func(se xml.StartElement) error) error {
	for {
		tok, err := s.Next()
		if err == io.EOF {
			return s.Wrap(io.ErrUnexpectedEOF)
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

// Each calls fn for each child element named name of the element just opened, skipping the other
// children: the records under a wrapper element.
func (s *Scanner) Each(name string, fn func(se xml.StartElement) error) error {
	return s.Children(func(se xml.StartElement) error {
		if se.Name.Local != name {
			return s.Skip()
		}
		return fn(se)
	})
}

// Field is a child element whose text Fields keeps: at most max bytes of it, in *into.
type Field struct {
	name string
	into *string
	max  int
}

// Text is the Field of the child element name: its text, cut at max bytes, goes into *into.
func Text(name string, into *string, max int) Field { return Field{name, into, max} }

// Fields reads the children of the element just opened, as Children does: the text of each child
// one of fields names goes where that Field says (a repeated child's last text wins), any other
// child is handed to other, or skipped when other is nil. Reports' records are mostly such lists
// of text elements.
func (s *Scanner) Fields(other func(se xml.StartElement) error, fields ...Field) error {
	return s.Children(func(se xml.StartElement) error {
		for _, f := range fields {
			if f.name == se.Name.Local {
				v, err := s.Text(f.max)
				*f.into = v
				return err
			}
		}
		if other == nil {
			return s.Skip()
		}
		return other(se)
	})
}

// Skip consumes the rest of the element just opened.
func (s *Scanner) Skip() error {
	depth := 1
	for depth > 0 {
		tok, err := s.Next()
		if err == io.EOF {
			return s.Wrap(io.ErrUnexpectedEOF)
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

// Text reads the text content of the element just opened (text of nested elements included),
// keeping at most max bytes, and consumes its end tag. The result is trimmed.
func (s *Scanner) Text(max int) (string, error) {
	var b strings.Builder
	depth := 1
	for depth > 0 {
		tok, err := s.Next()
		if err == io.EOF {
			return "", s.Wrap(io.ErrUnexpectedEOF)
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
		return parseutil.Cut(strings.TrimSpace(b.String()), max), nil
	}
	return strings.TrimSpace(b.String()), nil
}

// Node is an element read whole by Tree: for formats whose elements are small records of
// nested elements (CycloneDX XML), a tree is simpler than a token loop per field.
type Node struct {
	Name  string // local name
	Attr  []xml.Attr
	Text  string // trimmed text directly inside the element, at most the max given to Tree
	Kids  []*Node
	Start int64 // byte offset of the element's start tag
}

// MaxTreeNodes bounds the elements of one Tree: a record with more is not a record.
const MaxTreeNodes = 1 << 16

// Tree reads the element just opened (se) and everything inside it, keeping at most maxText
// bytes of text per element, and consumes its end tag.
func (s *Scanner) Tree(se xml.StartElement, maxText int) (*Node, error) {
	_, _, off := s.Pos()
	root := &Node{Name: se.Name.Local, Attr: se.Copy().Attr, Start: off}
	stack := []*Node{root}
	text := []*strings.Builder{{}}
	n := 1
	for len(stack) > 0 {
		tok, err := s.Next()
		if err == io.EOF {
			return nil, s.Wrap(io.ErrUnexpectedEOF)
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if n++; n > MaxTreeNodes {
				return nil, s.Errorf("<%s> holds more than %d elements", root.Name, MaxTreeNodes)
			}
			_, _, off := s.Pos()
			kid := &Node{Name: t.Name.Local, Attr: t.Copy().Attr, Start: off}
			top := stack[len(stack)-1]
			top.Kids = append(top.Kids, kid)
			stack = append(stack, kid)
			text = append(text, &strings.Builder{})
		case xml.EndElement:
			b := text[len(text)-1]
			stack[len(stack)-1].Text = strings.TrimSpace(b.String())
			if b.Len() > maxText {
				stack[len(stack)-1].Text = parseutil.Cut(stack[len(stack)-1].Text, maxText)
			}
			stack, text = stack[:len(stack)-1], text[:len(text)-1]
		case xml.CharData:
			b := text[len(text)-1]
			if room := maxText + 1 - b.Len(); room > 0 {
				b.Write(t[:min(len(t), room)])
			}
		}
	}
	return root, nil
}

// Kid is n's first child element named name, or nil (n may be nil).
func (n *Node) Kid(name string) *Node {
	if n == nil {
		return nil
	}
	for _, k := range n.Kids {
		if k.Name == name {
			return k
		}
	}
	return nil
}

// All are n's child elements named name, under the wrapper element wrap when it is not "" (e.g.
// All("ratings", "rating")).
func (n *Node) All(wrap, name string) []*Node {
	if wrap != "" {
		n = n.Kid(wrap)
	}
	if n == nil {
		return nil
	}
	var out []*Node
	for _, k := range n.Kids {
		if k.Name == name {
			out = append(out, k)
		}
	}
	return out
}

// AttrValue is the value of n's attribute with the local name name, or "".
func (n *Node) AttrValue(name string) string {
	return Attr(xml.StartElement{Attr: n.Attr}, name)
}

// Get is the text of the element reached from n by path (child names), or "".
func (n *Node) Get(path ...string) string {
	for _, p := range path {
		n = n.Kid(p)
	}
	if n == nil {
		return ""
	}
	return n.Text
}

// Attr is the value of se's attribute with the local name name, or "".
func Attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// InNamespace reports whether se is the element named local in a namespace starting with
// nsPrefix: resolved (Scanner.Root, whose decoder resolves names) or, in a raw start tag
// (RootElement, what Detect sees), declared by one of its xmlns attributes. Formats whose
// schema version is part of the namespace (CycloneDX, Dependency-Check) are recognised by its
// prefix.
func InNamespace(se xml.StartElement, local, nsPrefix string) bool {
	if se.Name.Local != local {
		return false
	}
	if strings.HasPrefix(se.Name.Space, nsPrefix) {
		return true
	}
	for _, a := range se.Attr {
		if (a.Name.Space == "" && a.Name.Local == "xmlns" || a.Name.Space == "xmlns") && strings.HasPrefix(a.Value, nsPrefix) {
			return true
		}
	}
	return false
}

// RootElement returns the document element of an XML head (which may be cut anywhere after it),
// or false when head does not start as an XML document.
func RootElement(head []byte) (xml.StartElement, bool) {
	d := xml.NewDecoder(bytes.NewReader(readguard.TrimBOM(head)))
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

// XMLOnly is the csv argument of Report for formats that have no CSV export: it refuses the
// input as "not a <what>: expected an XML document".
func XMLOnly(format, what string) func(context.Context, io.Reader) (*importers.Report, error) {
	return func(context.Context, io.Reader) (*importers.Report, error) {
		return nil, &importers.ParseError{Format: format, Offset: 0, Msg: "not " + what + ": expected an XML document"}
	}
}

var xml11 = regexp.MustCompile(`^\s*<\?xml\s+version\s*=\s*["']1\.1["']`)

// IsXML11 reports whether b starts with an XML 1.1 declaration (Burp writes one when requests
// are not base64-encoded), which encoding/xml refuses.
func IsXML11(b []byte) bool { return xml11.Match(b) }

// As10 is b with an XML 1.1 declaration at its start rewritten as 1.0, in place (same length,
// so that positions in errors stay those of the file); b itself when it has none. Reports that
// declare 1.1 use nothing 1.0 lacks that encoding/xml would have to know: what they hold is
// read, and a character 1.0 forbids is still refused.
func As10(b []byte) []byte {
	loc := xml11.FindIndex(b)
	if loc == nil {
		return b
	}
	out := bytes.Clone(b)
	out[loc[1]-2] = '0'
	return out
}

// RefuseJSON returns r, buffered, or a ParseError when r holds a JSON document instead of XML:
// scanners whose XML report has a JSON sibling of another shape (Checkmarx One beside CxSAST,
// Veracode's REST findings beside its detailed report) get a refusal that names what was given
// and what to export instead (hint), not the XML reader's "text before the root element".
func RefuseJSON(r io.Reader, format, what, hint string) (io.Reader, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(4 << 10)
	head = bytes.TrimLeft(readguard.TrimBOM(head), " \t\r\n")
	if len(head) > 0 && (head[0] == '{' || head[0] == '[') {
		return nil, &importers.ParseError{Format: format, Offset: 0, Line: 1, Column: 1,
			Msg: "a JSON document, not " + what + ": " + hint}
	}
	return br, nil
}
