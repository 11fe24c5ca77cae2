package cyclonedx

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/socplatform/soc/commands/internal/testsupport"
)

// benchFile is the largest file of the format in the shared testdata.
const benchFile = "cdx15_trivy_sbom_102comps_10vulns.json"

// BenchmarkParse parses the largest CycloneDX file of the shared testdata.
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

// BenchmarkBaselineJSONUnmarshal is the naive alternative: json.Unmarshal of the whole file into
// an any tree. BenchmarkParse reads as a ratio of it.
func BenchmarkBaselineJSONUnmarshal(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(testsupport.SharedTestdata(b), format, benchFile))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			b.Fatal(err)
		}
	}
}
