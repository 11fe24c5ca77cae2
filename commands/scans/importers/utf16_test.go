package importers_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"golang.org/x/text/encoding/unicode"
)

// TestDecodeUTF16: UTF-16 with a byte order mark, or without one but starting with ASCII, is
// read as UTF-8 (characters beyond ASCII and surrogate pairs included, whatever the reads'
// sizes); UTF-8, short inputs and binary are read unchanged.
func TestDecodeUTF16(t *testing.T) {
	const (
		json = "{\"SchemaVersion\": 2, \"ArtifactName\": \"café 漢字 😀\"}\n"
		xml  = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<r a=\"é\">漢 😀</r>\n"
	)
	le, be := unicode.LittleEndian, unicode.BigEndian
	for _, c := range []struct {
		name     string
		in, want []byte
	}{
		{"UTF-8", []byte(json), []byte(json)},
		{"UTF-8 with its mark", []byte("\xEF\xBB\xBF" + json), []byte("\xEF\xBB\xBF" + json)},
		{"UTF-16LE JSON with a mark", importertest.UTF16(t, []byte(json), le, true), []byte(json)},
		{"UTF-16BE JSON with a mark", importertest.UTF16(t, []byte(json), be, true), []byte(json)},
		{"UTF-16LE XML with a mark", importertest.UTF16(t, []byte(xml), le, true), []byte(xml)},
		{"UTF-16BE XML with a mark", importertest.UTF16(t, []byte(xml), be, true), []byte(xml)},
		{"UTF-16LE JSON without a mark", importertest.UTF16(t, []byte(json), le, false), []byte(json)},
		{"UTF-16BE JSON without a mark", importertest.UTF16(t, []byte(json), be, false), []byte(json)},
		{"UTF-16LE XML without a mark", importertest.UTF16(t, []byte(xml), le, false), []byte(xml)},
		{"UTF-16BE XML without a mark", importertest.UTF16(t, []byte(xml), be, false), []byte(xml)},
		{"UTF-16LE starting with a line end", importertest.UTF16(t, []byte("\r\n[]"), le, false), []byte("\r\n[]")},
		{"UTF-16LE mark alone", []byte("\xFF\xFE"), []byte{}},
		{"UTF-16BE mark alone", []byte("\xFE\xFF"), []byte{}},
		{"UTF-16LE, one character", []byte("\xFF\xFE{\x00"), []byte("{")},
		{"UTF-16LE, odd last byte", []byte("\xFF\xFE{\x00}"), []byte("{\uFFFD")},
		{"unpaired surrogate", []byte("\xFF\xFEa\x00\x00\xD8b\x00"), []byte("a\uFFFDb")},
		{"empty", []byte{}, []byte{}},
		{"one byte", []byte("{"), []byte("{")},
		{"two bytes", []byte("{}"), []byte("{}")},
		{"three bytes", []byte("[]\n"), []byte("[]\n")},
		{"three bytes like UTF-16LE", []byte("[\x00]"), []byte("[\x00]")},
		{"gzip", []byte("\x1F\x8B\x08\x00\x00\x00\x00\x00\x00\xFF"), []byte("\x1F\x8B\x08\x00\x00\x00\x00\x00\x00\xFF")},
		{"NUL first", []byte("\x00\x00\x00\x01\x00{\x00}"), []byte("\x00\x00\x00\x01\x00{\x00}")},
		{"not ASCII between NULs", []byte("\xC3\x00\xA9\x00"), []byte("\xC3\x00\xA9\x00")},
		{"UTF-32LE mark", []byte("\xFF\xFE\x00\x00{\x00\x00\x00"), []byte("\xFF\xFE\x00\x00{\x00\x00\x00")},
	} {
		for _, rd := range []struct {
			name string
			wrap func(io.Reader) io.Reader
		}{
			{"whole", func(r io.Reader) io.Reader { return r }},
			{"byte by byte", iotest.OneByteReader},
			{"halves", iotest.HalfReader},
		} {
			r, err := importers.DecodeUTF16(rd.wrap(bytes.NewReader(c.in)))
			if err != nil {
				t.Fatalf("%s, %s: %v", c.name, rd.name, err)
			}
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, c.want) {
				t.Errorf("%s, %s: read %q, %v; want %q", c.name, rd.name, got, err, c.want)
			}
		}
	}
}

// TestDecodeUTF16ReadError: a reader that fails before its first bytes gives its error.
func TestDecodeUTF16ReadError(t *testing.T) {
	broken := errors.New("disk gone")
	if _, err := importers.DecodeUTF16(iotest.ErrReader(broken)); !errors.Is(err, broken) {
		t.Errorf("err = %v, want %v", err, broken)
	}
}

// TestDecodeUTF16LeavesUTF8Alone: past the four bytes peeked, a UTF-8 report is read straight
// into the caller's buffer: not copied, buffered or transformed, so large imports cost nothing more.
func TestDecodeUTF16LeavesUTF8Alone(t *testing.T) {
	doc := []byte("{\"a\": \"" + strings.Repeat("x", 1<<20) + "\"}")
	src := &spyReader{r: bytes.NewReader(doc)}
	r, err := importers.DecodeUTF16(src)
	if err != nil {
		t.Fatal(err)
	}
	src.reads = nil
	buf := make([]byte, 1000) // smaller than any buffer a wrapper would read ahead into
	var got []byte
	for {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	if !bytes.Equal(got, doc) {
		t.Fatal("the report read is not the report given")
	}
	if len(src.reads) == 0 {
		t.Fatal("no read reached the report's reader")
	}
	for i, p := range src.reads {
		if &p[0] != &buf[0] || len(p) != len(buf) {
			t.Fatalf("read %d of the report went into a buffer of %d bytes other than the caller's", i, len(p))
		}
	}
}

// spyReader records the buffers it is asked to read into.
type spyReader struct {
	r     io.Reader
	reads [][]byte
}

func (s *spyReader) Read(p []byte) (int, error) {
	s.reads = append(s.reads, p)
	return s.r.Read(p)
}
