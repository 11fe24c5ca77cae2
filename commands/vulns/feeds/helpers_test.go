package feeds

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/internal/testsupport"
)

func readShared(t testing.TB, sub ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(testsupport.SharedTestdata(t, sub...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mustCollect parses the shared test file sub with collect and default options, failing t on
// an error; it returns the records, the stats and the file's bytes.
func mustCollect[T any](t testing.TB, collect func(Options, []byte) ([]T, Stats, error), sub ...string) ([]T, Stats, []byte) {
	t.Helper()
	data := readShared(t, sub...)
	recs, st, err := collect(Options{}, data)
	if err != nil {
		t.Fatal(err)
	}
	return recs, st, data
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

// recordErrorCase is a document made invalid by replacing old with new, and the *ParseError it
// must fail with: its cause, field, record (-1: the header) and line.
type recordErrorCase struct {
	name, old, new string
	cause          error
	field          string
	record, line   int
}

// checkRecordErrors parses each case's variant of the valid document doc of feed with collect
// and checks the error it fails with; the records before a failing second one are accepted.
func checkRecordErrors[T any](t *testing.T, feed Feed, doc string, collect func(Options, []byte) ([]T, Stats, error), cases []recordErrorCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := []byte(strings.Replace(doc, tc.old, tc.new, 1))
			_, st, err := collect(Options{}, doc)
			pe := asParseError(t, err, tc.cause)
			if pe.Field != tc.field || pe.Record != tc.record || pe.Line != tc.line || pe.Feed != feed {
				t.Errorf("got field %q record %d line %d, want %q %d %d: %v", pe.Field, pe.Record, pe.Line, tc.field, tc.record, tc.line, err)
			}
			checkPosition(t, doc, pe)
			if tc.record == 1 && st.Records != 1 {
				t.Errorf("records before the error: %d", st.Records)
			}
		})
	}
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
