package readguard

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// A run is checked as each read arrives; the offset is where the run after the last '<' passed the
// limit (1 + 10).
func TestRunLimitOffset(t *testing.T) {
	g := &Reader{R: iotest.OneByteReader(strings.NewReader("<a>" + strings.Repeat("x", 100))), MaxRun: 10}
	_, err := io.ReadAll(g)
	var le *LimitError
	if !errors.As(err, &le) || le.Off != 11 {
		t.Fatalf("err = %v, want a LimitError at byte 11", err)
	}
}

func TestSinceMark(t *testing.T) {
	g := &Reader{R: strings.NewReader(strings.Repeat("x", 100)), MaxSinceMark: 10}
	buf := make([]byte, 8)
	if _, err := g.Read(buf); err != nil {
		t.Fatal(err)
	}
	g.Mark()
	if g.Offset() != 8 {
		t.Fatalf("offset %d", g.Offset())
	}
	_, err := io.ReadAll(g)
	var le *LimitError
	if !errors.As(err, &le) || le.Off != 18 {
		t.Fatalf("err = %v, want a LimitError at byte 18", err)
	}
}

// Invalid UTF-8 is found at its exact offset even when a sequence is split across reads.
func TestUTF8AcrossReads(t *testing.T) {
	for in, want := range map[string]int64{"ab\xffcd": 2, "aé\xe9": 3, "abé": -1, "ab\xc3": 2} {
		g := &Reader{R: iotest.OneByteReader(strings.NewReader(in)), CheckUTF8: true}
		_, err := io.ReadAll(g)
		var le *LimitError
		switch {
		case want < 0 && err != nil:
			t.Errorf("%q: %v", in, err)
		case want >= 0 && (!errors.As(err, &le) || le.Off != want):
			t.Errorf("%q: err = %v, want a LimitError at byte %d", in, err, want)
		}
	}
}

func TestBOM(t *testing.T) {
	b, _ := io.ReadAll(SkipBOM(strings.NewReader("\xEF\xBB\xBFx")))
	if string(b) != "x" || string(TrimBOM([]byte("\xEF\xBB\xBFy"))) != "y" {
		t.Error("BOM not removed")
	}
}
