package eventstest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot walks up from the working directory to the directory holding go.work; it fails the
// test when there is none.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal(fmt.Errorf("no go.work above %s: run the tests inside the workspace", wd))
		}
		dir = parent
	}
}

// SharedTestdata returns ../shared/testdata/<sub...> beside the directory holding go.work. Without
// the shared test data the test is skipped (DESIGN: tests that read it skip without it), except
// under SOC_REQUIRE_SERVERS=1 or CI=true, where a skip would hide a gap: there it fails, as a
// missing server does (ServerEnv). A sub-path missing from shared test data that is there is a
// failure too: a renamed file must not silently switch its tests off.
func SharedTestdata(tb testing.TB, sub ...string) string {
	tb.Helper()
	dir := RepoRoot(tb)
	root := filepath.Join(filepath.Dir(dir), "shared", "testdata")
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		if os.Getenv("SOC_REQUIRE_SERVERS") == "1" || os.Getenv("CI") == "true" {
			tb.Fatalf("shared test data not found at %s, and SOC_REQUIRE_SERVERS=1 or CI=true", root)
		}
		tb.Skipf("shared test data not found at %s (sibling of the workspace root %s): skipping", root, dir)
	}
	p := filepath.Join(append([]string{root}, sub...)...)
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("shared test data is present but %s is not: %v", p, err)
	}
	return p
}
