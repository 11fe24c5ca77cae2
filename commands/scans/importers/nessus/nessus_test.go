package nessus

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// Expected counts, computed with xmllint independently of this parser (FILE is the report):
//
//	assets:   xmllint --xpath 'count(//ReportHost)' FILE
//	items:    xmllint --xpath 'count(//ReportItem)' FILE
//	findings: distinct (host, pluginID, port, protocol) over the items:
//	          n=$(xmllint --xpath 'count(//ReportItem)' FILE); for i in $(seq 1 $n); do
//	            xmllint --xpath "concat((//ReportItem)[$i]/../@name,'|',(//ReportItem)[$i]/@pluginID,'|',
//	              (//ReportItem)[$i]/@port,'|',(//ReportItem)[$i]/@protocol)" FILE; echo; done | grep . | sort -u | wc -l
//	severity: xmllint --xpath 'count(//ReportItem[@severity=N])' FILE for N = 0..4, less the repeated
//	          item (dd_basic_network_cvssv3.nessus repeats plugin 58987, severity 4, on 80/tcp).
var testdataCounts = map[string]xmlCase{
	"dd_basic_network_cvssv3.nessus":    {1, 49, 48, map[importers.Severity]int{"info": 23, "low": 1, "medium": 13, "high": 10, "critical": 1}},
	"dd_internal_network_7hosts.nessus": {7, 296, 296, map[importers.Severity]int{"info": 266, "low": 7, "medium": 23}},
	"pytenable_example.nessus":          {1, 230, 230, map[importers.Severity]int{"info": 135, "low": 2, "medium": 9, "high": 77, "critical": 7}},
}

// xmlCase is what one .nessus file holds.
type xmlCase struct {
	assets, items, uniq int
	sev                 map[importers.Severity]int
}

func checkXML(t *testing.T, rep *importers.Report, tc xmlCase) {
	importertest.Counts(t, rep, tc.assets, tc.uniq, tc.sev, fmt.Sprintf("%d items, repeats merged", tc.items))
	if rep.ScannerName != "Nessus" || rep.ScannerVersion == "" || rep.StartedAt.IsZero() || rep.FinishedAt.Before(rep.StartedAt) {
		t.Errorf("scanner %q %q, times %v..%v", rep.ScannerName, rep.ScannerVersion, rep.StartedAt, rep.FinishedAt)
	}
}

// csvCase is what one CSV sample holds.
type csvCase struct {
	hosts, rows, findings int
	sev                   map[importers.Severity]int
	version               string
}

// csvCounts are the project's own CSV samples (importers/testdata/nessus; no public export with
// a clear licence exists), written to the exporter's columns. Counts by the rows written: one
// finding per (Host, Plugin ID, Port, Protocol), the rows of one result's CVEs merged; severity
// from Risk.
var csvCounts = map[string]csvCase{
	// 2 hosts (an IP and a name), 9 rows; plugin 158900 is two rows (CVE-2022-0778, -0779).
	"nessus_10.7_default_columns_2hosts.csv": {2, 9, 8, map[importers.Severity]int{"info": 4, "medium": 3, "high": 1}, "10.7.2"},
	// The export with every optional column, a BOM and LF line ends; plugin 97833 is two rows.
	"nessus_10_all_columns_bom_lf.csv": {1, 4, 3, map[importers.Severity]int{"info": 1, "high": 1, "critical": 1}, ""},
}

func checkCSV(t *testing.T, rep *importers.Report, tc csvCase) {
	t.Helper()
	importertest.Counts(t, rep, tc.hosts, tc.findings, tc.sev, fmt.Sprintf("%d rows", tc.rows))
	if rep.ScannerName != "Nessus" || rep.ScannerVersion != tc.version || len(rep.Warnings) != 0 {
		t.Errorf("scanner %q %q, warnings %q", rep.ScannerName, rep.ScannerVersion, rep.Warnings)
	}
}

// TestCSVFields: the columns of the full export, the CVE rows merged into one finding.
func TestCSVFields(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, format, "nessus_10_all_columns_bom_lf.csv"))
	f := find(rep, "97833", 445)
	if f == nil {
		t.Fatal("no 97833 on 445")
	}
	if strings.Join(f.CVEs, ",") != "CVE-2017-0143,CVE-2017-0144" || strings.Join(f.CWEs, ",") != "CWE-20" ||
		f.Severity != importers.Critical || f.ScannerSeverity != "Critical" || f.Location.Host != "198.51.100.7" ||
		f.Location.Protocol != "tcp" || !strings.HasPrefix(f.Evidence, "Sent:\n") || strings.Count(f.Evidence, "Sent:") != 1 ||
		len(f.References) != 1 || f.Remediation == "" {
		t.Errorf("97833 = %+v", f)
	}
	var versions []string
	for _, c := range f.CVSS {
		versions = append(versions, c.Version)
	}
	if strings.Join(versions, ",") != "3.0,2.0" || *f.CVSS[0].Score != 8.1 || f.CVSS[0].Vector != "" {
		t.Errorf("cvss = %+v", f.CVSS)
	}
	a := rep.Assets[0]
	if a.Key != "host:198.51.100.7" || strings.Join(a.IPs, ",") != "198.51.100.7" || len(a.Services) != 2 {
		t.Errorf("asset = %+v", a)
	}
}

