package nuclei

import (
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

func TestExportArrayFields(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "nuclei_json_export_array.json"))
	web, host := rep.Assets[0], rep.Assets[1]
	if web.Kind != importers.WebApplication || web.BaseURL != "http://192.0.2.10:8080" || web.Key != "web:http://192.0.2.10:8080" {
		t.Errorf("web asset %+v", web)
	}
	// "192.0.2.10" and "192.0.2.10:443" are one host.
	if host.Kind != importers.Host || host.Name != "192.0.2.10" || !slices.Equal(host.IPs, []string{"192.0.2.10"}) {
		t.Errorf("host asset %+v", host)
	}
	cve := rep.Findings[0]
	if cve.RuleID != "CVE-2021-41773" || cve.Severity != importers.High || cve.AssetKey != web.Key ||
		!slices.Equal(cve.CVEs, []string{"CVE-2021-41773"}) || !slices.Equal(cve.CWEs, []string{"CWE-22"}) {
		t.Errorf("finding %+v", cve)
	}
	if len(cve.CVSS) != 1 || cve.CVSS[0].Version != "3.1" || cve.CVSS[0].Vector != "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N" || *cve.CVSS[0].Score != 7.5 {
		t.Errorf("CVSS %+v", cve.CVSS)
	}
	if cve.Location.URL != "http://192.0.2.10:8080/cgi-bin/.%2e/.%2e/.%2e/.%2e/etc/passwd" || cve.Remediation == "" {
		t.Errorf("location %+v, remediation %q", cve.Location, cve.Remediation)
	}
	// The response body is not kept; extracted results and the curl command are.
	if strings.Contains(cve.Evidence, "Content-Type") || !strings.Contains(cve.Evidence, "Extracted: root:x:0:0") || !strings.Contains(cve.Evidence, "Request: curl") {
		t.Errorf("evidence %q", cve.Evidence)
	}
	ssh := rep.Findings[1]
	// "unknown" with a cvss-score of 0 is info; a reference given as a string is a list of one.
	if ssh.Severity != importers.Info || ssh.ScannerSeverity != "unknown" || ssh.Location.Host != "192.0.2.10" || ssh.Location.Port != 22 ||
		!slices.Equal(ssh.References, []string{"https://www.openssh.com/"}) || ssh.AssetKey != host.Key {
		t.Errorf("ssh finding %+v", ssh)
	}
	if tls := rep.Findings[2]; tls.Title != "Weak Cipher Suites Detection: tls-1.0" || tls.Severity != importers.Low || tls.Location.Port != 443 {
		t.Errorf("tls finding %+v", tls)
	}
}

func TestSeverity(t *testing.T) {
	for word, want := range map[string]importers.Severity{
		"critical": importers.Critical, "High": importers.High, "medium": importers.Medium, "low": importers.Low,
		"info": importers.Info, "unknown": importers.Info, "": importers.Info,
	} {
		rep := spec.MustParse(t, New(), `{"template-id": "t", "host": "h", "info": {"severity": "`+word+`"}}`)
		if got := rep.Findings[0].Severity; got != want {
			t.Errorf("%q: %s, want %s", word, got, want)
		}
		if got := New().(*Parser).Info().Severity[strings.ToLower(parseutil.FirstNonEmpty(word, "unknown"))]; got != want {
			t.Errorf("Info().Severity[%q] = %s, want %s", word, got, want)
		}
	}
	// Without a word Nuclei knows, the CVSS score decides.
	rep := spec.MustParse(t, New(), `{"template-id": "t", "host": "h", "info": {"severity": "unknown", "classification": {"cvss-score": 9.8}}}`)
	if got := rep.Findings[0].Severity; got != importers.Critical {
		t.Errorf("unknown with score 9.8: %s", got)
	}
}

