package openvas

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// Expected counts, computed with xmllint independently of this parser (FILE is the report):
//
//	results:  xmllint --xpath 'count(//results/result)' FILE
//	assets:   xmllint --xpath '//results/result/host/text()' FILE | sort -u | grep -c .
//	findings: distinct (host, nvt oid, port) over the results:
//	          n=$(xmllint --xpath 'count(//results/result)' FILE); for i in $(seq 1 $n); do
//	            xmllint --xpath "concat(normalize-space((//results/result)[$i]/host/text()),'|',
//	              (//results/result)[$i]/nvt/@oid,'|',(//results/result)[$i]/port)" FILE; echo; done | grep . | sort -u | wc -l
//	severity: xmllint --xpath 'count(//results/result[number(severity)>=9])' FILE            (critical)
//	          … [number(severity)>=7 and number(severity)<9] (high), [>=4 and <7] (medium), [>0 and <4] (low)
var testdataCounts = []struct {
	file                   string
	assets, results, findg int
	sev                    map[importers.Severity]int
}{
	{"gvm22_report_detail_1result.xml", 1, 1, 1, map[importers.Severity]int{"critical": 1}},
	{"openvas_dc01_1result.xml", 1, 1, 1, map[importers.Severity]int{"critical": 1}},
	{"openvas_metasploitable2_44results.xml", 1, 44, 44, map[importers.Severity]int{"critical": 8, "high": 11, "medium": 25}},
}

// goldenCounts are the suite's expectations of each testdata file, from testdataCounts.
func goldenCounts() map[string]func(*testing.T, *importers.Report) {
	m := map[string]func(*testing.T, *importers.Report){}
	for _, tc := range testdataCounts {
		m[tc.file] = func(t *testing.T, rep *importers.Report) {
			if len(rep.Assets) != tc.assets {
				t.Errorf("assets = %d, want %d", len(rep.Assets), tc.assets)
			}
			if len(rep.Findings) != tc.findg {
				t.Errorf("findings = %d, want %d", len(rep.Findings), tc.findg)
			}
			got := map[importers.Severity]int{}
			for _, f := range rep.Findings {
				got[f.Severity]++
			}
			for _, s := range []importers.Severity{"info", "low", "medium", "high", "critical"} {
				if got[s] != tc.sev[s] {
					t.Errorf("%s findings = %d, want %d", s, got[s], tc.sev[s])
				}
			}
			if rep.StartedAt.IsZero() || rep.FinishedAt.Before(rep.StartedAt) {
				t.Errorf("times %v..%v", rep.StartedAt, rep.FinishedAt)
			}
		}
	}
	return m
}

func find(rep *importers.Report, oid string) *importers.Finding {
	for i := range rep.Findings {
		if rep.Findings[i].RuleID == oid {
			return &rep.Findings[i]
		}
	}
	return nil
}

func TestKnownFields(t *testing.T) {
	td := importertest.Testdata(t)

	t.Run("gvm22_report_detail_1result", func(t *testing.T) {
		rep := importertest.ParseFile(t, New(), filepath.Join(td, format, "gvm22_report_detail_1result.xml"))
		a := rep.Assets[0]
		if a.Key != "host:10.99.99.99" || a.Name != "server99" || strings.Join(a.IPs, ",") != "10.99.99.99" ||
			strings.Join(a.Hostnames, ",") != "server99" || len(a.Services) != 1 || a.Services[0].Port != 42 {
			t.Errorf("asset = %+v", a)
		}
		f := rep.Findings[0]
		// xmllint --xpath 'count(//nvt/refs/ref[@type="cve"])' → 93
		if f.RuleID != "1.3.6.1.4.1.25623.1.0.836484" || f.Title != "Microsoft Windows Multiple Vulnerabilities (KB5062557)" ||
			f.Location != (importers.Location{Host: "10.99.99.99", Port: 42, Protocol: "tcp"}) || len(f.CVEs) != 93 ||
			f.CVEs[0] != "CVE-2025-49659" || f.Severity != importers.Critical || f.ScannerSeverity != "High (9.8)" {
			t.Errorf("finding = %+v", f)
		}
		if len(f.CVSS) != 1 || f.CVSS[0].Version != "3.1" || f.CVSS[0].Vector != "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" || *f.CVSS[0].Score != 9.8 {
			t.Errorf("CVSS = %+v", f.CVSS)
		}
		if !strings.HasPrefix(f.Description, "This host is missing an important security") || !strings.Contains(f.Description, "Impact: Successful exploitation") ||
			!strings.HasPrefix(f.Remediation, "The vendor has released updates.") || !strings.HasPrefix(f.Evidence, "Vulnerable range:") {
			t.Errorf("text = %q / %q / %q", f.Description, f.Remediation, f.Evidence)
		}
		if !contains(f.References, "https://support.microsoft.com/en-us/help/5062557") || !contains(f.References, "WID-SEC-2025-1850") || !contains(f.References, "DFN-CERT-2025-2181") {
			t.Errorf("references = %v", f.References)
		}
	})

	t.Run("openvas_dc01_1result", func(t *testing.T) {
		rep := importertest.ParseFile(t, New(), filepath.Join(td, format, "openvas_dc01_1result.xml"))
		f := rep.Findings[0]
		if f.Location != (importers.Location{Host: "10.0.101.2", Protocol: "tcp"}) || len(f.CVEs) != 12 ||
			f.Severity != importers.Critical || !strings.Contains(f.Evidence, "Fixed version:     117") {
			t.Errorf("finding = %+v", f)
		}
	})

	t.Run("openvas_metasploitable2_44results", func(t *testing.T) {
		rep := importertest.ParseFile(t, New(), filepath.Join(td, format, "openvas_metasploitable2_44results.xml"))
		a := rep.Assets[0]
		// host 192.168.1.1001 is anonymised (not an IP): kept as a hostname.
		if a.Key != "host:192.168.1.1001" || len(a.IPs) != 0 || a.Name != "b6b9f466d63" || !contains(a.Hostnames, "192.168.1.1001") {
			t.Errorf("asset = %+v", a)
		}
		// xmllint --xpath '//results/result[nvt/@oid="1.3.6.1.4.1.25623.1.0.100111"]/port/text()' → 512/tcp, ref CVE-1999-0618
		f := find(rep, "1.3.6.1.4.1.25623.1.0.100111")
		if f == nil || f.Title != "The rexec service is running" || f.Location.Port != 512 || strings.Join(f.CVEs, ",") != "CVE-1999-0618" ||
			f.Severity != importers.Critical || !strings.HasPrefix(f.Remediation, "Disable the rexec service") {
			t.Errorf("rexec = %+v", f)
		}
		// An empty <threat/> with severity 4.0 is medium, by score.
		f = find(rep, "1.3.6.1.4.1.25623.1.0.106223")
		if f == nil || f.Severity != importers.Medium || f.ScannerSeverity != "4.0" {
			t.Errorf("DH = %+v", f)
		}
		// xmllint --xpath 'count(//results/result[port="80/tcp"])' → 15
		n := 0
		for _, f := range rep.Findings {
			if f.Location.Port == 80 {
				n++
			}
		}
		if n != 15 {
			t.Errorf("%d findings on 80/tcp, want 15", n)
		}
	})
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}
