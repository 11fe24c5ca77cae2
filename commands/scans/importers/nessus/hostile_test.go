package nessus

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

func doc(hostProps, items string) string {
	return `<?xml version="1.0" ?><NessusClientData_v2><Policy><policyName>p</policyName></Policy>` +
		`<Report name="r" xmlns:cm="http://www.nessus.org/cm"><ReportHost name="10.0.0.1"><HostProperties>` + hostProps +
		`</HostProperties>` + items + `</ReportHost></Report></NessusClientData_v2>`
}

const okItem = `<ReportItem port="443" svc_name="www" protocol="tcp" severity="3" pluginID="1" pluginName="p">` +
	`<cvss3_vector>AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H</cvss3_vector><cvss3_base_score>9.8</cvss3_base_score>` +
	`<cvss4_vector>AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N</cvss4_vector><cvss4_base_score>9.3</cvss4_base_score>` +
	`<cvss_vector>CVSS2#AV:N/AC:L/Au:N/C:C/I:C/A:C</cvss_vector><cvss_base_score>10.0</cvss_base_score>` +
	`<cwe>79</cwe><xref>CWE:89</xref><cve>cve-2024-0001</cve><see_also>https://a.example/1
	https://a.example/2</see_also><solution>n/a</solution><synopsis>syn</synopsis></ReportItem>`

func TestHandmade(t *testing.T) {
	rep, err := importertest.ParseString(New(), doc(`<tag name="host-ip">10.0.0.1</tag><tag name="mac-address">00:50:56:81:01:e3
00-50-56-81-01-E4
nonsense</tag><tag name="operating-system">Linux 5
Linux 6</tag><tag name="netbios-name">WS1</tag>`, okItem+
		`<ReportItem port="0" protocol="tcp" severity="0" pluginID="21156" pluginName="Windows Compliance Checks">`+
		`<cm:compliance-check-name>1.1 Password history</cm:compliance-check-name><cm:compliance-check-id>abc</cm:compliance-check-id>`+
		`<cm:compliance-result>FAILED</cm:compliance-result></ReportItem>`+
		`<ReportItem port="0" protocol="tcp" severity="0" pluginID="21156" pluginName="Windows Compliance Checks">`+
		`<cm:compliance-check-name>1.2 Lockout</cm:compliance-check-name><cm:compliance-check-id>def</cm:compliance-check-id></ReportItem>`))
	if err != nil {
		t.Fatal(err)
	}
	spec.Verify(t, rep)
	a := rep.Assets[0]
	if strings.Join(a.MACs, ",") != "00:50:56:81:01:E3,00:50:56:81:01:E4" || a.OS != "Linux 5; Linux 6" || a.Name != "WS1" {
		t.Errorf("asset = %+v", a)
	}
	if len(rep.Findings) != 3 {
		t.Fatalf("findings = %d, want 3 (two compliance checks stay apart)", len(rep.Findings))
	}
	f := rep.Findings[0]
	if f.Severity != "high" || f.ScannerSeverity != "3" || f.Remediation != "" || f.Description != "syn" ||
		strings.Join(f.CWEs, ",") != "CWE-79,CWE-89" || strings.Join(f.CVEs, ",") != "CVE-2024-0001" || len(f.References) != 2 {
		t.Errorf("finding = %+v", f)
	}
	want := map[string]string{"4.0": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "3.0": "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "2.0": "AV:N/AC:L/Au:N/C:C/I:C/A:C"}
	for _, c := range f.CVSS {
		if want[c.Version] != c.Vector || c.Source != "nessus" {
			t.Errorf("CVSS %+v", c)
		}
		delete(want, c.Version)
	}
	if len(want) != 0 {
		t.Errorf("missing CVSS %v", want)
	}
	if c := rep.Findings[1]; c.Title != "1.1 Password history" || !strings.HasPrefix(c.Evidence, "Result: FAILED") {
		t.Errorf("compliance finding = %+v", c)
	}
	// Fingerprint rule, as documented.
	if f.Fingerprint != parseutil.FingerprintCanonical("nessus/v1", "10.0.0.1", "1", "443", "tcp") {
		t.Errorf("fingerprint does not follow the documented rule")
	}
}

func TestFieldBounds(t *testing.T) {
	big := strings.Repeat("é", 300<<10) // 600 KiB of two-byte runes
	huge := strings.Repeat("x", 3<<20)
	importertest.FieldsCut(t, New(), doc("", `<ReportItem port="1" protocol="tcp" severity="1" pluginID="9">`+
		`<plugin_output>`+big+`</plugin_output><description>`+huge+`</description></ReportItem>`))
}

func TestLatin1(t *testing.T) {
	in := "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>" + doc("", `<ReportItem pluginID="1" port="1" severity="1"><description>caf`+"\xe9"+`</description></ReportItem>`)[len(`<?xml version="1.0" ?>`):]
	rep := importertest.MustParseString(t, New(), in)
	if rep.Findings[0].Description != "café" {
		t.Errorf("description = %q", rep.Findings[0].Description)
	}
}
