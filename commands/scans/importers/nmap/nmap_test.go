package nmap

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// Expected counts were computed independently of the parser with xmllint over the shared test
// data:
//
//	assets:   xmllint --xpath 'count(/nmaprun/host[status/@state="up"])'
//	services: xmllint --xpath 'count(/nmaprun/host[status/@state="up"]/ports/port)'
//	vulners:  xmllint --xpath 'count(/nmaprun/host[status/@state="up"]//script[@id="vulners"]/table/table[elem[@key="id"][starts-with(., "CVE-")]])'
//	vulnlib:  xmllint --xpath 'count(/nmaprun/host[status/@state="up"]//script/table[elem[@key="state"][starts-with(.,"VULNERABLE") or starts-with(.,"LIKELY VULNERABLE")]])'
//	scores:   xmllint --xpath '/nmaprun/host[status/@state="up"]//script[@id="vulners"]/table/table[elem[@key="id"][starts-with(., "CVE-")]]/elem[@key="cvss"]/text()'
//
// dionaea: vulners scores 7.5 7.5 6.8 5.0 5.0 (2 high, 3 medium) plus smb-double-pulsar-backdoor
// (CVSSv2 10.0: critical) and smb-vuln-ms17-010 (no score, "Risk factor: HIGH": high); vulners
// file: 5.8 5.0 5.0 5.0 4.3 4.0 4.0 2.6 (7 medium, 1 low).
var testdataFiles = map[string]counts{
	"nmap_A_subnet_256hosts.xml":        {4, 256, 12, 0, 0, 0, 0, 0, 0, 0},
	"nmap_Pn_2hosts_multihostname.xml":  {2, 2, 7, 0, 0, 0, 0, 0, 0, 0},
	"nmap_sV_O_scripts_dionaea.xml":     {1, 1, 16, 5, 2, 1, 3, 3, 0, 7},
	"nmap_sV_vulners_1host_25ports.xml": {1, 1, 25, 8, 0, 0, 0, 7, 1, 8},
}

// counts is what one report holds.
type counts struct {
	hosts, allHosts, services            int
	vulners, vulnlib                     int
	critical, high, medium, lo, findings int
}

func checkCounts(t *testing.T, rep *importers.Report, tc counts) {
	if len(rep.Assets) != tc.hosts {
		t.Errorf("assets = %d, want %d (of %d hosts)", len(rep.Assets), tc.hosts, tc.allHosts)
	}
	services := 0
	for _, a := range rep.Assets {
		services += len(a.Services)
	}
	if services != tc.services {
		t.Errorf("services = %d, want %d", services, tc.services)
	}
	if len(rep.Findings) != tc.vulners+tc.vulnlib || len(rep.Findings) != tc.findings {
		t.Errorf("findings = %d, want %d", len(rep.Findings), tc.vulners+tc.vulnlib)
	}
	if vulners := len(importertest.Where(rep, func(f *importers.Finding) bool { return f.RuleID == "vulners" })); vulners != tc.vulners {
		t.Errorf("vulners findings = %d, want %d", vulners, tc.vulners)
	}
	importertest.Severities(t, rep, map[importers.Severity]int{importers.Critical: tc.critical, importers.High: tc.high, importers.Medium: tc.medium, importers.Low: tc.lo})
	if rep.ScannerName != "nmap" || rep.ScannerVersion == "" || rep.StartedAt.IsZero() || rep.FinishedAt.Before(rep.StartedAt) {
		t.Errorf("scanner %q %q %v %v", rep.ScannerName, rep.ScannerVersion, rep.StartedAt, rep.FinishedAt)
	}
}

func asset(rep *importers.Report, key string) *importers.Asset {
	for i := range rep.Assets {
		if rep.Assets[i].Key == key {
			return &rep.Assets[i]
		}
	}
	return nil
}

func TestFieldsSubnet(t *testing.T) {
	rep := importertest.ParseFile(t, New(), filepath.Join(importertest.Testdata(t), "nmap", "nmap_A_subnet_256hosts.xml"))
	// xmllint --xpath '/nmaprun/host[address/@addr="192.168.1.1"]/address/@addr | …/os/osmatch/@name'
	a := asset(rep, "ip:192.168.1.1")
	if a == nil {
		t.Fatal("no asset for 192.168.1.1")
	}
	if strings.Join(a.MACs, ",") != "6C:2E:85:19:AF:00" || a.OS != "Linux 2.6.13 (embedded)" || a.Name != "192.168.1.1" {
		t.Errorf("asset = %+v", a)
	}
	if asset(rep, "ip:192.168.1.4") != nil {
		t.Error("a down host became an asset")
	}
	macs := 0
	for _, a := range rep.Assets {
		macs += len(a.MACs)
	}
	// xmllint --xpath 'count(/nmaprun/host[status/@state="up"]/address[@addrtype="mac"])' → 3
	if macs != 3 {
		t.Errorf("MACs = %d, want 3", macs)
	}
}

