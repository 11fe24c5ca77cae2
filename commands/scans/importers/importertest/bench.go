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
	benchDecode(b, path, func(r io.Reader) func() error {
		d := json.NewDecoder(r)
		return func() error {
			var v any
			return d.Decode(&v)
		}
	})
}

// BenchXMLBaseline is the floor an XML parser is measured against: encoding/xml reading every
// token of the file at path, with no checks and no decoding into structs.
func BenchXMLBaseline(b *testing.B, path string) {
	benchDecode(b, path, func(r io.Reader) func() error {
		d := xml.NewDecoder(r)
		return func() error {
			_, err := d.Token()
			return err
		}
	})
}

// benchDecode is the loop of the streaming baselines: on each pass over the file at path, next
// (made by decoder on the file) is called until it returns io.EOF.
func benchDecode(b *testing.B, path string, decoder func(r io.Reader) (next func() error)) {
	data := readBench(b, path)
	for b.Loop() {
		next := decoder(bytes.NewReader(data))
		for {
			if err := next(); err == io.EOF {
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
