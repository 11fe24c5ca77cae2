package nmap

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/socplatform/soc/commands/internal/testsupport"
)

// largestFile is the biggest file of the format's shared test data.
func largestFile(b *testing.B) string {
	files, err := filepath.Glob(filepath.Join(testsupport.SharedTestdata(b), formatName, "*"))
	if err != nil || len(files) == 0 {
		b.Skip("no test data")
	}
	best, size := "", int64(-1)
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && st.Size() > size {
			best, size = f, st.Size()
		}
	}
	return best
}

func benchParse(b *testing.B, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	hosts, findings := 0, 0
	for b.Loop() {
		rep, err := New().Parse(context.Background(), bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		hosts += len(rep.Assets)
		findings += len(rep.Findings)
	}
	b.ReportMetric(float64(hosts)/b.Elapsed().Seconds(), "hosts/s")
	b.ReportMetric(float64(findings)/b.Elapsed().Seconds(), "findings/s")
}

// BenchmarkParseLargest parses the largest Nmap test file (nmap_A_subnet_256hosts.xml, 72 KB,
// 256 hosts of which 4 are up, no findings).
func BenchmarkParseLargest(b *testing.B) { benchParse(b, largestFile(b)) }

// BenchmarkParseVulners parses the Nmap test file with the most findings
// (nmap_sV_vulners_1host_25ports.xml, 41 KB, 8 findings).
func BenchmarkParseVulners(b *testing.B) {
	benchParse(b, filepath.Join(testsupport.SharedTestdata(b), formatName, "nmap_sV_vulners_1host_25ports.xml"))
}

// BenchmarkBaselineTokens is the floor the parser is measured against: encoding/xml reading every
// token of the largest file, with no checks and no decoding into structs.
func BenchmarkBaselineTokens(b *testing.B) {
	data, err := os.ReadFile(largestFile(b))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
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
