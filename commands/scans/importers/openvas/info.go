package openvas

import "github.com/socplatform/soc/commands/scans/importers"

// describe documents the format for the format list; it restates the package documentation for users.
func describe() importers.FormatInfo {
	return importers.FormatInfo{
		Name:        format,
		Title:       "OpenVAS / Greenbone (GVM) XML report and CSV Results export",
		Family:      "infrastructure",
		Versions:    []string{"GVM / OpenVAS 9 to 22.x <report> or <get_reports_response>", "CSV Results export"},
		Detection:   "an XML document whose root is <get_reports_response>, or <report> with a format_id attribute or GVM-only elements (<gmp>, <omp>, <nvt oid=, <scan_run_status>) in its head; or a CSV header naming IP, NVT OID and NVT Name",
		Fingerprint: []string{"result host", "NVT oid", "port (\"80/tcp\", \"general/tcp\")"},
		Severity: map[string]importers.Severity{
			"severity >= 9.0": importers.Critical,
			"severity >= 7.0": importers.High,
			"severity >= 4.0": importers.Medium,
			"severity > 0":    importers.Low,
			"severity 0, or negative (-1 false positive, -2 debug, -3 error)": importers.Info,
			"threat High (no score)":   importers.High,
			"threat Medium (no score)": importers.Medium,
			"threat Low (no score)":    importers.Low,
			"threat Log (no score)":    importers.Info,
		},
		Notes: "A false positive (threat False Positive or severity -1) is suppressed as a false positive. The result id is not used: GVM issues new ids on every scan. Results with the same host, NVT and port are one finding.",
	}
}
