package testsupport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
)

// ParseFile parses the file at path with p, failing the test on any error.
func ParseFile(tb testing.TB, p importers.Parser, path string) *importers.Report {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	rep, err := p.Parse(context.Background(), f)
	if err != nil {
		tb.Fatalf("%s: %v", filepath.Base(path), err)
	}
	return rep
}

// ParseString parses s with p.
func ParseString(p importers.Parser, s string) (*importers.Report, error) {
	return p.Parse(context.Background(), strings.NewReader(s))
}

// Hex64 matches a lower-case sha256 hex digest.
var Hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

var reMAC = regexp.MustCompile(`^([0-9A-F]{2}:){5}[0-9A-F]{2}$`)

// Bounds are a parser's limits on the text of a finding (parseutil.MaxEvidence and
// parseutil.MaxField, which this package cannot import).
type Bounds struct {
	MaxEvidence, MaxField int
}

// CheckReport verifies what every report of the parser named format must satisfy: non-nil
// slices, unique non-empty asset keys, normalised MACs, unique sha256 fingerprints, findings
// on known assets with known severities and consistent CVSS versions, and text within b.
func CheckReport(tb testing.TB, rep *importers.Report, format string, b Bounds) {
	tb.Helper()
	if rep.Format != format {
		tb.Errorf("Format = %q", rep.Format)
	}
	if rep.Assets == nil || rep.Findings == nil {
		tb.Errorf("nil Assets or Findings slice")
	}
	keys := map[string]bool{}
	for _, a := range rep.Assets {
		if a.Key == "" || keys[a.Key] {
			tb.Errorf("asset key %q empty or repeated", a.Key)
		}
		keys[a.Key] = true
		for _, m := range a.MACs {
			if !reMAC.MatchString(m) {
				tb.Errorf("asset %s: MAC %q not normalised", a.Key, m)
			}
		}
	}
	fps := map[string]bool{}
	for _, f := range rep.Findings {
		if !Hex64.MatchString(f.Fingerprint) {
			tb.Errorf("fingerprint %q is not sha256 hex", f.Fingerprint)
		}
		if fps[f.Fingerprint] {
			tb.Errorf("fingerprint %s repeated (rule %s)", f.Fingerprint, f.RuleID)
		}
		fps[f.Fingerprint] = true
		if !keys[f.AssetKey] {
			tb.Errorf("finding %s: asset key %q not among the assets", f.RuleID, f.AssetKey)
		}
		switch f.Severity {
		case importers.Critical, importers.High, importers.Medium, importers.Low, importers.Info:
		default:
			tb.Errorf("finding %s: severity %q", f.RuleID, f.Severity)
		}
		for _, c := range f.CVSS {
			switch c.Version {
			case "2.0", "3.0", "3.1", "4.0":
			default:
				tb.Errorf("finding %s: CVSS version %q", f.RuleID, c.Version)
			}
			if c.Version != "2.0" && c.Vector != "" && !strings.HasPrefix(c.Vector, "CVSS:"+c.Version+"/") {
				tb.Errorf("finding %s: vector %q does not match version %s", f.RuleID, c.Vector, c.Version)
			}
		}
		if len(f.Evidence) > b.MaxEvidence || len(f.Description) > b.MaxField || len(f.Remediation) > b.MaxField {
			tb.Errorf("finding %s: text over its bound", f.RuleID)
		}
	}
}

// WantParseError asserts err is a *importers.ParseError of the parser named format that names a
// position and, unless contains is empty, mentions contains.
func WantParseError(tb testing.TB, err error, format, contains string) *importers.ParseError {
	tb.Helper()
	var pe *importers.ParseError
	if !errors.As(err, &pe) {
		tb.Fatalf("error %v (%T) is not a *importers.ParseError", err, err)
	}
	if pe.Format != format {
		tb.Errorf("ParseError.Format = %q", pe.Format)
	}
	if pe.Line <= 0 && pe.Offset < 0 {
		tb.Errorf("ParseError names no position: %v", pe)
	}
	if contains != "" && !strings.Contains(pe.Error(), contains) {
		tb.Errorf("error %q does not mention %q", pe.Error(), contains)
	}
	return pe
}

// PatternReader yields Prefix, then Pattern repeated until N bytes in all, then Suffix, without
// holding the whole input in memory.
type PatternReader struct {
	Prefix, Pattern, Suffix []byte
	N                       int64
	pos                     int64
}

