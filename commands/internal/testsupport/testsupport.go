// Package testsupport holds the scaffolding the commands tests share: locating the workspace
// root and the shared test data beside it, loading the event registry, opening a guarded SQLite
// store, and the helpers the scanner-format parser tests have in common.
//
// It is imported only by _test.go files.
package testsupport

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/eventstest"
)

// RepoRoot walks up from the working directory to the directory holding go.work; it fails the
// test when there is none.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	root, err := workspaceRoot()
	if err != nil {
		tb.Fatal(err)
	}
	return root
}

// workspaceRoot walks up from the working directory to the directory holding go.work.
func workspaceRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.work above %s: run the tests inside the workspace", wd)
		}
		dir = parent
	}
}

// SharedTestdata returns ../shared/testdata/<sub...> beside the directory holding go.work,
// found by walking up from the working directory. It skips the test when the shared test data is
// absent (DESIGN: tests that read it skip without it; CI always has it). A sub-path missing from
// shared test data that is there is a failure, not a skip: a renamed file must not silently
// switch its tests off.
func SharedTestdata(tb testing.TB, sub ...string) string {
	tb.Helper()
	dir, err := workspaceRoot()
	if err != nil {
		tb.Fatal(err)
	}
	root := filepath.Join(filepath.Dir(dir), "shared", "testdata")
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		tb.Skipf("shared test data not found at %s (sibling of the workspace root %s): skipping", root, dir)
	}
	p := filepath.Join(append([]string{root}, sub...)...)
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("shared test data is present but %s is not: %v", p, err)
	}
	return p
}

// Registry is the platform's event registry (eventstest.Registry).
func Registry(tb testing.TB) *events.Registry {
	tb.Helper()
	return eventstest.Registry(tb)
}

// CommandSchemas returns <repo>/schemas/commands as a file system.
func CommandSchemas(tb testing.TB) fs.FS {
	tb.Helper()
	return os.DirFS(filepath.Join(RepoRoot(tb), "schemas", "commands"))
}

// SQLiteStore opens a real SQLite store at events.db in tb.TempDir(), guarded by the on-disk
// event schemas (Registry) with default limits; it is closed when the test ends.
func SQLiteStore(tb testing.TB) *events.Guarded {
	tb.Helper()
	return OpenSQLiteStore(tb, sqlite.Config{})
}

// OpenSQLiteStore is SQLiteStore with the adapter's configuration given; an empty Path means
// events.db in tb.TempDir().
func OpenSQLiteStore(tb testing.TB, cfg sqlite.Config) *events.Guarded {
	tb.Helper()
	store, _ := eventstest.OpenSQLite(tb, cfg)
	return store
}
