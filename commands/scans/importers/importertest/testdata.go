package importertest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/scans/importers"
)

// Formats are the scanner formats whose files the shared testdata holds, one directory each.
var Formats = []string{"nmap", "trivy", "grype", "sarif", "nessus", "openvas", "zap", "cyclonedx"}

// Testdata returns ../shared/testdata/<sub...> beside the workspace root. Without the shared
// testdata the test is skipped (DESIGN: tests that read it skip with a message) — except where a
// skip would hide a gap: under SOC_REQUIRE_SERVERS=1 or CI=true it is a failure, as a missing
// server is for the integration tests.
func Testdata(tb testing.TB, sub ...string) string {
	tb.Helper()
	if os.Getenv("SOC_REQUIRE_SERVERS") == "1" || os.Getenv("CI") == "true" {
		root := filepath.Join(filepath.Dir(testsupport.RepoRoot(tb)), "shared", "testdata")
		if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
			tb.Fatalf("shared test data not found at %s, and SOC_REQUIRE_SERVERS=1 or CI=true", root)
		}
	}
	return testsupport.SharedTestdata(tb, sub...)
}

// Files lists the files of one format's shared testdata; it fails the test when there are none.
func Files(tb testing.TB, format string) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(Testdata(tb, format), "*"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatalf("no files under testdata/%s", format)
	}
	return files
}

// AllFiles lists every file of every scanner format's shared testdata, by format.
func AllFiles(tb testing.TB) map[string][]string {
	tb.Helper()
	out := map[string][]string{}
	for _, format := range Formats {
		out[format] = Files(tb, format)
	}
	return out
}

// Largest returns the biggest file of one format's shared testdata.
func Largest(tb testing.TB, format string) string {
	tb.Helper()
	best, size := "", int64(-1)
	for _, f := range Files(tb, format) {
		if st, err := os.Stat(f); err == nil && st.Size() > size {
			best, size = f, st.Size()
		}
	}
	return best
}

// Head returns at most the first 64 KiB of the file at path: what Detect is given.
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
