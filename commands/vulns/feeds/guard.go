package feeds

import (
	"bytes"
	"context"
	"fmt"
	"io"
)

// guard sits between the input and encoding/json's Decoder. It
//
//   - enforces the bounds on the bytes as they are read: nesting depth, string length and UTF-8
//     inside strings (a lexical scan: the decoder still checks the grammar), and a byte budget
//     per decoder call (limit) so one value can never make the decoder buffer more than
//     MaxRecordBytes;
//   - keeps the bytes read but not yet consumed by the decoder (the window) so any offset the
//     decoder reports can be turned into a line and column;
//   - honours the context on every read.
//
// A violation is reported by delivering the bytes before the offending byte and then returning a
// *ParseError, which the decoder returns unchanged from the Token or Decode call that needed
// that byte.
type guard struct {
	ctx  context.Context
	r    io.Reader
	feed Feed
	opt  Options

	n     int64 // offset of the next byte to read: bytes delivered so far, plus origin
	limit int64 // reads stop at this offset; < 0 for no limit
	err   error // sticky error returned once the pending bytes are delivered

	// window: win[winOff:] holds the bytes at offsets [base, n).
	win      []byte
	winOff   int
	base     int64
	baseLine int // line of the byte at base
	baseCol  int // column of the byte at base

	// lexical JSON state
	depth    int
	inStr    bool
	esc      bool
	strLen   int
	u8need   int  // UTF-8 continuation bytes still expected
	u8lo     byte // accepted range of the next continuation byte
	u8hi     byte
	u8start  int64
	maxDepth int
	maxStr   int

	// one remembered position (the top-level value's start) for errors found at the end
	markOff           int64
	markLine, markCol int
}

func newGuard(ctx context.Context, r io.Reader, feed Feed, opt Options, origin int64) *guard {
	return &guard{
		ctx: ctx, r: r, feed: feed, opt: opt,
		n: origin, base: origin, limit: -1,
		baseLine: 1, baseCol: 1 + int(origin), // a skipped BOM sits on line 1
		maxDepth: opt.MaxDepth, maxStr: opt.MaxStringBytes,
	}
}

func (g *guard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if err := g.ctx.Err(); err != nil {
		g.err = err
		return 0, err
	}
	if g.limit >= 0 {
		room := g.limit - g.n
		if room <= 0 {
			g.err = g.errAt(g.n, ErrTooLarge, fmt.Sprintf("value exceeds %d bytes (MaxRecordBytes)", g.opt.MaxRecordBytes))
			return 0, g.err
		}
		if int64(len(p)) > room {
			p = p[:room]
		}
	}
	k, rerr := g.r.Read(p)
	if k < 0 || k > len(p) {
		k, rerr = 0, fmt.Errorf("reader returned %d bytes for a %d-byte buffer", k, len(p))
	}
	good, violation := g.scan(p[:k])
	g.win = append(g.win, p[:good]...)
	g.n += int64(good)
	if violation != nil {
		g.err = violation()
		if good == 0 {
			return 0, g.err
		}
		return good, nil
	}
	if rerr != nil && rerr != io.EOF {
		g.err = &ParseError{Feed: g.feed, Offset: g.n, Record: -1, Msg: "read: " + rerr.Error(), Err: rerr}
		g.fillPos(g.err.(*ParseError), g.n)
		return good, g.err
	}
	return good, rerr
}

