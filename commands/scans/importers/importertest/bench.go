package importertest

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
)

// Bench parses the file at path with newParser's parsers and reports MB/s, allocations, and
// assets and findings per second.
func Bench(b *testing.B, newParser func() importers.Parser, path string) {
	data := readBench(b, path)
	assets, findings := 0, 0
	for b.Loop() {
		rep, err := newParser().Parse(context.Background(), bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		assets += len(rep.Assets)
		findings += len(rep.Findings)
	}
	b.ReportMetric(float64(assets)/b.Elapsed().Seconds(), "assets/s")
	b.ReportMetric(float64(findings)/b.Elapsed().Seconds(), "findings/s")
}

// BenchJSONBaseline is the floor a JSON parser is measured against: encoding/json unmarshalling
// the file at path into an untyped value, with no checks and no normalisation.
func BenchJSONBaseline(b *testing.B, path string) {
	data := readBench(b, path)
	for b.Loop() {
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchJSONLinesBaseline is BenchJSONBaseline for JSON Lines files (one value per line, e.g.
// nuclei -jsonl): encoding/json decoding every value of the file at path into an untyped value.
func BenchJSONLinesBaseline(b *testing.B, path string) {
	data := readBench(b, path)
	for b.Loop() {
		d := json.NewDecoder(bytes.NewReader(data))
		for {
			var v any
			if err := d.Decode(&v); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchXMLBaseline is the floor an XML parser is measured against: encoding/xml reading every
// token of the file at path, with no checks and no decoding into structs.
func BenchXMLBaseline(b *testing.B, path string) {
	data := readBench(b, path)
	for b.Loop() {
		d := xml.NewDecoder(bytes.NewReader(data))
		for {
			if _, err := d.Token(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

func readBench(b *testing.B, path string) []byte {
	b.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	return data
}

// BenchVsBaseline runs a parser's benchmark pair on the file at path: "parser", Bench with
// newParser's parsers, and "baseline", the floor the parser is measured against on the same
// file (BenchJSONBaseline, BenchJSONLinesBaseline or BenchXMLBaseline).
func BenchVsBaseline(b *testing.B, newParser func() importers.Parser, path string, baseline func(b *testing.B, path string)) {
	b.Run("parser", func(b *testing.B) { Bench(b, newParser, path) })
	b.Run("baseline", func(b *testing.B) { baseline(b, path) })
}
