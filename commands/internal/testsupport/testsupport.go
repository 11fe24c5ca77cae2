// Package testsupport holds the scaffolding the commands tests share: locating the workspace
// root and the shared test data beside it, loading the event registry, opening a guarded SQLite
// store, and the helpers the scanner-format parser tests have in common.
//
// It is imported only by _test.go files.
package testsupport

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/eventstest"
)

// RepoRoot is the directory holding go.work (eventstest.RepoRoot).
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	return eventstest.RepoRoot(tb)
}

// SharedTestdata is ../shared/testdata/<sub...> (eventstest.SharedTestdata: skipped without it,
// failed without it in CI).
func SharedTestdata(tb testing.TB, sub ...string) string {
	tb.Helper()
	return eventstest.SharedTestdata(tb, sub...)
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
