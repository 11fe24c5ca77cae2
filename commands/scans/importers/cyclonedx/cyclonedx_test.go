package cyclonedx

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// Expected counts, computed with jq independently of this parser (FILE is the BOM):
//
//	vulnerabilities: jq '[.vulnerabilities[]]|length' FILE
//	findings:        jq '[.vulnerabilities[] | [.affects[]?.ref] | unique | length] | add' FILE
//	severity (rating whose source is the vulnerability's source, else the first rating without
//	score and vector, else the highest — "max" below, all "none" in the VEX file, i.e. info):
//	  jq -c '[.vulnerabilities[] | .source.name as $s
//	    | ([.ratings[]? | select(.source.name != null and (.source.name|ascii_downcase) == ($s|ascii_downcase)) | .severity][0]
//	       // [.ratings[]? | select(.score == null and .vector == null) | .severity][0] // "max") as $sev
//	    | ([.affects[]?.ref]|unique|length) as $n | range($n) | $sev] | group_by(.) | map({(.[0]): length}) | add' FILE
//	VEX states:      jq -c '[.vulnerabilities[].analysis.state]|group_by(.)|map({(.[0]):length})|add' FILE
var testdataCounts = []struct {
	file            string
	vulns, findings int
	sev             map[importers.Severity]int
	kind            importers.AssetKind
}{
	{"cdx14_grype_log4j_8vulns.json", 8, 8, map[importers.Severity]int{"critical": 4, "high": 1, "medium": 3}, importers.Repository},
	{"cdx14_vex_cisa_case3_mixed_states.json", 19, 19, map[importers.Severity]int{"critical": 2, "high": 2, "medium": 6, "info": 9}, importers.Repository},
	{"cdx15_trivy_sbom_102comps_10vulns.json", 10, 14, map[importers.Severity]int{"low": 13, "medium": 1}, importers.ContainerImage},
	{"cdx17_trivy_fluentd_3vulns.json", 3, 3, map[importers.Severity]int{"high": 1, "medium": 1, "low": 1}, importers.ContainerImage},
}

// goldenCounts are the suite's expectations of each testdata file, from testdataCounts.
func goldenCounts() map[string]func(*testing.T, *importers.Report) {
	m := map[string]func(*testing.T, *importers.Report){}
	for _, tc := range testdataCounts {
		m[tc.file] = func(t *testing.T, rep *importers.Report) {
			if len(rep.Assets) != 1 || rep.Assets[0].Kind != tc.kind {
				t.Errorf("assets = %+v, want one %s", rep.Assets, tc.kind)
			}
			if len(rep.Findings) != tc.findings {
				t.Errorf("findings = %d, want %d (%d vulnerabilities)", len(rep.Findings), tc.findings, tc.vulns)
			}
			got := map[importers.Severity]int{}
			for _, f := range rep.Findings {
				got[f.Severity]++
				if f.Component == nil || f.Component.Name == "" {
					t.Errorf("%s: no component", f.RuleID)
				}
			}
			for _, s := range []importers.Severity{"info", "low", "medium", "high", "critical"} {
				if got[s] != tc.sev[s] {
					t.Errorf("%s findings = %d, want %d", s, got[s], tc.sev[s])
				}
			}
			if rep.FinishedAt.IsZero() {
				t.Error("no timestamp")
			}
		}
	}
	return m
}

func find(rep *importers.Report, id, component string) *importers.Finding {
	for i := range rep.Findings {
		if rep.Findings[i].RuleID == id && (component == "" || rep.Findings[i].Component.Name == component) {
			return &rep.Findings[i]
		}
	}
	return nil
}