// TestFingerprint: template-id, matcher-name and matched-at make a finding; the time, IP and
// extracted values, which change between scans, do not.
func TestFingerprint(t *testing.T) {
	base := spec.MustParse(t, New(), `{"template-id": "t", "matcher-name": "m", "host": "https://h", "matched-at": "https://h/a", "ip": "1.1.1.1", "timestamp": "2024-01-01T00:00:00Z", "extracted-results": ["x"]}`).Findings[0].Fingerprint
	same := spec.MustParse(t, New(), `{"template-id": "t", "matcher-name": "m", "host": "https://h", "matched-at": "https://h/a", "ip": "2.2.2.2", "timestamp": "2024-02-01T00:00:00Z", "extracted-results": ["y"]}`).Findings[0].Fingerprint
	if base != same {
		t.Error("a rescan changed the fingerprint")
	}
	importertest.Fingerprint(t, base, "the documented one", "nuclei/v1", "t", "m", "https://h/a")
	for _, other := range []string{
		`{"template-id": "u", "matcher-name": "m", "host": "https://h", "matched-at": "https://h/a"}`,
		`{"template-id": "t", "matcher-name": "n", "host": "https://h", "matched-at": "https://h/a"}`,
		`{"template-id": "t", "matcher-name": "m", "host": "https://h", "matched-at": "https://h/b"}`,
	} {
		if spec.MustParse(t, New(), other).Findings[0].Fingerprint == base {
			t.Errorf("%s: same fingerprint", other)
		}
	}
}

// TestRepeatedResultMerged: deprecated-tls reports TLS 1.0 and TLS 1.1 as two results at one
// place; they are one finding holding both extracted values.
func TestRepeatedResultMerged(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "nuclei_example-com.jsonl"))
	var got []importers.Finding
	for _, f := range rep.Findings {
		if f.RuleID == "deprecated-tls" {
			got = append(got, f)
		}
	}
	if len(got) != 1 || !strings.Contains(got[0].Evidence, "TLS10") || !strings.Contains(got[0].Evidence, "TLS11") {
		t.Errorf("deprecated-tls findings %+v", got)
	}
	if a := rep.Assets[0]; a.Kind != importers.WebApplication || a.BaseURL != "https://example.com" {
		t.Errorf("asset %+v", a)
	}
}

func TestInfo(t *testing.T) {
	info := New().(importers.Describer).Info()
	if info.Name != formatName || info.Family != "dast" || len(info.Fingerprint) != 3 || info.Detection == "" {
		t.Errorf("%+v", info)
	}
}

// TestLegacyFieldNames: a result written by Nuclei before 2.5 (templateID, matched, matcher_name,
// extracted_results, curl_command) reads as the same result written with today's names, so a
// finding keeps its fingerprint across a Nuclei upgrade.
func TestLegacyFieldNames(t *testing.T) {
	legacy := `{"templateID":"tech-detect","info":{"name":"Tech","severity":"info"},"matcher_name":"nginx","host":"https://h.example","matched":"https://h.example/","extracted_results":["nginx/1.2"],"curl_command":"curl https://h.example/"}`
	current := `{"template-id":"tech-detect","info":{"name":"Tech","severity":"info"},"matcher-name":"nginx","host":"https://h.example","matched-at":"https://h.example/","extracted-results":["nginx/1.2"],"curl-command":"curl https://h.example/"}`
	old := importertest.MustParseString(t, New(), legacy).Findings
	now := importertest.MustParseString(t, New(), current).Findings
	if len(old) != 1 || len(now) != 1 {
		t.Fatalf("findings %d and %d, want 1 and 1", len(old), len(now))
	}
	if old[0].Fingerprint != now[0].Fingerprint || old[0].Title != "Tech: nginx" || old[0].Evidence != now[0].Evidence ||
		old[0].Location.URL != "https://h.example/" || !strings.Contains(old[0].Evidence, "Extracted: nginx/1.2") {
		t.Errorf("legacy %+v\ncurrent %+v", old[0], now[0])
	}
}

// TestMetaInEvidence: two results of a default-login template at one place are one finding, and
// its evidence names both credential pairs (the result's meta), not just the first.
func TestMetaInEvidence(t *testing.T) {
	line := func(password string) string {
		return `{"template-id":"ftp-default-credentials","info":{"name":"FTP default credentials","severity":"critical"},"host":"ftp.example","matched-at":"ftp.example:21","meta":{"username":"anonymous","password":"` + password + `"}}`
	}
	rep := importertest.MustParseString(t, New(), line("default")+"\n"+line("stingray")+"\n")
	if len(rep.Findings) != 1 {
		t.Fatalf("%d findings, want 1", len(rep.Findings))
	}
	ev := rep.Findings[0].Evidence
	if !strings.Contains(ev, "Meta: password=default, username=anonymous") || !strings.Contains(ev, "password=stingray") {
		t.Errorf("evidence %q", ev)
	}
}
