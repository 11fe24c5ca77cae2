package importertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
)

// seedDir is where `go test -fuzz FuzzParse` keeps a parser's seed corpus (DESIGN: keep it in
// testdata/fuzz).
const seedDir = "testdata/fuzz/FuzzParse"

// Fuzz is the body of a parser's FuzzParse: seeds and the corpus in testdata/fuzz/FuzzParse feed
// it, and no input may make Parse panic, fail with anything but the parser's ParseError
// (positioned inside the input when the Spec says so), or return a report that breaks the
// Spec's Check or differs when parsed again.
func Fuzz(f *testing.F, newParser func() importers.Parser, s Spec, seeds ...string) {
	for _, seed := range seeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) { s.fuzzOne(t, newParser(), data) })
}

func (s Spec) fuzzOne(t *testing.T, p importers.Parser, data []byte) {
	p.Detect(data)
	rep, err := p.Parse(context.Background(), bytes.NewReader(data))
	if err != nil {
		var pe *importers.ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("error %v (%T) is not a *importers.ParseError", err, err)
		}
		if s.Positioned && (pe.Offset < 0 || pe.Offset > int64(len(data)) || pe.Line < 1 || pe.Column < 1) {
			t.Fatalf("ParseError position out of the input: %+v (len %d)", pe, len(data))
		}
		return
	}
	s.Verify(t, rep)
	again, err := p.Parse(context.Background(), bytes.NewReader(data))
	if err != nil {
		t.Fatalf("second parse failed: %v", err)
	}
	a, _ := json.Marshal(rep)
	b, _ := json.Marshal(again)
	if !bytes.Equal(a, b) {
		t.Fatal("two parses differ")
	}
}

// seeds checks that the parser has a seed corpus and runs the fuzz property over it, so the
// contract holds for it even where FuzzParse is not run.
func (s Spec) seeds(t *testing.T, newParser func() importers.Parser) {
	entries, err := os.ReadDir(seedDir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("no seed corpus in %s (%v)", seedDir, err)
	}
	for _, e := range entries {
		t.Run(e.Name(), func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(seedDir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			s.fuzzOne(t, newParser(), corpusBytes(t, raw))
		})
	}
}

// corpusBytes decodes a corpus file of one []byte value ("go test fuzz v1" then []byte("…")).
func corpusBytes(tb testing.TB, raw []byte) []byte {
	tb.Helper()
	header, body, _ := strings.Cut(string(raw), "\n")
	body = strings.TrimSpace(body)
	lit, ok := strings.CutPrefix(body, "[]byte(")
	if header != "go test fuzz v1" || !ok || !strings.HasSuffix(lit, ")") {
		tb.Fatalf("not a corpus file of one []byte value: %.60q", raw)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
	if err != nil {
		tb.Fatalf("corpus value: %v", err)
	}
	return []byte(s)
}
