package grype

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/scans/importers"
)

// Expected counts were computed independently of the parser with jq over the shared test data:
//
//	findings: jq '.matches | length'
//	severity: jq -c '[.matches[].vulnerability.severity] | group_by(.) | map({(.[0] // "null"): length}) | add'
//
// The one match with a null severity (grype_rhel87: CVE-2024-26308 on commons-compress) has
// a single CVSS rating, 7.5 — jq '.matches[] | select(.vulnerability.severity == null) |
// [.vulnerability.cvss[]?, .relatedVulnerabilities[]?.cvss[]? | .metrics.baseScore]' — so it
// counts as high.
var testdataFiles = []struct {
	file                       string
	findings                   int
	critical, high, medium, lo int
	image, digest              string
}{
	{"grype_busybox_epss_15matches.json", 15, 1, 10, 2, 2, "busybox:1.32.1",
		"sha256:ae39a6f5c07297d7ab64dbd4f82c77c874cc6a94cea29fdec309d0992574b4f7"},
	{"grype_chainguard_ruby_wolfi.json", 3, 0, 3, 0, 0, "cgr.dev/chainguard/ruby:latest-3.0",
		"sha256:3c9afb4f188827ea1062ec3b8acea32893236a0d7df31e0498df93486cff0978"},
	{"grype_keycloak_ubi9.json", 6, 0, 0, 0, 6,
		"docker.io/keycloak/keycloak:21.0.2@sha256:347a0d748d05a050dc64b92de2246d2240db6eb38afbc17c3c08d0acb0db1b50",
		"sha256:347a0d748d05a050dc64b92de2246d2240db6eb38afbc17c3c08d0acb0db1b50"},
	{"grype_rhel87_image_35matches.json", 35, 1, 19, 13, 2, "quay.io/cloudservices/xjoin-kafka-connect-strimzi:latest",
		"sha256:97e6d5aeed19f627205b218f45b284cd01ff658dd181416ab1d3e21aeb28d68e"},
}

func TestParseTestdata(t *testing.T) {
	td := filepath.Join(testsupport.SharedTestdata(t), "grype")
	for _, tc := range testdataFiles {
		t.Run(tc.file, func(t *testing.T) {
			rep := testsupport.ParseFile(t, New(), filepath.Join(td, tc.file))
			testsupport.CheckReportBasic(t, rep, formatName)
			if len(rep.Findings) != tc.findings {
				t.Errorf("findings = %d, want %d", len(rep.Findings), tc.findings)
			}
			// jq '.source.target | .userInput, .repoDigests'
			if len(rep.Assets) != 1 {
				t.Fatalf("assets = %d", len(rep.Assets))
			}
			a := rep.Assets[0]
			if a.Kind != importers.ContainerImage || a.ImageName != tc.image || a.ImageDigest != tc.digest {
				t.Errorf("asset = %+v", a)
			}
			sev := map[importers.Severity]int{}
			for _, f := range rep.Findings {
				sev[f.Severity]++
				if f.Component == nil || f.Component.Name == "" || f.RuleID == "" {
					t.Errorf("finding %q lacks component or rule", f.Title)
				}
			}
			want := map[importers.Severity]int{importers.Critical: tc.critical, importers.High: tc.high, importers.Medium: tc.medium, importers.Low: tc.lo}
			for s, n := range want {
				if sev[s] != n {
					t.Errorf("%s findings = %d, want %d", s, sev[s], n)
				}
			}
			if rep.ScannerName != "grype" || rep.ScannerVersion == "" || rep.StartedAt.IsZero() {
				t.Errorf("scanner %q %q %v", rep.ScannerName, rep.ScannerVersion, rep.StartedAt)
			}
		})
	}
}

func findingBy(rep *importers.Report, pred func(*importers.Finding) bool) []*importers.Finding {
	var out []*importers.Finding
	for i := range rep.Findings {
		if pred(&rep.Findings[i]) {
			out = append(out, &rep.Findings[i])
		}
	}
	return out
}

