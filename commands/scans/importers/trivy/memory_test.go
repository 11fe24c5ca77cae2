package trivy

import (
	"fmt"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// TestRepeatedTextKeptOnce: Trivy writes a vulnerability's text again for every package it
// affects; the report keeps one copy.
func TestRepeatedTextKeptOnce(t *testing.T) {
	importertest.RepeatedTextKeptOnce(t, New(),
		`{"SchemaVersion": 2, "ArtifactName": "a:1", "ArtifactType": "container_image", "Results": [{"Target": "t", "Class": "lang-pkgs", "Vulnerabilities": [`,
		func(i int, desc string) string {
			return fmt.Sprintf(`{"VulnerabilityID": "CVE-2024-0001", "PkgName": "p%d", "InstalledVersion": "1", "Description": %q, "References": ["https://example.com/CVE-2024-0001"]}`, i, desc)
		},
		`]}]}`)
}
