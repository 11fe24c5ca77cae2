package cyclonedx

import (
	"encoding/json"
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
var testdataCounts = map[string]jsonCase{
	"cdx14_grype_log4j_8vulns.json":          {8, 8, map[importers.Severity]int{"critical": 4, "high": 1, "medium": 3}, importers.Repository},
	"cdx14_vex_cisa_case3_mixed_states.json": {19, 19, map[importers.Severity]int{"critical": 2, "high": 2, "medium": 6, "info": 9}, importers.Repository},
	"cdx15_trivy_sbom_102comps_10vulns.json": {10, 14, map[importers.Severity]int{"low": 13, "medium": 1}, importers.ContainerImage},
	"cdx17_trivy_fluentd_3vulns.json":        {3, 3, map[importers.Severity]int{"high": 1, "medium": 1, "low": 1}, importers.ContainerImage},
}

// jsonCase is what one JSON BOM holds.
type jsonCase struct {
	vulns, findings int
	sev             map[importers.Severity]int
	kind            importers.AssetKind
}

func checkJSON(t *testing.T, rep *importers.Report, tc jsonCase) {
	if len(rep.Assets) != 1 || rep.Assets[0].Kind != tc.kind {
		t.Errorf("assets = %+v, want one %s", rep.Assets, tc.kind)
	}
	if len(rep.Findings) != tc.findings {
		t.Errorf("findings = %d, want %d (%d vulnerabilities)", len(rep.Findings), tc.findings, tc.vulns)
	}
	for _, f := range rep.Findings {
		if f.Component == nil || f.Component.Name == "" {
			t.Errorf("%s: no component", f.RuleID)
		}
	}
	importertest.Severities(t, rep, tc.sev)
	if rep.FinishedAt.IsZero() {
		t.Error("no timestamp")
	}
}

// xmlFiles are the CycloneDX XML variants, one vulnerability on one component each (xmllint
// --xpath 'count(//*[local-name()="vulnerability"])'). The three specification files carry the
// same Snyk vulnerability with analysis state not_affected (code_not_reachable) and no
// metadata component; the Dependency-Track one a critical CVSSv3 10.0 on xmlutil under "Acme
// example".
var xmlFiles = map[string]xmlCase{
	"cdx14_spec_valid_vulnerability.xml":     {"SNYK-JAVA-COMFASTERXMLJACKSONCORE-32111", "jackson-databind", importers.Critical, "bom", importers.SuppressedNotAffected},
	"cdx15_spec_valid_vulnerability.xml":     {"SNYK-JAVA-COMFASTERXMLJACKSONCORE-32111", "jackson-databind", importers.Critical, "bom", importers.SuppressedNotAffected},
	"cdx16_spec_valid_vulnerability.xml":     {"SNYK-JAVA-COMFASTERXMLJACKSONCORE-32111", "jackson-databind", importers.Critical, "bom", importers.SuppressedNotAffected},
	"cdx14_dtrack_issue2859_long_author.xml": {"BOMVULN-01", "xmlutil", importers.Critical, "component:Acme example", ""},
}

// xmlCase is what one XML BOM holds.
type xmlCase struct {
	id, component string
	severity      importers.Severity
	assetKey      string
	suppressed    importers.SuppressionKind
}

func checkXML(t *testing.T, rep *importers.Report, tc xmlCase) {
	t.Helper()
	if len(rep.Assets) != 1 || rep.Assets[0].Key != tc.assetKey || len(rep.Findings) != 1 {
		t.Fatalf("assets %+v, %d findings", rep.Assets, len(rep.Findings))
	}
	f := rep.Findings[0]
	if f.RuleID != tc.id || f.Component == nil || f.Component.Name != tc.component || f.Severity != tc.severity {
		t.Errorf("finding = %+v", f)
	}
	if got := f.Suppressed; (tc.suppressed == "") != (got == nil) || (got != nil && (got.Kind != tc.suppressed || got.Reason != "code_not_reachable")) {
		t.Errorf("suppressed = %+v, want %q", got, tc.suppressed)
	}
	if len(rep.Warnings) != 0 {
		t.Errorf("warnings = %q", rep.Warnings)
	}
}

func find(rep *importers.Report, id, component string) *importers.Finding {
	return importertest.First(rep, func(f *importers.Finding) bool {
		return f.RuleID == id && (component == "" || f.Component.Name == component)
	})
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

// TestXMLMatchesJSON: the same BOM in XML and in JSON gives the same report, fingerprints
// included, so switching a pipeline's output format does not reopen its findings.
func TestXMLMatchesJSON(t *testing.T) {
	const js = `{"bomFormat": "CycloneDX", "specVersion": "1.5",
		"metadata": {"timestamp": "2024-05-06T07:08:09Z", "tools": {"components": [{"name": "trivy", "version": "0.50.0"}]},
			"component": {"bom-ref": "app", "type": "container", "name": "alpine:3.19", "purl": "pkg:oci/alpine@sha256%3Aabc"}},
		"components": [{"bom-ref": "p1", "type": "library", "name": "openssl", "version": "3.1.4", "purl": "pkg:apk/alpine/openssl@3.1.4",
			"properties": [{"name": "aquasecurity:trivy:FilePath", "value": "lib/apk/db/installed"}]}],
		"vulnerabilities": [{"id": "CVE-2024-0001", "source": {"name": "alpine", "url": "https://secdb.alpinelinux.org/"},
			"references": [{"id": "GHSA-aaaa-bbbb-cccc", "source": {"name": "ghsa", "url": "https://github.com/advisories/GHSA-aaaa-bbbb-cccc"}}],
			"ratings": [{"source": {"name": "alpine"}, "severity": "high"}, {"source": {"name": "nvd"}, "score": 7.5, "method": "CVSSv31", "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
			"cwes": [79], "description": "d", "recommendation": "r",
			"advisories": [{"url": "https://example.com/a"}],
			"analysis": {"state": "false_positive", "justification": "code_not_present", "response": ["update"], "detail": "x"},
			"affects": [{"ref": "p1", "versions": [{"version": "3.1.5", "status": "unaffected"}]}]}]}`
	const x = `<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1">
  <metadata><timestamp>2024-05-06T07:08:09Z</timestamp>
    <tools><components><component type="application"><name>trivy</name><version>0.50.0</version></component></components></tools>
    <component bom-ref="app" type="container"><name>alpine:3.19</name><purl>pkg:oci/alpine@sha256%3Aabc</purl></component></metadata>
  <components><component bom-ref="p1" type="library"><name>openssl</name><version>3.1.4</version><purl>pkg:apk/alpine/openssl@3.1.4</purl>
    <properties><property name="aquasecurity:trivy:FilePath">lib/apk/db/installed</property></properties></component></components>
  <vulnerabilities><vulnerability bom-ref="v1"><id>CVE-2024-0001</id><source><name>alpine</name><url>https://secdb.alpinelinux.org/</url></source>
    <references><reference><id>GHSA-aaaa-bbbb-cccc</id><source><name>ghsa</name><url>https://github.com/advisories/GHSA-aaaa-bbbb-cccc</url></source></reference></references>
    <ratings><rating><source><name>alpine</name></source><severity>high</severity></rating>
      <rating><source><name>nvd</name></source><score>7.5</score><method>CVSSv31</method><vector>CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N</vector></rating></ratings>
    <cwes><cwe>79</cwe></cwes><description>d</description><recommendation>r</recommendation>
    <advisories><advisory><url>https://example.com/a</url></advisory></advisories>
    <analysis><state>false_positive</state><justification>code_not_present</justification><responses><response>update</response></responses><detail>x</detail></analysis>
    <affects><target><ref>p1</ref><versions><version><version>3.1.5</version><status>unaffected</status></version></versions></target></affects>
  </vulnerability></vulnerabilities>
</bom>`
	a := importertest.MustParseString(t, New(), js)
	b := importertest.MustParseString(t, New(), x)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("JSON and XML differ:\n%s\n%s", ja, jb)
	}
	f := a.Findings[0]
	if f.Suppressed == nil || f.Suppressed.Kind != importers.SuppressedFalsePositive || f.Component.FixedVersion != "3.1.5" ||
		a.ScannerName != "trivy" || a.Target == nil || a.Target.Name != "alpine:3.19" {
		t.Errorf("report = %s", ja)
	}
}

// TestXMLTolerated: a score or CWE that is not a number is left out with a warning, not a
// refusal; white space around values is trimmed.
func TestXMLTolerated(t *testing.T) {
	rep := importertest.MustParseString(t, New(), xmlBOM(`<id> CVE-1 </id><ratings><rating><score>n/a</score><severity>high</severity><method>CVSSv31</method></rating></ratings><cwes><cwe>CWE-79</cwe><cwe>x</cwe></cwes>`))
	f := rep.Findings[0]
	if f.RuleID != "CVE-1" || f.Severity != importers.High || strings.Join(f.CWEs, ",") != "CWE-79" || len(rep.Warnings) != 2 {
		t.Errorf("finding %+v, warnings %q", f, rep.Warnings)
	}
}
