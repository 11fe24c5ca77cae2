package importertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
)

// Spec describes one parser to the contract suite. Only Format is required; every other part is
// checked when given.
type Spec struct {
	// Format is the parser's Format() and the directory of its shared testdata.
	Format string
	// Check verifies the invariants of every report the parser returns (golden files, fuzz
	// inputs); nil is CheckReport, what the parsers built on parseutil guarantee (see Verify).
	Check func(tb testing.TB, rep *importers.Report)
	// Positioned: every ParseError carries an offset inside the input, a line and a column (the
	// streaming JSON and nmap parsers), not just one of them.
	Positioned bool

	// Golden names every file of the format (by base name, see Files); a file the list lacks is a
	// failure, so a new file gets its expectations. Each is parsed, checked with Check and
	// Golden's func, and parsed again to the same report with unique fingerprints.
	Golden map[string]func(t *testing.T, rep *importers.Report)
	// Refused names the files of the format that are not well-formed reports (the shared
	// testdata keeps a few deliberately malformed ones), by base name, with a part of the
	// message of the ParseError each must be refused with. They need no Golden entry.
	Refused map[string]string
	// Detect are inputs with the answer Detect must give, beside the suite's own check that the
	// parser claims its own testdata files and no other format's.
	Detect map[string]bool
	// EmptyIsReport is the format's policy for an empty input (no bytes, or white space only):
	// true when its scanner writes an empty file for "nothing found" (Nuclei's -jsonl -o), so
	// that the input is a report with no findings and the warning importers.EmptyWarning; false
	// (every other format) when it is refused with a ParseError. The suite checks the policy.
	EmptyIsReport bool
	// Hostile inputs must each fail with a ParseError.
	Hostile []Hostile
	// TruncateEvery, when set, also cuts the golden file TruncateFile every TruncateEvery bytes
	// (beside the suite's cuts of every golden file at a few fractions of its length).
	TruncateFile  string
	TruncateEvery int
	// Unterminated is the extension (".csv") of the format's files that have no end marker: a
	// cut at a line end is a whole, shorter report. A cut of such a file must fail with a
	// ParseError or give no more findings than the whole file.
	Unterminated string
	// Nesting are 50 MiB streams of ever deeper nesting: each must be refused, allocating at
	// most 16 MiB unless the Stream says otherwise.
	Nesting []Stream
	// Huge are 50 MiB streams of one ever longer value: each must be refused, allocating at most
	// 200 MiB unless the Stream says otherwise.
	Huge []Stream
	// Bounded are 50 MiB streams of one ever longer value that the parser must accept, allocating
	// at most 32 MiB unless the Stream says otherwise: a value it skips (an unknown member) costs
	// it nothing, a string it keeps is cut (Msg, when set, is then part of one of the report's
	// warnings). The streaming JSON parsers, whose reports are often that large.
	Bounded []Stream
	// Limited is a parser with a small MaxBytes and OverLimit an input over it: refused with an
	// error that mentions the limit.
	Limited   importers.Parser
	OverLimit string
	// Limits, for the parsers built on jsonguard, is the parser with those limits: Limited is
	// then Limits with a MaxBytes of 1000 unless given, and FuzzParser Limits with FuzzLimits.
	Limits func(Limits) importers.Parser
	// JSON, for a report whose records are one array member of an object, derives the standard
	// inputs of that shape (see JSONRecords): the Bounded stream "unknown string", and the
	// Hostile cases, OverLimit, Cancelled and CancelStreams where the Spec gives none of its own.
	JSON *JSONRecords
	// Cancelled is a valid report: parsing it with a context cancelled beforehand returns
	// context.Canceled. CancelStreams are cancelled while they are being read (see
	// Stream.CancelAfter) and must return context.Canceled too.
	Cancelled     string
	CancelStreams []Stream
}

// JSONNesting are the Nesting streams of the jsonguard parsers (grype, trivy, sarif): 50 MB of
// ever deeper arrays, and of objects, after prefix. The parser must stop at the depth limit
// after reading the first chunk only (no 50 MB buffer), with a positioned error.
func JSONNesting(prefix string) []Stream {
	return []Stream{
		{Name: "deep [", Prefix: prefix, Pattern: "[", Msg: "nesting", MaxRead: 1 << 20, MaxOffset: 1000},
		{Name: "deep {\"a\":", Prefix: prefix, Pattern: `{"a":`, Msg: "nesting", MaxRead: 1 << 20, MaxOffset: 1000},
	}
}

