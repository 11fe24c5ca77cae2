package sarif

import "github.com/socplatform/soc/commands/scans/importers"

// Info implements importers.Describer; it restates the package documentation for users.
func (*Parser) Info() importers.FormatInfo {
	return importers.FormatInfo{
		Name:      formatName,
		Title:     "SARIF 2.1.0 (CodeQL, Semgrep, Flawfinder, Gitleaks, Trivy SARIF, …)",
		Family:    "sast",
		Versions:  []string{"2.1.0"},
		Detection: "a JSON object with a runs array and a 2.x version, a $schema naming SARIF, or a first run with tool.driver",
		Fingerprint: []string{"asset (repository URI, else tool)", "tool driver name", "ruleId", "file URI",
			"result fingerprints, else partialFingerprints (primaryLocationLineHash first), else message and snippet with line numbers masked",
			"occurrence number when identical"},
		Severity: map[string]importers.Severity{
			"security-severity >= 9.0": importers.Critical,
			"security-severity >= 7.0": importers.High,
			"security-severity >= 4.0": importers.Medium,
			"security-severity > 0":    importers.Low,
			"security-severity 0":      importers.Info,
			"level error":              importers.High,
			"level warning (default)":  importers.Medium,
			"level note":               importers.Low,
			"level none":               importers.Info,
		},
		Notes: "Results of kind pass or notApplicable and baselineState absent are not imported. A result whose suppressions are all accepted is suppressed as a false positive. No line or column is part of a fingerprint. Secret values are never copied.",
	}
}
