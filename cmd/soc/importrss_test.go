package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	scanapp "github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/eventstest"
)

// importRSSChild, in the environment of the child process BenchmarkImportRSS starts, says what
// the child does: "import,<format>,<path>", "parse,…" or "unmarshal,…".
const importRSSChild = "SOC_IMPORT_RSS_CHILD"

// BenchmarkImportRSS measures the peak resident set size (the child's getrusage maxrss, i.e.
// VmHWM) of importing a generated report of SOC_BENCH_REPORT_MB megabytes (default 250, the
// issue's figure) through the real importer (scans app Import on a SQLite store), each in a
// process of its own, beside the report's size and beside the whole-document parse every JSON
// parser did before streaming (encoding/json unmarshalling the file into an untyped value):
//
//   - grype-huge-field: a Grype report of 1,000 matches and one unknown member holding the rest
//     of the bytes (the 1.38 GB case);
//   - trivy-many-vulns: a Trivy report of as many vulnerabilities as fit, ~1 KB each.
//
// The reports are written to a temporary directory and removed afterwards. Nothing is asserted
// on the figures.
func BenchmarkImportRSS(b *testing.B) {
	if spec := os.Getenv(importRSSChild); spec != "" {
		runImportRSSChild(b, spec)
		return
	}
	size := int64(250)
	if v := os.Getenv("SOC_BENCH_REPORT_MB"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			b.Fatalf("SOC_BENCH_REPORT_MB=%q is not a positive number", v)
		}
		size = n
	}
	for _, c := range []struct {
		name, format string
		write        func(w *countingWriter, size int64) error
	}{
		{"grype-huge-field", "grype", writeGrypeHugeField},
		{"trivy-many-vulns", "trivy", writeTrivyMany},
	} {
		b.Run(c.name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), c.name+".json")
			written := writeReport(b, path, size<<20, c.write)
			var rss, parse, base float64
			for b.Loop() {
				rss = childRSS(b, "import", c.format, path)
				parse = childRSS(b, "parse", c.format, path)
				base = childRSS(b, "unmarshal", c.format, path)
			}
			b.ReportMetric(float64(written)/(1<<20), "report-MB")
			b.ReportMetric(rss, "peak-rss-MB")
			b.ReportMetric(parse, "parse-peak-rss-MB")
			b.ReportMetric(base, "unmarshal-peak-rss-MB")
		})
	}
}

// countingWriter buffers a generated report and counts its bytes.
type countingWriter struct {
	w *bufio.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writeReport writes a generated report of about size bytes to path and returns its size.
func writeReport(b *testing.B, path string, size int64, write func(*countingWriter, int64) error) int64 {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := &countingWriter{w: bufio.NewWriterSize(f, 1<<20)}
	if err := write(w, size); err != nil {
		b.Fatal(err)
	}
	if err := w.w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}

// childRSS runs this benchmark again in a child process doing mode on the report, and returns
// the child's peak RSS in MB.
func childRSS(b *testing.B, mode, format, path string) float64 {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^BenchmarkImportRSS$", "-test.benchtime=1x")
	cmd.Env = append(os.Environ(), importRSSChild+"="+mode+","+format+","+path)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s of %s in a child process: %v", mode, filepath.Base(path), err)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		b.Fatal("no rusage for the child process")
	}
	return float64(ru.Maxrss) / 1024 // kilobytes on Linux
}

// runImportRSSChild is the child's side: import the report, or unmarshal it whole.
func runImportRSSChild(b *testing.B, spec string) {
	parts := strings.SplitN(spec, ",", 3)
	if len(parts) != 3 {
		b.Fatalf("%s=%q: want mode,format,path", importRSSChild, spec)
	}
	mode, format, path := parts[0], parts[1], parts[2]
	ctx := context.Background()
	for b.Loop() {
		switch mode {
		case "unmarshal":
			data, err := os.ReadFile(path)
			if err != nil {
				b.Fatal(err)
			}
			var v any
			if err := json.Unmarshal(data, &v); err != nil {
				b.Fatal(err)
			}
		case "parse":
			var parser importers.Parser
			for _, p := range scanapp.DefaultParsers() {
				if p.Format() == format {
					parser = p
				}
			}
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			rep, err := parser.Parse(ctx, f)
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			fmt.Fprintf(os.Stderr, "parsed %d findings; heap in use %d MB, max sys %d MB\n", len(rep.Findings), ms.HeapInuse>>20, ms.Sys>>20)
		case "import":
			store, _ := eventstest.OpenSQLite(b, sqlite.Config{})
			sum := importFileInto(b, ctx, store, path, scanapp.ImportScanReport{Format: format})
			if sum.FindingsTotal == 0 {
				b.Fatalf("imported no findings: %+v", sum)
			}
		default:
			b.Fatalf("unknown mode %q", mode)
		}
	}
}

