package feeds

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
)

// Each benchmark reports records/s beside a baseline measured in the same run: json.Unmarshal of
// the whole document into the same wire structs (no streaming, no bounds, no normalisation),
// so the figures read as a ratio.

func reportRecords(b *testing.B, perOp int) {
	b.ReportMetric(float64(perOp)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkKEVCatalogue(b *testing.B) {
	data := readShared(b, "kev", "known_exploited_vulnerabilities_2025.08.25.json")
	b.Run("ParseKEV", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			n = 0
			if _, err := ParseKEV(context.Background(), bytes.NewReader(data), func(KEVEntry) error { n++; return nil }); err != nil {
				b.Fatal(err)
			}
		}
		reportRecords(b, n)
	})
	b.Run("baseline_json.Unmarshal", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			var doc struct {
				Vulnerabilities []kevEntryJSON `json:"vulnerabilities"`
			}
			if err := json.Unmarshal(data, &doc); err != nil {
				b.Fatal(err)
			}
			n = len(doc.Vulnerabilities)
		}
		reportRecords(b, n)
	})
}

func BenchmarkNVDPage(b *testing.B) {
	data := readShared(b, "nvd", "nvd_api2_page_38cves.json")
	b.Run("ParseNVD", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			n = 0
			if _, err := ParseNVD(context.Background(), bytes.NewReader(data), func(CVE) error { n++; return nil }); err != nil {
				b.Fatal(err)
			}
		}
		reportRecords(b, n)
	})
	b.Run("baseline_json.Unmarshal", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			var doc struct {
				Vulnerabilities []nvdItemJSON `json:"vulnerabilities"`
			}
			if err := json.Unmarshal(data, &doc); err != nil {
				b.Fatal(err)
			}
			n = len(doc.Vulnerabilities)
		}
		reportRecords(b, n)
	})
}

// BenchmarkEPSS reads a synthetic 100,000-row daily file (the real one has ~300,000 rows).
func BenchmarkEPSS(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("#model_version:v2025.03.14,score_date:2025-03-16T00:00:00+0000\ncve,epss,percentile\n")
	const rows = 100000
	for i := range rows {
		fmt.Fprintf(&buf, "CVE-%d-%04d,0.%05d,0.%05d\n", 1999+i%27, i, i%100000, (i*7)%100000)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if st, err := ParseEPSS(context.Background(), bytes.NewReader(data), func(EPSSScore) error { return nil }); err != nil || st.Records != rows {
			b.Fatal(err, st.Records)
		}
	}
	reportRecords(b, rows)
}
