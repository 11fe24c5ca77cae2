package nessus

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

// benchFile is the largest file of the format in the shared testdata.
const benchFile = "dd_basic_network_cvssv3.nessus"

// BenchmarkParse parses the largest Nessus file of the shared testdata.
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(testsupport.SharedTestdata(b), format, benchFile))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	findings := 0
	for b.Loop() {
		rep, err := New().Parse(context.Background(), bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		findings += len(rep.Findings)
	}
	b.ReportMetric(float64(findings)/b.Elapsed().Seconds(), "findings/s")
}

// BenchmarkBaselineXMLTokens is the floor: encoding/xml's token loop over the same file, keeping
// nothing. BenchmarkParse reads as a ratio of it.
func BenchmarkBaselineXMLTokens(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(testsupport.SharedTestdata(b), format, benchFile))
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
