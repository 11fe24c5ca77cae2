package trivy

import "github.com/socplatform/soc/commands/scans/importers"

// Info implements importers.Describer; it restates the package documentation for users.
func (*Parser) Info() importers.FormatInfo {
	return importers.FormatInfo{
		Name:      formatName,
		Title:     "Trivy JSON (trivy image|fs|repo|rootfs|vm|k8s --format json)",
		Family:    "containers",
		Versions:  []string{"SchemaVersion 2", "schema 1 (Trivy < 0.20, a bare array of results)", "trivy k8s reports"},
		Detection: "a JSON object with SchemaVersion (and no bomFormat, runs, matches or spdxVersion), an object with ClusterName and Resources, or an array whose first element has a Target beside Vulnerabilities, Misconfigurations, Secrets, Class or Type",
		Fingerprint: []string{"asset (artifact type and name)", "kind (vuln, misconf, secret, license)",
			"vuln: result target (\"os-pkgs\" for OS packages), PkgPath, PkgName, InstalledVersion, VulnerabilityID",
			"misconf: target, ID, cause resource, start line", "secret: target, RuleID, start line",
			"license: target, PkgName, FilePath, license name"},
		Severity: map[string]importers.Severity{
			"CRITICAL": importers.Critical,
			"HIGH":     importers.High,
			"MEDIUM":   importers.Medium,
			"LOW":      importers.Low,
			"UNKNOWN or other, highest (v4, else v3, else v2) CVSS score >= 9.0": importers.Critical,
			"UNKNOWN or other, highest (v4, else v3, else v2) CVSS score >= 7.0": importers.High,
			"UNKNOWN or other, highest (v4, else v3, else v2) CVSS score >= 4.0": importers.Medium,
			"UNKNOWN or other, highest (v4, else v3, else v2) CVSS score > 0":    importers.Low,
			"UNKNOWN or other without a score":                                   importers.Info,
		},
		Notes: "Status not_affected is suppressed as not_affected, will_not_fix and end_of_life as accepted. Misconfigurations with Status PASS and ModifiedFindings (.trivyignore, VEX) are not imported. Secret values are never copied. Trivy's own Fingerprint field is not used.",
	}
}
