package feeds

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// EPSSScore is one row of the EPSS daily file.
type EPSSScore struct {
	CVEID        string    `json:"cve_id"`
	EPSS         float64   `json:"epss"`       // probability of exploitation in the next 30 days, 0..1
	Percentile   float64   `json:"percentile"` // 0..1
	ModelVersion string    `json:"model_version,omitempty"`
	ScoreDate    time.Time `json:"score_date,omitzero"`
}

// EPSSMeta is what the file says about itself.
type EPSSMeta struct {
	ModelVersion string    `json:"model_version,omitempty"` // from "#model_version:v2025.03.14,…"
	ScoreDate    time.Time `json:"score_date,omitzero"`     // from "…,score_date:2025-03-16T00:00:00+0000"
	Columns      []string  `json:"columns"`                 // the header, lower-cased
}

// ParseEPSS reads an EPSS daily CSV with the default Options; see Options.ParseEPSS.
func ParseEPSS(ctx context.Context, r io.Reader, fn func(EPSSScore) error) (Stats, error) {
	return Options{}.ParseEPSS(ctx, r, fn)
}

// ParseEPSS reads an EPSS daily CSV (epss_scores-YYYY-MM-DD.csv, gzip or not) and calls fn for
// each row. The file is: optional comment lines before the header, of which
// "#model_version:<v>,score_date:<timestamp>" sets ModelVersion and ScoreDate of every row; a
// header naming the columns cve, epss and percentile (any order; other columns are allowed and
// ignored); then one row per CVE. Blank lines are skipped. Each row must have as many fields as
// the header, a valid CVE id, and epss and percentile decimal numbers in 0..1.
func (o Options) ParseEPSS(ctx context.Context, r io.Reader, fn func(EPSSScore) error) (Stats, error) {
	o = o.withDefaults()
	st := Stats{Feed: FeedEPSS}
	src, origin, err := openInput(r)
	if err != nil {
		return st, &ParseError{Feed: FeedEPSS, Offset: 0, Record: -1, Msg: "gzip: " + err.Error(), Err: err}
	}
	p := &epssParser{o: o, st: &st, fn: fn, meta: &EPSSMeta{}, off: origin, origin: origin,
		br: bufio.NewReaderSize(src, max(o.MaxLineBytes, 4096))}
	err = p.run(ctx)
	st.Bytes = p.off
	return st, err
}

type epssParser struct {
	o    Options
	st   *Stats
	fn   func(EPSSScore) error
	br   *bufio.Reader
	meta *EPSSMeta

	line    int   // current line, 1-based
	lineOff int64 // offset of its first byte
	off     int64 // offset of the next line
	openEnd int   // length of the last line when it has no line break (the input ended in it)
	origin  int64 // bytes skipped before line 1 (a byte-order mark): line 1's columns start after them
	rows    int   // data rows seen
	// column indexes in the header
	width, iCVE, iEPSS, iPct int
}

func (p *epssParser) run(ctx context.Context) error {
	header := false
	for {
		if p.line&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		raw, rerr := p.br.ReadSlice('\n')
		if rerr == bufio.ErrBufferFull || len(raw) > p.o.MaxLineBytes {
			return p.errAt(p.line+1, 1, p.off, ErrTooLarge, -1, "",
				fmt.Sprintf("line longer than %d bytes (MaxLineBytes)", p.o.MaxLineBytes))
		}
		if rerr != nil && rerr != io.EOF {
			return p.errAt(p.line+1, 1, p.off, rerr, -1, "", "read: "+rerr.Error())
		}
		if len(raw) == 0 && rerr == io.EOF {
			break
		}
		p.line++
		p.lineOff = p.off
		p.off += int64(len(raw))
		if raw[len(raw)-1] != '\n' {
			p.openEnd = len(raw)
		}
		line := bytes.TrimSuffix(bytes.TrimSuffix(raw, []byte{'\n'}), []byte{'\r'})
		if !utf8.Valid(line) {
			return p.errAt(p.line, firstInvalidUTF8(line)+1, -1, ErrInvalidUTF8, -1, "", "invalid UTF-8")
		}
		switch {
		case len(bytes.TrimSpace(line)) == 0:
		case line[0] == '#':
			if header {
				return p.errAt(p.line, 1, -1, ErrSyntax, -1, "", "comment line after the header")
			}
			if err := p.comment(string(line[1:])); err != nil {
				return err
			}
		case !header:
			if err := p.header(string(line)); err != nil {
				return err
			}
			header = true
		default:
			if err := p.row(string(line)); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
	}
	if !header {
		line, col := p.line+1, 1
		if p.openEnd > 0 {
			line, col = p.line, p.openEnd+1
		}
		return p.errAt(line, col, p.off, ErrUnknownFormat, -1, "", "no header line (cve,epss,percentile)")
	}
	return nil
}

// comment reads "model_version:<v>,score_date:<t>"; other comments are ignored.
func (p *epssParser) comment(s string) error {
	col := 2 // after '#'
	for part := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(part, ":")
		vcol := col + len(k) + 1
		col += len(part) + 1
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "model_version":
			p.meta.ModelVersion = v
		case "score_date":
			t, err := parseTimestamp(v)
			if err != nil {
				return p.errAt(p.line, vcol, -1, ErrInvalidValue, -1, "score_date", err.Error())
			}
			p.meta.ScoreDate = t
		}
	}
	return nil
}

