package openvas

import (
	"fmt"
	"path/filepath"
	"slices"
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
var testdataCounts = map[string]xmlCase{
	"gvm22_report_detail_1result.xml":       {1, 1, 1, map[importers.Severity]int{"critical": 1}},
	"openvas_dc01_1result.xml":              {1, 1, 1, map[importers.Severity]int{"critical": 1}},
	"openvas_metasploitable2_44results.xml": {1, 44, 44, map[importers.Severity]int{"critical": 8, "high": 11, "medium": 25}},
}

// xmlCase is what one XML report holds.
type xmlCase struct {
	assets, results, findg int
	sev                    map[importers.Severity]int
}

func checkXML(t *testing.T, rep *importers.Report, tc xmlCase) {
	importertest.Counts(t, rep, tc.assets, tc.findg, tc.sev, fmt.Sprintf("%d results", tc.results))
	if rep.StartedAt.IsZero() || rep.FinishedAt.Before(rep.StartedAt) {
		t.Errorf("times %v..%v", rep.StartedAt, rep.FinishedAt)
	}
}

// csvCase is what one CSV sample holds.
type csvCase struct {
	hosts, rows, findings int
	sev                   map[importers.Severity]int
	task                  string
}

// csvCounts are the project's own CSV Results samples (importers/testdata/openvas; no public
// export with a clear licence exists), written to GVM's columns. Counts by the rows written:
// findings are distinct (IP, NVT OID, Port/Port Protocol), severity from CVSS.
var csvCounts = map[string]csvCase{
	// GVM 22: 26 columns, CRLF; a general/tcp Log result and a result without port.
	"gvm22_csv_results_3hosts.csv": {3, 5, 5, map[importers.Severity]int{"critical": 1, "medium": 2, "low": 1, "info": 1}, "Weekly internal"},
	// OpenVAS 9: no QoD column, LF; the VRFY and EXPN rows of NVT 100072 on 25/tcp are one finding.
	"openvas9_csv_results_noqod_lf.csv": {1, 3, 2, map[importers.Severity]int{"medium": 1, "info": 1}, "Mail relays"},
}

func checkCSV(t *testing.T, rep *importers.Report, tc csvCase) {
	t.Helper()
	importertest.Counts(t, rep, tc.hosts, tc.findings, tc.sev, fmt.Sprintf("%d rows", tc.rows))
	if rep.Target == nil || rep.Target.Name != tc.task || rep.StartedAt.IsZero() || rep.FinishedAt.Before(rep.StartedAt) || len(rep.Warnings) != 0 {
		t.Errorf("target %+v, times %v..%v, warnings %q", rep.Target, rep.StartedAt, rep.FinishedAt, rep.Warnings)
	}
}

// TestCSVFields: the columns of a GVM 22 export land where the XML's elements do.
func TestCSVFields(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, format, "gvm22_csv_results_3hosts.csv"))
	f := find(rep, "1.3.6.1.4.1.25623.1.0.117274")
	if f == nil {
		t.Fatal("no TLS finding")
	}
	if strings.Join(f.CVEs, ",") != "CVE-2011-3389,CVE-2015-0204" || f.Location.Port != 443 || f.Location.Protocol != "tcp" ||
		f.ScannerSeverity != "Medium (4.3)" || !strings.HasPrefix(f.Description, "It was possible") || !strings.Contains(f.Description, "Insight: The TLSv1.0") ||
		!strings.Contains(f.Description, "Affected: All services") || !strings.HasPrefix(f.Remediation, "It is recommended") ||
		!strings.HasPrefix(f.Evidence, "In addition") || len(f.References) != 4 {
		t.Errorf("TLS = %+v", f)
	}
	osd := find(rep, "1.3.6.1.4.1.25623.1.0.105937")
	if osd == nil || osd.Location.Port != 0 || osd.Location.Protocol != "tcp" || osd.Severity != importers.Info {
		t.Errorf("OS detection = %+v", osd)
	}
	if a := rep.Assets[0]; a.Key != "host:192.0.2.21" || a.Name != "db01.example.test" || len(a.Services) != 2 {
		t.Errorf("asset = %+v", a)
	}
}

// TestCSVMatchesXML: the CSV export and the XML report of one scan give the same asset keys and
// fingerprints, so switching exports does not duplicate findings.
func TestCSVMatchesXML(t *testing.T) {
	x, err := importertest.ParseString(New(), doc(result("10.0.0.1", "443/tcp", "1.3.6.1.4.1.25623.1.0.1", "7.5", "High", "")+
		result("10.0.0.1", "general/tcp", "1.3.6.1.4.1.25623.1.0.2", "0.0", "Log", ""), ""))
	if err != nil {
		t.Fatal(err)
	}
	c, err := importertest.ParseString(New(), "IP,Hostname,Port,Port Protocol,CVSS,Severity,NVT Name,Summary,NVT OID,Solution\r\n"+
		"10.0.0.1,h.example,443,tcp,7.5,High,NVT 1.3.6.1.4.1.25623.1.0.1,S,1.3.6.1.4.1.25623.1.0.1,Fix it\r\n"+
		"10.0.0.1,h.example,,tcp,0.0,Log,NVT 1.3.6.1.4.1.25623.1.0.2,S,1.3.6.1.4.1.25623.1.0.2,Fix it\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Findings) != 2 || len(c.Findings) != 2 || x.Assets[0].Key != c.Assets[0].Key {
		t.Fatalf("XML %+v\nCSV %+v", x, c)
	}
	for i := range x.Findings {
		xf, cf := x.Findings[i], c.Findings[i]
		if xf.Fingerprint != cf.Fingerprint || xf.Severity != cf.Severity || xf.Title != cf.Title || xf.Remediation != cf.Remediation || xf.Location != cf.Location {
			t.Errorf("%d: XML %+v\nCSV %+v", i, xf, cf)
		}
	}
}

// TestCSVTolerated: a CVSS that is not a number is left out with a warning (the threat label
// gives the severity); a false positive carries its hint.
func TestCSVTolerated(t *testing.T) {
	rep := importertest.MustParseString(t, New(), "IP,NVT OID,NVT Name,CVSS,Severity\n10.0.0.1,1.2.3,x,n/a,Medium\n10.0.0.2,1.2.4,y,-1,False Positive\n")
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], `line 2, column "CVSS"`) || rep.Findings[0].Severity != importers.Medium {
		t.Errorf("warnings %q, findings %+v", rep.Warnings, rep.Findings)
	}
	if s := rep.Findings[1].Suppressed; s == nil || s.Kind != importers.SuppressedFalsePositive {
		t.Errorf("false positive: %+v", rep.Findings[1])
	}
}

func find(rep *importers.Report, oid string) *importers.Finding {
	return importertest.First(rep, func(f *importers.Finding) bool { return f.RuleID == oid })
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
		if !slices.Contains(f.References, "https://support.microsoft.com/en-us/help/5062557") || !slices.Contains(f.References, "WID-SEC-2025-1850") || !slices.Contains(f.References, "DFN-CERT-2025-2181") {
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
		if a.Key != "host:192.168.1.1001" || len(a.IPs) != 0 || a.Name != "b6b9f466d63" || !slices.Contains(a.Hostnames, "192.168.1.1001") {
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

// TestTarget: the report's target is its task's name.
func TestTarget(t *testing.T) {
	importertest.Targets(t, New(), format, "scan", map[string]string{
		"openvas_metasploitable2_44results.xml": "metasploitable2-scan",
		"openvas_dc01_1result.xml":              "dc01-testlab-scan",
		"gvm22_report_detail_1result.xml":       "Report",
	})
}