// Hostile is an input the parser must refuse.
type Hostile struct {
	Name, In string
	// Msg is part of the ParseError's message.
	Msg string
	// Line, when not 0, is the line the ParseError must name.
	Line int
}

// Stream is an input built on the fly: Prefix, Pattern repeated to Size bytes (0 means 50 MiB),
// then Suffix.
type Stream struct {
	Name                    string
	Prefix, Pattern, Suffix string
	Size                    int64
	// Msg, when set, is part of the ParseError's message.
	Msg string
	// MaxAlloc, when set, replaces the suite's allocation bound for the case.
	MaxAlloc uint64
	// MaxRead, when set, is the most the parser may read before refusing the input.
	MaxRead int64
	// MinOffset and MaxOffset, when set, bound the offset the ParseError names.
	MinOffset, MaxOffset int64
	// CancelAfter (CancelStreams only) cancels the context once that many bytes are read; 0
	// cancels at the end of the stream.
	CancelAfter int64
}

func (s Stream) reader() *PatternReader {
	n := s.Size
	if n == 0 {
		n = 50 << 20
	}
	return &PatternReader{Prefix: []byte(s.Prefix), Pattern: []byte(s.Pattern), Suffix: []byte(s.Suffix), N: n}
}

// Run runs the contract suite against the parsers newParser returns.
func Run(t *testing.T, newParser func() importers.Parser, s Spec) {
	s = s.derived()
	t.Run("Format", func(t *testing.T) {
		if got := newParser().Format(); got != s.Format {
			t.Errorf("Format() = %q, want %q", got, s.Format)
		}
	})
	t.Run("Golden", func(t *testing.T) { s.golden(t, newParser) })
	t.Run("Detect", func(t *testing.T) { s.detect(t, newParser()) })
	t.Run("Empty", func(t *testing.T) { s.empty(t, newParser) })
	if len(s.Hostile) > 0 {
		t.Run("Hostile", func(t *testing.T) { s.hostile(t, newParser) })
	}
	t.Run("Truncated", func(t *testing.T) { s.truncated(t, newParser) })
	if len(s.Nesting) > 0 {
		t.Run("Nesting", func(t *testing.T) { s.streams(t, newParser, s.Nesting, 16<<20) })
	}
	if len(s.Huge) > 0 {
		t.Run("Huge", func(t *testing.T) { s.streams(t, newParser, s.Huge, 200<<20) })
	}
	if len(s.Bounded) > 0 {
		t.Run("Bounded", func(t *testing.T) { s.bounded(t, newParser) })
	}
	if s.Limited != nil {
		t.Run("MaxBytes", func(t *testing.T) {
			_, err := ParseString(s.Limited, s.OverLimit)
			var pe *importers.ParseError
			if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "limit") {
				t.Errorf("err = %v", err)
			}
		})
	}
	if s.Cancelled != "" || len(s.CancelStreams) > 0 {
		t.Run("Cancel", func(t *testing.T) { s.cancel(t, newParser) })
	}
	t.Run("FuzzSeeds", func(t *testing.T) { s.seeds(t, newParser) })
}

// Verify checks the invariants of rep, a report of the parser: Check, or CheckReport when the
// Spec has none.
func (s Spec) Verify(tb testing.TB, rep *importers.Report) {
	tb.Helper()
	if s.Check == nil {
		CheckReport(tb, rep, s.Format)
		return
	}
	s.Check(tb, rep)
}

// emptyInputs are what a scanner that found nothing, or the pipeline around it, leaves.
var emptyInputs = map[string]string{"no bytes": "", "white space": " \n\t\r\n", "byte order mark": "\xEF\xBB\xBF\n"}

// empty checks the format's policy for an empty input (Spec.EmptyIsReport).
func (s Spec) empty(t *testing.T, newParser func() importers.Parser) {
	for _, name := range slices.Sorted(maps.Keys(emptyInputs)) {
		t.Run(name, func(t *testing.T) { s.emptyInput(t, newParser(), name, emptyInputs[name]) })
	}
}

