package zap

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// Expected counts, computed with jq (JSON) and xmllint (XML) independently of this parser.
//
// JSON:
//
//	sites:     jq '[.site[]]|length' FILE
//	instances: jq '[.site[].alerts[].instances[]]|length' FILE
//	findings (distinct site, alertRef//pluginid, METHOD, uri, param) and their riskcodes:
//	  jq -r '.site[] as $s|$s.alerts[] as $a|$a.instances[]|[$s["@name"],($a.alertRef//$a.pluginid),
//	    (.method|ascii_upcase),.uri,(.param//""),$a.riskcode]|@json' FILE | sort -u |
//	    jq -s -c 'map(.[5])|group_by(.)|map({(.[0]):length})|add'
//
// XML:
//
//	sites:     xmllint --xpath 'count(//site)' FILE
//	instances: xmllint --xpath 'count(//instance)' FILE
//	findings and their riskcodes:
//	  n=$(xmllint --xpath 'count(//instance)' FILE); for i in $(seq 1 $n); do xmllint --xpath
//	    "concat((//instance)[$i]/ancestor::site/@name,'|',(//instance)[$i]/ancestor::alertitem/alertRef,'|',
//	    (//instance)[$i]/method,'|',(//instance)[$i]/uri,'|',normalize-space((//instance)[$i]/param),'|',
//	    (//instance)[$i]/ancestor::alertitem/riskcode)" FILE; echo; done | grep . | sort -u |
//	    awk -F'|' '{c[$NF]++} END {for (k in c) print k, c[k]}'
var testdataCounts = map[string]counts{
	"zap_2.10.0_first_scan.xml":    {1, 130, 129, map[importers.Severity]int{"info": 46, "low": 48, "medium": 30, "high": 5}},
	"zap_2.16.1_with_req_resp.xml": {1, 13, 13, map[importers.Severity]int{"info": 13}},
	"zap_2.8.0_juice-shop.json":    {1, 86, 71, map[importers.Severity]int{"info": 11, "low": 40, "medium": 20}},
	"zap_2.9.0_example.com.json":   {1, 43, 24, map[importers.Severity]int{"info": 4, "low": 19, "medium": 1}},
}

// counts is what one report holds.
type counts struct {
	sites, instances, findings int
	sev                        map[importers.Severity]int // riskcode 0..3 = info, low, medium, high
}

func checkCounts(t *testing.T, rep *importers.Report, tc counts) {
	importertest.Counts(t, rep, tc.sites, tc.findings, tc.sev, fmt.Sprintf("%d instances, repeats merged", tc.instances))
	if rep.ScannerVersion == "" || rep.FinishedAt.IsZero() {
		t.Errorf("scanner %q %q at %v", rep.ScannerName, rep.ScannerVersion, rep.FinishedAt)
	}
}

func find(rep *importers.Report, rule, url string) *importers.Finding {
	return importertest.First(rep, func(f *importers.Finding) bool { return f.RuleID == rule && f.Location.URL == url })
}