func (p *epssParser) header(s string) error {
	p.iCVE, p.iEPSS, p.iPct = -1, -1, -1
	col := 1
	for i, name := range strings.Split(s, ",") {
		n := strings.ToLower(strings.TrimSpace(unquote(name)))
		var idx *int
		switch n {
		case "cve":
			idx = &p.iCVE
		case "epss":
			idx = &p.iEPSS
		case "percentile":
			idx = &p.iPct
		}
		if idx != nil {
			if *idx >= 0 {
				return p.errAt(p.line, col, -1, ErrSyntax, -1, n, "column "+n+" appears twice in the header")
			}
			*idx = i
		}
		p.meta.Columns = append(p.meta.Columns, n)
		col += len(name) + 1
	}
	p.width = len(p.meta.Columns)
	if p.iCVE < 0 || p.iEPSS < 0 || p.iPct < 0 {
		return p.errAt(p.line, 1, -1, ErrUnknownFormat, -1, "",
			fmt.Sprintf("header %q does not name the columns cve, epss and percentile", truncate(s, 80)))
	}
	p.st.EPSS = p.meta
	return nil
}

func (p *epssParser) row(s string) error {
	rec := p.rows
	p.rows++
	score, err := p.parseRow(s, rec)
	if err != nil {
		if p.o.SkipInvalid && err.isRecordLevel() {
			p.st.skip(p.o, err)
			return nil
		}
		return err
	}
	if err := p.fn(score); err != nil {
		return err
	}
	p.st.Records++
	return nil
}

func (p *epssParser) parseRow(s string, rec int) (EPSSScore, *ParseError) {
	sc := EPSSScore{ModelVersion: p.meta.ModelVersion, ScoreDate: p.meta.ScoreDate}
	col, i := 1, 0
	for f := range strings.SplitSeq(s, ",") {
		if i >= p.width {
			return sc, p.errAt(p.line, col-1, -1, ErrInvalidValue, rec, "",
				fmt.Sprintf("row has more than the header's %d fields", p.width))
		}
		v := unquote(f)
		switch i {
		case p.iCVE:
			if !ValidCVEID(v) {
				return sc, p.errAt(p.line, col, -1, ErrInvalidValue, rec, "cve", fmt.Sprintf("not a CVE id: %q", truncate(v, 40)))
			}
			sc.CVEID = v
		case p.iEPSS, p.iPct:
			name := "epss"
			if i == p.iPct {
				name = "percentile"
			}
			x, err := parseProbability(v)
			if err != nil {
				return sc, p.errAt(p.line, col, -1, ErrInvalidValue, rec, name, err.Error())
			}
			if i == p.iEPSS {
				sc.EPSS = x
			} else {
				sc.Percentile = x
			}
		}
		col += len(f) + 1
		i++
	}
	if i < p.width {
		return sc, p.errAt(p.line, col-1, -1, ErrInvalidValue, rec, "",
			fmt.Sprintf("row has %d fields, the header %d", i, p.width))
	}
	return sc, nil
}

// parseProbability reads a decimal number in 0..1 ("0.00383", "1", "3.8e-05").
func parseProbability(v string) (float64, error) {
	if v == "" {
		return 0, errors.New("empty")
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9', c == '.', c == 'e', c == 'E', c == '+', c == '-':
		default:
			return 0, fmt.Errorf("not a decimal number: %q", truncate(v, 40))
		}
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return 0, fmt.Errorf("%q is out of range", truncate(v, 40))
		}
		return 0, fmt.Errorf("not a decimal number: %q", truncate(v, 40))
	}
	if !(x >= 0 && x <= 1) {
		return 0, fmt.Errorf("%v is outside 0..1", x)
	}
	return x, nil
}

// unquote strips one pair of surrounding double quotes ("" inside stands for ").
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return s
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// errAt builds an error on line at column col (of the line's text); off < 0 means the offset of
// that column.
func (p *epssParser) errAt(line, col int, off int64, cause error, rec int, field, msg string) *ParseError {
	if col < 1 {
		col = 1
	}
	if off < 0 {
		off = p.lineOff + int64(col-1)
	}
	if line == 1 {
		col += int(p.origin) // a byte-order mark counts in line 1's byte columns
	}
	return &ParseError{Feed: FeedEPSS, Line: line, Column: col, Offset: off, Record: rec, Field: field, Msg: msg, Err: cause}
}
