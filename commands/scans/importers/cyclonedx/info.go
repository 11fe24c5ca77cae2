package cyclonedx

import "github.com/socplatform/soc/commands/scans/importers"

// Info implements importers.Describer; it restates the package documentation for users.
func (parser) Info() importers.FormatInfo {
	return importers.FormatInfo{
		Name:      format,
		Title:     "CycloneDX BOM / VEX with vulnerabilities (JSON or XML)",
		Family:    "sbom",
		Versions:  []string{"JSON spec 1.4–1.7", "XML spec 1.4–1.6"},
		Detection: "a JSON object whose top-level bomFormat is \"CycloneDX\", or an XML document whose root is <bom> in a CycloneDX namespace",
		Fingerprint: []string{"asset key (metadata.component)", "vulnerability id",
			"component identity (purl with sorted qualifiers, else name@version, else the ref)", "component file path"},
		Severity: map[string]importers.Severity{
			"critical":            importers.Critical,
			"high":                importers.High,
			"medium":              importers.Medium,
			"low":                 importers.Low,
			"info, none, unknown": importers.Info,
			"rating without severity, CVSS score >= 9.0": importers.Critical,
			"rating without severity, CVSS score >= 7.0": importers.High,
			"rating without severity, CVSS score >= 4.0": importers.Medium,
			"rating without severity, CVSS score > 0":    importers.Low,
		},
		Notes: "The rating of the vulnerability's own source decides, else a rating with a severity and no score, else the highest. One finding per vulnerability and affected component. Analysis states not_affected, false_positive, resolved and resolved_with_pedigree are suppressed. bom-refs and serialNumber are not part of fingerprints.",
	}
}
