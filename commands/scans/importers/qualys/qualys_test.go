package qualys

import (
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

func TestVMFields(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, format, "qualys_vm_scan_practices_cvss3.xml"))
	a := rep.Assets[0]
	if a.Key != "host:192.0.2.20" || a.Kind != importers.Host || !slices.Equal(a.Hostnames, []string{"web01.example.org"}) ||
		a.OS != "Ubuntu / Linux 20.04" || len(a.Services) != 3 {
		t.Errorf("asset %+v", a)
	}
	if rep.Target == nil || rep.Target.Name != "Weekly DMZ scan" || rep.StartedAt.IsZero() {
		t.Errorf("target %+v, started %v", rep.Target, rep.StartedAt)
	}
	f := rep.Findings[0]
	if f.RuleID != "38657" || f.Severity != importers.Critical || f.ScannerSeverity != "5" || f.Location.Port != 443 || f.Location.Protocol != "tcp" ||
		!slices.Equal(f.CVEs, []string{"CVE-2021-41773", "CVE-2021-42013"}) || len(f.References) != 2 {
		t.Errorf("finding %+v", f)
	}
	if len(f.CVSS) != 2 || f.CVSS[0].Version != "2.0" || *f.CVSS[0].Score != 5 || f.CVSS[1].Version != "3.1" || *f.CVSS[1].Score != 7.5 || f.CVSS[1].Vector != "" {
		t.Errorf("CVSS %+v", f.CVSS)
	}
	if !strings.Contains(f.Description, "normalises paths") || !strings.Contains(f.Description, "outside the document root") ||
		f.Remediation != "Upgrade to Apache HTTP Server 2.4.51." || f.Evidence != "Server: Apache/2.4.49 (Unix)" {
		t.Errorf("text %+v", f)
	}
	// The same QID on another port is another finding.
	if g := rep.Findings[1]; g.RuleID != "38657" || g.Location.Port != 8443 || g.Fingerprint == f.Fingerprint {
		t.Errorf("second port %+v", g)
	}
	if p := rep.Findings[2]; p.Severity != importers.Medium || p.Title != "Deprecated SSH Cryptographic Settings" {
		t.Errorf("practice %+v", p)
	}
}

func TestSeverity(t *testing.T) {
	info := New().(importers.Describer).Info()
	for level, want := range map[string]importers.Severity{"1": importers.Info, "2": importers.Low, "3": importers.Medium, "4": importers.High, "5": importers.Critical} {
		if got := spec.MustParse(t, New(), scan(vuln("80", "1", level))).Findings[0].Severity; got != want {
			t.Errorf("VULN severity %s: %s, want %s", level, got, want)
		}
		if info.Severity[level] != want {
			t.Errorf("Info().Severity[%s] = %s", level, info.Severity[level])
		}
		// Information gathered is info whatever its level.
		in := `<SCAN value="scan/1"><IP value="10.0.0.1"><INFOS><CAT value="x"><INFO number="6" severity="` + level + `"/></CAT></INFOS></IP></SCAN>`
		if got := spec.MustParse(t, New(), in).Findings[0].Severity; got != importers.Info {
			t.Errorf("INFO severity %s: %s", level, got)
		}
	}
}

// TestFingerprint: IP, QID, port and protocol; the text around them may change between scans.
func TestFingerprint(t *testing.T) {
	f := spec.MustParse(t, New(), scan(vuln("80", "82054", "2"))).Findings[0]
	importertest.Fingerprint(t, f.Fingerprint, "the documented one", "qualys/v1", "10.0.0.1", "82054", "80", "tcp")
	again := spec.MustParse(t, New(), scan(strings.Replace(vuln("80", "82054", "3"), "<RESULT>r", "<RESULT>other", 1))).Findings[0]
	if again.Fingerprint != f.Fingerprint {
		t.Error("a rescan with new result text changed the fingerprint")
	}
}

