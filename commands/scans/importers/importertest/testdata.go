package importertest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/scans/importers"
)

// Formats are the scanner formats whose files the shared testdata holds, one directory each.
var Formats = []string{"nmap", "trivy", "grype", "sarif", "nessus", "openvas", "zap", "cyclonedx", "nuclei", "qualys", "trivy-operator", "sonarqube", "kics", "checkmarx", "govulncheck", "npm-audit", "pip-audit", "github", "snyk", "osv-scanner", "dependency-check", "burp", "veracode", "acunetix", "acunetix360", "asff", "aws-inspector2", "generic", "semgrep", "bandit", "gitleaks"}

// Malformed are the shared test files that are not well-formed reports (base name → what the
// refusal says): the format's parser must refuse them (its Spec.Refused), and the import tests
// that walk every file expect no report from them.
var Malformed = map[string]string{"acunetix360_testsparker.xml": "malformed XML"}

// Reports lists the files of format that are reports: Files without the Malformed ones.
func Reports(tb testing.TB, format string) []string {
	tb.Helper()
	var out []string
	for _, f := range Files(tb, format) {
		if _, bad := Malformed[filepath.Base(f)]; !bad {
			out = append(out, f)
		}
	}
	return out
}

// sharedDirs names the shared testdata folder of the formats whose folder is not named after
// the format: the aws folder holds ASFF reports.
var sharedDirs = map[string]string{"asff": "aws"}

// Testdata returns ../shared/testdata/<sub...> beside the workspace root
// (testsupport.SharedTestdata: skipped without it, failed without it under SOC_REQUIRE_SERVERS=1
// or CI=true).
func Testdata(tb testing.TB, sub ...string) string {
	tb.Helper()
	return testsupport.SharedTestdata(tb, sub...)
}

// Files lists the files of one format: its shared testdata folder, the other versions and shapes
// of the format under the shared variants/<format>/ folder, and the project's own samples under
// importers/testdata/<format>/ (files no public source offered, e.g. Nessus CSV). It fails the
// test when there are none, or when two of them share a base name (the Spec names files by it).
func Files(tb testing.TB, format string) []string {
	tb.Helper()
	var files []string
	shared := format
	if dir, ok := sharedDirs[format]; ok {
		shared = dir
	}
	// The shared folder may be missing: some formats have only the project's own samples.
	root := Testdata(tb)
	dirs := []string{filepath.Join(root, shared), filepath.Join(root, "variants", format), Samples(format)}
	for _, dir := range dirs {
		found, err := filepath.Glob(filepath.Join(dir, "*"))
		if err != nil {
			tb.Fatal(err)
		}
		files = append(files, found...)
	}
	if len(files) == 0 {
		tb.Fatalf("no files under testdata/%s", format)
	}
	seen := map[string]string{}
	for _, f := range files {
		if other, ok := seen[filepath.Base(f)]; ok {
			tb.Fatalf("%s and %s share a name", other, f)
		}
		seen[filepath.Base(f)] = f
	}
	return files
}

// File is the path of the file of format named name (a base name, see Files).
func File(tb testing.TB, format, name string) string {
	tb.Helper()
	for _, f := range Files(tb, format) {
		if filepath.Base(f) == name {
			return f
		}
	}
	tb.Fatalf("no file %s of format %s", name, format)
	return ""
}

// Samples is the folder of the project's own samples of format, importers/testdata/<format>.
// Unlike the shared testdata it is part of the repository, so it is found from this source
// file rather than from the working directory.
func Samples(format string) string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(filepath.Dir(self)), "testdata", format)
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

// MustParse parses in with p, failing the test on any error, and verifies the report as the
// Spec says (Verify).
func (s Spec) MustParse(tb testing.TB, p importers.Parser, in string) *importers.Report {
	tb.Helper()
	rep, err := ParseString(p, in)
	if err != nil {
		tb.Fatal(err)
	}
	s.Verify(tb, rep)
	return rep
}

// MustParseString parses s with p, failing the test on any error.
func MustParseString(tb testing.TB, p importers.Parser, s string) *importers.Report {
	tb.Helper()
	rep, err := ParseString(p, s)
	if err != nil {
		tb.Fatal(err)
	}
	return rep
}