func (s Spec) emptyInput(tb testing.TB, p importers.Parser, name, in string) {
	tb.Helper()
	rep, err := ParseString(p, in)
	if !s.EmptyIsReport {
		if err == nil {
			tb.Errorf("%s: an empty input was accepted (%d findings); the Spec says the format refuses it", name, len(rep.Findings))
			return
		}
		s.parseError(tb, name, err, "")
		return
	}
	if err != nil {
		tb.Errorf("%s: an empty input was refused (%v); the Spec says it is a report with no findings", name, err)
		return
	}
	s.Verify(tb, rep)
	if len(rep.Findings) != 0 || !slices.Contains(rep.Warnings, importers.EmptyWarning) {
		tb.Errorf("%s: %d findings, warnings %q; want none and %q", name, len(rep.Findings), rep.Warnings, importers.EmptyWarning)
	}
}

func (s Spec) hostile(t *testing.T, newParser func() importers.Parser) {
	for _, h := range s.Hostile {
		t.Run(h.Name, func(t *testing.T) {
			rep, err := ParseString(newParser(), h.In)
			if err == nil {
				t.Fatalf("no error; report %+v", rep)
			}
			pe := s.parseError(t, h.Name, err, h.Msg)
			if h.Line != 0 && pe.Line != h.Line {
				t.Errorf("%v: want line %d", pe, h.Line)
			}
		})
	}
}

// parseError asserts err is the parser's ParseError, positioned as the Spec says, and that its
// message mentions msg.
func (s Spec) parseError(tb testing.TB, name string, err error, msg string) *importers.ParseError {
	tb.Helper()
	var pe *importers.ParseError
	if s.Positioned {
		pe = PositionedParseError(tb, s.Format, name, err)
	} else {
		pe = WantParseError(tb, err, s.Format, "")
	}
	if !strings.Contains(pe.Msg, msg) {
		tb.Errorf("%s: %v does not mention %q", name, pe, msg)
	}
	return pe
}

func (s Spec) golden(t *testing.T, newParser func() importers.Parser) {
	files := Files(t, s.Format)
	for _, path := range files {
		_, golden := s.Golden[filepath.Base(path)]
		if _, refused := s.Refused[filepath.Base(path)]; !golden && !refused {
			t.Errorf("testdata/%s/%s has no expectations in the Spec: add them", s.Format, filepath.Base(path))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Refused)) {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(File(t, s.Format, name))
			if err != nil {
				t.Fatal(err)
			}
			s.refused(t, newParser(), name, data)
		})
	}
	for _, name := range slices.Sorted(maps.Keys(s.Golden)) {
		t.Run(name, func(t *testing.T) {
			path := File(t, s.Format, name)
			rep := ParseFile(t, newParser(), path)
			s.Verify(t, rep)
			UniqueFingerprints(t, rep)
			s.Golden[name](t, rep)
			a, _ := json.Marshal(rep)
			b, _ := json.Marshal(ParseFile(t, newParser(), path))
			if !bytes.Equal(a, b) {
				t.Errorf("two parses differ")
			}
		})
	}
}

// refused checks that p refuses data, the file name of Refused, as the Spec says.
func (s Spec) refused(tb testing.TB, p importers.Parser, name string, data []byte) {
	tb.Helper()
	rep, err := p.Parse(context.Background(), bytes.NewReader(data))
	if err == nil {
		tb.Errorf("%s is malformed but was accepted: %d findings", name, len(rep.Findings))
		return
	}
	s.parseError(tb, name, err, s.Refused[name])
}

func (s Spec) detect(t *testing.T, p importers.Parser) {
	for format, files := range AllFiles(t) {
		for _, file := range files {
			if got, want := p.Detect(Head(t, file)), format == s.Format; got != want {
				t.Errorf("Detect(%s/%s) = %v, want %v", format, filepath.Base(file), got, want)
			}
		}
	}
	for in, want := range s.Detect {
		if got := p.Detect([]byte(in)); got != want {
			t.Errorf("Detect(%.40q) = %v, want %v", in, got, want)
		}
	}
}

