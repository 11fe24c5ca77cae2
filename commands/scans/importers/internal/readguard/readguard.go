// Package readguard holds the limits and the guarding reader shared by the streaming XML scanner
// (internal/xmlscan) and JSON walker (internal/jsonwalk) of the nessus, openvas, zap and cyclonedx
// parsers: it counts bytes and refuses over-large tokens and invalid UTF-8 as the bytes arrive, so
// that no decoder buffers a hostile input.
package readguard

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"unicode/utf8"
)

// Limits applied to every report. A report that exceeds MaxDepth or MaxTokenBytes is refused with a
// *importers.ParseError.
const (
	MaxDepth      = 256      // deepest element / array / object nesting accepted
	MaxTokenBytes = 16 << 20 // largest single token (XML text run or tag, JSON value) accepted
)

// InvalidUTF8 is the message of a report refused for bytes that are not UTF-8, shared by the
// readers that check it. It says what to do: a report saved in another encoding (a Windows code
// page) is the usual cause, and UTF-16 is decoded before the parsers read it.
const InvalidUTF8 = "invalid UTF-8 (save the report as UTF-8 or UTF-16)"

// LimitError is raised by Reader; it carries the exact byte offset of the violation.
type LimitError struct {
	Off int64
	Msg string
}

func (e *LimitError) Error() string { return fmt.Sprintf("byte %d: %s", e.Off, e.Msg) }

// Reader sits between the caller's reader and the decoder. It counts bytes, and refuses
//   - (XML) a run of more than MaxRun bytes without a '<': a text node or tag too large to buffer;
//   - (JSON) more than MaxSinceMark bytes read since Mark (the decoder last asked for a token/value);
//   - (JSON) invalid UTF-8 (encoding/json would silently replace it with U+FFFD).
type Reader struct {
	R            io.Reader
	MaxRun       int64 // 0: no limit on runs without a '<'
	MaxSinceMark int64 // 0: no limit on the bytes read since Mark
	CheckUTF8    bool
	off          int64
	run          int64
	mark         int64
	carry        [utf8.UTFMax]byte
	ncarry       int
	err          error
}

// Offset is the number of bytes read so far.
func (g *Reader) Offset() int64 { return g.off }

// Mark records the current offset: MaxSinceMark counts from there.
func (g *Reader) Mark() { g.mark = g.off }

// Read implements io.Reader.
func (g *Reader) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if len(p) > 64<<10 { // small reads keep the per-value accounting tight
		p = p[:64<<10]
	}
	n, err := g.R.Read(p)
	if n > 0 {
		if lerr := g.check(p[:n]); lerr != nil {
			g.err = lerr
			return 0, lerr
		}
		g.off += int64(n)
	}
	if err == io.EOF && g.ncarry > 0 {
		g.err = &LimitError{g.off - int64(g.ncarry), "input ends inside a UTF-8 sequence"}
		return n, g.err
	}
	return n, err
}

func (g *Reader) check(b []byte) error {
	if g.MaxRun > 0 {
		first := bytes.IndexByte(b, '<')
		if first < 0 {
			first = len(b)
		}
		if g.run+int64(first) > g.MaxRun {
			return &LimitError{g.off + g.MaxRun - g.run, fmt.Sprintf("more than %d bytes of text or markup without a '<' (a single token is limited)", g.MaxRun)}
		}
		if last := bytes.LastIndexByte(b, '<'); last >= 0 {
			g.run = int64(len(b) - 1 - last)
		} else {
			g.run += int64(len(b))
		}
	}
	if g.MaxSinceMark > 0 && g.off+int64(len(b))-g.mark > g.MaxSinceMark {
		return &LimitError{g.mark + g.MaxSinceMark, fmt.Sprintf("a single value is larger than %d bytes", g.MaxSinceMark)}
	}
	if g.CheckUTF8 {
		return g.validUTF8(b)
	}
	return nil
}

// validUTF8 validates b, carrying an incomplete trailing sequence over to the next read.
func (g *Reader) validUTF8(b []byte) error {
	i := 0
	if g.ncarry > 0 {
		for i < len(b) && g.ncarry < utf8.UTFMax && !utf8.FullRune(g.carry[:g.ncarry]) {
			g.carry[g.ncarry] = b[i]
			g.ncarry++
			i++
		}
		if !utf8.FullRune(g.carry[:g.ncarry]) {
			return nil
		}
		r, size := utf8.DecodeRune(g.carry[:g.ncarry])
		if r == utf8.RuneError && size <= 1 {
			return &LimitError{g.off - int64(g.ncarry-i), InvalidUTF8}
		}
		g.ncarry = 0
	}
	rest := b[i:]
	end := len(rest)
	for k := len(rest) - 1; k >= 0 && k >= len(rest)-utf8.UTFMax; k-- {
		if utf8.RuneStart(rest[k]) {
			if !utf8.FullRune(rest[k:]) {
				end = k
			}
			break
		}
	}
	if !utf8.Valid(rest[:end]) {
		for j := 0; j < end; {
			r, size := utf8.DecodeRune(rest[j:end])
			if r == utf8.RuneError && size <= 1 {
				return &LimitError{g.off + int64(i+j), InvalidUTF8}
			}
			j += size
		}
	}
	g.ncarry = copy(g.carry[:], rest[end:])
	return nil
}

// SkipBOM returns a buffered reader positioned after a UTF-8 byte-order mark, if any.
func SkipBOM(r io.Reader) *bufio.Reader {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		_, _ = br.Discard(3)
	}
	return br
}

// Sniff returns a buffered reader over r positioned after a UTF-8 byte-order mark, if any, and
// the first byte that is not white space (0 when there is none in the first 4 KiB): the parsers
// that read two encodings of their format (XML and CSV, JSON and XML) choose on it.
func Sniff(r io.Reader) (*bufio.Reader, byte) {
	br := SkipBOM(r)
	head, _ := br.Peek(4 << 10)
	for _, c := range head {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return br, c
		}
	}
	return br, 0
}

// TrimBOM returns b without a leading UTF-8 byte-order mark.
func TrimBOM(b []byte) []byte { return bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF}) }
