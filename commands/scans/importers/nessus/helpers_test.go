package nessus

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
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

// sharedTestdata returns ../shared/testdata next to the directory holding go.work, or skips.
func sharedTestdata(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.work above the package directory: shared testdata not located")
		}
		dir = parent
	}
	td := filepath.Join(dir, "..", "shared", "testdata")
	if _, err := os.Stat(td); err != nil {
		t.Skipf("shared testdata not found at %s: %v", td, err)
	}
	return td
}

func parseFile(t testing.TB, path string) *importers.Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := New().Parse(context.Background(), f)
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	return rep
}

func parseString(s string) (*importers.Report, error) {
	return New().Parse(context.Background(), strings.NewReader(s))
}

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// checkInvariants verifies what every report of this parser must satisfy.
func checkInvariants(t testing.TB, rep *importers.Report) {
	t.Helper()
	if rep.Format != format {
		t.Errorf("Format = %q", rep.Format)
	}
	if rep.Assets == nil || rep.Findings == nil {
		t.Errorf("nil Assets or Findings slice")
	}
	keys := map[string]bool{}
	for _, a := range rep.Assets {
		if a.Key == "" || keys[a.Key] {
			t.Errorf("asset key %q empty or repeated", a.Key)
		}
		keys[a.Key] = true
		for _, m := range a.MACs {
			if !regexp.MustCompile(`^([0-9A-F]{2}:){5}[0-9A-F]{2}$`).MatchString(m) {
				t.Errorf("asset %s: MAC %q not normalised", a.Key, m)
			}
		}
	}
	fps := map[string]bool{}
	for _, f := range rep.Findings {
		if !hex64.MatchString(f.Fingerprint) {
			t.Errorf("fingerprint %q is not sha256 hex", f.Fingerprint)
		}
		if fps[f.Fingerprint] {
			t.Errorf("fingerprint %s repeated (rule %s)", f.Fingerprint, f.RuleID)
		}
		fps[f.Fingerprint] = true
		if !keys[f.AssetKey] {
			t.Errorf("finding %s: asset key %q not among the assets", f.RuleID, f.AssetKey)
		}
		switch f.Severity {
		case importers.Critical, importers.High, importers.Medium, importers.Low, importers.Info:
		default:
			t.Errorf("finding %s: severity %q", f.RuleID, f.Severity)
		}
		for _, c := range f.CVSS {
			switch c.Version {
			case "2.0", "3.0", "3.1", "4.0":
			default:
				t.Errorf("finding %s: CVSS version %q", f.RuleID, c.Version)
			}
			if c.Version != "2.0" && c.Vector != "" && !strings.HasPrefix(c.Vector, "CVSS:"+c.Version+"/") {
				t.Errorf("finding %s: vector %q does not match version %s", f.RuleID, c.Vector, c.Version)
			}
		}
		if len(f.Evidence) > parseutil.MaxEvidence || len(f.Description) > parseutil.MaxField || len(f.Remediation) > parseutil.MaxField {
			t.Errorf("finding %s: text over its bound", f.RuleID)
		}
	}
}

// wantParseError asserts err is a *importers.ParseError that names a position.
func wantParseError(t testing.TB, err error, contains string) *importers.ParseError {
	t.Helper()
	var pe *importers.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *importers.ParseError", err, err)
	}
	if pe.Format != format {
		t.Errorf("ParseError.Format = %q", pe.Format)
	}
	if pe.Line <= 0 && pe.Offset < 0 {
		t.Errorf("ParseError names no position: %v", pe)
	}
	if contains != "" && !strings.Contains(pe.Error(), contains) {
		t.Errorf("error %q does not mention %q", pe.Error(), contains)
	}
	return pe
}

// patternReader yields prefix, then pattern repeated until n bytes in all, then suffix, without
// holding the whole input in memory.
type patternReader struct {
	prefix, pattern, suffix []byte
	n, pos                  int64
}

func (r *patternReader) Read(p []byte) (int, error) {
	np := int64(len(r.prefix))
	total := np + r.n + int64(len(r.suffix))
	if r.pos >= total {
		return 0, io.EOF
	}
	i := 0
	for i < len(p) && r.pos < total {
		var k int
		switch {
		case r.pos < np:
			k = copy(p[i:], r.prefix[r.pos:])
		case r.pos < np+r.n:
			off := (r.pos - np) % int64(len(r.pattern))
			k = copy(p[i:], r.pattern[off:])
			if rest := np + r.n - r.pos; int64(k) > rest {
				k = int(rest)
			}
		default:
			k = copy(p[i:], r.suffix[r.pos-np-r.n:])
		}
		i += k
		r.pos += int64(k)
	}
	return i, nil
}

// allocated returns the bytes allocated while f ran.
func allocated(f func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// allTestdataFiles lists every file of every scanner format's shared testdata, by format.
func allTestdataFiles(t testing.TB) map[string][]string {
	td := sharedTestdata(t)
	out := map[string][]string{}
	for _, dir := range []string{"nmap", "trivy", "grype", "sarif", "nessus", "openvas", "zap", "cyclonedx"} {
		files, err := filepath.Glob(filepath.Join(td, dir, "*"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Fatalf("no files under %s", filepath.Join(td, dir))
		}
		out[dir] = files
	}
	return out
}

func head(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 64<<10 {
		b = b[:64<<10]
	}
	return bytes.Clone(b)
}
