package feeds

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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
	benchFeed(b, data, "ParseKEV", counted(ParseKEV), unmarshalVulnerabilities[kevEntryJSON])
}

func BenchmarkNVDPage(b *testing.B) {
	data := readShared(b, "nvd", "nvd_api2_page_38cves.json")
	benchFeed(b, data, "ParseNVD", counted(ParseNVD), unmarshalVulnerabilities[nvdItemJSON])
}

// counted adapts a feed parser to benchFeed: it parses r and returns how many records it read.
func counted[T any](parse func(context.Context, io.Reader, func(T) error) (Stats, error)) func(io.Reader) (int, error) {
	return func(r io.Reader) (int, error) {
		n := 0
		_, err := parse(context.Background(), r, func(T) error { n++; return nil })
		return n, err
	}
}

// benchFeed runs parse over data as the sub-benchmark name and the baseline beside it; each
// returns how many records it read.
func benchFeed(b *testing.B, data []byte, name string, parse func(io.Reader) (int, error), baseline func([]byte) (int, error)) {
	run := func(name string, read func() (int, error)) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				var err error
				if n, err = read(); err != nil {
					b.Fatal(err)
				}
			}
			reportRecords(b, n)
		})
	}
	run(name, func() (int, error) { return parse(bytes.NewReader(data)) })
	run("baseline_json.Unmarshal", func() (int, error) { return baseline(data) })
}

// unmarshalVulnerabilities is the baseline of the KEV and NVD documents, whose records are both
// the top-level vulnerabilities array.
func unmarshalVulnerabilities[T any](data []byte) (int, error) {
	var doc struct {
		Vulnerabilities []T `json:"vulnerabilities"`
	}
	err := json.Unmarshal(data, &doc)
	return len(doc.Vulnerabilities), err
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
