package render_test

import (
	"io"
	"testing"

	"github.com/socplatform/soc/query-api/reporting/render"
)

// countingWriter counts the bytes a renderer writes (the file size, without keeping it).
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countingWriter)(nil)

// BenchmarkRender renders an executive-like document (figures, three charts) with a findings
// table of 100,000 rows, per format: the rendering part of the issue's "executive PDF over
// 100,000 findings in at most 10 s" (building the Document from the read models is the
// reporting package's and measured there).
func BenchmarkRender(b *testing.B) {
	const rows = 100_000
	d := executive(rows)
	for _, r := range render.Renderers() {
		b.Run(string(r.Format())+"/rows=100000", func(b *testing.B) {
			b.ReportAllocs()
			var size int64
			cpu0, cpuOK := cpuTime()
			for b.Loop() {
				var w countingWriter
				if err := r.Render(&w, d); err != nil {
					b.Fatal(err)
				}
				size = w.n
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/report")
			if cpu1, ok := cpuTime(); ok && cpuOK {
				// Includes the garbage collector's threads, the benchmark's own loop aside.
				b.ReportMetric((cpu1-cpu0).Seconds()/float64(b.N), "cpu-s/report")
			}
			b.ReportMetric(float64(size)/(1<<20), "MiB/report")
		})
	}
}
