package jsonguard

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// walkAll reads doc as one value through the walker, decoding the elements of a top-level array
// and skipping anything else, then End.
func walkAll(doc string, maxBytes int64) error {
	w, err := Open(context.Background(), "test", strings.NewReader(doc), maxBytes, 0)
	if err != nil {
		return err
	}
	if w.Next() == '[' {
		err = w.Array("doc", func(int) error {
			var v any
			_, err := w.Decode(&v)
			return err
		})
	} else {
		err = w.Skip()
	}
	if err != nil {
		return err
	}
	return w.End()
}

// TestLexerErrors: every kind of malformed input is refused with the message and position
// (line, column) of the offending byte, whether the value is skipped or decoded.
func TestLexerErrors(t *testing.T) {
	for _, c := range []struct {
		doc, msg  string
		line, col int
	}{
		{"", "end of input", 1, 1},
		{"{\"a\": 1,\n  \"b\" 2}", "invalid character '2' after object key", 2, 7},
		{"[1,\n\n 2 3]", "invalid character '3' after array element", 3, 4},
		{`{"a": 1,}`, "invalid character '}' looking for beginning of object key string", 1, 9},
		{`[01]`, "invalid character '1' after array element", 1, 3},
		{`[1.]`, "invalid character ']' after decimal point in numeric literal", 1, 4},
		{`[1e+]`, "invalid character ']' in exponent of numeric literal", 1, 5},
		{`[-]`, "invalid character ']' in numeric literal", 1, 3},
		{`[tru]`, "invalid character ']' in literal true", 1, 5},
		{`[nul`, "end of input", 1, 5},
		{`["a\x"]`, `invalid character 'x' in string escape code`, 1, 5},
		{`["\u12G4"]`, `invalid character 'G' in \u hexadecimal character escape`, 1, 7},
		{"[\"a\tb\"]", `invalid character '\t' in string literal`, 1, 4},
		{"{\"a\":\n \"\xff\"}", "invalid UTF-8", 2, 3},
		{"[\"\xed\xa0\x80\"]", "invalid UTF-8", 1, 3},
		{"[\"\xc3", "invalid UTF-8", 1, 3},
		{`[1] [2]`, "unexpected data after the report", 1, 5},
		{`{"a": "b"`, "end of input", 1, 10},
		{strings.Repeat("[", 200), "nesting deeper than 128 levels", 1, 129},
	} {
		err := walkAll(c.doc, 0)
		var pe *importers.ParseError
		if !errors.As(err, &pe) || !strings.Contains(pe.Msg, c.msg) || pe.Line != c.line || pe.Column != c.col {
			t.Errorf("%q: err = %v, want %q at line %d, column %d", c.doc, err, c.msg, c.line, c.col)
			continue
		}
		if want := int64(strings.LastIndexByte(c.doc[:min(len(c.doc), int(pe.Offset))], '\n') + pe.Column); pe.Offset != want {
			t.Errorf("%q: offset %d, want %d (line and column say so)", c.doc, pe.Offset, want)
		}
	}
}

// TestMaxBytes: a report over the limit is refused where the limit falls, even inside a skipped
// value; one exactly at the limit is read.
func TestMaxBytes(t *testing.T) {
	doc := `{"a": "` + strings.Repeat("x", 100) + `"}`
	if err := walkAll(doc, int64(len(doc))); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	err := walkAll(doc, 50)
	var pe *importers.ParseError
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "50-byte limit") || pe.Offset != 50 {
		t.Errorf("over the limit: err = %v", err)
	}
}

