package feeds

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// sharedTestdata returns ../shared/testdata/<sub...> beside the directory holding go.work,
// found by walking up from the package directory; the test is skipped when it is absent.
func sharedTestdata(t testing.TB, sub ...string) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			root := filepath.Join(filepath.Dir(dir), "shared", "testdata")
			if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
				t.Skipf("shared test data not found at %s (sibling of the workspace root %s); CI provides it", root, dir)
			}
			return filepath.Join(append([]string{root}, sub...)...)
		}
		if filepath.Dir(dir) == dir {
			t.Skipf("no go.work above %s, so no ../shared/testdata to read", wd)
		}
	}
}

func readShared(t testing.TB, sub ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(sharedTestdata(t, sub...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func collectNVD(o Options, data []byte) ([]CVE, Stats, error) {
	return collect(data, o.ParseNVD)
}

func collectKEV(o Options, data []byte) ([]KEVEntry, Stats, error) {
	return collect(data, o.ParseKEV)
}

func collectEPSS(o Options, data []byte) ([]EPSSScore, Stats, error) {
	return collect(data, o.ParseEPSS)
}

// collect runs one of the feed parsers over data and keeps every record it hands over.
func collect[T any](data []byte, parse func(context.Context, io.Reader, func(T) error) (Stats, error)) ([]T, Stats, error) {
	var out []T
	st, err := parse(context.Background(), bytes.NewReader(data), func(r T) error {
		out = append(out, r)
		return nil
	})
	return out, st, err
}

// asParseError fails unless err is a *ParseError wrapping cause.
func asParseError(t testing.TB, err, cause error) *ParseError {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *ParseError", err, err)
	}
	if cause != nil && !errors.Is(err, cause) {
		t.Fatalf("error %v does not wrap %v", err, cause)
	}
	return pe
}

// lineCol computes the 1-based line and byte column of offset off in data.
func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	seg := data[:off]
	line := bytes.Count(seg, []byte{'\n'}) + 1
	return line, int(off) - bytes.LastIndexByte(seg, '\n')
}

// checkPosition fails unless pe's line and column agree with its offset in data.
func checkPosition(t testing.TB, data []byte, pe *ParseError) {
	t.Helper()
	if pe.Offset < 0 || pe.Line == 0 {
		return
	}
	if pe.Offset > int64(len(data)) {
		t.Fatalf("offset %d beyond the input (%d bytes): %v", pe.Offset, len(data), pe)
	}
	line, col := lineCol(data, pe.Offset)
	if line != pe.Line || col != pe.Column {
		t.Fatalf("offset %d is line %d column %d, error says line %d column %d: %v",
			pe.Offset, line, col, pe.Line, pe.Column, pe)
	}
}
