package cyclonedx

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

const bomDoc = `{"bomFormat":"CycloneDX","specVersion":"1.6","serialNumber":"urn:uuid:1","version":1,` +
	`"vulnerabilities":[` +
	`{"id":"GHSA-aaaa-bbbb-cccc","source":{"name":"ghsa","url":"https://github.com/advisories/GHSA-aaaa-bbbb-cccc"},` +
	`"references":[{"id":"CVE-2024-1111","source":{"name":"nvd","url":"https://nvd.nist.gov/vuln/detail/CVE-2024-1111"}}],` +
	`"ratings":[{"source":{"name":"nvd"},"score":9.3,"severity":"critical","method":"CVSSv4","vector":"AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"},` +
	`{"source":{"name":"ghsa"},"score":5.0,"method":"CVSSv3","vector":"AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"},` +
	`{"source":{"name":"x"},"score":3,"method":"OWASP","vector":"SL:1/M:1"}],` +
	`"cwes":[79,89],"description":"d","detail":"more","recommendation":"upgrade","workaround":"disable",` +
	`"advisories":[{"url":"https://adv.example/1"}],` +
	`"analysis":{"state":"exploitable","response":["update","will_not_fix"]},` +
	`"affects":[{"ref":"lib-a","versions":[{"version":"1.0.0","status":"affected"},{"version":"1.0.1","status":"unaffected"}]},{"ref":"lib-a"},{"ref":"urn:cdx:other/1#pkg"}]},` +
	`{"id":"CVE-2024-2222","ratings":[{"severity":"high"},{"score":9.8,"method":"CVSSv31","vector":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]},` +
	`{"id":"CVE-2024-3333","ratings":[{"score":7.2,"method":"CVSSv2","vector":"(AV:N/AC:L/Au:N/C:C/I:C/A:C)"},{"score":4.0,"method":"CVSSv31","severity":"medium"}],"affects":[{"ref":"lib-b"}]}` +
	`],"components":[{"bom-ref":"outer","type":"application","name":"app","components":[` +
	`{"bom-ref":"lib-a","type":"library","name":"a","version":"1.0.0","purl":"pkg:npm/%40scope/a@1.0.0?z=1&a=2","properties":[{"name":"syft:location:0:path","value":"/app/package-lock.json"}]}]},` +
	`{"bom-ref":"lib-b","type":"library","name":"b","version":"2"}],` +
	`"dependencies":[{"ref":"outer","dependsOn":["lib-a"]}],"metadata":{"timestamp":"2024-05-06T07:08:09Z",` +
	`"tools":{"components":[{"name":"my-scanner","version":"1.2"}]},` +
	`"component":{"type":"application","name":"shop","version":"3","externalReferences":[{"type":"vcs","url":"https://git.example/shop"}]}}}`

