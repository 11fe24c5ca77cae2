package grype

import "github.com/socplatform/soc/commands/scans/importers"

// Info implements importers.Describer; it restates the package documentation for users.
func (*Parser) Info() importers.FormatInfo {
	return importers.FormatInfo{
		Name:      formatName,
		Title:     "Grype JSON (grype -o json)",
		Family:    "containers",
		Versions:  []string{"Grype 0.x JSON (match details as an object, before 0.12, or an array)"},
		Detection: "a JSON object whose matches array starts with an object holding vulnerability or artifact, or an empty matches array beside a grype descriptor or a source; never with bomFormat, runs or SchemaVersion",
		Fingerprint: []string{"asset (image user input, or source type and path)", "vulnerability.id",
			"artifact.type", "artifact.name", "artifact.version", "artifact location paths (sorted, layer ids left out)"},
		Severity: map[string]importers.Severity{
			"Critical":   importers.Critical,
			"High":       importers.High,
			"Medium":     importers.Medium,
			"Low":        importers.Low,
			"Negligible": importers.Info,
			"Unknown or other, highest (v4, else v3, else v2) CVSS score >= 9.0": importers.Critical,
			"Unknown or other, highest (v4, else v3, else v2) CVSS score >= 7.0": importers.High,
			"Unknown or other, highest (v4, else v3, else v2) CVSS score >= 4.0": importers.Medium,
			"Unknown or other, highest (v4, else v3, else v2) CVSS score > 0":    importers.Low,
			"Unknown or other without a score":                                   importers.Info,
		},
		Notes: "fix.state wont-fix is suppressed as accepted. ignoredMatches are counted in a warning, not imported. EPSS, risk and KEV values are not kept.",
	}
}
