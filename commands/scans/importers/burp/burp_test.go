package burp

import (
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

func TestFields(t *testing.T) {
	rep := importertest.MustParseString(t, New(), doc)
	a := rep.Assets[0]
	if len(rep.Assets) != 1 || a.Key != "site:https://shop.example.com" || a.Kind != importers.WebApplication ||
		a.BaseURL != "https://shop.example.com" || !slices.Equal(a.IPs, []string{"192.0.2.10"}) || !slices.Equal(a.Hostnames, []string{"shop.example.com"}) {
		t.Errorf("assets = %+v", rep.Assets)
	}
	if rep.ScannerVersion != "2023.10.3" || rep.FinishedAt.Format("2006-01-02T15:04") != "2023-10-31T10:00" {
		t.Errorf("version %q at %v", rep.ScannerVersion, rep.FinishedAt)
	}
	f := rep.Findings[0]
	if f.RuleID != "1049088" || f.Severity != importers.High || f.ScannerSeverity != "High (Certain)" ||
		!slices.Equal(f.CWEs, []string{"CWE-89", "CWE-94"}) ||
		!slices.Contains(f.References, "https://portswigger.net/web-security/sql-injection") ||
		f.Location != (importers.Location{Host: "shop.example.com", URL: "https://shop.example.com/search", Param: "q"}) ||
		f.Description != "SQL injection vulnerabilities arise when & …" || f.Remediation != "Use parameterised queries." {
		t.Errorf("finding = %+v", f)
	}
	// The request was base64, the response plain text.
	if !strings.HasPrefix(f.Evidence, "Request:\nGET /search?q=' HTTP/1.1\r\nHost: shop.example.com") ||
		!strings.HasSuffix(f.Evidence, "Response:\nHTTP/1.1 500 Internal Server Error") {
		t.Errorf("evidence = %q", f.Evidence)
	}
	fp := rep.Findings[1]
	if fp.Severity != importers.Info || fp.Suppressed == nil || fp.Suppressed.Kind != importers.SuppressedFalsePositive {
		t.Errorf("false positive = %+v", fp)
	}
	if f.Suppressed != nil {
		t.Errorf("high finding suppressed: %+v", f.Suppressed)
	}
}

// TestFingerprintIgnoresSerial: Burp numbers issues anew in every scan; the same issue must keep
// its fingerprint, and another location must not.
func TestFingerprintIgnoresSerial(t *testing.T) {
	fp := func(serial, location string) string {
		t.Helper()
		rep := importertest.MustParseString(t, New(), `<issues><issue><serialNumber>`+serial+`</serialNumber><type>1</type><host>https://a</host><path>/p</path><location>`+location+`</location><severity>Low</severity></issue></issues>`)
		return rep.Findings[0].Fingerprint
	}
	if fp("1", "/p") != fp("2", "/p") {
		t.Error("serialNumber changes the fingerprint")
	}
	if fp("1", "/p") == fp("1", "/p [x parameter]") {
		t.Error("location does not change the fingerprint")
	}
}

func TestEvidenceBounded(t *testing.T) {
	body := strings.Repeat("QUJD", 100_000) // "ABC" × 100,000 in base64
	rep := importertest.MustParseString(t, New(), `<issues><issue><type>1</type><host>https://a</host><severity>Low</severity><requestresponse><request base64="true">`+body+`</request><response base64="true">not base64!</response></requestresponse></issue></issues>`)
	e := rep.Findings[0].Evidence
	if len(e) > 2*parseutil.MaxDump+100 || !strings.Contains(e, "ABCABC") || !strings.Contains(e, importers.TruncMark+"\n\nResponse:\nnot base64!") {
		t.Errorf("evidence (%d bytes) = %.80q … %.80q", len(e), e, e[max(0, len(e)-80):])
	}
	if !slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, "not valid base64") }) {
		t.Errorf("warnings = %q", rep.Warnings)
	}
}

func TestXML11Warning(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, format, largest))
	if !slices.Contains(rep.Warnings, "the XML 1.1 declaration was read as XML 1.0") {
		t.Errorf("warnings = %q", rep.Warnings)
	}
	// Plain (not base64) requests are kept as written.
	// grep -n -A14 '<name><!\[CDATA\[Cacheable HTTPS' FILE: the first <request base64="false">
	f := importertest.First(rep, func(f *importers.Finding) bool { return f.RuleID == "7340288" })
	if f == nil || !strings.HasPrefix(f.Evidence, "Request:\nGET / HTTP/1.1") {
		t.Errorf("finding = %+v", f)
	}
}

// TestExtensionIssuesKeptApart: every issue a Burp extension reports has type 134217728, so two
// extension issues at one place are told apart by their name (and stay one finding when the
// name is the same too); a built-in issue's fingerprint does not change.
func TestExtensionIssuesKeptApart(t *testing.T) {
	item := func(typ, name string) string {
		return `<issue><serialNumber>1</serialNumber><type>` + typ + `</type><name>` + name + `</name>` +
			`<host ip="192.0.2.1">https://a.example</host><path><![CDATA[/]]></path><location><![CDATA[/]]></location>` +
			`<severity>Low</severity><confidence>Firm</confidence></issue>`
	}
	in := `<?xml version="1.0"?><issues burpVersion="2023.1">` +
		item("134217728", "Interesting Header(s)") + item("134217728", "Content Sniffing not disabled") +
		item("134217728", "Interesting Header(s)") + item("5243904", "Cross-domain Referer leakage") + `</issues>`
	rep := importertest.MustParseString(t, New(), in)
	var titles []string
	for _, f := range rep.Findings {
		titles = append(titles, f.Title)
	}
	if !slices.Equal(titles, []string{"Interesting Header(s)", "Content Sniffing not disabled", "Cross-domain Referer leakage"}) {
		t.Fatalf("findings %q", titles)
	}
	if want := parseutil.FingerprintCanonical("burp/v1", "https://a.example", "5243904", "/", "/"); rep.Findings[2].Fingerprint != want {
		t.Errorf("built-in issue fingerprint %s, want %s", rep.Findings[2].Fingerprint, want)
	}
}
