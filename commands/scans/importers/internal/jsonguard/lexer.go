package jsonguard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
	"github.com/socplatform/soc/commands/scans/importers/internal/readguard"
)

// Bounds of what the walker keeps while it streams a report. Values it skips cost no memory
// whatever their size; values it decodes (one vulnerability, match or result at a time) are
// captured first, with every string longer than MaxStringBytes cut (see Walker.Warnings), and a
// captured value larger than MaxValueBytes refuses the report.
const (
	MaxStringBytes = 1 << 20
	MaxValueBytes  = 16 << 20
)

// Pos is a position in a report: byte offset, 1-based line and byte column. The zero Pos is the
// start of the report.
type Pos struct {
	Off  int64
	Line int
	Col  int
}

// errTooLarge stands for the end of the input once maxBytes have been read.
var errTooLarge = errors.New("report over the byte limit")

// plain marks the bytes a string holds as they are: not a quote, a backslash, a control
// character or the start of a multi-byte UTF-8 sequence.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// lexer reads a JSON document from a reader through a fixed window, checking its syntax, UTF-8
// and nesting as it goes and counting lines, so that the document is never held: a value is
// either skipped (nothing kept) or captured into a caller's buffer.
type lexer struct {
	ctx      context.Context
	format   string
	r        io.Reader
	buf      []byte
	i, n     int   // buf[i:n] is read and not yet consumed
	base     int64 // offset of buf[0]
	line     int
	lineOff  int64 // offset of the current line's first byte
	maxBytes int64
	maxDepth int
	depth    int
	err      error // what ended the input: io.EOF, errTooLarge, a read or context error
	cut      int   // strings cut to MaxStringBytes
	firstCut Pos
}

func newLexer(ctx context.Context, format string, r io.Reader, maxBytes int64, maxDepth int) *lexer {
	return &lexer{ctx: ctx, format: format, r: r, buf: make([]byte, 64<<10), line: 1, maxBytes: maxBytes, maxDepth: maxDepth}
}

// pos is the position of the next unconsumed byte.
func (l *lexer) pos() Pos {
	off := l.base + int64(l.i)
	return Pos{Off: off, Line: l.line, Col: int(off-l.lineOff) + 1}
}

// fill makes at least k bytes available unless the input ends first; it reports whether they are.
func (l *lexer) fill(k int) bool {
	for l.n-l.i < k {
		if l.err != nil {
			return false
		}
		if l.i > 0 {
			copy(l.buf, l.buf[l.i:l.n])
			l.n -= l.i
			l.base += int64(l.i)
			l.i = 0
		}
		if err := l.ctx.Err(); err != nil {
			l.err = err
			return false
		}
		room := l.buf[l.n:]
		if left := l.maxBytes + 1 - (l.base + int64(l.n)); int64(len(room)) > left {
			room = room[:left] // one byte past the limit tells an over-large report
		}
		m, err := l.r.Read(room)
		l.n += m
		if l.base+int64(l.n) > l.maxBytes {
			l.n = int(l.maxBytes - l.base)
			err = errTooLarge
		}
		if err != nil {
			l.err = err
		}
	}
	return true
}

// errAt is a ParseError at p.
func (l *lexer) errAt(p Pos, msg string) error {
	if p.Line == 0 {
		p.Line, p.Col = 1, int(p.Off)+1
	}
	return &importers.ParseError{Format: l.format, Offset: p.Off, Line: p.Line, Column: p.Col, Msg: msg}
}

// endErr is the error of an input that ends where a byte is needed.
func (l *lexer) endErr() error {
	switch {
	case l.err == errTooLarge:
		return l.errAt(l.pos(), fmt.Sprintf("report is larger than the %d-byte limit", l.maxBytes))
	case IsCtxErr(l.err):
		return l.err
	case l.err == io.EOF || errors.Is(l.err, io.ErrUnexpectedEOF):
		return l.errAt(l.pos(), "unexpected end of input (truncated report?)")
	}
	return fmt.Errorf("%s report: read: %w", l.format, l.err)
}