// TestCSVMatchesXML: the CSV export and the .nessus of one scan give the same assets keys and
// fingerprints, so switching exports does not duplicate findings.
func TestCSVMatchesXML(t *testing.T) {
	x := importertest.MustParseString(t, New(), doc("", okItem))
	c, err := importertest.ParseString(New(), "Plugin ID,CVE,CVSS v2.0 Base Score,Risk,Host,Protocol,Port,Name,Synopsis,Description,Solution,See Also,Plugin Output\r\n"+
		"1,CVE-2024-0001,10.0,High,10.0.0.1,tcp,443,p,syn,,n/a,\"https://a.example/1\nhttps://a.example/2\",\r\n")
	if err != nil {
		t.Fatal(err)
	}
	xf, cf := x.Findings[0], c.Findings[0]
	if x.Assets[0].Key != c.Assets[0].Key || xf.Fingerprint != cf.Fingerprint || xf.Severity != cf.Severity ||
		strings.Join(xf.CVEs, ",") != strings.Join(cf.CVEs, ",") || strings.Join(xf.References, ",") != strings.Join(cf.References, ",") ||
		xf.Description != cf.Description || cf.Remediation != "" {
		t.Errorf("XML %+v\nCSV %+v", xf, cf)
	}
	if x.Target == nil || x.Target.Name != "r" || x.Target.Hint != "scan" {
		t.Errorf("XML target = %+v", x.Target)
	}
}

// TestCSVTolerated: an older export's "CVSS" column, a score that is not a number (kept out,
// with a warning naming line and column), columns in another order and extra columns.
func TestCSVTolerated(t *testing.T) {
	rep, err := importertest.ParseString(New(), "\xEF\xBB\xBF Host ,Name,Plugin ID,Port,Protocol,CVSS,Risk,Custom\n"+
		"web,x,10,80,TCP,n/a,,1\n\n"+
		"web,y,11,,,7.5,,2\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 2 || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], `line 2, column "CVSS"`) {
		t.Fatalf("findings %+v, warnings %q", rep.Findings, rep.Warnings)
	}
	if f := rep.Findings[0]; f.Severity != importers.Info || f.Location.Port != 80 || f.Location.Protocol != "tcp" || len(f.CVSS) != 0 {
		t.Errorf("x = %+v", f)
	}
	if f := rep.Findings[1]; f.Severity != importers.High || len(f.CVSS) != 1 || f.CVSS[0].Version != "2.0" {
		t.Errorf("y (severity from the score) = %+v", f)
	}
	if a := rep.Assets[0]; a.Name != "web" || strings.Join(a.Hostnames, ",") != "web" {
		t.Errorf("asset = %+v", a)
	}
}

func find(rep *importers.Report, rule string, port int) *importers.Finding {
	return importertest.First(rep, func(f *importers.Finding) bool { return f.RuleID == rule && f.Location.Port == port })
}