func TestFieldsHostnames(t *testing.T) {
	rep := importertest.ParseFile(t, New(), filepath.Join(importertest.Testdata(t), "nmap", "nmap_Pn_2hosts_multihostname.xml"))
	a := asset(rep, "ip:172.217.18.238")
	if a == nil || strings.Join(a.Hostnames, ",") != "google.com,par10s10-in-f238.1e100.net,lalala" || a.Name != "google.com" {
		t.Errorf("asset = %+v", a)
	}
}

func TestFieldsVulners(t *testing.T) {
	rep := importertest.ParseFile(t, New(), filepath.Join(importertest.Testdata(t), "nmap", "nmap_sV_vulners_1host_25ports.xml"))
	a := asset(rep, "ip:10.250.195.71")
	if a == nil {
		t.Fatal("no asset")
	}
	var ssh *importers.Service
	for i := range a.Services {
		if a.Services[i].Port == 22 {
			ssh = &a.Services[i]
		}
	}
	// xmllint --xpath '/nmaprun/host/ports/port[@portid="22"]/service/@* | …/cpe/text()'
	if ssh == nil || ssh.Protocol != "tcp" || ssh.State != "open" || ssh.Name != "ssh" || ssh.Product != "OpenSSH" ||
		ssh.Version != "7.4" || strings.Join(ssh.CPEs, ",") != "cpe:/a:openbsd:openssh:7.4" {
		t.Errorf("ssh = %+v", ssh)
	}
	var f *importers.Finding
	for i := range rep.Findings {
		if strings.Join(rep.Findings[i].CVEs, ",") == "CVE-2019-6111" {
			f = &rep.Findings[i]
		}
	}
	if f == nil {
		t.Fatal("no CVE-2019-6111 finding")
	}
	if f.Location.Host != "10.250.195.71" || f.Location.Port != 22 || f.Location.Protocol != "tcp" ||
		f.Severity != importers.Medium || f.ScannerSeverity != "5.8" || *f.CVSS[0].Score != 5.8 ||
		f.Component == nil || f.Component.Name != "OpenSSH" || f.Component.Version != "7.4" {
		t.Errorf("finding = %+v", f)
	}
	// 18 exploit entries name CVE-2019-6111 (MSF:ILITIES/…-CVE-2019-6111/): references besides the CVE page.
	if f.References[0] != "https://vulners.com/cve/CVE-2019-6111" || len(f.References) != 19 {
		t.Errorf("references (%d): %v", len(f.References), f.References[:1])
	}
}

func TestFieldsVulnsLibrary(t *testing.T) {
	rep := importertest.ParseFile(t, New(), filepath.Join(importertest.Testdata(t), "nmap", "nmap_sV_O_scripts_dionaea.xml"))
	var ms17, dp *importers.Finding
	for i := range rep.Findings {
		switch rep.Findings[i].RuleID {
		case "smb-vuln-ms17-010":
			ms17 = &rep.Findings[i]
		case "smb-double-pulsar-backdoor":
			dp = &rep.Findings[i]
		}
	}
	if ms17 == nil || dp == nil {
		t.Fatal("missing vulns-library findings")
	}
	if strings.Join(ms17.CVEs, ",") != "CVE-2017-0143" || ms17.Severity != importers.High || ms17.ScannerSeverity != "HIGH" ||
		ms17.Location.Host != "172.28.1.3" || ms17.Location.Port != 0 || len(ms17.References) != 3 ||
		!strings.HasPrefix(ms17.Title, "Remote Code Execution vulnerability in Microsoft SMBv1") {
		t.Errorf("ms17-010 = %+v", ms17)
	}
	if dp.Severity != importers.Critical || len(dp.CVSS) != 1 || dp.CVSS[0].Vector != "AV:N/AC:L/Au:N/C:C/I:C/A:C" || dp.CVSS[0].Version != "2.0" {
		t.Errorf("double pulsar = %+v", dp)
	}
}