func TestFieldsRHEL(t *testing.T) {
	rep := testsupport.ParseFile(t, New(), filepath.Join(testsupport.SharedTestdata(t), "grype", "grype_rhel87_image_35matches.json"))
	if rep.Assets[0].OS != "redhat 8.7" {
		t.Errorf("OS %q", rep.Assets[0].OS)
	}
	// jq '.matches[] | select(.vulnerability.id=="CVE-2023-38473")'
	fs := findingBy(rep, func(f *importers.Finding) bool { return f.RuleID == "CVE-2023-38473" })
	if len(fs) != 1 {
		t.Fatalf("CVE-2023-38473: %d findings", len(fs))
	}
	f := fs[0]
	c := f.Component
	if c.Name != "avahi-libs" || c.Version != "0.7-20.el8" || c.FixedVersion != "0:0.7-21.el8_9.1" || c.Type != "rpm" ||
		c.Path != "/var/lib/rpm/Packages" || !strings.HasPrefix(c.PURL, "pkg:rpm/rhel/avahi-libs@0.7-20.el8") {
		t.Errorf("component = %+v", c)
	}
	if f.Severity != importers.Medium || f.ScannerSeverity != "Medium" || strings.Join(f.CVEs, ",") != "CVE-2023-38473" {
		t.Errorf("finding = %+v", f)
	}
	// vulnerability.cvss (redhat 6.2) + relatedVulnerabilities[0].cvss (nvd 5.5, redhat 6.2 as secalert@redhat.com)
	if len(f.CVSS) != 3 || f.CVSS[0].Source != "redhat:distro:redhat:8" || f.CVSS[1].Source != "nvd@nist.gov" || *f.CVSS[1].Score != 5.5 {
		t.Errorf("CVSS = %+v", f.CVSS)
	}
	if !strings.Contains(strings.Join(f.References, " "), "https://access.redhat.com/errata/RHSA-2023:7836") {
		t.Errorf("references %v", f.References)
	}
	// The same CVE on two versions of avro is two findings.
	avro := findingBy(rep, func(f *importers.Finding) bool { return f.RuleID == "CVE-2023-39410" })
	if len(avro) != 2 || avro[0].Fingerprint == avro[1].Fingerprint {
		t.Fatalf("avro: %d findings", len(avro))
	}
	if avro[0].Component.Type != "maven" || avro[0].Component.Path != "/opt/kafka/plugins/apicurio/avro-1.11.1.jar" ||
		avro[0].Component.FixedVersion != "1.11.3" || strings.Join(avro[0].GHSAs, ",") != "GHSA-rhrv-645h-fjfh" {
		t.Errorf("avro[0] = %+v %v", avro[0].Component, avro[0].GHSAs)
	}
	// The same CVE on the bind-libs, bind-libs-lite, bind-license and bind-utils packages: four findings.
	if n := len(findingBy(rep, func(f *importers.Finding) bool { return f.RuleID == "CVE-2023-50868" })); n != 4 {
		t.Errorf("CVE-2023-50868: %d findings, want 4", n)
	}
	// Null severity: from the CVSS score.
	null := findingBy(rep, func(f *importers.Finding) bool { return f.RuleID == "CVE-2024-26308" })
	if len(null) != 1 || null[0].Severity != importers.High || null[0].ScannerSeverity != "" {
		t.Errorf("null severity: %+v", null)
	}
}

func TestFieldsChainguard(t *testing.T) {
	rep := testsupport.ParseFile(t, New(), filepath.Join(testsupport.SharedTestdata(t), "grype", "grype_chainguard_ruby_wolfi.json"))
	// jq '.matches[] | select(.vulnerability.id=="GHSA-hv5j-3h9f-99c2")': uri 0.10.1, fix 0.10.2, related CVE-2023-28755
	fs := findingBy(rep, func(f *importers.Finding) bool { return f.RuleID == "GHSA-hv5j-3h9f-99c2" })
	if len(fs) != 1 {
		t.Fatalf("%d findings", len(fs))
	}
	f := fs[0]
	if strings.Join(f.CVEs, ",") != "CVE-2023-28755" || strings.Join(f.GHSAs, ",") != "GHSA-hv5j-3h9f-99c2" ||
		f.Component.Name != "uri" || f.Component.Type != "gem" || f.Component.FixedVersion != "0.10.2" {
		t.Errorf("finding = %+v %+v", f, f.Component)
	}
}

