package zap

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/internal/testsupport"
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
	rep, err := testsupport.ParseString(New(), jsonDoc)
	if err != nil {
		t.Fatal(err)
	}
	testsupport.CheckReport(t, rep, format, bounds)
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
	rep, err := testsupport.ParseString(New(), in)
	if err != nil {
		t.Fatal(err)
	}
	testsupport.CheckReport(t, rep, format, bounds)
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

func TestHostile(t *testing.T) {
	alert := func(fields string) string {
		return `{"site":[{"@name":"http://a","@host":"a","@port":"80","alerts":[{"pluginid":"1","riskcode":"1",` + fields + `}]}]}`
	}
	for name, tc := range map[string]struct{ in, msg string }{
		"empty":             {"", "empty input"},
		"array":             {`[1,2]`, "not a ZAP report"},
		"no site":           {`{"@version":"2.9.0"}`, "no \"site\""},
		"site string":       {`{"site":"x"}`, "want an array or object"},
		"truncated json":    {jsonDoc[:len(jsonDoc)/2], "truncated"},
		"trailing data":     {`{"site":[]} {"site":[]}`, "after the end"},
		"syntax":            {`{"site":[}`, "malformed JSON"},
		"invalid utf-8":     {alert(`"alert":"a` + "\xc3\x28" + `"`), "UTF-8"},
		"riskcode range":    {alert(`"x":1,"riskcode":"7"`), "riskcode"},
		"riskcode overflow": {alert(`"riskcode":99999999999999999999999`), "riskcode"},
		"confidence":        {alert(`"confidence":"9"`), "confidence"},
		"cweid junk":        {alert(`"cweid":"79abc"`), "cweid"},
		"cweid float":       {alert(`"cweid":1e3`), "cweid"},
		"wascid range":      {alert(`"wascid":"123456789"`), "wascid"},
		"port":              {`{"site":[{"@name":"http://a","@port":"99999","alerts":[]}]}`, "port"},
		"object as scalar":  {alert(`"alert":{"a":1}`), "string or number"},
		"no pluginid":       {`{"site":[{"@name":"http://a","alerts":[{"riskcode":"1"}]}]}`, "pluginid"},
		"no site name":      {`{"site":[{"alerts":[]}]}`, "name or host"},
		"xml entity":        {`<!DOCTYPE OWASPZAPReport [<!ENTITY x "y">]><OWASPZAPReport>&x;</OWASPZAPReport>`, "entity"},
		"xml wrong root":    {`<nmaprun/>`, "not <OWASPZAPReport>"},
		"xml truncated":     {`<OWASPZAPReport><site name="x"><alerts><alertitem><pluginid>1`, "unexpected EOF"},
		"xml riskcode":      {`<OWASPZAPReport><site name="x"><alerts><alertitem><pluginid>1</pluginid><riskcode>4</riskcode></alertitem></alerts></site></OWASPZAPReport>`, "riskcode"},
		"xml invalid utf-8": {"<OWASPZAPReport><site name=\"x\"><alerts><alertitem><desc>\xff</desc></alertitem></alerts></site></OWASPZAPReport>", "UTF-8"},
		"text":              {`hello`, "not a ZAP report"},
	} {
		t.Run(name, func(t *testing.T) {
			rep, err := testsupport.ParseString(New(), tc.in)
			if err == nil {
				t.Fatalf("no error; report %+v", rep)
			}
			testsupport.WantParseError(t, err, format, tc.msg)
		})
	}
}

func TestFieldBounds(t *testing.T) {
	in := `{"site":[{"@name":"http://a","alerts":[{"pluginid":"1","riskcode":"1","desc":"` + strings.Repeat("d", 3<<20) +
		`","instances":[{"uri":"http://a/","method":"GET","evidence":"` + strings.Repeat("€", 100<<10) + `"}]}]}]}`
	rep, err := testsupport.ParseString(New(), in)
	if err != nil {
		t.Fatal(err)
	}
	f := rep.Findings[0]
	if len(f.Description) > parseutil.MaxField || !strings.HasSuffix(f.Description, parseutil.TruncMark) || len(f.Evidence) > parseutil.MaxEvidence || !strings.HasSuffix(f.Evidence, parseutil.TruncMark) {
		t.Errorf("description %d bytes, evidence %d bytes", len(f.Description), len(f.Evidence))
	}
}

