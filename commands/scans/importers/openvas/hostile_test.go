package openvas

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

func doc(results, hosts string) string {
	return `<report id="o" format_id="a994b278-1f62-11e1-96ac-406186ea4fc5"><report id="i"><gmp><version>22.4</version></gmp>` +
		`<ports><port>general/tcp<host>10.0.0.9</host></port></ports>` +
		`<results>` + results + `</results>` + hosts + `<scan_start>2025-01-02T03:04:05Z</scan_start></report></report>`
}

func result(host, port, oid, severity, threat, extra string) string {
	return `<result id="r"><name>n</name><host>` + host + `<asset asset_id=""/><hostname>h.example</hostname></host><port>` + port +
		`</port><nvt oid="` + oid + `"><name>NVT ` + oid + `</name><cvss_base>5.0</cvss_base><tags>cvss_base_vector=AV:N/AC:L/Au:N/C:P/I:N/A:N|summary=S|insight=I|solution=Fix it|solution_type=VendorFix</tags>` +
		`<refs><ref type="cve" id="CVE-2020-0001"/><ref type="url" id="https://x.example"/><ref type="cwe" id="CWE-79"/></refs>` + extra + `</nvt>` +
		`<threat>` + threat + `</threat><severity>` + severity + `</severity><description>D ` + oid + `</description></result>`
}

func TestHandmade(t *testing.T) {
	in := doc(
		result("10.0.0.1", "443/tcp", "1.2", "5.0", "Medium", "")+
			result("10.0.0.1", "443/tcp", "1.2", "5.0", "Medium", "")+ // repeat: merged
			result("10.0.0.1", "general/tcp", "1.3", "0.0", "Log", "")+
			result("10.0.0.2", "80/tcp", "1.2", "-1", "False Positive", "")+
			result("10.0.0.2", "22/tcp", "1.4", "", "High", ""),
		`<host><ip>10.0.0.1</ip><detail><name>best_os_txt</name><value>Debian 12</value></detail>`+
			`<detail><name>MAC</name><value>00:11:22:aa:bb:cc</value></detail><detail><name>hostname</name><value>one.example</value></detail></host>`)
	rep := spec.MustParse(t, New(), in)
	if len(rep.Assets) != 2 || len(rep.Findings) != 4 {
		t.Fatalf("assets %d, findings %d", len(rep.Assets), len(rep.Findings))
	}
	a := rep.Assets[0]
	if a.OS != "Debian 12" || strings.Join(a.MACs, ",") != "00:11:22:AA:BB:CC" || strings.Join(a.Hostnames, ",") != "h.example,one.example" || a.Name != "h.example" {
		t.Errorf("asset = %+v", a)
	}
	f := rep.Findings[0]
	if f.Severity != "medium" || f.ScannerSeverity != "Medium (5.0)" || f.Remediation != "Fix it" || f.Description != "S\n\nInsight: I" ||
		strings.Join(f.CWEs, ",") != "CWE-79" || strings.Join(f.References, ",") != "https://x.example" || f.Evidence != "D 1.2" ||
		len(f.CVSS) != 1 || f.CVSS[0].Version != "2.0" || f.CVSS[0].Vector != "AV:N/AC:L/Au:N/C:P/I:N/A:N" || *f.CVSS[0].Score != 5 {
		t.Errorf("finding = %+v", f)
	}
	if f.Fingerprint != parseutil.FingerprintCanonical("openvas/v1", "10.0.0.1", "1.2", "443/tcp") {
		t.Error("fingerprint does not follow the documented rule")
	}
	if g := rep.Findings[1]; g.Severity != "info" || g.Location.Port != 0 || g.Location.Protocol != "tcp" {
		t.Errorf("log result = %+v", g)
	}
	if g := rep.Findings[2]; g.VEXState != "false_positive" || g.Severity != "info" || g.AssetKey != "host:10.0.0.2" {
		t.Errorf("false positive = %+v", g)
	}
	if g := rep.Findings[3]; g.Severity != "high" || g.ScannerSeverity != "High" {
		t.Errorf("threat only = %+v", g)
	}
	if rep.StartedAt.Format("2006-01-02T15:04:05Z") != "2025-01-02T03:04:05Z" {
		t.Errorf("StartedAt = %v", rep.StartedAt)
	}

	// get_reports_response wrapper, and OMP 6 era <cve>/<xref>/<cert>.
	old := `<get_reports_response status="200"><report id="x"><report id="x"><omp><version>6.0</version></omp><results><result>` +
		`<host>10.1.1.1</host><port>21/tcp</port><nvt oid="1.5"><name>Old</name><cvss_base>7.5</cvss_base><cve>CVE-2011-0001, CVE-2011-0002</cve>` +
		`<xref>URL:http://a.example, URL:http://b.example</xref><cert><cert_ref id="CB-K15/0001" type="CERT-Bund"/></cert>` +
		`<tags>cvss_base_vector=AV:N/AC:L/Au:N/C:P/I:P/A:P|summary=old</tags></nvt><threat>High</threat><severity>7.5</severity></result></results></report></report></get_reports_response>`
	rep = importertest.MustParseString(t, New(), old)
	f = rep.Findings[0]
	if strings.Join(f.CVEs, ",") != "CVE-2011-0001,CVE-2011-0002" || strings.Join(f.References, ",") != "http://a.example,http://b.example,CB-K15/0001" || f.Severity != "high" {
		t.Errorf("old finding = %+v", f)
	}
}

func TestFieldBounds(t *testing.T) {
	big := strings.Repeat("ü", 100<<10)
	importertest.FieldsCut(t, New(), doc(`<result><host>10.0.0.1</host><port>1/tcp</port><nvt oid="1"><tags>summary=`+strings.Repeat("y", 3<<20)+`</tags></nvt><description>`+big+`</description></result>`, ""))
}
