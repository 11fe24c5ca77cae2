package feeds

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// countingReader counts the bytes a parser pulled from it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// repeat returns a reader of prefix followed by n bytes of pattern, generated lazily.
func repeat(prefix string, pattern byte, n int64) io.Reader {
	return io.MultiReader(strings.NewReader(prefix), io.LimitReader(byteReader(pattern), n))
}

type byteReader byte

func (b byteReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

const fiftyMB = 50 << 20

func parseAny(feed Feed, o Options, r io.Reader) (Stats, error) {
	ctx := context.Background()
	switch feed {
	case FeedNVD:
		return o.ParseNVD(ctx, r, func(CVE) error { return nil })
	case FeedKEV:
		return o.ParseKEV(ctx, r, func(KEVEntry) error { return nil })
	}
	return o.ParseEPSS(ctx, r, func(EPSSScore) error { return nil })
}

// 50 MB of '[' fails at depth 65, after reading little, wherever it is.
func TestHostileDeepNesting(t *testing.T) {
	for _, tc := range []struct {
		feed   Feed
		prefix string
		cause  error
		at     int64 // offset of the offending byte
		field  string
		record int
	}{
		{FeedNVD, "", ErrUnknownFormat, 0, "", -1}, // the top level must be an object: refused at once
		{FeedNVD, `{"vulnerabilities":[`, ErrTooDeep, 20 + 62, "vulnerabilities[0]", 0},
		{FeedNVD, `{"x":`, ErrTooDeep, 5 + 63, "x", -1},
		{FeedKEV, `{"vulnerabilities": [`, ErrTooDeep, 21 + 62, "vulnerabilities[0]", 0},
		{FeedNVD, `{"cve":{"metrics":`, ErrTooDeep, 18 + 62, "cve", 0},
	} {
		cr := &countingReader{r: repeat(tc.prefix, '[', fiftyMB)}
		start := time.Now()
		_, err := parseAny(tc.feed, Options{}, cr)
		pe := asParseError(t, err, tc.cause)
		if pe.Offset != tc.at || pe.Line != 1 || pe.Column != int(tc.at)+1 || pe.Field != tc.field || pe.Record != tc.record {
			t.Errorf("%s %q: %v (offset %d, field %q, record %d), want offset %d field %q record %d",
				tc.feed, tc.prefix, err, pe.Offset, pe.Field, pe.Record, tc.at, tc.field, tc.record)
		}
		if cr.n > 1<<20 || time.Since(start) > 5*time.Second {
			t.Errorf("%s %q: read %d bytes in %v", tc.feed, tc.prefix, cr.n, time.Since(start))
		}
	}
	// MaxDepth is an option; 64 levels below the limit parse.
	doc := `{"x":` + strings.Repeat("[", 63) + strings.Repeat("]", 63) + `,"vulnerabilities":[]}`
	if _, err := parseAny(FeedNVD, Options{}, strings.NewReader(doc)); err != nil {
		t.Errorf("depth 64: %v", err)
	}
	doc = `{"x":` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `,"vulnerabilities":[]}`
	if _, err := parseAny(FeedNVD, Options{}, strings.NewReader(doc)); !errors.Is(err, ErrTooDeep) {
		t.Errorf("depth 65: %v", err)
	}
}

// Huge strings, records and lines fail at the bound, not after buffering the input.
func TestHostileSizes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		feed    Feed
		r       func() io.Reader
		o       Options
		cause   error
		maxRead int64
	}{
		{"50MB string", FeedNVD, func() io.Reader { return repeat(`{"vulnerabilities":[{"cve":{"id":"`, 'A', fiftyMB) }, Options{}, ErrTooLarge, 2 << 20},
		{"50MB key", FeedKEV, func() io.Reader { return repeat(`{"`, 'A', fiftyMB) }, Options{}, ErrTooLarge, 2 << 20},
		{"50MB number", FeedNVD, func() io.Reader { return repeat(`{"vulnerabilities":[{"cve":{"id":1`, '1', fiftyMB) }, Options{MaxRecordBytes: 1 << 20}, ErrTooLarge, 2 << 20},
		{"50MB white space", FeedKEV, func() io.Reader { return repeat(``, ' ', fiftyMB) }, Options{MaxRecordBytes: 1 << 20}, ErrTooLarge, 2 << 20},
		{"record over MaxRecordBytes", FeedNVD, func() io.Reader {
			return repeat(`{"vulnerabilities":[{"cve":{"id":"CVE-2024-0001","references":[`+strings.Repeat(`{"url":"https://example.com/x"},`, 100000), ' ', 0)
		}, Options{MaxRecordBytes: 64 << 10}, ErrTooLarge, 256 << 10},
		{"50MB CSV line", FeedEPSS, func() io.Reader { return repeat("cve,epss,percentile\nCVE-2024-0001,", '1', fiftyMB) }, Options{}, ErrTooLarge, 1 << 20},
		{"4MB of newlines", FeedEPSS, func() io.Reader { return repeat("cve,epss,percentile\n", '\n', 4<<20) }, Options{}, nil, 5 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr := &countingReader{r: tc.r()}
			_, err := parseAny(tc.feed, tc.o, cr)
			if tc.cause == nil {
				if err != nil {
					t.Fatal(err)
				}
			} else {
				asParseError(t, err, tc.cause)
			}
			if cr.n > tc.maxRead {
				t.Errorf("read %d bytes before failing (%v)", cr.n, err)
			}
		})
	}
}