// truncated cuts golden files short: every strict prefix of a report must be refused. Trailing
// white space is trimmed first, since a report without its final newline is still whole.
func (s Spec) truncated(t *testing.T, newParser func() importers.Parser) {
	cut := func(file string, data []byte, n int) {
		t.Helper()
		if n == 0 && s.EmptyIsReport {
			return // a cut to nothing is an empty report, which Empty checks
		}
		rep, err := newParser().Parse(context.Background(), bytes.NewReader(data[:n]))
		if err == nil && s.Unterminated != "" && strings.HasSuffix(file, s.Unterminated) {
			whole, werr := newParser().Parse(context.Background(), bytes.NewReader(data))
			if werr != nil || len(rep.Findings) > len(whole.Findings) {
				t.Errorf("%s cut at %d bytes: %d findings, the whole file %d (%v)", file, n, len(rep.Findings), len(whole.Findings), werr)
			}
			return
		}
		if err == nil {
			t.Errorf("%s cut at %d bytes: no error", file, n)
			return
		}
		s.parseError(t, file+" cut at "+strconv.Itoa(n), err, "")
	}
	for _, path := range Files(t, s.Format) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		data = bytes.TrimRight(data, " \n\r\t")
		file := filepath.Base(path)
		for _, frac := range []float64{0.01, 0.33, 0.5, 0.9, 0.9999} {
			cut(file, data, int(float64(len(data))*frac))
		}
		if file == s.TruncateFile {
			for n := 0; n < len(data); n += s.TruncateEvery {
				cut(file, data, n)
			}
		}
	}
}

// streams feeds inputs too large to hold and checks they are refused within their bounds.
func (s Spec) streams(t *testing.T, newParser func() importers.Parser, streams []Stream, maxAlloc uint64) {
	for _, st := range streams {
		t.Run(st.Name, func(t *testing.T) {
			r := st.reader()
			var err error
			alloc := Allocated(func() { _, err = newParser().Parse(context.Background(), r) })
			pe := s.parseError(t, st.Name, err, st.Msg)
			t.Logf("%v; read %.1f MiB, allocated %.1f MiB", pe, float64(r.Consumed())/(1<<20), float64(alloc)/(1<<20))
			if limit := cmp(st.MaxAlloc, maxAlloc); alloc > limit {
				t.Errorf("allocated %d bytes, over %d", alloc, limit)
			}
			if st.MaxRead > 0 && r.Consumed() > st.MaxRead {
				t.Errorf("read %d bytes before refusing, over %d", r.Consumed(), st.MaxRead)
			}
			if (st.MinOffset > 0 && pe.Offset < st.MinOffset) || (st.MaxOffset > 0 && pe.Offset > st.MaxOffset) {
				t.Errorf("offset %d, want within [%d, %d]", pe.Offset, st.MinOffset, st.MaxOffset)
			}
		})
	}
}

// bounded parses inputs with one huge value: accepted, in bounded memory, with the report's
// strings within the model's bounds.
func (s Spec) bounded(t *testing.T, newParser func() importers.Parser) {
	for _, st := range s.Bounded {
		t.Run(st.Name, func(t *testing.T) {
			r := st.reader()
			var rep *importers.Report
			var err error
			alloc := Allocated(func() { rep, err = newParser().Parse(context.Background(), r) })
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			t.Logf("read %.1f MiB, allocated %.1f MiB; warnings %q", float64(r.Consumed())/(1<<20), float64(alloc)/(1<<20), rep.Warnings)
			if limit := cmp(st.MaxAlloc, 32<<20); alloc > limit {
				t.Errorf("allocated %d bytes, over %d", alloc, limit)
			}
			s.Verify(t, rep)
			if st.Msg != "" && !slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, st.Msg) }) {
				t.Errorf("no warning mentions %q: %q", st.Msg, rep.Warnings)
			}
		})
	}
}

// cmp is v, or def when v is zero.
func cmp[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func (s Spec) cancel(t *testing.T, newParser func() importers.Parser) {
	if s.Cancelled != "" {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := newParser().Parse(ctx, strings.NewReader(s.Cancelled)); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled before: err = %v", err)
		}
	}
	for _, st := range s.CancelStreams {
		ctx, cancel := context.WithCancel(context.Background())
		_, err := newParser().Parse(ctx, &cancelAfter{r: st.reader(), n: st.CancelAfter, cancel: cancel})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: cancelled while reading: err = %v", st.Name, err)
		}
	}
}
