package app_test

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/events"
)

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

func importBytes(tb testing.TB, im *app.Importer, b []byte, req app.ImportScanReport) app.Summary {
	tb.Helper()
	req.Report = bytes.NewReader(b)
	sum, err := im.Import(context.Background(), req)
	if err != nil {
		tb.Fatalf("import: %v", err)
	}
	return sum
}
