package feeds

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"testing"
)

// Seeds: testdata/fuzz/Fuzz{NVD,KEV,EPSS}/* (hand-made; the shared real-world files are not copied
// into the repository). Each target parses with tight bounds, to reach the bound checks, and
// with the defaults, and checks the invariants of both runs.

var fuzzOptions = []Options{
	{MaxRecordBytes: 2048, MaxDepth: 12, MaxStringBytes: 200, MaxLineBytes: 64},
	{},
	{SkipInvalid: true, MaxWarnings: 3},
}

// checkFuzzError checks what any parse may return: nil or a *ParseError of the feed whose
// position agrees with the input (when the input is not gzip, whose offsets are decompressed).
func checkFuzzError(t *testing.T, feed Feed, data []byte, st Stats, n int, err error) {
	t.Helper()
	if st.Records != n {
		t.Fatalf("Records %d, callbacks %d", st.Records, n)
	}
	if st.Feed != feed || st.Skipped < 0 || len(st.Warnings) > DefaultMaxWarnings {
		t.Fatalf("stats %+v", st)
	}
	gzipped := bytes.HasPrefix(data, gzipMagic)
	if !gzipped && st.Bytes > int64(len(data)) {
		t.Fatalf("read %d bytes of %d", st.Bytes, len(data))
	}
	if err == nil {
		return
	}
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *ParseError", err, err)
	}
	if pe.Feed != feed || pe.Msg == "" || pe.Err == nil || pe.Error() == "" {
		t.Fatalf("incomplete error %#v", pe)
	}
	if pe.Record < -1 || (pe.Record >= 0 && pe.Record < st.Records) {
		t.Fatalf("error record %d, but %d records were accepted: %v", pe.Record, st.Records, err)
	}
	if !gzipped {
		checkPosition(t, data, pe)
	}
}

// fuzzParse parses data with each of fuzzOptions through parse (an Options method), hands every
// record to check, and checks what the parse returned (checkFuzzError); parsed checks the stats
// of a parse that succeeded.
func fuzzParse[T any](t *testing.T, feed Feed, data []byte, parse func(Options, context.Context, io.Reader, func(T) error) (Stats, error),
	check func(T), parsed func(Stats)) {
	t.Helper()
	for _, o := range fuzzOptions {
		n := 0
		st, err := parse(o, context.Background(), bytes.NewReader(data), func(r T) error {
			n++
			check(r)
			return nil
		})
		checkFuzzError(t, feed, data, st, n, err)
		if err == nil {
			parsed(st)
		}
	}
}

func FuzzNVD(f *testing.F) {
	f.Add([]byte(nvdTwo))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, FeedNVD, data, Options.ParseNVD, func(c CVE) {
			if !ValidCVEID(c.ID) {
				t.Fatalf("invalid id %q accepted", c.ID)
			}
			for _, r := range c.CVSS {
				if _, ok := knownCVSSVersions[r.Version]; !ok || !(r.BaseScore >= 0 && r.BaseScore <= 10) || r.Vector == "" {
					t.Fatalf("invalid rating accepted: %+v", r)
				}
			}
			for _, w := range c.CWEs {
				if !validCWEID(w) {
					t.Fatalf("invalid CWE %q accepted", w)
				}
			}
			if c.KEV != nil && c.KEV.DateAdded.IsZero() {
				t.Fatalf("KEV info without a date: %+v", c.KEV)
			}
		}, func(Stats) {})
	})
}

func FuzzKEV(f *testing.F) {
	f.Add([]byte(kevTwo))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, FeedKEV, data, Options.ParseKEV, func(e KEVEntry) {
			if !ValidCVEID(e.CVEID) || e.DateAdded.IsZero() || e.DueDate.IsZero() {
				t.Fatalf("invalid entry accepted: %+v", e)
			}
			for _, w := range e.CWEs {
				if !validCWEID(w) {
					t.Fatalf("invalid CWE %q accepted", w)
				}
			}
		}, func(st Stats) {
			if st.KEV == nil {
				t.Fatal("no catalogue metadata after a successful parse")
			}
		})
	})
}

func FuzzEPSS(f *testing.F) {
	f.Add([]byte("cve,epss,percentile\nCVE-2024-0001,0.5,0.9\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, FeedEPSS, data, Options.ParseEPSS, func(s EPSSScore) {
			if !ValidCVEID(s.CVEID) || !(s.EPSS >= 0 && s.EPSS <= 1) || !(s.Percentile >= 0 && s.Percentile <= 1) ||
				math.IsNaN(s.EPSS) {
				t.Fatalf("invalid score accepted: %+v", s)
			}
		}, func(st Stats) {
			if st.EPSS == nil {
				t.Fatal("no header after a successful parse")
			}
		})
	})
}