func TestDeterminismAndUniqueness(t *testing.T) {
	td := filepath.Join(testsupport.SharedTestdata(t), "grype")
	for _, tc := range testdataFiles {
		a := testsupport.ParseFile(t, New(), filepath.Join(td, tc.file))
		b := testsupport.ParseFile(t, New(), filepath.Join(td, tc.file))
		seen := map[string]bool{}
		for i := range a.Findings {
			if a.Findings[i].Fingerprint != b.Findings[i].Fingerprint {
				t.Errorf("%s: finding %d fingerprint differs between two parses", tc.file, i)
			}
			if seen[a.Findings[i].Fingerprint] {
				t.Errorf("%s: fingerprint of finding %d (%s) repeated", tc.file, i, a.Findings[i].RuleID)
			}
			seen[a.Findings[i].Fingerprint] = true
		}
	}
}

func TestDirectorySourceAndIdentity(t *testing.T) {
	const doc = `{"matches":[{"vulnerability":{"id":"CVE-2024-0001","severity":"Negligible"},"artifact":{"name":"a","version":"1","type":"npm","locations":[{"path":"/p/package-lock.json"}]}},
	{"vulnerability":{"id":"CVE-2024-0001","severity":"Unknown","cvss":[{"version":"3.1","vector":"CVSS:3.1/AV:N","metrics":{"baseScore":4.2}}]},"artifact":{"name":"b","version":"1","type":"npm"}}],
	"source":{"type":"directory","target":"%s"},"descriptor":{"name":"grype","version":"0.1"}}`
	one, err := testsupport.ParseString(New(), strings.Replace(doc, "%s", "/src/one", 1))
	if err != nil {
		t.Fatal(err)
	}
	two, err := testsupport.ParseString(New(), strings.Replace(doc, "%s", "/src/two", 1))
	if err != nil {
		t.Fatal(err)
	}
	testsupport.CheckReportBasic(t, one, formatName)
	if a := one.Assets[0]; a.Kind != importers.Repository || a.Name != "/src/one" || a.Key != "directory:/src/one" {
		t.Errorf("asset = %+v", a)
	}
	if one.Findings[0].Fingerprint == one.Findings[1].Fingerprint {
		t.Error("same CVE on two packages: same fingerprint")
	}
	if one.Findings[0].Fingerprint == two.Findings[0].Fingerprint {
		t.Error("two assets: same fingerprint")
	}
	if one.Findings[0].Severity != importers.Info || one.Findings[1].Severity != importers.Medium {
		t.Errorf("severities %s %s", one.Findings[0].Severity, one.Findings[1].Severity)
	}
}

func TestDetectAcrossFormats(t *testing.T) {
	td := testsupport.SharedTestdata(t)
	p := New()
	claimed := 0
	for _, format := range []string{"nmap", "trivy", "grype", "sarif", "nessus", "openvas", "zap", "cyclonedx"} {
		files, err := filepath.Glob(filepath.Join(td, format, "*"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Errorf("no %s test data", format)
		}
		for _, path := range files {
			head := readHead(t, path)
			if got, want := p.Detect(head), format == formatName; got != want {
				t.Errorf("Detect(%s/%s) = %v, want %v", format, filepath.Base(path), got, want)
			}
			if format == formatName {
				claimed++
			}
		}
	}
	if claimed != len(testdataFiles) {
		t.Errorf("%d grype files, want %d", claimed, len(testdataFiles))
	}
}

func readHead(t testing.TB, path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := make([]byte, 64<<10)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		t.Fatal(err)
	}
	return head[:n]
}