func TestKnownFields(t *testing.T) {
	td := importertest.Testdata(t)

	t.Run("zap_2.8.0_juice-shop", func(t *testing.T) {
		rep := importertest.ParseFile(t, New(), filepath.Join(td, format, "zap_2.8.0_juice-shop.json"))
		a := rep.Assets[0]
		if a.Key != "site:http://192.168.1.14:3000" || a.Kind != importers.WebApplication || a.BaseURL != "http://192.168.1.14:3000" ||
			strings.Join(a.IPs, ",") != "192.168.1.14" || len(a.Services) != 1 || a.Services[0].Port != 3000 || a.Services[0].Name != "http" {
			t.Errorf("asset = %+v", a)
		}
		// jq '.site[0].alerts[0]|{pluginid,cweid,wascid,reference}, .instances[0]'
		f := find(rep, "10037", "http://192.168.1.14:3000/assets/public/favicon_js.ico")
		if f == nil {
			t.Fatal("10037 on favicon_js.ico missing")
		}
		if f.Title != `Server Leaks Information via "X-Powered-By" HTTP Response Header Field(s)` || f.Severity != importers.Low ||
			f.ScannerSeverity != "Low (Medium)" || strings.Join(f.CWEs, ",") != "CWE-200" || f.Evidence != "X-Powered-By: Express" ||
			f.Location != (importers.Location{Host: "192.168.1.14", Port: 3000, URL: "http://192.168.1.14:3000/assets/public/favicon_js.ico", Method: "GET"}) ||
			strings.Join(f.References, " ") != "http://blogs.msdn.com/b/varunm/archive/2013/04/23/remove-unwanted-http-response-headers.aspx http://www.troyhunt.com/2012/02/shhh-dont-let-your-response-headers.html WASC-13" ||
			strings.Contains(f.Description, "<p>") || !strings.HasPrefix(f.Description, "The web/application server is leaking information") {
			t.Errorf("10037 = %+v", f)
		}
		// Timestamp Disclosure is listed twice for vendor-es2015.js (two timestamps): one finding.
		f = find(rep, "10096", "http://192.168.1.14:3000/vendor-es2015.js")
		if f == nil || strings.Count(f.Evidence, "\n----\n") < 1 {
			t.Errorf("10096 on vendor-es2015.js = %+v", f)
		}
	})

	t.Run("zap_2.9.0_example.com", func(t *testing.T) {
		rep := importertest.ParseFile(t, New(), filepath.Join(td, format, "zap_2.9.0_example.com.json"))
		// jq '.site[].alerts[]|select(.pluginid=="10055")|{cweid,wascid,riskcode,i:.instances[0]}'
		f := find(rep, "10055", "https://www.example.com/ui/")
		if f == nil || f.Severity != importers.Medium || strings.Join(f.CWEs, ",") != "CWE-16" || f.Location.Param != "Content-Security-Policy" ||
			!strings.HasPrefix(f.Evidence, "default-src 'none'") || !slices.Contains(f.References, "WASC-15") || rep.Assets[0].Services[0].Name != "https" {
			t.Errorf("10055 = %+v", f)
		}
		for _, f := range rep.Findings { // pluginid 10109 has "cweid": null
			if f.RuleID == "10109" && len(f.CWEs) != 0 {
				t.Errorf("10109 CWEs = %v", f.CWEs)
			}
		}
	})

	t.Run("zap_2.10.0_first_scan", func(t *testing.T) {
		rep := importertest.ParseFile(t, New(), filepath.Join(td, format, "zap_2.10.0_first_scan.xml"))
		// xmllint --xpath '//alertitem[riskcode=3][1]/*[self::alert or self::cweid or self::wascid]' and its instance
		url := "http://bodgeit.securecodebox-demo.svc:8080/bodgeit/search.jsp?q=%3C%2Ffont%3E%3Cscript%3Ealert%281%29%3B%3C%2Fscript%3E%3Cfont%3E"
		f := find(rep, "40012", url)
		if f == nil {
			t.Fatal("40012 missing")
		}
		if f.Title != "Cross Site Scripting (Reflected)" || f.Severity != importers.High || strings.Join(f.CWEs, ",") != "CWE-79" ||
			f.Location.Param != "q" || f.Location.Method != "GET" ||
			f.Evidence != "</font><script>alert(1);</script><font>\nAttack: </font><script>alert(1);</script><font>" ||
			strings.Join(f.References, " ") != "http://projects.webappsec.org/Cross-Site-Scripting http://cwe.mitre.org/data/definitions/79.html WASC-8" {
			t.Errorf("40012 = %+v", f)
		}
	})

	t.Run("zap_2.16.1_with_req_resp", func(t *testing.T) {
		rep := importertest.ParseFile(t, New(), filepath.Join(td, format, "zap_2.16.1_with_req_resp.xml"))
		f := find(rep, "10029", "https://example-domain.com/cpapi/api/redirect/getPrefillOtuTokenData?otuToken=otuToken&clearCache=true")
		if f == nil || f.Title != "Cookie Poisoning" || strings.Join(f.CWEs, ",") != "CWE-565" || f.Location.Param != "clearCache" ||
			strings.Join(f.References, " ") != "https://en.wikipedia.org/wiki/HTTP_cookie https://cwe.mitre.org/data/definitions/565.html WASC-20" ||
			strings.Contains(f.Evidence, "HTTP/1.1") {
			t.Errorf("10029 = %+v", f)
		}
		if rep.ScannerName != "ZAP" || rep.ScannerVersion != "2.16.1" {
			t.Errorf("scanner %q %q", rep.ScannerName, rep.ScannerVersion)
		}
	})
}

// TestTarget: the report's target is the first site's base URL.
func TestTarget(t *testing.T) {
	importertest.Targets(t, New(), format, "base_url", map[string]string{
		"zap_2.9.0_example.com.json":   "https://www.example.com",
		"zap_2.16.1_with_req_resp.xml": "https://example-domain.com",
	})
}