const small = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<nmaprun scanner="nmap" version="7.94" start="1700000000">
<host><status state="up"/><address addr="10.0.0.1" addrtype="ipv4"/><address addr="aa:bb:cc:dd:ee:ff" addrtype="mac"/>
<ports>
<port protocol="tcp" portid="80"><state state="open"/><service name="http" product="nginx" version="1.0"/>
<script id="vulners" output="&#xa;  cpe:/a:nginx:nginx:1.0: &#xa;    &#x9;CVE-2021-23017&#x9;7.5&#x9;https://vulners.com/cve/CVE-2021-23017&#xa;    &#x9;EDB-ID:50973&#x9;7.5&#x9;https://vulners.com/exploitdb/EDB-ID:50973&#x9;*EXPLOIT*&#xa;    &#x9;PACKETSTORM:1-CVE-2021-23017&#x9;7.5&#x9;https://vulners.com/packetstorm/PACKETSTORM:1-CVE-2021-23017&#x9;*EXPLOIT*&#xa;"/>
</port>
<port protocol="tcp" portid="443"><state state="open"/><service name="https" product="nginx" version="1.0"/>
<script id="vulners" output="&#xa;  cpe:/a:nginx:nginx:1.0: &#xa;    &#x9;CVE-2021-23017&#x9;7.5&#x9;https://vulners.com/cve/CVE-2021-23017&#xa;"/>
<script id="ssl-heartbleed" output="&#xa;  VULNERABLE:&#xa;  The Heartbleed Bug is a serious vulnerability in the popular OpenSSL cryptographic software library.&#xa;    State: VULNERABLE&#xa;    Risk factor: High&#xa;    IDs:  CVE:CVE-2014-0160&#xa;    References:&#xa;      https://heartbleed.com/&#xa;"/>
<script id="http-vuln-cve2011-3192" output="&#xa;  NOT VULNERABLE:&#xa;  Apache byterange filter DoS&#xa;    State: NOT VULNERABLE&#xa;"/>
</port>
</ports></host>
<host><status state="down"/><address addr="10.0.0.2" addrtype="ipv4"/></host>
<host><status state="up"/><address addr="10.0.0.1" addrtype="ipv4"/><hostnames><hostname name="one.example"/></hostnames>
<ports><port protocol="udp" portid="53"><state state="open|filtered"/></port></ports></host>
<runstats><finished time="1700000100"/></runstats>
</nmaprun>`

func TestTextOutputAndMerging(t *testing.T) {
	rep := importertest.MustParseString(t, New(), small)
	check(t, rep)
	if len(rep.Assets) != 1 {
		t.Fatalf("assets = %+v, want the two 10.0.0.1 hosts merged", rep.Assets)
	}
	a := rep.Assets[0]
	if len(a.Services) != 3 || strings.Join(a.Hostnames, ",") != "one.example" || strings.Join(a.MACs, ",") != "AA:BB:CC:DD:EE:FF" {
		t.Errorf("asset = %+v", a)
	}
	if len(rep.Findings) != 3 {
		t.Fatalf("findings = %d, want 3 (CVE-2021-23017 on 80 and 443, heartbleed)", len(rep.Findings))
	}
	f80, f443, hb := rep.Findings[0], rep.Findings[1], rep.Findings[2]
	if f80.Fingerprint == f443.Fingerprint || f80.Location.Port != 80 || f443.Location.Port != 443 {
		t.Error("the same CVE on two ports is not two findings")
	}
	if len(f80.References) != 2 || f80.References[1] != "https://vulners.com/packetstorm/PACKETSTORM:1-CVE-2021-23017" {
		t.Errorf("references %v", f80.References)
	}
	if strings.Join(hb.CVEs, ",") != "CVE-2014-0160" || hb.Severity != importers.High || hb.RuleID != "ssl-heartbleed" ||
		len(hb.References) != 1 || !strings.HasPrefix(hb.Title, "The Heartbleed Bug") {
		t.Errorf("heartbleed = %+v", hb)
	}
	if rep.FinishedAt.Sub(rep.StartedAt).Seconds() != 100 {
		t.Errorf("times %v %v", rep.StartedAt, rep.FinishedAt)
	}
}

func TestFingerprintAcrossHosts(t *testing.T) {
	one := importertest.MustParseString(t, New(), small)
	two := importertest.MustParseString(t, New(), strings.ReplaceAll(small, "10.0.0.1", "10.0.0.9"))
	if one.Findings[0].Fingerprint == two.Findings[0].Fingerprint {
		t.Error("the same finding on two hosts: same fingerprint")
	}
}

func TestLatin1(t *testing.T) {
	rep := importertest.MustParseString(t, New(), "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><nmaprun><host><address addr=\"10.0.0.1\" addrtype=\"ipv4\"/><os><osmatch name=\"caf\xe9\" accuracy=\"90\"/></os></host></nmaprun>")
	if rep.Assets[0].OS != "café" {
		t.Errorf("OS %q", rep.Assets[0].OS)
	}
}

// TestTarget: the report's target is the command line, which names what was scanned.
func TestTarget(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "nmap_A_subnet_256hosts.xml"))
	if rep.Target == nil || rep.Target.Name != "nmap -A -vv -oX full_sudo6.xml 192.168.1.0/24" || rep.Target.Hint != "scan" {
		t.Errorf("target %+v", rep.Target)
	}
}