func TestWAS(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, format, "qualys_was_scan_report.xml"))
	a, f := rep.Assets[0], rep.Findings[0]
	if a.Kind != importers.WebApplication || a.BaseURL != "http://example.com" || a.Name != "Test" {
		t.Errorf("asset %+v", a)
	}
	if f.RuleID != "6" || f.Title != "DNS Host Name" || f.Location.URL != "http://example.com" || f.Severity != importers.Info || len(f.CVSS) != 2 {
		t.Errorf("finding %+v", f)
	}
	ignored := spec.MustParse(t, New(), `<WAS_SCAN_REPORT><RESULTS><VULNERABILITY_LIST>
		<VULNERABILITY><QID>150001</QID><URL>https://a.example/q</URL><PARAM>id</PARAM><IGNORED>true</IGNORED><IGNORED_REASON>FALSE_POSITIVE</IGNORED_REASON></VULNERABILITY>
		<VULNERABILITY><QID>150001</QID><URL>https://a.example/r</URL><PARAM>id</PARAM><IGNORED>false</IGNORED></VULNERABILITY>
		</VULNERABILITY_LIST><INFORMATION_GATHERED_LIST><INFORMATION_GATHERED><QID>6</QID></INFORMATION_GATHERED></INFORMATION_GATHERED_LIST></RESULTS>
		<GLOSSARY><QID_LIST><QID><QID>150001</QID><SEVERITY>5</SEVERITY><TITLE>SQL Injection</TITLE><CWE>CWE-89</CWE></QID></QID_LIST></GLOSSARY></WAS_SCAN_REPORT>`)
	if len(ignored.Findings) != 2 || len(ignored.Warnings) != 1 || !strings.Contains(ignored.Warnings[0], "1 information gathered") {
		t.Fatalf("%d findings, warnings %q", len(ignored.Findings), ignored.Warnings)
	}
	fp, open := ignored.Findings[0], ignored.Findings[1]
	if fp.Suppressed == nil || fp.Suppressed.Kind != importers.SuppressedFalsePositive || open.Suppressed != nil {
		t.Errorf("suppressions %+v, %+v", fp.Suppressed, open.Suppressed)
	}
	if fp.Severity != importers.Critical || !slices.Equal(fp.CWEs, []string{"CWE-89"}) || fp.Location.Param != "id" || ignored.Assets[0].BaseURL != "https://a.example" {
		t.Errorf("finding %+v", fp)
	}
	importertest.Fingerprint(t, fp.Fingerprint, "the documented WAS one", "qualys-was/v1", "https://a.example", "150001", "https://a.example/q", "id")
}

// TestWASCleanScanNamesTheApplication: a WAS report without findings still names the web
// application of its APPENDIX, so that importing it resolves what earlier scans found there.
func TestWASCleanScanNamesTheApplication(t *testing.T) {
	rep := spec.MustParse(t, New(), `<WAS_SCAN_REPORT><RESULTS><VULNERABILITY_LIST></VULNERABILITY_LIST></RESULTS>`+
		`<APPENDIX><WEBAPP><NAME>Shop</NAME><URL>https://shop.example/app</URL></WEBAPP></APPENDIX></WAS_SCAN_REPORT>`)
	if len(rep.Findings) != 0 || len(rep.Assets) != 1 || rep.Assets[0].BaseURL != "https://shop.example" || rep.Assets[0].Name != "Shop" {
		t.Errorf("findings %+v, assets %+v", rep.Findings, rep.Assets)
	}
}

// TestWASBadGlossaryScore: a glossary score out of range is left out with a warning; the finding
// is kept.
func TestWASBadGlossaryScore(t *testing.T) {
	rep := spec.MustParse(t, New(), `<WAS_SCAN_REPORT><RESULTS><VULNERABILITY_LIST><VULNERABILITY><QID>1</QID><URL>https://a.example/</URL></VULNERABILITY></VULNERABILITY_LIST></RESULTS>`+
		`<GLOSSARY><QID_LIST><QID><QID>1</QID><SEVERITY>3</SEVERITY><CVSS_BASE>99</CVSS_BASE></QID></QID_LIST></GLOSSARY></WAS_SCAN_REPORT>`)
	if len(rep.Findings) != 1 || rep.Findings[0].CVSS != nil || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "CVSS score") {
		t.Errorf("findings %+v, warnings %q", rep.Findings, rep.Warnings)
	}
}

// TestDTDNotFetched: the external DTD every VM report names (here one nothing listens at) is
// neither fetched nor a reason to refuse the report.
func TestDTDNotFetched(t *testing.T) {
	rep := spec.MustParse(t, New(), `<!DOCTYPE SCAN SYSTEM "http://127.0.0.1:1/scan-1.dtd">`+scan("")[strings.Index(scan(""), "<SCAN"):])
	if len(rep.Assets) != 1 {
		t.Errorf("assets %+v", rep.Assets)
	}
}