func TestHostileTruncated(t *testing.T) {
	for _, f := range []struct {
		feed Feed
		file []string
	}{
		{FeedNVD, []string{"nvd", "nvd_cve_CVE-2024-0012_v40_v31_kev.json"}},
		{FeedNVD, []string{"nvd", "nvd_api2_single_CVE-2022-1576.json"}},
		{FeedKEV, []string{"kev", "kev_subset_3entries_2025.02.19.json"}},
	} {
		data := readShared(t, f.file...)
		// Every proper prefix is truncated JSON (trailing white space after the closing brace aside):
		// all cuts near both ends, every third one in between (to keep -race fast).
		end := len(bytes.TrimRight(data, " \n\r\t"))
		for cut := 0; cut < end; cut++ {
			if cut > 512 && cut < end-512 && cut%3 != 0 {
				continue
			}
			_, err := parseAny(f.feed, Options{}, bytes.NewReader(data[:cut]))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("%s cut at %d: %v", f.file[1], cut, err)
			}
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("%s cut at %d: %v, want truncated", f.file[1], cut, err)
			}
			if pe.Offset != int64(cut) {
				t.Fatalf("%s cut at %d: offset %d", f.file[1], cut, pe.Offset)
			}
			checkPosition(t, data[:cut], pe)
		}
	}
	_, err := parseAny(FeedNVD, Options{}, strings.NewReader(gz([]byte(nvdTwo))[:40]))
	var pe *ParseError
	if !errors.As(err, &pe) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated gzip: %v", err)
	}
}

func TestHostileInvalidUTF8(t *testing.T) {
	for _, tc := range []struct {
		feed  Feed
		doc   string
		at    int64
		cause error
	}{
		{FeedNVD, "{\"cve\":{\"id\":\"CVE-2024-0001\",\"descriptions\":[{\"lang\":\"en\",\"value\":\"ab\xffcd\"}]}}", 69, ErrInvalidUTF8},
		{FeedNVD, "{\"cve\":{\"id\":\"CVE-2024-0001\",\n\"sourceIdentifier\":\"\xed\xa0\x80\"}}", 50, ErrInvalidUTF8}, // UTF-16 surrogate
		{FeedNVD, "{\"cve\":{\"id\":\"CVE-2024-0001\",\n\"sourceIdentifier\":\"\xc0\xaf\"}}", 50, ErrInvalidUTF8},     // overlong
		{FeedNVD, "{\"cve\":{\"id\":\"CVE-2024-0001\",\n\"sourceIdentifier\":\"\xe2\x82\"}}", 50, ErrInvalidUTF8},     // cut short
		{FeedKEV, "{\"title\":\"\xf5\x80\x80\x80\",\"vulnerabilities\":[]}", 10, ErrInvalidUTF8},                      // above U+10FFFF
		{FeedKEV, "{\"title\":\"ok\"\xff,\"vulnerabilities\":[]}", 13, ErrSyntax},                                     // outside strings: grammar
		{FeedEPSS, "cve,epss,percentile\nCVE-2024-0001,0.1,0.2\n\xffCVE-2024-0002,0.1,0.2\n", 42, ErrInvalidUTF8},
	} {
		_, err := parseAny(tc.feed, Options{}, strings.NewReader(tc.doc))
		pe := asParseError(t, err, tc.cause)
		if pe.Offset != tc.at {
			t.Errorf("%q: offset %d, want %d: %v", tc.doc, pe.Offset, tc.at, err)
		}
		checkPosition(t, []byte(tc.doc), pe)
	}
	// Valid multi-byte text passes through unchanged.
	cves, _, err := collectNVD(Options{}, []byte(`{"cve":{"id":"CVE-2024-0001","descriptions":[{"lang":"en","value":"é€𝄞\u00e9"}]}}`))
	if err != nil || cves[0].Description != "é€𝄞é" {
		t.Errorf("%v %+v", err, cves)
	}
}

