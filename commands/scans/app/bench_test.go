package app_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/importers/trivy/trivytest"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
)

// benchFindings is the size of the generated report: SOC_BENCH_FINDINGS, default 10000.
func benchFindings(b *testing.B) int {
	if v := os.Getenv("SOC_BENCH_FINDINGS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("SOC_BENCH_FINDINGS=%q is not a positive number", v)
		}
		return n
	}
	return 10000
}

// benchImport measures, on the embedded default (SQLite, synchronous FULL), parsing alone, a
// first import (every finding opened) and a reimport (every finding seen), in findings/s, beside a
// baseline: appending one small event to each of as many new streams through the raw adapter.
func benchImport(b *testing.B, format string, report []byte) {
	rep := parse(b, format, report)
	n := uniqueFindings(rep)
	ctx := context.Background()
	perSec := func(b *testing.B) {
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "findings/s")
	}
	b.Run("parse", func(b *testing.B) {
		p := app.DefaultParsers()
		for _, pp := range p {
			if pp.Format() != format {
				continue
			}
			for i := 0; i < b.N; i++ {
				if _, err := pp.Parse(ctx, bytes.NewReader(report)); err != nil {
					b.Fatal(err)
				}
			}
		}
		perSec(b)
	})
	b.Run("baseline-raw-append", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			store := testsupport.OpenSQLiteStore(b, sqlite.Config{Synchronous: "FULL"})
			raw := store.Unwrap()
			b.StartTimer()
			for j := 0; j < n; j++ {
				ev := []events.Envelope{{EventID: events.NewEventID(), Type: "FindingSeen", SchemaVersion: 1,
					Data: []byte(`{"scan_id":"x","seen_at":"2026-01-01T00:00:00Z"}`)}}
				if _, err := raw.Append(ctx, es.StreamIDFor("vulns", "finding", strconv.Itoa(j)), events.NoStream, ev); err != nil {
					b.Fatal(err)
				}
			}
		}
		perSec(b)
	})
	b.Run("import", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			im := newImporter(b, testsupport.OpenSQLiteStore(b, sqlite.Config{Synchronous: "FULL"}))
			b.StartTimer()
			s, err := im.Import(ctx, app.ImportScanReport{Report: bytes.NewReader(report), Format: format})
			if err != nil {
				b.Fatal(err)
			}
			if s.New != n {
				b.Fatalf("%+v", s)
			}
		}
		perSec(b)
	})
	b.Run("reimport", func(b *testing.B) {
		im := newImporter(b, testsupport.OpenSQLiteStore(b, sqlite.Config{Synchronous: "FULL"}))
		if _, err := im.Import(ctx, app.ImportScanReport{Report: bytes.NewReader(report), Format: format}); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			s, err := im.Import(ctx, app.ImportScanReport{Report: bytes.NewReader(report), Format: format})
			if err != nil {
				b.Fatal(err)
			}
			if s.Unchanged != n {
				b.Fatalf("%+v", s)
			}
		}
		perSec(b)
	})
}

func BenchmarkImportTrivyLargest(b *testing.B) {
	benchImport(b, "trivy", sharedReport(b, "trivy", "trivy_image_juice-shop-v12.10.2.json"))
}

func BenchmarkImportNessusLargest(b *testing.B) {
	benchImport(b, "nessus", sharedReport(b, "nessus", "dd_basic_network_cvssv3.nessus"))
}

func BenchmarkImportZAPLargest(b *testing.B) {
	benchImport(b, "zap", sharedReport(b, "zap", "zap_2.8.0_juice-shop.json"))
}

// The largest shared report of each family the newer formats opened (issue 15): SAST (Veracode's
// detailed report), dependencies (Snyk, many dependency paths), DAST (Burp, with requests).
func BenchmarkImportSASTLargest(b *testing.B) {
	benchImport(b, "veracode", sharedReport(b, "veracode", "veracode_detailedreport_scrubbed.xml"))
}

func BenchmarkImportDependenciesLargest(b *testing.B) {
	benchImport(b, "snyk", sharedReport(b, "snyk", "snyk_test_npm_more_paths_than_vulns.json"))
}

func BenchmarkImportDASTLargest(b *testing.B) {
	benchImport(b, "burp", sharedReport(b, "burp", "burp_dradis_without_base64.xml"))
}

func BenchmarkImportTrivyGenerated(b *testing.B) {
	n := benchFindings(b)
	b.Run(fmt.Sprintf("findings=%d", n), func(b *testing.B) {
		benchImport(b, "trivy", trivytest.Bytes(b, n, "example/bench:1", detailedTrivy))
	})
}