// TestSkipHoldsNothing: skipping a 64 MiB string or array allocates a few kilobytes.
func TestSkipHoldsNothing(t *testing.T) {
	for name, st := range map[string][3]string{
		"string": {`{"x": "`, `0123456789\"\\\u00e9`, `", "y": 1}`},
		"array":  {`{"x": [`, `[1, -2.5E-3, true, null, {"k": "v"}], `, `0]}`},
	} {
		pr := &importertest.PatternReader{Prefix: []byte(st[0]), Pattern: []byte(st[1]), Suffix: []byte(st[2]), N: int64(64 << 20 / len(st[1]) * len(st[1]))}
		var err error
		alloc := importertest.Allocated(func() {
			w, _ := Open(context.Background(), "test", pr, 0, 0)
			err = w.Document("doc", func(string) error { return w.Skip() })
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if alloc > 1<<20 {
			t.Errorf("%s: skipping 64 MiB allocated %d bytes", name, alloc)
		}
	}
}

// TestCutStrings: a decoded value keeps at most MaxStringBytes of each string, cut on a rune or
// escape boundary and marked, and the walker warns of the cut with its position.
func TestCutStrings(t *testing.T) {
	long := strings.Repeat("é\\n", MaxStringBytes/4+7)
	doc := "[\n{\"a\": \"" + long + "\", \"b\": \"short\"}]"
	w, _ := Open(context.Background(), "test", strings.NewReader(doc), 0, 0)
	var got []struct{ A, B string }
	if err := Elements(w, "doc", &got, Tolerant{}); err != nil {
		t.Fatal(err)
	}
	a := got[0].A
	if !strings.HasSuffix(a, importers.TruncMark) || !utf8.ValidString(a) || got[0].B != "short" {
		t.Fatalf("a ends %q, b = %q", a[max(0, len(a)-40):], got[0].B)
	}
	if kept := strings.TrimSuffix(a, importers.TruncMark); !strings.HasPrefix(strings.ReplaceAll(long, `\n`, "\n"), kept) || len(kept) < MaxStringBytes/2 {
		t.Errorf("kept %d bytes, not a prefix of the string", len(kept))
	}
	if warn := w.Warnings(); len(warn) != 1 || !strings.Contains(warn[0], "1 strings longer than") || !strings.Contains(warn[0], "line 2, column 7") {
		t.Errorf("warnings = %q", warn)
	}
}

// TestValueTooLarge: a decoded value (not its strings, each cut) larger than MaxValueBytes is
// refused at its start.
func TestValueTooLarge(t *testing.T) {
	pr := &importertest.PatternReader{Prefix: []byte("[\n["), Pattern: []byte(`"0123456789abcd",`), Suffix: []byte(`""]]`), N: (MaxValueBytes + 1<<20) / 17 * 17}
	w, _ := Open(context.Background(), "test", pr, 0, 0)
	err := w.Array("doc", func(int) error {
		var v any
		_, err := w.Decode(&v)
		return err
	})
	var pe *importers.ParseError
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "larger than") || pe.Line != 2 || pe.Column != 1 {
		t.Errorf("err = %v", err)
	}
}

// FuzzLexer: on valid UTF-8, the walker accepts exactly what encoding/json accepts, and decodes
// it to the same value.
func FuzzLexer(f *testing.F) {
	for _, s := range []string{`{"a": [1, 2.5e-3, "x\u00e9\n", true, false, null]}`, `[01]`, `"\ud800"`, ` -0 `, `[1,]`, `{"a" 1}`, "\"\x7f\"", `1e5`, `{}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		if !utf8.ValidString(doc) {
			return
		}
		w, _ := Open(context.Background(), "test", strings.NewReader(doc), 0, 0)
		var got any
		_, err := w.Decode(&got)
		if err == nil {
			err = w.End()
		}
		var want any
		werr := json.Unmarshal([]byte(doc), &want)
		if (err == nil) != (werr == nil) {
			t.Fatalf("%q: walker %v, encoding/json %v", doc, err, werr)
		}
		if err == nil {
			a, _ := json.Marshal(got)
			b, _ := json.Marshal(want)
			if string(a) != string(b) {
				t.Fatalf("%q: walker %s, encoding/json %s", doc, a, b)
			}
		}
	})
}

func TestArrayDocumentKeepsTheArrayAndSkipsTheRest(t *testing.T) {
	read := func(doc string) ([]int, error) {
		w, err := Open(context.Background(), "test", strings.NewReader(doc), 0, 0)
		if err != nil {
			return nil, err
		}
		var got []int
		err = ArrayDocument(w, "items", Tolerant{}, func(v int) { got = append(got, v) }, "no items array")
		return got, err
	}
	got, err := read(`{"x": {"items": [9]}, "items": [1, 2], "y": "z"}`)
	if err != nil || len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Errorf("got %v, %v", got, err)
	}
	var pe *importers.ParseError
	if _, err := read(`{"Items": [1]}`); !errors.As(err, &pe) || pe.Msg != "no items array" {
		t.Errorf("without the member: %v", err)
	}
	if _, err := read(`{"items": [1]} {}`); !errors.As(err, &pe) || !strings.Contains(pe.Msg, "after the report") {
		t.Errorf("trailing data: %v", err)
	}
}
