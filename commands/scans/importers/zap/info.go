package zap

import "github.com/socplatform/soc/commands/scans/importers"

// describe documents the format for the format list; it restates the package documentation for users.
func describe() importers.FormatInfo {
	return importers.FormatInfo{
		Name:        format,
		Title:       "OWASP ZAP traditional JSON and XML report",
		Family:      "dast",
		Versions:    []string{"JSON: ZAP 2.8+ traditional-json / traditional-json-plus", "XML: OWASPZAPReport (before 2.7 too)"},
		Detection:   "an XML document whose root element is <OWASPZAPReport>, or a JSON object whose @programName names ZAP or whose site array's first entry has @name, @host or alerts",
		Fingerprint: []string{"site name (base URL)", "alertRef, else pluginid", "method (upper-cased)", "uri", "param"},
		Severity: map[string]importers.Severity{
			"riskcode 3 (High)":          importers.High,
			"riskcode 2 (Medium)":        importers.Medium,
			"riskcode 1 (Low)":           importers.Low,
			"riskcode 0 (Informational)": importers.Info,
		},
		Notes: "ZAP has no critical. Confidence 0 (false positive) sets the VEX state false_positive. Evidence and attack are left out of the fingerprint; repeats of one alert on the same uri, method and param are one finding. Request and response dumps are not kept.",
	}
}
