package app_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
)

// repoRoot walks up from the working directory to the directory holding go.work.
func repoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.work not found above the working directory")
		}
		dir = parent
	}
}

// testdata returns ../shared/testdata/<sub> next to the repository, skipping when absent.
func testdata(tb testing.TB, sub string) string {
	tb.Helper()
	dir := filepath.Join(repoRoot(tb), "..", "shared", "testdata", sub)
	if _, err := os.Stat(dir); err != nil {
		tb.Skipf("shared test data %s is absent (%v): skipping", dir, err)
	}
	return dir
}

func registry(tb testing.TB) *events.Registry {
	tb.Helper()
	reg, err := events.LoadRegistry(os.DirFS(filepath.Join(repoRoot(tb), "schemas", "events")), ".")
	if err != nil {
		tb.Fatal(err)
	}
	return reg
}

// openStore opens a real SQLite store in a temporary directory, guarded by the on-disk schemas.
func openStore(tb testing.TB, synchronous string) *events.Guarded {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(tb.TempDir(), "events.db"), Synchronous: synchronous})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return events.Guard(s, registry(tb), events.Limits{})
}

func newImporter(tb testing.TB, store *events.Guarded) *app.Importer {
	tb.Helper()
	im, err := app.New(store, app.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	if err := im.Load(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return im
}

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func parse(tb testing.TB, format string, b []byte) *importers.Report {
	tb.Helper()
	for _, p := range app.DefaultParsers() {
		if p.Format() == format {
			rep, err := p.Parse(context.Background(), bytes.NewReader(b))
			if err != nil {
				tb.Fatal(err)
			}
			return rep
		}
	}
	tb.Fatalf("no parser %s", format)
	return nil
}

// allEvents reads the whole store.
func allEvents(tb testing.TB, store events.EventStore) []events.Envelope {
	tb.Helper()
	var out []events.Envelope
	var after int64
	for {
		b, err := store.ReadAll(context.Background(), after, events.MaxReadLimit)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b...)
		if len(b) < events.MaxReadLimit {
			return out
		}
		after = b[len(b)-1].GlobalPosition
	}
}

func countTypes(evs []events.Envelope) map[string]int {
	m := map[string]int{}
	for _, e := range evs {
		m[e.Type]++
	}
	return m
}

func importBytes(tb testing.TB, im *app.Importer, b []byte, req app.Request) app.Summary {
	tb.Helper()
	sum, err := im.Import(context.Background(), bytes.NewReader(b), req)
	if err != nil {
		tb.Fatalf("import: %v", err)
	}
	return sum
}
