package importers

import (
	"bytes"
	"errors"
	"io"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// DecodeUTF16 returns a reader of r's report in UTF-8, for the parsers, which read UTF-8 only.
// Windows PowerShell 5.1 redirection (`trivy … -f json > report.json`, Out-File) and Excel's
// "Unicode text" write UTF-16, so such a report is decoded when r starts with
//   - a UTF-16LE or UTF-16BE byte order mark (dropped from the output), or
//   - no mark but, in its first four bytes, an ASCII character other than NUL in every other
//     byte (xx 00 xx 00 is UTF-16LE, 00 xx 00 xx UTF-16BE): how RFC 4627 (section 3) tells the
//     encoding of JSON and XML 1.0 (appendix F) that of a document starting "<?" without a mark.
//
// Anything else (UTF-8 with or without its mark, binary, inputs of fewer than four bytes without
// a mark) is read unchanged: only the four bytes peeked are put back in front of r, so a UTF-8
// report costs no copy. FF FE 00 00 is UTF-32LE's mark, not UTF-16's, and is left to be refused.
//
// Unpaired surrogates and an odd trailing byte become U+FFFD (what x/text does) rather than a
// refusal: one damaged character of a Windows tool's output should not cost the whole report,
// and the U+FFFD shows in the field it damaged. Offsets in a decoded report's parse errors count
// the UTF-8 bytes the parser read, not the file's.
//
// The error is r's, when reading the first bytes fails.
func DecodeUTF16(r io.Reader) (io.Reader, error) {
	var b [4]byte
	n, err := io.ReadFull(r, b[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	whole := io.MultiReader(bytes.NewReader(b[:n]), r)
	var order unicode.Endianness
	switch h := b[:n]; {
	case n >= 2 && h[0] == 0xFF && h[1] == 0xFE && !(n == 4 && h[2] == 0 && h[3] == 0):
		order = unicode.LittleEndian
	case n >= 2 && h[0] == 0xFE && h[1] == 0xFF:
		order = unicode.BigEndian
	case n == 4 && ascii(h[0]) && h[1] == 0 && ascii(h[2]) && h[3] == 0:
		order = unicode.LittleEndian
	case n == 4 && h[0] == 0 && ascii(h[1]) && h[2] == 0 && ascii(h[3]):
		order = unicode.BigEndian
	default:
		return whole, nil
	}
	// UseBOM drops a mark (and follows it); without one the order found above holds.
	return transform.NewReader(whole, unicode.UTF16(order, unicode.UseBOM).NewDecoder()), nil
}

// ascii reports whether c is an ASCII character other than NUL.
func ascii(c byte) bool { return c != 0 && c < 0x80 }
