package acunetix

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

func parse(t *testing.T, p importers.Parser, in string) *importers.Report {
	t.Helper()
	rep := importertest.MustParseString(t, p, in)
	return rep
}

func TestWVSFields(t *testing.T) {
	rep := parse(t, New(), wvsDoc)
	if a := rep.Assets[0]; a.Key != "site:http://testsite.example" || a.BaseURL != "http://testsite.example" || a.Kind != importers.WebApplication ||
		!slices.Equal(a.Hostnames, []string{"testsite.example"}) {
		t.Errorf("asset = %+v", a)
	}
	f := rep.Findings[0]
	score := func(c importers.CVSS) float64 {
		if c.Score == nil {
			return -1
		}
		return *c.Score
	}
	if f.RuleID != "Scripting (Blind_Sql_Injection.script)" || f.Title != "Blind SQL Injection" || f.Severity != importers.High ||
		f.Location != (importers.Location{URL: "http://testsite.example/artists.php", Param: "id"}) ||
		!slices.Equal(f.CWEs, []string{"CWE-89"}) || !slices.Equal(f.CVEs, []string{"CVE-2014-0001"}) ||
		len(f.CVSS) != 2 || f.CVSS[0].Version != "2.0" || score(f.CVSS[0]) != 7.5 || f.CVSS[1].Version != "3.0" || score(f.CVSS[1]) != 9.8 ||
		f.Description != "SQL injection is a vulnerability." || f.Remediation != "Use parameterized queries." ||
		!slices.Equal(f.References, []string{"https://owasp.org/www-community/attacks/SQL_Injection"}) ||
		f.Evidence != "URL encoded GET input id was set to 1 AND 1=1\n\nRequest:\nGET /artists.php?id=1 HTTP/1.1\n\nResponse:\nHTTP/1.1 200 OK" ||
		f.Suppressed != nil {
		t.Errorf("finding = %+v", f)
	}
	fp := rep.Findings[1]
	if fp.Location.URL != "http://testsite.example" || fp.Suppressed == nil || fp.Suppressed.Kind != importers.SuppressedFalsePositive {
		t.Errorf("false positive = %+v", fp)
	}
}

// TestWVSDecimalComma: the commas-format export writes its CVSS3 score "5,3".
func TestWVSDecimalComma(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, format, "acunetix_commas_format.xml"))
	f := rep.Findings[0]
	// grep -A2 '<CVSS3>' FILE
	i := slices.IndexFunc(f.CVSS, func(c importers.CVSS) bool { return c.Version == "3.0" })
	if i < 0 || f.CVSS[i].Vector != "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L" || f.CVSS[i].Score == nil || *f.CVSS[i].Score != 5.3 {
		t.Errorf("CVSS = %+v", f.CVSS)
	}
	if rep.StartedAt.Format("2006-01-02T15:04:05") != "2016-09-20T16:37:38" || rep.Assets[0].BaseURL != "http://10.0.185.97" {
		t.Errorf("started %v, asset %+v", rep.StartedAt, rep.Assets[0])
	}
}

// TestWVSFingerprint: the details, request and response change between scans (timings,
// payloads); the finding must not.
func TestWVSFingerprint(t *testing.T) {
	fp := func(details, param string) string {
		return parse(t, New(), wvs(`<ReportItem><Name>n</Name><ModuleName>m</ModuleName><Affects>/a</Affects><Parameter>`+param+`</Parameter><Details>`+details+`</Details><Severity>low</Severity></ReportItem>`)).Findings[0].Fingerprint
	}
	if fp("took 10016 ms", "p") != fp("took 10512 ms", "p") {
		t.Error("the details change the fingerprint")
	}
	if fp("x", "p") == fp("x", "q") {
		t.Error("the parameter does not change the fingerprint")
	}
}

func Test360XMLStates(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, format, "acunetix360_own_states.xml"))
	byType := func(typ string) *importers.Finding {
		return importertest.First(rep, func(f *importers.Finding) bool { return f.RuleID == typ })
	}
	sql := byType("SqlInjection")
	if sql == nil || sql.Severity != importers.Critical || sql.Suppressed != nil || len(sql.CVSS) != 2 || sql.CVSS[1].Version != "3.1" ||
		sql.CVSS[1].Score == nil || *sql.CVSS[1].Score != 9.8 || !slices.Equal(sql.CWEs, []string{"CWE-89"}) ||
		sql.Location.Method != "GET" || !strings.HasPrefix(sql.Evidence, "Request:\nGET /products?id=3%27 HTTP/1.1") ||
		sql.Description != "Acunetix 360 identified an SQL injection.\n\nAn attacker can read the database." ||
		!slices.Contains(sql.References, "https://online.acunetix360.com/issues/detail/11111111-2222-4333-8444-555555555555") {
		t.Errorf("SqlInjection = %+v", sql)
	}
	if f := byType("MissingXFrameOptionsHeader"); f == nil || f.Suppressed == nil || f.Suppressed.Kind != importers.SuppressedFalsePositive || f.Suppressed.Reason != "State Present, FalsePositive" {
		t.Errorf("false positive = %+v", f)
	}
	if f := byType("PasswordOverHttp"); f == nil || f.Suppressed == nil || f.Suppressed.Kind != importers.SuppressedResolved || !slices.Equal(f.CWEs, []string{"CWE-319", "CWE-523"}) {
		t.Errorf("fixed = %+v", f)
	}
	if f := byType("ContentSecurityPolicyNotImplemented"); f == nil || f.Severity != importers.Info || f.ScannerSeverity != "BestPractice (certainty 100)" {
		t.Errorf("best practice = %+v", f)
	}
}

