package nessus

import "github.com/socplatform/soc/commands/scans/importers"

// describe documents the format for the format list; it restates the package documentation for users.
func describe() importers.FormatInfo {
	return importers.FormatInfo{
		Name:      format,
		Title:     "Nessus v2 (.nessus XML) and Nessus CSV export",
		Family:    "infrastructure",
		Versions:  []string{"NessusClientData_v2", "CSV export (Nessus Professional / Expert, any column order)"},
		Detection: "an XML document whose root element is <NessusClientData_v2>, or a CSV header naming Plugin ID, Host and Name, and Risk or Plugin Output",
		Fingerprint: []string{"ReportHost name (lower-cased)", "pluginID", "port", "protocol",
			"compliance-check-id (compliance items only)"},
		Severity: map[string]importers.Severity{
			"4 / Critical":   importers.Critical,
			"3 / High":       importers.High,
			"2 / Medium":     importers.Medium,
			"1 / Low":        importers.Low,
			"0 / None, Info": importers.Info,
		},
		Notes: "The severity attribute decides (risk_factor when it is missing; in CSV Risk, else Risk Factor, else the highest score). Informational plugins are kept as info findings. A plugin repeated on the same host, port and protocol is one finding. The <Policy> section is skipped; CSV exports carry scores but no CVSS vectors.",
	}
}
