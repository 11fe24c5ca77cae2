package zap

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

const jsonDoc = `{"@programName":"ZAP","@version":"2.14.0","@generated":"Mon, 1 Jan 2024 10:00:00","site":[` +
	`{"@name":"https://a.example","@host":"a.example","@port":443,"@ssl":true,"alerts":[` +
	`{"pluginid":"10020","alertRef":"10020-1","alert":"Missing Anti-clickjacking Header","riskcode":"2","confidence":"2",` +
	`"riskdesc":"Medium (Medium)","desc":"<p>The response does not protect &amp; more.</p>","instances":[` +
	`{"id":"1","uri":"https://a.example/","method":"get","param":"x-frame-options","attack":"","evidence":"","otherinfo":"",` +
	`"request-header":"GET / HTTP/1.1","response-body":"<html>"},` +
	`{"uri":"https://a.example/b","method":"GET","param":"","evidence":"e"}],` +
	`"count":"2","solution":"<p>Set it.</p>","otherinfo":"<p>alert level</p>","reference":"<p>https://r.example/1</p><p>https://r.example/2</p>",` +
	`"cweid":"1021","wascid":"15","sourceid":"10","tags":{"CWE-1021":"https://cwe.mitre.org/data/definitions/1021.html"}},` +
	`{"pluginid":"10096","alert":"Timestamp","riskcode":0,"confidence":0,"riskdesc":"Informational (False Positive)","cweid":"-1","wascid":"0"}` +
	`]}],"insights":[{"level":"Info","reason":"x","site":"","key":"k","description":"d","statistic":"1"}]}`

func TestHandmadeJSON(t *testing.T) {
	rep := spec.MustParse(t, New(), jsonDoc)
	if rep.ScannerName != "ZAP" || rep.ScannerVersion != "2.14.0" || rep.FinishedAt.Format("2006-01-02 15:04") != "2024-01-01 10:00" {
		t.Errorf("report = %+v", rep)
	}
	a := rep.Assets[0]
	if a.Key != "site:https://a.example" || a.Services[0].Name != "https" || a.Services[0].Port != 443 || strings.Join(a.Hostnames, ",") != "a.example" {
		t.Errorf("asset = %+v", a)
	}
	if len(rep.Findings) != 3 {
		t.Fatalf("findings = %d", len(rep.Findings))
	}
	f := rep.Findings[0]
	if f.RuleID != "10020-1" || f.Severity != "medium" || f.Description != "The response does not protect & more." || f.Remediation != "Set it." ||
		strings.Join(f.CWEs, ",") != "CWE-1021" || strings.Join(f.References, ",") != "https://r.example/1,https://r.example/2,WASC-15" ||
		f.Location.Method != "GET" || f.Location.Param != "x-frame-options" || f.Evidence != "Other info: alert level" {
		t.Errorf("finding = %+v", f)
	}
	if f.Fingerprint != parseutil.FingerprintCanonical("zap/v1", "https://a.example", "10020-1", "GET", "https://a.example/", "x-frame-options") {
		t.Error("fingerprint does not follow the documented rule")
	}
	// An alert without instances is one finding; confidence 0 is a false positive; cweid -1 is none.
	g := rep.Findings[2]
	if g.RuleID != "10096" || g.Severity != "info" || g.VEXState != "false_positive" || len(g.CWEs) != 0 || len(g.References) != 0 {
		t.Errorf("finding = %+v", g)
	}
}

func TestHandmadeXML(t *testing.T) {
	// Pre-2.7 layout: instance fields directly in the alertitem; site without a name.
	in := `<?xml version="1.0"?><OWASPZAPReport version="2.5.0" generated="Tue, 1 Mar 2016 10:00:00"><site host="10.0.0.5" port="8080" ssl="false"><alerts>` +
		`<alertitem><pluginid>40018</pluginid><alert>SQL Injection</alert><riskcode>3</riskcode><confidence>2</confidence>` +
		`<riskdesc>High (Medium)</riskdesc><desc>&lt;p&gt;SQL&lt;/p&gt;</desc><uri>http://10.0.0.5:8080/a?id=1</uri><param>id</param>` +
		`<attack>1 OR 1=1</attack><evidence>You have an error</evidence><reference>https://r.example/sqli
		https://r.example/more</reference><cweid>89</cweid><wascid>19</wascid></alertitem></alerts></site></OWASPZAPReport>`
	rep := spec.MustParse(t, New(), in)
	a := rep.Assets[0]
	if a.Key != "site:http://10.0.0.5:8080" || strings.Join(a.IPs, ",") != "10.0.0.5" {
		t.Errorf("asset = %+v", a)
	}
	f := rep.Findings[0]
	if f.Severity != "high" || f.Description != "SQL" || f.Location.URL != "http://10.0.0.5:8080/a?id=1" || f.Location.Param != "id" ||
		f.Evidence != "You have an error\nAttack: 1 OR 1=1" || strings.Join(f.References, ",") != "https://r.example/sqli,https://r.example/more,WASC-19" ||
		strings.Join(f.CWEs, ",") != "CWE-89" {
		t.Errorf("finding = %+v", f)
	}
}

func TestFieldBounds(t *testing.T) {
	in := `{"site":[{"@name":"http://a","alerts":[{"pluginid":"1","riskcode":"1","desc":"` + strings.Repeat("d", 3<<20) +
		`","instances":[{"uri":"http://a/","method":"GET","evidence":"` + strings.Repeat("€", 100<<10) + `"}]}]}]}`
	importertest.FieldsCut(t, New(), in)
}
