package nmap

import "github.com/socplatform/soc/commands/scans/importers"

// Info implements importers.Describer; it restates the package documentation for users.
func (*Parser) Info() importers.FormatInfo {
	return importers.FormatInfo{
		Name:      formatName,
		Title:     "Nmap XML (nmap -oX)",
		Family:    "infrastructure",
		Versions:  []string{"XML output 1.x (nmaprun, Nmap 5 to 7.9x)"},
		Detection: "an XML document whose root element is <nmaprun>",
		Fingerprint: []string{"host (first IP, else MAC, else host name)", "port/protocol (\"host\" for host scripts)",
			"NSE script id", "vulnerability id (CVE for vulners, else the vulns library key or title)"},
		Severity: map[string]importers.Severity{
			"CVSS score >= 9.0":                     importers.Critical,
			"CVSS score >= 7.0":                     importers.High,
			"CVSS score >= 4.0":                     importers.Medium,
			"CVSS score > 0":                        importers.Low,
			"CVSS score 0":                          importers.Info,
			"Risk factor HIGH (no score)":           importers.High,
			"Risk factor MEDIUM (no score)":         importers.Medium,
			"Risk factor LOW (no score)":            importers.Low,
			"Risk factor NONE (no score)":           importers.Info,
			"VULNERABLE (no score, no risk factor)": importers.Medium,
		},
		Notes: "Hosts that are up become host assets with their ports as services. Findings come only from the vulners script and scripts built on Nmap's vulns library; NOT VULNERABLE entries and other script output are ignored. DOCTYPEs declaring entities are refused.",
	}
}