func TestHostileOutOfRangeNumbers(t *testing.T) {
	_, _, err := collectEPSS(Options{}, []byte("cve,epss,percentile\nCVE-2024-0001,1e400,0.5\n"))
	pe := asParseError(t, err, ErrInvalidValue)
	if pe.Line != 2 || pe.Column != 15 || pe.Field != "epss" || !strings.Contains(pe.Msg, "out of range") {
		t.Errorf("%v", err)
	}
	_, _, err = collectNVD(Options{}, []byte(`{"resultsPerPage": 1e400, "vulnerabilities": []}`))
	pe = asParseError(t, err, ErrInvalidValue)
	if pe.Field != "resultsPerPage" {
		t.Errorf("%v", err)
	}
	_, _, err = collectKEV(Options{}, []byte(`{"count": 99999999999999999999, "vulnerabilities": []}`))
	pe = asParseError(t, err, ErrInvalidValue)
	if pe.Field != "count" {
		t.Errorf("%v", err)
	}
}

func TestHostileSyntaxPositions(t *testing.T) {
	for _, tc := range []struct {
		feed      Feed
		doc       string
		line, col int
	}{
		{FeedNVD, "{\n  \"vulnerabilities\": [\n    {\"cve\": {\"id\": \"CVE-2024-0001\",,}}\n  ]\n}", 3, 36},
		{FeedNVD, "{\n  \"vulnerabilities\": [\n    {\"id\": \"CVE-2024-0001\"}\n    {\"id\": \"CVE-2024-0002\"}\n  ]\n}", 4, 5}, // missing comma
		{FeedKEV, "{\n  \"count\" 3\n}", 2, 11},
		{FeedKEV, "{\"vulnerabilities\": []}\n\n  x", 3, 3},
		{FeedKEV, "{\"vulnerabilities\": [],}", 1, 24},
		{FeedKEV, "{\"vulnerabilities\": [{\"cveID\": \"CVE-2024-0001\\q\"}]}", 1, 47},
		{FeedKEV, "{\"vulnerabilities\": [{\"cveID\": tru}]}", 1, 35},
		{FeedNVD, "{\"vulnerabilities\": [\n{\"cve\": {\"id\": \"CVE-2024-0001\"}}\n]}\n{}", 4, 1},
	} {
		_, err := parseAny(tc.feed, Options{}, strings.NewReader(tc.doc))
		pe := asParseError(t, err, ErrSyntax)
		if pe.Line != tc.line || pe.Column != tc.col {
			t.Errorf("%q: line %d column %d, want %d %d: %v", tc.doc, pe.Line, pe.Column, tc.line, tc.col, err)
		}
		checkPosition(t, []byte(tc.doc), pe)
	}
}

// A reader that fails is reported as a *ParseError wrapping its error.
func TestHostileReaderError(t *testing.T) {
	boom := errors.New("disk on fire")
	for _, feed := range []Feed{FeedNVD, FeedKEV, FeedEPSS} {
		r := io.MultiReader(strings.NewReader("{\"vulnerabilities\": [\n"), iotestErrReader{boom})
		if feed == FeedEPSS {
			r = io.MultiReader(strings.NewReader("cve,epss,percentile\n"), iotestErrReader{boom})
		}
		_, err := parseAny(feed, Options{}, r)
		pe := asParseError(t, err, boom)
		if pe.Line != 2 {
			t.Errorf("%s: %v", feed, err)
		}
	}
}

type iotestErrReader struct{ err error }

func (r iotestErrReader) Read([]byte) (int, error) { return 0, r.err }

// The string bound is exact: MaxStringBytes bytes pass, one more fails at that byte.
func TestHostileStringBoundExact(t *testing.T) {
	for _, body := range []string{"a", "é", "\\n"} {
		for _, n := range []int{100, 101} {
			s := strings.Repeat(body, n)
			limit := 100 * len(body)
			doc := `{"vulnerabilities":[],"x":"` + s + `"}`
			_, err := parseAny(FeedKEV, Options{MaxStringBytes: limit}, strings.NewReader(doc))
			if n == 100 {
				if err != nil {
					t.Errorf("%q×%d: %v", body, n, err)
				}
				continue
			}
			pe := asParseError(t, err, ErrTooLarge)
			if want := int64(len(`{"vulnerabilities":[],"x":"`) + limit); pe.Offset != want {
				t.Errorf("%q×%d: offset %d, want %d", body, n, pe.Offset, want)
			}
		}
	}
}