// writeGrypeHugeField writes a Grype report of 1,000 matches whose "x-scan-log" member, unknown
// to the parser, fills it to size bytes.
func writeGrypeHugeField(w *countingWriter, size int64) error {
	fmt.Fprint(w, `{"matches": [`)
	for i := range 1000 {
		if i > 0 {
			fmt.Fprint(w, ",\n")
		}
		fmt.Fprintf(w, `{"vulnerability": {"id": "CVE-2024-%05d", "severity": "High", "description": "generated vulnerability %d", `+
			`"cvss": [{"version": "3.1", "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", "metrics": {"baseScore": 8.8}}], "fix": {"versions": ["1.%d"], "state": "fixed"}}, `+
			`"artifact": {"name": "pkg%d", "version": "1.0", "type": "deb", "purl": "pkg:deb/debian/pkg%d@1.0", "locations": [{"path": "/var/lib/dpkg/status"}]}}`,
			10000+i, i, i%7+1, i, i)
	}
	fmt.Fprint(w, `], "source": {"type": "image", "target": {"userInput": "registry.example/rss:1", "imageID": "sha256:`+strings.Repeat("ab", 32)+
		`", "repoDigests": ["registry.example/rss@sha256:`+strings.Repeat("cd", 32)+`"]}}, "descriptor": {"name": "grype", "version": "0.80.0"}, "x-scan-log": "`)
	line := []byte(strings.Repeat(`scan log line, escaped \"quotes\" and \u00e9 `, 20) + `\n`)
	for w.n+int64(len(line)) < size-2 {
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	_, err := fmt.Fprint(w, `"}`)
	return err
}

// writeTrivyMany writes a Trivy report of ~2.5 KB vulnerabilities up to size bytes, 100 per
// result; 5,000 CVEs, each one's text written again for every package it affects, as Trivy does.
func writeTrivyMany(w *countingWriter, size int64) error {
	sev := []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"}
	fmt.Fprint(w, `{"SchemaVersion": 2, "CreatedAt": "2024-10-28T15:33:51Z", "ArtifactName": "registry.example/rss:1", "ArtifactType": "container_image", `+
		`"Metadata": {"OS": {"Family": "debian", "Name": "12.5"}, "ImageID": "sha256:`+strings.Repeat("ef", 32)+`"}, "Results": [`)
	for r := 0; w.n < size-4096; r++ {
		if r > 0 {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprintf(w, `{"Target": "layer %d", "Class": "lang-pkgs", "Type": "jar", "Vulnerabilities": [`, r)
		for i := 0; i < 100 && w.n < size-4096; i++ {
			if i > 0 {
				fmt.Fprint(w, ",\n")
			}
			cve := 10000 + (r*100+i)%5000
			_, err := fmt.Fprintf(w, `{"VulnerabilityID": "CVE-2024-%05d", "PkgName": "pkg%d", "PkgPath": "app/lib/pkg%d-%d.jar", "InstalledVersion": "1.%d", "FixedVersion": "1.%d", `+
				`"Severity": %q, "Title": "pkg: generated vulnerability %d", "Description": "%s", "CweIDs": ["CWE-%d"], `+
				`"References": ["https://nvd.nist.gov/vuln/detail/CVE-2024-%05d", "https://example.com/advisories/%d"], `+
				`"CVSS": {"nvd": {"V3Vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", "V3Score": 8.8}}}`,
				cve, i, i, r, r%7, r%7+1, sev[cve%len(sev)], cve, strings.Repeat(fmt.Sprintf("CVE-2024-%05d lets a remote attacker do harm. ", cve), 40), 20+cve%50, cve, cve)
			if err != nil {
				return err
			}
		}
		fmt.Fprint(w, "]}")
	}
	_, err := fmt.Fprint(w, "]}")
	return err
}
