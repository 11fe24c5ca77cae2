package feeds

import (
	"bytes"
	"context"
	"errors"
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

func collectNVD(t testing.TB, o Options, data []byte) ([]CVE, Stats, error) {
	t.Helper()
	var out []CVE
	st, err := o.ParseNVD(context.Background(), bytes.NewReader(data), func(c CVE) error {
		out = append(out, c)
		return nil
	})
	return out, st, err
}

func collectKEV(t testing.TB, o Options, data []byte) ([]KEVEntry, Stats, error) {
	t.Helper()
	var out []KEVEntry
	st, err := o.ParseKEV(context.Background(), bytes.NewReader(data), func(e KEVEntry) error {
		out = append(out, e)
		return nil
	})
	return out, st, err
}

func collectEPSS(t testing.TB, o Options, data []byte) ([]EPSSScore, Stats, error) {
	t.Helper()
	var out []EPSSScore
	st, err := o.ParseEPSS(context.Background(), bytes.NewReader(data), func(s EPSSScore) error {
		out = append(out, s)
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