// TestAssetDataAndDetections: an asset data report's records take their title, severity, text,
// CVEs and scores from the glossary; information gathered is info; Fixed is resolved; and the
// fingerprint is a scan report's for the same host, QID, port and protocol, so a team may switch
// exports without reopening findings. The host detection list reads the same way.
func TestAssetDataAndDetections(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, format, "qualys_asset_data_report_own.xml"))
	a := rep.Assets[0]
	if a.Key != "host:192.0.2.20" || !slices.Equal(a.Hostnames, []string{"web1.example.com", "WEB1"}) || a.OS != "Ubuntu Linux 22.04" || len(a.Services) != 1 {
		t.Errorf("asset %+v", a)
	}
	byQID := map[string]importers.Finding{}
	for _, f := range rep.Findings {
		if f.AssetKey == a.Key {
			byQID[f.RuleID] = f
		}
	}
	ssh := byQID["38739"]
	if ssh.Title != "Deprecated SSH Cryptographic Settings" || ssh.Severity != importers.Medium || ssh.Location.Port != 22 || ssh.Location.Protocol != "tcp" ||
		ssh.Description == "" || ssh.Remediation != "Disable the weak ciphers." || !strings.Contains(ssh.Evidence, "3des-cbc") {
		t.Errorf("ssh finding %+v", ssh)
	}
	// The v2 vector is kept; the v3 one lacks its CVSS:3.x/ prefix, so only its score is.
	if len(ssh.CVSS) != 2 || ssh.CVSS[0].Vector != "AV:N/AC:M/Au:N/C:P/I:N/A:N" || *ssh.CVSS[0].Score != 4.3 || ssh.CVSS[1].Vector != "" || *ssh.CVSS[1].Score != 5.9 {
		t.Errorf("CVSS %+v", ssh.CVSS)
	}
	importertest.Fingerprint(t, ssh.Fingerprint, "the scan report's", "qualys/v1", "192.0.2.20", "38739", "22", "tcp")
	if f := byQID["6"]; f.Severity != importers.Info || f.Description != "The host's name as DNS gives it." {
		t.Errorf("information gathered %+v", f)
	}
	if f := byQID["370876"]; f.Suppressed == nil || f.Suppressed.Kind != importers.SuppressedResolved || !slices.Equal(f.CVEs, []string{"CVE-2018-8930"}) {
		t.Errorf("fixed finding %+v", f)
	}

	rep = importertest.ParseFile(t, New(), importertest.File(t, format, "qualys_host_detection_own.xml"))
	if rep.StartedAt.IsZero() || rep.Assets[0].OS != "Windows Server 2019" {
		t.Errorf("started %v, asset %+v", rep.StartedAt, rep.Assets[0])
	}
	// An agent-tracked host without an IP is known by its DNS name; an Info detection without
	// a SEVERITY is info without a warning.
	if a := rep.Assets[1]; a.Key != "host:laptop7.example.com" || len(a.IPs) != 0 || !slices.Equal(a.Hostnames, []string{"Laptop7.example.com"}) {
		t.Errorf("agent host %+v", a)
	}
	if len(rep.Warnings) != 0 {
		t.Errorf("warnings %q", rep.Warnings)
	}
	for _, f := range rep.Findings {
		switch f.RuleID {
		case "90043":
			if f.Title != "Qualys QID 90043" || f.Severity != importers.Low || f.Location.Port != 445 || f.Evidence != "SMB signing: disabled" {
				t.Errorf("confirmed %+v", f)
			}
		case "105500":
			if f.Severity != importers.Critical || f.Suppressed == nil || f.Suppressed.Kind != importers.SuppressedResolved {
				t.Errorf("potential, fixed %+v", f)
			}
		case "45038":
			if f.Severity != importers.Info || f.ScannerSeverity != "3" {
				t.Errorf("information %+v", f)
			}
		}
	}
}

// TestCSVExports: the VM detections CSV reads as the XML reports do (same fingerprint, Fixed
// resolved, Ig info, CVSS "score (vector)"); the PCI CSV takes its level from Q_SEVERITY, its
// SEVERITY being a word.
func TestCSVExports(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, format, "qualys_vm_detections_own.csv"))
	a := rep.Assets[0]
	if a.Key != "host:192.0.2.40" || !slices.Equal(a.Hostnames, []string{"app1.example.com", "APP1"}) || a.OS != "Ubuntu 22.04" {
		t.Errorf("asset %+v", a)
	}
	ssh := rep.Findings[0]
	if ssh.Title != "Deprecated SSH Cryptographic Settings" || ssh.Severity != importers.Medium || ssh.Location.Port != 22 ||
		ssh.Fingerprint != parseutil.FingerprintJSON("qualys/v1", "192.0.2.40", "38739", "22", "tcp") ||
		ssh.Evidence != "cipher 3des-cbc" || ssh.Remediation != "Disable the weak ciphers." || len(ssh.CVSS) != 2 || *ssh.CVSS[1].Score != 5.9 {
		t.Errorf("ssh finding %+v", ssh)
	}
	eol := rep.Findings[1]
	if eol.Severity != importers.Critical || eol.Suppressed == nil || eol.Suppressed.Kind != importers.SuppressedResolved ||
		!slices.Equal(eol.CVEs, []string{"CVE-2023-0001", "CVE-2023-0002"}) {
		t.Errorf("fixed finding %+v", eol)
	}
	if ig := rep.Findings[2]; ig.Severity != importers.Info || ig.Description != "Scan duration." {
		t.Errorf("information gathered %+v", ig)
	}
	pci := importertest.ParseFile(t, New(), importertest.File(t, format, "qualys_pci_own.csv"))
	if f := pci.Findings[0]; f.Title != "Web Server Stopped Responding" || f.Severity != importers.Medium || f.ScannerSeverity != "3" ||
		f.Evidence != "No response after 4 requests." || pci.Assets[0].OS != "Linux 2.x" {
		t.Errorf("PCI finding %+v", f)
	}
}
