package npmaudit

import (
	"encoding/json"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

// v1Advisory is an entry of the advisories map of an npm 6 report (no auditReportVersion):
// one advisory of one package, with findings[] the installed versions and the dependency paths
// that reach each.
type v1Advisory struct {
	ID                 json.Number `json:"id"`
	Title              string      `json:"title"`
	ModuleName         string      `json:"module_name"`
	Severity           string      `json:"severity"`
	URL                string      `json:"url"`
	GitHubAdvisoryID   string      `json:"github_advisory_id"`
	CVEs               []string    `json:"cves"`
	CWE                v1CWE       `json:"cwe"`
	VulnerableVersions string      `json:"vulnerable_versions"`
	PatchedVersions    string      `json:"patched_versions"`
	Overview           string      `json:"overview"`
	Recommendation     string      `json:"recommendation"`
	References         string      `json:"references"`
	CVSS               *struct {
		Score        jsonguard.Score `json:"score"`
		VectorString string          `json:"vectorString"`
	} `json:"cvss"`
	Findings []struct {
		Version string   `json:"version"`
		Paths   []string `json:"paths"`
	} `json:"findings"`
}

var v1Required = []string{"module_name"}

// v1CWE is the cwe member as npm 6 wrote it over the years: "CWE-79", null, an array, or an
// array encoded as a string ("[\"CWE-400\"]").
type v1CWE []string

func (c *v1CWE) UnmarshalJSON(b []byte) error {
	switch jsonguard.Kind(b) {
	case '[':
		return json.Unmarshal(b, (*[]string)(c))
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s = strings.TrimSpace(s); strings.HasPrefix(s, "[") {
			var list []string
			if json.Unmarshal([]byte(s), &list) == nil {
				*c = list
				return nil
			}
		}
		*c = v1CWE{s}
	}
	return nil
}

// v1Finding maps an npm 6 advisory as the v2 entry of the same package and advisory would be
// mapped, so that the fingerprint (package, GHSA else npm id, vulnerable range) is the same
// whichever npm wrote the report: moving to npm 7 does not reopen the project's findings.
func v1Finding(a *v1Advisory) importers.Finding {
	adv := &advisory{Source: a.ID, Name: a.ModuleName, Title: a.Title, URL: a.URL, Sev: a.Severity, CWE: a.CWE, CVSS: a.CVSS, Range: a.VulnerableVersions}
	if g, ok := parseutil.NormGHSA(a.GitHubAdvisoryID); ok && !strings.Contains(a.URL, g) {
		adv.URL = "https://github.com/advisories/" + g // the identity the v2 report gives by its url
	}
	e := &entry{Name: a.ModuleName, Severity: a.Severity, Range: a.VulnerableVersions}
	var versions, paths []string
	for _, fd := range a.Findings {
		versions = parseutil.AppendUnique(versions, fd.Version)
		paths = parseutil.AddUnique(paths, fd.Paths...)
	}
	f := finding(e, adv)
	f.References = parseutil.AppendUnique(f.References, a.URL)
	for _, line := range strings.Split(a.References, "\n") {
		if u := strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), "-*")); strings.HasPrefix(u, "http") {
			f.References = parseutil.AppendUnique(f.References, u)
		}
	}
	parseutil.AddAdvisoryIDs(&f, a.CVEs...)
	f.Description = a.Overview
	if len(versions) > 0 {
		f.Component.Version = versions[0]
		f.Evidence += "; installed versions " + strings.Join(versions, ", ")
	}
	if len(paths) > 0 {
		f.Evidence += "; dependency paths " + strings.Join(paths, ", ")
	}
	if a.PatchedVersions != "" && a.PatchedVersions != "<0.0.0" {
		f.Remediation = "Upgrade " + a.ModuleName + " to a patched version (" + a.PatchedVersions + ")."
	} else {
		f.Remediation = "No patched version of " + a.ModuleName + " is available."
	}
	if a.Recommendation != "" {
		f.Remediation += " " + a.Recommendation
	}
	return f
}
