package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// writeTrivy writes a generated Trivy image report with n vulnerabilities (each its own finding,
// severities cycling critical → unknown) and returns its path.
func writeTrivy(tb testing.TB, n int, image string) string {
	tb.Helper()
	sev := []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"}
	vulns := make([]any, n)
	for i := range vulns {
		vulns[i] = map[string]any{
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
	}
	b, err := json.Marshal(map[string]any{
		"CreatedAt":    "2024-10-28T15:33:51Z",
		"ArtifactName": image,
		"ArtifactType": "container_image",
		"Metadata": map[string]any{
			"OS":      map[string]any{"Family": "debian", "Name": "12.5"},
			"ImageID": fmt.Sprintf("sha256:%064x", len(image)*7919+n),
		},
		"Results": []any{map[string]any{
			"Target": image + " (debian 12.5)", "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": vulns,
		}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	// SchemaVersion first, as Trivy writes it: format detection reads the head of the report.
	b = append([]byte(`{"SchemaVersion":2,`), b[1:]...)
	path := filepath.Join(tb.TempDir(), "trivy.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}