func TestHandmade(t *testing.T) {
	rep := spec.MustParse(t, New(), bomDoc)
	a := rep.Assets[0]
	if a.Key != "component:shop@3" || a.RepoURL != "https://git.example/shop" || rep.ScannerName != "my-scanner" || rep.ScannerVersion != "1.2" {
		t.Errorf("asset %+v, scanner %q %q", a, rep.ScannerName, rep.ScannerVersion)
	}
	// GHSA × {lib-a (listed twice), BOM-link}, CVE-2024-2222 × metadata component, CVE-2024-3333 × lib-b.
	if len(rep.Findings) != 4 {
		t.Fatalf("findings = %d", len(rep.Findings))
	}
	f := rep.Findings[0]
	if f.RuleID != "GHSA-aaaa-bbbb-cccc" || strings.Join(f.GHSAs, ",") != "GHSA-aaaa-bbbb-cccc" || strings.Join(f.CVEs, ",") != "CVE-2024-1111" ||
		f.Severity != "medium" || f.ScannerSeverity != "5" || // rule (a): the ghsa rating, by score
		f.Component.Name != "a" || f.Component.Type != "npm" || f.Component.FixedVersion != "1.0.1" || f.Component.Path != "/app/package-lock.json" ||
		f.Description != "d\n\nmore" || f.Remediation != "upgrade\n\nWorkaround: disable" || f.VEXState != "exploitable" ||
		f.Evidence != "Response: update, will_not_fix" || strings.Join(f.CWEs, ",") != "CWE-79,CWE-89" || len(f.References) != 3 {
		t.Errorf("finding = %+v", f)
	}
	if len(f.CVSS) != 2 || f.CVSS[0].Vector != "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N" || f.CVSS[0].Version != "4.0" ||
		f.CVSS[1].Vector != "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N" || f.CVSS[1].Source != "ghsa" {
		t.Errorf("CVSS = %+v", f.CVSS)
	}
	if f.Fingerprint != parseutil.FingerprintCanonical("cyclonedx/v1", "component:shop@3", "GHSA-aaaa-bbbb-cccc", "pkg:npm/%40scope/a@1.0.0?a=2&z=1", "/app/package-lock.json") {
		t.Error("fingerprint does not follow the documented rule")
	}
	if g := rep.Findings[1]; g.Component.Name != "urn:cdx:other/1#pkg" {
		t.Errorf("BOM-link component = %+v", g.Component)
	}
	if g := rep.Findings[2]; g.Component.Name != "shop" || g.Severity != "high" || g.ScannerSeverity != "high" { // rule (b)
		t.Errorf("no affects = %+v", g)
	}
	if g := rep.Findings[3]; g.Severity != "high" || g.ScannerSeverity != "7.2" || g.CVSS[0].Vector != "AV:N/AC:L/Au:N/C:C/I:C/A:C" || g.CVSS[1].Vector != "" { // rule (c)
		t.Errorf("max rating = %+v %+v", g, g.CVSS)
	}

	// No metadata.component: one "bom" asset.
	rep = importertest.MustParseString(t, New(), `{"bomFormat":"CycloneDX","vulnerabilities":[{"id":"X-1"}]}`)
	if rep.Assets[0].Key != "bom" || len(rep.Findings) != 1 || rep.Findings[0].Component != nil || rep.Findings[0].Severity != "info" {
		t.Errorf("report = %+v", rep)
	}
	// A number where the schema says string is read as text.
	rep = importertest.MustParseString(t, New(), `{"bomFormat":"CycloneDX","components":[{"bom-ref":"x","name":"n","version":1.0}],"vulnerabilities":[{"id":"V","affects":[{"ref":"x"}]}]}`)
	if c := rep.Findings[0].Component; c.Name != "n" || c.Version != "1.0" {
		t.Errorf("component = %+v", c)
	}
	// An SBOM without vulnerabilities: an asset, no findings.
	rep = importertest.MustParseString(t, New(), `{"bomFormat":"CycloneDX","metadata":{"component":{"type":"container","name":"alpine:3","purl":"pkg:oci/alpine@sha256%3Aabc"}},"components":[]}`)
	if len(rep.Findings) != 0 || rep.Assets[0].ImageDigest != "sha256:abc" || rep.Assets[0].Key != "image:alpine:3" {
		t.Errorf("report = %+v", rep)
	}
}

func TestFieldBounds(t *testing.T) {
	in := `{"bomFormat":"CycloneDX","vulnerabilities":[{"id":"CVE-1","description":"` + strings.Repeat("d", 3<<20) +
		`","analysis":{"state":"in_triage","detail":"` + strings.Repeat("ß", 100<<10) + `"}}]}`
	importertest.FieldsCut(t, New(), in)
}

// TestTargetFromSerialNumber: a BOM naming no component is named by its serialNumber, in either
// encoding; a component's name wins over it.
func TestTargetFromSerialNumber(t *testing.T) {
	docs := map[string]string{
		"json": `{"bomFormat":"CycloneDX","specVersion":"1.5","serialNumber":"urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79","version":1,"vulnerabilities":[]}`,
		"xml":  `<?xml version="1.0"?><bom serialNumber="urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79" version="1" xmlns="http://cyclonedx.org/schema/bom/1.5"></bom>`,
	}
	for name, doc := range docs {
		rep, err := parser{}.Parse(t.Context(), strings.NewReader(doc))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if rep.Target == nil || rep.Target.Name != "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79" || rep.Target.Hint != "bom" {
			t.Errorf("%s: target %+v, want the serialNumber", name, rep.Target)
		}
	}
	rep, err := parser{}.Parse(t.Context(), strings.NewReader(bomDoc))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Target == nil || rep.Target.Name != "shop@3" {
		t.Errorf("target %+v, want the metadata component shop@3", rep.Target)
	}
}