func TestDetectSmall(t *testing.T) {
	p := New()
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{`{"matches": [{"vulnerability": {"id": "CVE-1"}, "artifact": {}}]}`, true},
		{`{"matches": [{"vulnerability": {"id": "CVE-1", "description": "cut here`, true},
		{`{"matches": [], "source": {"type": "image"}}`, true},
		{`{"matches": [], "descriptor": {"name": "grype"}}`, true},
		{`{"matches": []}`, false},
		{`{"matches": [1, 2]}`, false},
		{`{"matches": [{"x": 1}]}`, false},
		{`{"bomFormat": "CycloneDX", "matches": [{"vulnerability": {}}]}`, false},
		{`{"SchemaVersion": 2, "Results": []}`, false},
		{`not json`, false},
	} {
		if got := p.Detect([]byte(tc.in)); got != tc.want {
			t.Errorf("Detect(%.40q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestHostileInput(t *testing.T) {
	cases := []struct {
		name, in, msg string
		line          int
	}{
		{"empty", ``, "end of input", 1},
		{"not an object", `"x"`, "expected an object", 1},
		{"no matches", `{"source": {}}`, "no matches", 1},
		{"truncated", "{\"matches\": [\n{\"vulnerability\": {\"id\": \"CVE-1\"", "end of input", 2},
		{"syntax", "{\"matches\": [\n\n{\"vulnerability\" {}}]}", "invalid character", 3},
		{"invalid UTF-8", "{\"matches\": [],\n \"source\": {\"type\": \"directory\", \"target\": \"\xc3\x28\"}}", "UTF-8", 2},
		{"score out of range", "{\"matches\": [\n{\"vulnerability\": {\"cvss\": [{\"metrics\": {\"baseScore\": -1}}]}}]}", "[0, 10]", 2},
		{"score overflow", "{\"matches\": [\n{\"vulnerability\": {\"cvss\": [{\"metrics\": {\"baseScore\": 1e400}}]}}]}", "[0, 10]", 2},
		{"wrong type", "{\"matches\": [\n{\"artifact\": {\"name\": [1]}}]}", "artifact.name", 2},
		{"bad image target", "{\"matches\": [],\n\"source\": {\"type\": \"image\", \"target\": \"x\"}}", "image target", 2},
		{"trailing data", "{\"matches\": []}\n]", "after the report", 2},
	}
	for _, tc := range cases {
		_, err := testsupport.ParseString(New(), tc.in)
		pe := testsupport.PositionedParseError(t, formatName, tc.name, err)
		t.Logf("%s: %v", tc.name, pe)
		if !strings.Contains(pe.Msg, tc.msg) || pe.Line != tc.line {
			t.Errorf("%s: %v, want line %d and %q", tc.name, pe, tc.line, tc.msg)
		}
	}
}

// TestDeepNesting feeds 50 MB of "[[[[…" and of "{"a":{"a":…": the parser must stop at the depth
// limit, after reading the first chunk only (no 50 MB buffer), with a positioned error.
func TestDeepNesting(t *testing.T) {
	for _, open := range []string{"[", `{"a":`} {
		rr := &testsupport.RepeatReader{Pattern: open}
		in := io.MultiReader(strings.NewReader(`{"matches": [{"vulnerability": `), io.LimitReader(rr, 50<<20))
		_, err := New().Parse(context.Background(), in)
		pe := testsupport.PositionedParseError(t, formatName, "deep "+open, err)
		if !strings.Contains(pe.Msg, "nesting") || pe.Offset > 1000 {
			t.Errorf("deep %s: %v", open, pe)
		}
		if rr.N > 1<<20 {
			t.Errorf("deep %s: read %d bytes before refusing", open, rr.N)
		}
	}
}

func TestSizeLimit(t *testing.T) {
	p := &Parser{MaxBytes: 1000}
	_, err := p.Parse(context.Background(), strings.NewReader(`{"matches": [], "x": "`+strings.Repeat("a", 2000)+`"}`))
	var pe *importers.ParseError
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "limit") {
		t.Errorf("err = %v", err)
	}
}

func TestTruncatedTestdata(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testsupport.SharedTestdata(t), "grype", "grype_chainguard_ruby_wolfi.json"))
	if err != nil {
		t.Fatal(err)
	}
	trimmed := bytes.TrimRight(data, " \n\r\t")
	for cut := 0; cut < len(trimmed); cut += 97 {
		_, err := New().Parse(context.Background(), bytes.NewReader(trimmed[:cut]))
		testsupport.PositionedParseError(t, formatName, "cut", err)
	}
}

func TestContextCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New().Parse(ctx, strings.NewReader(`{"matches": []}`)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before: %v", err)
	}
	var b strings.Builder
	b.WriteString(`{"matches": [`)
	for i := 0; i < 20000; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"vulnerability": {"id": "CVE-2024-0001", "severity": "Low"}, "artifact": {"name": "p", "version": "1"}}`)
	}
	b.WriteString(`]}`)
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	if _, err := New().Parse(ctx, &testsupport.CancelAtEOF{R: strings.NewReader(b.String()), Cancel: cancel}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled while decoding: %v", err)
	}
}
