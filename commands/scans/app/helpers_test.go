package app_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/events"
)

func newImporter(tb testing.TB, store *events.Guarded) *app.Importer {
	tb.Helper()
	return newImporterWith(tb, store, app.Options{})
}

func newImporterWith(tb testing.TB, store *events.Guarded, opts app.Options) *app.Importer {
	tb.Helper()
	im, err := app.New(store, opts)
	if err != nil {
		tb.Fatal(err)
	}
	if err := im.Load(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return im
}

// eachReport runs fn, as a subtest "<format>/<file>", on every report file of every
// format the importer reads (importertest.Reports: the shared reports and the project's own
// samples; not the variants).
func eachReport(t *testing.T, fn func(t *testing.T, format string, b []byte)) {
	for _, format := range formats {
		for _, path := range importertest.Reports(t, format) {
			if strings.Contains(filepath.ToSlash(path), "/variants/") {
				continue // other shapes of a format: TestEveryReportIsStoredWhole walks them
			}
			t.Run(format+"/"+filepath.Base(path), func(t *testing.T) {
				fn(t, format, readFile(t, path))
			})
		}
	}
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
	rep, err := parseReport(format, b)
	if err != nil {
		tb.Fatal(err)
	}
	return rep
}

// parseReport parses b with the parser of format.
func parseReport(format string, b []byte) (*importers.Report, error) {
	for _, p := range app.DefaultParsers() {
		if p.Format() == format {
			return p.Parse(context.Background(), bytes.NewReader(b))
		}
	}
	return nil, fmt.Errorf("no parser %s", format)
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

func importBytes(tb testing.TB, im *app.Importer, b []byte, req app.ImportScanReport) app.Summary {
	tb.Helper()
	req.Report = bytes.NewReader(b)
	sum, err := im.Import(context.Background(), req)
	if err != nil {
		tb.Fatalf("import: %v", err)
	}
	return sum
}
