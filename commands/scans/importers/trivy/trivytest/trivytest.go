// Package trivytest generates synthetic Trivy image reports of any size for the tests and
// benchmarks of the scans application (commands/scans/app) and of the soc binary (cmd/soc), so
// that both measure and check the same report. It is imported only by _test.go files.
package trivytest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Options are what the callers' reports differ in. The zero value is the lean report that
// cmd/soc's end-to-end tests and benchmarks upload; the scans application's tests and import
// benchmark set both fields. Their measurements were taken on those bytes, so each keeps its own.
type Options struct {
	// Detailed adds what the importer stores beyond a finding's identity: each package's PURL,
	// a description and a reference per vulnerability, and the image's repo digest (from which
	// the asset takes its digest, instead of the ImageID).
	Detailed bool
	// CWE is every vulnerability's CWE; empty cycles through CWE-20 … CWE-69, so that a
	// report's findings spread over 50 weaknesses.
	CWE string
}

// Report builds a Trivy image report for image with n vulnerabilities, each its own finding
// (severities cycling critical → unknown, three vulnerabilities a package), as an editable map.
func Report(n int, image string, o Options) map[string]any {
	sev := []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"}
	vulns := make([]any, n)
	for i := range vulns {
		v := map[string]any{
			"VulnerabilityID":  fmt.Sprintf("CVE-2024-%05d", i%90000+10000),
			"PkgName":          fmt.Sprintf("pkg%d", i/3),
			"InstalledVersion": fmt.Sprintf("1.%d", i%7),
			"FixedVersion":     fmt.Sprintf("1.%d", i%7+1),
			"Severity":         sev[i%len(sev)],
			"Title":            fmt.Sprintf("pkg%d: generated vulnerability %d", i/3, i),
			"CweIDs":           []any{fmt.Sprintf("CWE-%d", 20+i%50)},
			"CVSS": map[string]any{"nvd": map[string]any{
				"V3Vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", "V3Score": 8.8}},
		}
		if o.CWE != "" {
			v["CweIDs"] = []any{o.CWE}
		}
		if o.Detailed {
			v["PkgIdentifier"] = map[string]any{"PURL": fmt.Sprintf("pkg:deb/debian/pkg%d@1.%d", i/3, i%7)}
			v["Description"] = "A generated vulnerability for load tests."
			v["References"] = []any{fmt.Sprintf("https://example.com/advisories/%d", i)}
		}
		vulns[i] = v
	}
	md := map[string]any{
		"OS":      map[string]any{"Family": "debian", "Name": "12.5"},
		"ImageID": fmt.Sprintf("sha256:%064x", len(image)*7919+n),
	}
	if o.Detailed {
		md["RepoDigests"] = []any{fmt.Sprintf("%s@sha256:%064x", strings.Split(image, ":")[0], len(image)*104729+n)}
	}
	return map[string]any{
		"SchemaVersion": 2,
		"CreatedAt":     "2024-10-28T15:33:51Z",
		"ArtifactName":  image,
		"ArtifactType":  "container_image",
		"Metadata":      md,
		"Results": []any{map[string]any{
			"Target": image + " (debian 12.5)", "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": vulns,
		}},
	}
}

// Encode writes report m with "SchemaVersion":2 first, as Trivy does: format detection reads
// the head of a report, and encoding/json would sort the key among the others.
func Encode(tb testing.TB, m map[string]any) []byte {
	tb.Helper()
	rest := make(map[string]any, len(m))
	for k, v := range m {
		if k != "SchemaVersion" {
			rest[k] = v
		}
	}
	b, err := json.Marshal(rest)
	if err != nil {
		tb.Fatal(err)
	}
	return append([]byte(`{"SchemaVersion":2,`), b[1:]...)
}

// Bytes is the encoded Report.
func Bytes(tb testing.TB, n int, image string, o Options) []byte {
	tb.Helper()
	return Encode(tb, Report(n, image, o))
}

// WriteFile writes the encoded Report to trivy.json in a new temporary directory of tb and
// returns its path.
func WriteFile(tb testing.TB, n int, image string, o Options) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "trivy.json")
	if err := os.WriteFile(path, Bytes(tb, n, image, o), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}