func TestKnownFields(t *testing.T) {
	td := importertest.Testdata(t)

	t.Run("cdx14_vex_cisa_case3_mixed_states", func(t *testing.T) {
		rep := importertest.ParseFile(t, New(), filepath.Join(td, format, "cdx14_vex_cisa_case3_mixed_states.json"))
		a := rep.Assets[0]
		if a.Key != "component:GHI@17.4" || a.Name != "GHI" {
			t.Errorf("asset = %+v", a)
		}
		// jq '.vulnerabilities[]|select(.id=="CVE-2020-11897")|.analysis' → not_affected, code_not_present
		f := find(rep, "CVE-2020-11897", "")
		if f == nil || f.VEXState != "not_affected" || f.VEXJustification != "code_not_present" ||
			f.Evidence != "Analysis detail: IPv6 is not supported and code is not present." ||
			f.Component.Name != "GHI" || f.Component.Version != "17.4" || f.Severity != importers.Info || f.ScannerSeverity != "none" {
			t.Errorf("CVE-2020-11897 = %+v", f)
		}
		// The vector has no prefix in the BOM ("AV:N/AC:L/…"): it gains the one of method CVSSv31.
		f = find(rep, "CVE-2020-11896", "")
		if f == nil || f.VEXState != "in_triage" || f.Severity != importers.Critical || len(f.CVSS) != 1 ||
			f.CVSS[0].Vector != "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H" || f.CVSS[0].Version != "3.1" || *f.CVSS[0].Score != 10 || f.CVSS[0].Source != "NVD" {
			t.Errorf("CVE-2020-11896 = %+v %+v", f, f.CVSS)
		}
		states := map[string]int{}
		for _, f := range rep.Findings {
			states[f.VEXState]++
		}
		if states["exploitable"] != 5 || states["in_triage"] != 5 || states["not_affected"] != 6 || states["resolved"] != 3 {
			t.Errorf("VEX states = %v", states)
		}
	})

	t.Run("cdx14_grype_log4j_8vulns", func(t *testing.T) {
		rep := importertest.ParseFile(t, New(), filepath.Join(td, format, "cdx14_grype_log4j_8vulns.json"))
		f := find(rep, "CVE-2021-44228", "log4j-core")
		if f == nil {
			t.Fatal("CVE-2021-44228 missing")
		}
		if f.Severity != importers.Critical || f.ScannerSeverity != "critical" || strings.Join(f.CVEs, ",") != "CVE-2021-44228" ||
			f.Component.PURL != "pkg:maven/org.apache.logging.log4j/log4j-core@2.13.2" || f.Component.Type != "maven" || f.Component.Version != "2.13.2" ||
			len(f.References) != 47 || f.VEXState != "in_triage" || f.Title != "CVE-2021-44228 in log4j-core 2.13.2" {
			t.Errorf("finding = %+v", f)
		}
		if len(f.CVSS) != 2 || f.CVSS[0].Version != "2.0" || f.CVSS[0].Vector != "AV:N/AC:M/Au:N/C:C/I:C/A:C" ||
			f.CVSS[1].Version != "3.1" || f.CVSS[1].Vector != "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H" || f.CVSS[1].Source != "nvd:cpe" {
			t.Errorf("CVSS = %+v", f.CVSS)
		}
		if g := find(rep, "GHSA-jfh8-c2jp-5v3q", ""); g == nil || strings.Join(g.GHSAs, ",") != "GHSA-jfh8-c2jp-5v3q" || len(g.CVEs) != 0 || g.Severity != importers.Critical {
			t.Errorf("GHSA = %+v", g)
		}
		if rep.ScannerName != "grype" || rep.ScannerVersion != "0.41.0" {
			t.Errorf("scanner %q %q", rep.ScannerName, rep.ScannerVersion)
		}
	})

	t.Run("cdx15_trivy_sbom_102comps_10vulns", func(t *testing.T) {
		rep := importertest.ParseFile(t, New(), filepath.Join(td, format, "cdx15_trivy_sbom_102comps_10vulns.json"))
		a := rep.Assets[0]
		if a.Key != "image:ubuntu:latest" || a.ImageName != "ubuntu:latest" || a.ImageDigest != "sha256:6042500cf4b44023ea1894effe7890666b0c5c7871ed83a97c36c76ae560bb9b" ||
			!strings.HasPrefix(a.PURL, "pkg:oci/ubuntu@sha256%3A6042") {
			t.Errorf("asset = %+v", a)
		}
		// CVE-2022-27943 affects three packages: three findings, three fingerprints.
		fps := map[string]bool{}
		for _, f := range rep.Findings {
			if f.RuleID == "CVE-2022-27943" {
				fps[f.Fingerprint] = true
				if f.Location.Image != "ubuntu:latest" || f.Component.Type != "deb" || f.Severity != importers.Low || f.ScannerSeverity != "low" {
					t.Errorf("CVE-2022-27943 = %+v", f)
				}
			}
		}
		if len(fps) != 3 {
			t.Errorf("CVE-2022-27943 on %d packages, want 3", len(fps))
		}
		// Method CVSSv3 with a "CVSS:3.0/" vector stays 3.0; the source is the rating's.
		f := find(rep, "CVE-2016-2781", "coreutils")
		if f == nil || !hasCVSS(f.CVSS, "3.0", "CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:C/C:N/I:H/A:N", "nvd") || strings.Join(f.CWEs, ",") != "CWE-20" {
			t.Errorf("CVE-2016-2781 = %+v", f)
		}
		// A ref that no component has (tar, a Debian package in an Ubuntu SBOM): component from the purl.
		f = find(rep, "TEMP-0290435-0B57B5", "")
		if f == nil || f.Component.Name != "tar" || f.Component.Version != "1.30+dfsg-6" || f.Component.Type != "deb" || len(f.CVEs) != 0 {
			t.Errorf("TEMP = %+v", f)
		}
	})

	t.Run("cdx17_trivy_fluentd_3vulns", func(t *testing.T) {
		rep := importertest.ParseFile(t, New(), filepath.Join(td, format, "cdx17_trivy_fluentd_3vulns.json"))
		f := find(rep, "CVE-2020-8165", "activesupport")
		if f == nil || f.Severity != importers.High || f.ScannerSeverity != "high" || f.Component.Path != "var/lib/gems/2.5.0/specifications/activesupport-6.0.2.1.gemspec" ||
			f.Location.File != f.Component.Path || f.Remediation != "Upgrade activesupport to version 6.0.3.1, 5.2.4.3" || strings.Join(f.CWEs, ",") != "CWE-502" {
			t.Errorf("CVE-2020-8165 = %+v", f)
		}
		if rep.ScannerName != "trivy" || rep.ScannerVersion != "dev" || rep.Assets[0].ImageDigest != "" {
			t.Errorf("report = %+v", rep)
		}
	})
}

func hasCVSS(list []importers.CVSS, version, vector, source string) bool {
	for _, c := range list {
		if c.Version == version && c.Vector == vector && c.Source == source {
			return true
		}
	}
	return false
}