// badByte is the error for the unexpected byte at the current position.
func (l *lexer) badByte(context string) error {
	c := l.buf[l.i]
	if c >= utf8.RuneSelf {
		l.fill(utf8.UTFMax)
		if r, size := utf8.DecodeRune(l.buf[l.i:l.n]); r == utf8.RuneError && size <= 1 {
			return l.errAt(l.pos(), readguard.InvalidUTF8)
		}
	}
	return l.errAt(l.pos(), fmt.Sprintf("invalid character %s %s", quoteByte(c), context))
}

func quoteByte(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	s := fmt.Sprintf("%q", string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

// peek skips white space and returns the next byte, false at the end of the input.
func (l *lexer) peek() (byte, bool) {
	for {
		for l.i < l.n {
			switch c := l.buf[l.i]; c {
			case ' ', '\t', '\r':
				l.i++
			case '\n':
				l.i++
				l.line++
				l.lineOff = l.base + int64(l.i)
			default:
				return c, true
			}
		}
		if !l.fill(1) {
			return 0, false
		}
	}
}

// next is peek that fails at the end of the input.
func (l *lexer) next() (byte, error) {
	c, ok := l.peek()
	if !ok {
		return 0, l.endErr()
	}
	return c, nil
}

// capture collects the bytes of a value being decoded.
type capture struct {
	b     []byte
	start Pos
}

// value consumes the next value, appending its bytes to c when c is not nil.
func (l *lexer) value(c *capture) error {
	b, err := l.next()
	if err != nil {
		return err
	}
	switch {
	case b == '{' || b == '[':
		return l.container(c, b)
	case b == '"':
		return l.str(c)
	case b == '-' || (b >= '0' && b <= '9'):
		return l.number(c)
	case b == 't':
		return l.literal(c, "true")
	case b == 'f':
		return l.literal(c, "false")
	case b == 'n':
		return l.literal(c, "null")
	}
	return l.badByte("looking for beginning of value")
}

// open consumes '{' or '[', counting the nesting.
func (l *lexer) open(c *capture) error {
	l.depth++
	if l.depth > l.maxDepth {
		return l.errAt(l.pos(), fmt.Sprintf("nesting deeper than %d levels", l.maxDepth))
	}
	l.take(c, 1)
	return nil
}

// take consumes k available bytes, capturing them.
func (l *lexer) take(c *capture, k int) error {
	if c != nil {
		if len(c.b)+k > MaxValueBytes {
			return l.errAt(c.start, fmt.Sprintf("a single value is larger than %d bytes", MaxValueBytes))
		}
		c.b = append(c.b, l.buf[l.i:l.i+k]...)
	}
	l.i += k
	return nil
}

// container consumes an object or array (its opening byte is next).
func (l *lexer) container(c *capture, open byte) error {
	if err := l.open(c); err != nil {
		return err
	}
	closer, what := byte(']'), "array element"
	if open == '{' {
		closer, what = '}', "object key:value pair"
	}
	b, err := l.next()
	if err != nil {
		return err
	}
	if b == closer {
		l.depth--
		return l.take(c, 1)
	}
	for {
		if open == '{' {
			if err := l.key(c); err != nil {
				return err
			}
		}
		if err := l.value(c); err != nil {
			return err
		}
		if b, err = l.next(); err != nil {
			return err
		}
		switch b {
		case ',':
			if err := l.take(c, 1); err != nil {
				return err
			}
		case closer:
			l.depth--
			return l.take(c, 1)
		default:
			return l.badByte("after " + what)
		}
	}
}

// key consumes a member name and the ':' after it.
func (l *lexer) key(c *capture) error {
	b, err := l.next()
	if err != nil {
		return err
	}
	if b != '"' {
		return l.badByte("looking for beginning of object key string")
	}
	if err := l.str(c); err != nil {
		return err
	}
	if b, err = l.next(); err != nil {
		return err
	}
	if b != ':' {
		return l.badByte("after object key")
	}
	return l.take(c, 1)
}

// str consumes a string (its '"' is next), checking escapes and UTF-8. Captured, it keeps at
// most MaxStringBytes of its content and is marked as cut beyond that.
func (l *lexer) str(c *capture) error {
	start := l.pos()
	if err := l.take(c, 1); err != nil {
		return err
	}
	kept, cut := 0, false
	keep := func(k int) error { // consume k bytes of content, captured while they fit
		if c == nil || cut {
			l.i += k
			return nil
		}
		if kept+k > MaxStringBytes {
			cut = true
			l.i += k
			return nil
		}
		kept += k
		return l.take(c, k)
	}
	for {
		if !l.fill(1) {
			return l.endErr()
		}
		j := l.i
		for j < l.n && plain[l.buf[j]] {
			j++
		}
		if run := j - l.i; run > 0 {
			if c != nil && !cut && kept+run > MaxStringBytes {
				fit := MaxStringBytes - kept // plain bytes are ASCII: any prefix is whole
				if err := keep(fit); err != nil {
					return err
				}
				run -= fit
				cut = true
			}
			if err := keep(run); err != nil {
				return err
			}
			continue
		}
		switch b := l.buf[l.i]; {
		case b == '"':
			if cut {
				l.cut++
				if l.cut == 1 {
					l.firstCut = start
				}
				c.b = append(c.b, parseutil.TruncMark...)
			}
			return l.take(c, 1)
		case b == '\\':
			if !l.fill(2) {
				return l.endErr()
			}
			switch e := l.buf[l.i+1]; e {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				if err := keep(2); err != nil {
					return err
				}
			case 'u':
				if !l.fill(6) {
					return l.endErr()
				}
				for k := 2; k < 6; k++ {
					if !isHex(l.buf[l.i+k]) {
						l.i += k
						return l.badByte("in \\u hexadecimal character escape")
					}
				}
				if err := keep(6); err != nil {
					return err
				}
			default:
				l.i++
				return l.badByte("in string escape code")
			}
		case b < 0x20:
			return l.badByte("in string literal")
		default:
			l.fill(utf8.UTFMax)
			r, size := utf8.DecodeRune(l.buf[l.i:l.n])
			if r == utf8.RuneError && size <= 1 {
				return l.errAt(l.pos(), readguard.InvalidUTF8)
			}
			if err := keep(size); err != nil {
				return err
			}
		}
	}
}

func isHex(b byte) bool {
	return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F')
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// number consumes a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (l *lexer) number(c *capture) error {
	at := func() (byte, bool) {
		if !l.fill(1) {
			return 0, false
		}
		return l.buf[l.i], true
	}
	digits := func(what string) error { // one or more
		b, ok := at()
		if !ok {
			return l.endErr()
		}
		if !isDigit(b) {
			return l.badByte(what)
		}
		for ok && isDigit(b) {
			if err := l.take(c, 1); err != nil {
				return err
			}
			b, ok = at()
		}
		return nil
	}
	b, _ := at()
	if b == '-' {
		if err := l.take(c, 1); err != nil {
			return err
		}
	}
	b, ok := at()
	if !ok {
		return l.endErr()
	}
	if b == '0' {
		if err := l.take(c, 1); err != nil {
			return err
		}
	} else if err := digits("in numeric literal"); err != nil {
		return err
	}
	if b, ok = at(); ok && b == '.' {
		if err := l.take(c, 1); err != nil {
			return err
		}
		if err := digits("after decimal point in numeric literal"); err != nil {
			return err
		}
	}
	if b, ok = at(); ok && (b == 'e' || b == 'E') {
		if err := l.take(c, 1); err != nil {
			return err
		}
		if b, ok = at(); ok && (b == '+' || b == '-') {
			if err := l.take(c, 1); err != nil {
				return err
			}
		}
		if err := digits("in exponent of numeric literal"); err != nil {
			return err
		}
	}
	if l.err != nil && l.n == l.i && l.err != io.EOF {
		return l.endErr() // a number cut by the limit or a failed read is not whole
	}
	return nil
}

// literal consumes true, false or null.
func (l *lexer) literal(c *capture, word string) error {
	for k := 0; k < len(word); k++ {
		if !l.fill(1) {
			return l.endErr()
		}
		if l.buf[l.i] != word[k] {
			return l.badByte("in literal " + word)
		}
		if err := l.take(c, 1); err != nil {
			return err
		}
	}
	return nil
}
