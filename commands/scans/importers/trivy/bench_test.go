package trivy

import (
	"bytes"
	"context"
	"encoding/json"
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

// BenchmarkParseLargest parses the largest Trivy test file (trivy_image_juice-shop-v12.10.2.json,
// 632 KB, 185 findings) and reports findings per second beside MB/s.
func BenchmarkParseLargest(b *testing.B) {
	data, err := os.ReadFile(largestFile(b))
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

// BenchmarkBaselineUnmarshal is the floor the parser is measured against: encoding/json
// unmarshalling the same file into an untyped value, with no checks and no normalisation.
func BenchmarkBaselineUnmarshal(b *testing.B) {
	data, err := os.ReadFile(largestFile(b))
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