// TestRefusedSample: the shared Acunetix 360 sample closes one </vulnerability> too many; the
// error says so and where.
func TestRefusedSample(t *testing.T) {
	rep, err := importertest.ParseString(New(), mustRead(t, importertest.File(t, format, "acunetix360_testsparker.xml")))
	if err == nil {
		t.Fatalf("accepted: %d findings", len(rep.Findings))
	}
	pe := importertest.WantParseError(t, err, format, "malformed XML")
	if pe.Line != 278 || !strings.Contains(pe.Msg, "vulnerabilities") {
		t.Errorf("%v: want line 278 and the unclosed element named", pe)
	}
}

func Test360JSONFields(t *testing.T) {
	rep := importertest.ParseFile(t, New360JSON(), importertest.File(t, format360, "acunetix360_own_scan.json"))
	if a := rep.Assets[0]; a.BaseURL != "https://portal.example.net" || rep.Target.Name != "https://portal.example.net" ||
		rep.FinishedAt.Format("2006-01-02T15:04") != "2024-05-02T09:30" {
		t.Errorf("asset %+v target %+v finished %v", a, rep.Target, rep.FinishedAt)
	}
	x := rep.Findings[0]
	if x.RuleID != "XssReflected" || x.Severity != importers.High || x.ScannerSeverity != "High (certainty 100)" ||
		len(x.CVSS) != 2 || x.CVSS[0].Vector != "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N" || *x.CVSS[0].Score != 6.1 ||
		!slices.Equal(x.CWEs, []string{"CWE-79"}) || x.Remediation != "Encode output.\n\nEncode every value written to a page for its context." ||
		!slices.Contains(x.References, "https://owasp.org/www-community/attacks/xss/") ||
		!strings.Contains(x.Evidence, "Response:\nHTTP/1.1 200 OK") {
		t.Errorf("XSS = %+v", x)
	}
	if c := rep.Findings[1]; c.Suppressed == nil || c.Suppressed.Kind != importers.SuppressedAccepted || len(c.CVSS) != 0 {
		t.Errorf("accepted = %+v", c)
	}
}

// TestSameIssueXMLAndJSON: the two Acunetix 360 exports describe an issue alike.
func TestSameIssueXMLAndJSON(t *testing.T) {
	x := parse(t, New(), `<acunetix-360><target><url>https://a.example/</url></target><vulnerabilities><vulnerability><type>T</type><url>https://a.example/p</url><severity>Medium</severity><state>Present, AcceptedRisk</state><classification><cwe>79</cwe></classification></vulnerability></vulnerabilities></acunetix-360>`)
	j := parse(t, New360JSON(), `{"Target":{"Url":"https://a.example/"},"Vulnerabilities":[{"Type":"T","Url":"https://a.example/p","Severity":"Medium","State":"Present, AcceptedRisk","Classification":{"Cwe":"79"}}]}`)
	a, b := x.Findings[0], j.Findings[0]
	if a.Fingerprint != b.Fingerprint || a.Severity != b.Severity || !slices.Equal(a.CWEs, b.CWEs) || *a.Suppressed != *b.Suppressed || a.AssetKey != b.AssetKey {
		t.Errorf("XML %+v\nJSON %+v", a, b)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCookieItemsKeptApart: Acunetix reports a cookie check once per cookie, all at one Affects
// with no Parameter; the cookie its Details sets tells them apart (and is the Parameter), so
// six cookies are six findings, not one.
func TestCookieItemsKeptApart(t *testing.T) {
	item := func(cookie string) string {
		return `<ReportItem><Name>Cookie(s) without HttpOnly flag set</Name><ModuleName>/RPA/Cookie_Without_HttpOnly.js</ModuleName>` +
			`<Details>Set-Cookie: ` + cookie + `=x;Path=/</Details><Affects>/</Affects><Parameter></Parameter><Severity>low</Severity></ReportItem>`
	}
	rep := importertest.MustParseString(t, New(), wvs(item("JSESSIONID")+item("AUTH_TOKEN")+item("JSESSIONID")))
	if len(rep.Findings) != 2 || rep.Findings[0].Location.Param != "JSESSIONID" || rep.Findings[1].Location.Param != "AUTH_TOKEN" {
		t.Fatalf("findings %+v", rep.Findings)
	}
}