func TestTruncatedTestdata(t *testing.T) {
	td := testsupport.SharedTestdata(t)
	files, _ := filepath.Glob(filepath.Join(td, format, "*"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, frac := range []float64{0.01, 0.33, 0.5, 0.9, 0.9999} {
			cut := data[:int(float64(len(data))*frac)]
			if _, err := New().Parse(context.Background(), bytes.NewReader(cut)); err == nil {
				t.Errorf("%s cut at %d bytes: no error", filepath.Base(file), len(cut))
			} else {
				testsupport.WantParseError(t, err, format, "")
			}
		}
	}
}

func TestDeepNesting(t *testing.T) {
	for name, tc := range map[string]struct{ prefix, pattern string }{
		"json bare":           {"", "["},
		"json skipped member": {`{"insights":`, "["},
		"json in a value":     {`{"site":[{"@name":"http://a","alerts":[{"pluginid":"1","alert":`, "["},
		"json objects":        {`{"x":`, `{"a":`},
		"xml":                 {"<OWASPZAPReport>", "<a>"},
		"xml bare":            {"", "<a>"},
	} {
		t.Run(name, func(t *testing.T) {
			var err error
			alloc := testsupport.Allocated(func() {
				_, err = New().Parse(context.Background(), &testsupport.PatternReader{Prefix: []byte(tc.prefix), Pattern: []byte(tc.pattern), N: 50 << 20})
			})
			pe := testsupport.WantParseError(t, err, format, "")
			t.Logf("%v; allocated %.1f MiB", pe, float64(alloc)/(1<<20))
			if alloc > 16<<20 {
				t.Errorf("allocated %d bytes for a refused input", alloc)
			}
		})
	}
}

func TestHugeValue(t *testing.T) {
	for name, tc := range map[string]struct{ prefix, suffix, msg string }{
		"json string":  {`{"site":[{"@name":"http://a","alerts":[{"pluginid":"1","desc":"`, `"}]}]}`, "larger than"},
		"json skipped": {`{"insights":"`, `"}`, "larger than"},
		"xml text":     {`<OWASPZAPReport><site name="x"><alerts><alertitem><desc>`, `</desc></alertitem></alerts></site></OWASPZAPReport>`, "without a '<'"},
	} {
		t.Run(name, func(t *testing.T) {
			var err error
			alloc := testsupport.Allocated(func() {
				_, err = New().Parse(context.Background(), &testsupport.PatternReader{Prefix: []byte(tc.prefix), Pattern: []byte("0123456789abcdef"), N: 50 << 20, Suffix: []byte(tc.suffix)})
			})
			pe := testsupport.WantParseError(t, err, format, tc.msg)
			t.Logf("%v; allocated %.1f MiB", pe, float64(alloc)/(1<<20))
			if alloc > 200<<20 {
				t.Errorf("allocated %d bytes", alloc)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New().Parse(ctx, strings.NewReader(jsonDoc)); !errors.Is(err, context.Canceled) {
		t.Errorf("pre-cancelled: err = %v", err)
	}
	for _, r := range []*testsupport.PatternReader{
		{Prefix: []byte(`{"site":[{"@name":"http://a","alerts":[{"pluginid":"1","instances":[`), Pattern: []byte(`{"uri":"http://a/","method":"GET"},`), N: 1 << 40},
		{Prefix: []byte(`<OWASPZAPReport><site name="x"><alerts><alertitem><instances>`), Pattern: []byte(`<instance><uri>u</uri></instance>`), N: 1 << 40},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { _, err := New().Parse(ctx, r); done <- err }()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("mid-stream: err = %v", err)
		}
	}
}
