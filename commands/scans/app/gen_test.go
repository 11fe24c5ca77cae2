package app_test

import (
	"encoding/json"
	"fmt"
	"strings"
)

// encodeTrivy writes a Trivy report with SchemaVersion first, as Trivy does.
func encodeTrivy(m map[string]any) []byte {
	rest := make(map[string]any, len(m))
	for k, v := range m {
		if k != "SchemaVersion" {
			rest[k] = v
		}
	}
	b, err := json.Marshal(rest)
	if err != nil {
		panic(err)
	}
	return append([]byte(`{"SchemaVersion":2,`), b[1:]...)
}

// generateTrivy builds a Trivy image report with n vulnerabilities, each its own finding.
func generateTrivy(n int, image string) map[string]any {
	sev := []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"}
	vulns := make([]any, n)
	for i := range vulns {
		vulns[i] = map[string]any{
			"VulnerabilityID":  fmt.Sprintf("CVE-2024-%05d", i%90000+10000),
			"PkgName":          fmt.Sprintf("pkg%d", i/3),
			"PkgIdentifier":    map[string]any{"PURL": fmt.Sprintf("pkg:deb/debian/pkg%d@1.%d", i/3, i%7)},
			"InstalledVersion": fmt.Sprintf("1.%d", i%7),
			"FixedVersion":     fmt.Sprintf("1.%d", i%7+1),
			"Severity":         sev[i%len(sev)],
			"Title":            fmt.Sprintf("pkg%d: generated vulnerability %d", i/3, i),
			"Description":      "A generated vulnerability for load tests.",
			"CweIDs":           []any{"CWE-79"},
			"References":       []any{fmt.Sprintf("https://example.com/advisories/%d", i)},
			"CVSS": map[string]any{"nvd": map[string]any{
				"V3Vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", "V3Score": 8.8}},
		}
	}
	return map[string]any{
		"SchemaVersion": 2,
		"CreatedAt":     "2024-10-28T15:33:51Z",
		"ArtifactName":  image,
		"ArtifactType":  "container_image",
		"Metadata": map[string]any{
			"OS":          map[string]any{"Family": "debian", "Name": "12.5"},
			"ImageID":     "sha256:" + fmt.Sprintf("%064x", len(image)*7919+n),
			"RepoDigests": []any{fmt.Sprintf("%s@sha256:%064x", strings.Split(image, ":")[0], len(image)*104729+n)},
		},
		"Results": []any{map[string]any{
			"Target": image + " (debian 12.5)", "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": vulns,
		}},
	}
}
