package catalogue

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/vulns/feeds"
	"github.com/socplatform/soc/events/adapters/sqlite"
)

// BenchmarkKEVImport imports the full KEV catalogue (1404 entries, one CVEListedInKEV append per
// entry) into a fresh SQLite store (synchronous NORMAL) per iteration, beside the baseline
// BenchmarkKEVParseOnly, so the figures read as a ratio: records/s of import vs parse.
func BenchmarkKEVImport(b *testing.B) {
	data := readKEV(b)
	ctx := context.Background()
	records := 0
	for b.Loop() {
		b.StopTimer()
		store := testsupport.OpenSQLiteStore(b, sqlite.Config{Synchronous: "NORMAL"})
		c := loaded(b, store)
		b.StartTimer()
		sum, err := c.Import(ctx, "kev", bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		records += sum.Records
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkKEVParseOnly is the baseline: feeds.ParseKEV alone over the same bytes.
func BenchmarkKEVParseOnly(b *testing.B) {
	data := readKEV(b)
	ctx := context.Background()
	records := 0
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		st, err := feeds.ParseKEV(ctx, bytes.NewReader(data), func(feeds.KEVEntry) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		records += st.Records
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}

func readKEV(b *testing.B) []byte {
	data, err := os.ReadFile(kevCatalogue(b))
	if err != nil {
		b.Fatal(err)
	}
	return data
}