func (r *PatternReader) Read(p []byte) (int, error) {
	np := int64(len(r.Prefix))
	total := np + r.N + int64(len(r.Suffix))
	if r.pos >= total {
		return 0, io.EOF
	}
	i := 0
	for i < len(p) && r.pos < total {
		var k int
		switch {
		case r.pos < np:
			k = copy(p[i:], r.Prefix[r.pos:])
		case r.pos < np+r.N:
			off := (r.pos - np) % int64(len(r.Pattern))
			k = copy(p[i:], r.Pattern[off:])
			if rest := np + r.N - r.pos; int64(k) > rest {
				k = int(rest)
			}
		default:
			k = copy(p[i:], r.Suffix[r.pos-np-r.N:])
		}
		i += k
		r.pos += int64(k)
	}
	return i, nil
}

// Allocated returns the bytes allocated while f ran.
func Allocated(f func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// AllTestdataFiles lists every file of every scanner format's shared testdata, by format.
func AllTestdataFiles(tb testing.TB) map[string][]string {
	td := SharedTestdata(tb)
	out := map[string][]string{}
	for _, dir := range []string{"nmap", "trivy", "grype", "sarif", "nessus", "openvas", "zap", "cyclonedx"} {
		files, err := filepath.Glob(filepath.Join(td, dir, "*"))
		if err != nil {
			tb.Fatal(err)
		}
		if len(files) == 0 {
			tb.Fatalf("no files under %s", filepath.Join(td, dir))
		}
		out[dir] = files
	}
	return out
}

// Head returns at most the first 64 KiB of the file at path.
func Head(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if len(b) > 64<<10 {
		b = b[:64<<10]
	}
	return bytes.Clone(b)
}

// CheckReportBasic verifies the invariants the container and code scanner parsers share: the
// format, unique non-empty asset keys, findings on known assets with sha256 fingerprints and
// known severities.
func CheckReportBasic(tb testing.TB, rep *importers.Report, format string) {
	tb.Helper()
	if rep.Format != format {
		tb.Errorf("Format = %q", rep.Format)
	}
	keys := map[string]bool{}
	for _, a := range rep.Assets {
		if a.Key == "" || keys[a.Key] {
			tb.Errorf("asset key %q empty or repeated", a.Key)
		}
		keys[a.Key] = true
	}
	for i, f := range rep.Findings {
		if !keys[f.AssetKey] {
			tb.Errorf("finding %d: asset key %q not among the assets", i, f.AssetKey)
		}
		if !Hex64.MatchString(f.Fingerprint) {
			tb.Errorf("finding %d: fingerprint %q is not sha256 hex", i, f.Fingerprint)
		}
		switch f.Severity {
		case importers.Critical, importers.High, importers.Medium, importers.Low, importers.Info:
		default:
			tb.Errorf("finding %d: severity %q", i, f.Severity)
		}
	}
}

// PositionedParseError asserts that err is a *importers.ParseError of format with a full position
// (offset, line, column) and a message, and returns it. name labels the case in failures.
func PositionedParseError(tb testing.TB, format, name string, err error) *importers.ParseError {
	tb.Helper()
	var pe *importers.ParseError
	if !errors.As(err, &pe) {
		tb.Fatalf("%s: error %v (%T), want *importers.ParseError", name, err, err)
	}
	if pe.Format != format || pe.Offset < 0 || pe.Line < 1 || pe.Column < 1 || pe.Msg == "" {
		tb.Errorf("%s: ParseError without a position: %+v", name, pe)
	}
	return pe
}

// RepeatReader yields Pattern forever and counts the bytes read (N), so a test can assert that a
// parser refused hostile input after reading only a little of it.
type RepeatReader struct {
	Pattern string
	pos     int
	N       int64
}

func (r *RepeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.Pattern[r.pos]
		r.pos = (r.pos + 1) % len(r.Pattern)
	}
	r.N += int64(len(p))
	return len(p), nil
}

// CancelAtEOF cancels its context when R is exhausted, so a parser sees the cancellation while
// it is still decoding what it buffered.
type CancelAtEOF struct {
	R      io.Reader
	Cancel context.CancelFunc
}

func (c *CancelAtEOF) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	if err == io.EOF {
		c.Cancel()
	}
	return n, err
}