// scan runs the lexical JSON check over b, which starts at offset g.n. It returns how many bytes
// are good and, on a violation, a function building the error (called after the good bytes are
// in the window, so the position can be computed).
func (g *guard) scan(b []byte) (int, func() error) {
	base := g.n
	for i := 0; i < len(b); i++ {
		c := b[i]
		if g.inStr {
			if g.u8need == 0 && !g.esc && c != '"' && c != '\\' && c < 0x80 {
				// Fast path over plain ASCII string content.
				j := i + 1
				for j < len(b) && b[j] != '"' && b[j] != '\\' && b[j] < 0x80 {
					j++
				}
				if g.strLen+(j-i) > g.maxStr {
					off := base + int64(i+g.maxStr-g.strLen)
					return int(off - base), func() error {
						return g.errAt(off, ErrTooLarge, fmt.Sprintf("string longer than %d bytes (MaxStringBytes)", g.maxStr))
					}
				}
				g.strLen += j - i
				i = j - 1
				continue
			}
			if g.u8need > 0 {
				if c < g.u8lo || c > g.u8hi {
					start := g.u8start
					return i, func() error { return g.errAt(start, ErrInvalidUTF8, "invalid UTF-8 in a string") }
				}
				g.u8need--
				g.u8lo, g.u8hi = 0x80, 0xBF
			} else if g.esc {
				g.esc = false
			} else if c == '"' {
				g.inStr = false
				continue
			} else if c == '\\' {
				g.esc = true
			} else if c >= 0x80 {
				if !g.utf8Lead(c) {
					off := base + int64(i)
					return i, func() error { return g.errAt(off, ErrInvalidUTF8, "invalid UTF-8 in a string") }
				}
				g.u8start = base + int64(i)
			}
			g.strLen++
			if g.strLen > g.maxStr {
				off := base + int64(i)
				return i, func() error {
					return g.errAt(off, ErrTooLarge, fmt.Sprintf("string longer than %d bytes (MaxStringBytes)", g.maxStr))
				}
			}
			continue
		}
		switch c {
		case '"':
			g.inStr, g.esc, g.strLen, g.u8need = true, false, 0, 0
		case '[', '{':
			g.depth++
			if g.depth > g.maxDepth {
				off := base + int64(i)
				return i, func() error {
					return g.errAt(off, ErrTooDeep, fmt.Sprintf("nesting deeper than %d (MaxDepth)", g.maxDepth))
				}
			}
		case ']', '}':
			if g.depth > 0 {
				g.depth--
			}
		}
	}
	return len(b), nil
}

// utf8Lead sets the expected continuation bytes for lead byte c (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF) and reports whether c may start a sequence.
func (g *guard) utf8Lead(c byte) bool {
	g.u8lo, g.u8hi = 0x80, 0xBF
	switch {
	case c >= 0xC2 && c <= 0xDF:
		g.u8need = 1
	case c == 0xE0:
		g.u8need, g.u8lo = 2, 0xA0
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		g.u8need = 2
	case c == 0xED:
		g.u8need, g.u8hi = 2, 0x9F
	case c == 0xF0:
		g.u8need, g.u8lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		g.u8need = 3
	case c == 0xF4:
		g.u8need, g.u8hi = 3, 0x8F
	default:
		return false
	}
	return true
}

// forget drops the window before off: the decoder has consumed those bytes and will report no
// offset before off again.
func (g *guard) forget(off int64) {
	if off <= g.base {
		return
	}
	if off > g.n {
		off = g.n
	}
	rel := int(off - g.base)
	seg := g.win[g.winOff : g.winOff+rel]
	g.baseLine, g.baseCol = advancePos(g.baseLine, g.baseCol, seg)
	g.base = off
	g.winOff += rel
	if g.winOff > len(g.win)/2 {
		m := copy(g.win, g.win[g.winOff:])
		g.win = g.win[:m]
		g.winOff = 0
	}
}

// pos returns the line and column of the byte at off, or 0, 0 when off is before the window
// (already forgotten) and not the marked offset. Offsets past the end are clamped.
func (g *guard) pos(off int64) (line, col int) {
	if off < g.base {
		if off == g.markOff && g.markLine > 0 {
			return g.markLine, g.markCol
		}
		return 0, 0
	}
	if off > g.n {
		off = g.n
	}
	return advancePos(g.baseLine, g.baseCol, g.win[g.winOff:g.winOff+int(off-g.base)])
}

// window returns the bytes from off to the end of what was read.
func (g *guard) window(off int64) []byte {
	if off < g.base {
		off = g.base
	}
	if off > g.n {
		off = g.n
	}
	return g.win[g.winOff+int(off-g.base):]
}

// advancePos moves a line/column position over seg.
func advancePos(line, col int, seg []byte) (int, int) {
	nl := bytes.Count(seg, []byte{'\n'})
	if nl == 0 {
		return line, col + len(seg)
	}
	return line + nl, len(seg) - bytes.LastIndexByte(seg, '\n')
}

// mark remembers the position of off so it can be reported after the window moved on.
func (g *guard) mark(off int64) {
	g.markOff = off
	g.markLine, g.markCol = g.pos(off)
}

func (g *guard) fillPos(pe *ParseError, off int64) {
	pe.Offset = off
	pe.Line, pe.Column = g.pos(off)
}

// errAt builds a *ParseError at off (Record -1: the caller fills the record and field).
func (g *guard) errAt(off int64, cause error, msg string) *ParseError {
	pe := &ParseError{Feed: g.feed, Record: -1, Msg: msg, Err: cause}
	g.fillPos(pe, off)
	return pe
}