func TestKnownFields(t *testing.T) {
	td := importertest.Testdata(t)

	t.Run("dd_basic_network_cvssv3", func(t *testing.T) {
		rep := importertest.ParseFile(t, New(), filepath.Join(td, format, "dd_basic_network_cvssv3.nessus"))
		a := rep.Assets[0]
		if a.Key != "host:testphp.vulnweb.com" || a.Kind != importers.Host || a.Name != "testphp.vulnweb.com" ||
			strings.Join(a.IPs, ",") != "44.228.249.3" || a.OS != "Linux Kernel 2.6" ||
			strings.Join(a.Hostnames, ",") != "testphp.vulnweb.com,ec2-44-228-249-3.us-west-2.compute.amazonaws.com" {
			t.Errorf("asset = %+v", a)
		}
		if len(a.Services) != 1 || !reflect.DeepEqual(a.Services[0], importers.Service{Port: 80, Protocol: "tcp", State: "open", Name: "www"}) {
			t.Errorf("services = %+v", a.Services)
		}
		// xmllint --xpath '//ReportItem[@pluginID="58988"]/@port' → 80; .../cve → CVE-2012-1823
		f := find(rep, "58988", 80)
		if f == nil {
			t.Fatal("plugin 58988 on port 80 missing")
		}
		if f.Title != "PHP < 5.3.12 / 5.4.2 CGI Query String Code Execution" || f.Severity != importers.High ||
			f.ScannerSeverity != "High" || f.Location != (importers.Location{Host: "44.228.249.3", Port: 80, Protocol: "tcp"}) ||
			strings.Join(f.CVEs, ",") != "CVE-2012-1823" || len(f.References) != 5 ||
			f.References[1] != "https://bugs.php.net/bug.php?id=61910" || !strings.HasPrefix(f.Remediation, "Upgrade to PHP version 5.3.12") {
			t.Errorf("58988 = %+v", f)
		}
		if len(f.CVSS) != 1 || f.CVSS[0].Version != "2.0" || f.CVSS[0].Vector != "AV:N/AC:L/Au:N/C:P/I:P/A:P" || *f.CVSS[0].Score != 7.5 {
			t.Errorf("58988 CVSS = %+v", f.CVSS)
		}
		// The repeated plugin: one finding, both outputs in the evidence, v3 vector kept as written.
		f = find(rep, "58987", 80)
		if f == nil || !strings.Contains(f.Evidence, "Installed version : 5.6.40") || !strings.Contains(f.Evidence, "Installed version : 5.1.6") {
			t.Fatalf("58987 evidence = %q", f.Evidence)
		}
		if f.Severity != importers.Critical || f.CVSS[0].Version != "3.0" || f.CVSS[0].Vector != "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H" || *f.CVSS[0].Score != 10 {
			t.Errorf("58987 = %+v %+v", f, f.CVSS)
		}
		// CWE from <cwe> and xref "CWE:n".
		withCWE := 0
		for _, f := range rep.Findings {
			if len(f.CWEs) > 0 {
				withCWE++
			}
		}
		if withCWE == 0 {
			t.Error("no finding has a CWE")
		}
	})

	t.Run("dd_internal_network_7hosts", func(t *testing.T) {
		rep := importertest.ParseFile(t, New(), filepath.Join(td, format, "dd_internal_network_7hosts.nessus"))
		a := rep.Assets[0]
		// HostProperties of qa3app09: host-ip 10.31.112.29, mac-address 00:50:56:81:01:e3, netbios-name QA3APP09.
		if a.Key != "host:qa3app09" || strings.Join(a.IPs, ",") != "10.31.112.29" || strings.Join(a.MACs, ",") != "00:50:56:81:01:E3" ||
			strings.Join(a.Hostnames, ",") != "qa3app09" || a.OS != "Microsoft Windows Server 2008 R2 Standard Service Pack 1" {
			t.Errorf("asset = %+v", a)
		}
		// xmllint --xpath '//ReportHost[@name="qa3app09"]/ReportItem[@pluginID="58453"]/@port' → 3389
		f := find(rep, "58453", 3389)
		if f == nil || f.AssetKey != "host:qa3app09" || f.Severity != importers.Medium || f.CVSS[0].Vector != "AV:N/AC:M/Au:N/C:P/I:N/A:N" {
			t.Errorf("58453 = %+v", f)
		}
		// The same plugin on seven hosts (xmllint --xpath 'count(//ReportItem[@pluginID="57608"])' → 7):
		// seven findings, seven assets, seven fingerprints.
		hosts := map[string]bool{}
		for _, f := range rep.Findings {
			if f.RuleID == "57608" {
				hosts[f.AssetKey] = true
			}
		}
		if len(hosts) != 7 {
			t.Errorf("plugin 57608 on %d hosts, want 7", len(hosts))
		}
	})

	t.Run("pytenable_example", func(t *testing.T) {
		rep := importertest.ParseFile(t, New(), filepath.Join(td, format, "pytenable_example.nessus"))
		a := rep.Assets[0]
		if a.Name != "adam.ad.demo.io" || strings.Join(a.MACs, ",") != "00:50:56:A6:60:BC" || a.OS != "Microsoft Windows 10 Pro" {
			t.Errorf("asset = %+v", a)
		}
		// <cvss3_vector>AV:L/AC:H/PR:L/UI:N/S:C/C:H/I:L/A:N</cvss3_vector> on plugin 112116, port 445: no prefix.
		f := find(rep, "112116", 445)
		if f == nil {
			t.Fatal("plugin 112116 missing")
		}
		var v3 *importers.CVSS
		for i := range f.CVSS {
			if f.CVSS[i].Version == "3.0" {
				v3 = &f.CVSS[i]
			}
		}
		if v3 == nil || v3.Vector != "CVSS:3.0/AV:L/AC:H/PR:L/UI:N/S:C/C:H/I:L/A:N" || *v3.Score != 6.4 {
			t.Errorf("112116 CVSS = %+v", f.CVSS)
		}
		if !slices.Contains(f.CVEs, "CVE-2018-3620") || f.Location.Protocol != "tcp" {
			t.Errorf("112116 = %+v", f)
		}
	})
}
