package asff

import (
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

func TestFieldsOfTheOwnSample(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "asff_own_inspector_array.json"))
	img := rep.Assets[0]
	if img.Kind != importers.ContainerImage || img.ImageDigest != "sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945" || img.Name != "shop-api:1.4.2" {
		t.Errorf("image asset = %+v", img)
	}
	ec2 := rep.Assets[1]
	if ec2.Kind != importers.CloudResource || ec2.CloudID != "arn:aws:ec2:eu-west-1:111122223333:instance/i-0abcdef1234567890" || len(ec2.IPs) != 1 {
		t.Errorf("EC2 asset = %+v", ec2)
	}
	f := rep.Findings[0]
	if len(f.CVEs) != 1 || f.CVEs[0] != "CVE-2023-44487" || len(f.CVSS) != 1 || f.CVSS[0].Version != "3.1" || *f.CVSS[0].Score != 7.5 {
		t.Errorf("vulnerability = %v %+v", f.CVEs, f.CVSS)
	}
	if f.Component == nil || f.Component.Name != "golang.org/x/net" || f.Component.FixedVersion != "0.17.0" {
		t.Errorf("component = %+v", f.Component)
	}
	if f.Suppressed == nil || f.Suppressed.Kind != importers.SuppressedAccepted {
		t.Errorf("SUPPRESSED workflow = %+v", f.Suppressed)
	}
	if g := rep.Findings[1]; g.Severity != importers.Medium || g.ScannerSeverity != "Normalized 40" || g.Suppressed == nil || g.Suppressed.Kind != importers.SuppressedResolved {
		t.Errorf("archived finding = %s %q %+v", g.Severity, g.ScannerSeverity, g.Suppressed)
	}
}

func TestTrivyTemplate(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "asff_trivy_alpine-310.json"))
	if rep.ScannerName != "Trivy" || rep.Target == nil || rep.Target.Name != "testdata/fixtures/images/alpine-310.tar.gz (alpine 3.10.2)" {
		t.Errorf("scanner %q, target %+v", rep.ScannerName, rep.Target)
	}
	for _, f := range rep.Findings {
		// jq '[.Findings[].Resources[0].Details.Other|select(.NvdCvssVectorV3!=null and .NvdCvssVectorV2!=null)]|length' → 4
		if len(f.CVEs) != 1 || len(f.CVSS) != 2 || f.Component == nil || f.Component.Version == "" || f.Location.Image == "" {
			t.Errorf("%s: CVEs %v, CVSS %+v, component %+v", f.Title, f.CVEs, f.CVSS, f.Component)
		}
	}
	secrets := importertest.ParseFile(t, New(), importertest.File(t, formatName, "asff_trivy_secrets.json"))
	if a := secrets.Assets[0]; a.Kind != importers.Repository || secrets.Findings[0].Location.File != "deploy.sh" {
		t.Errorf("secrets asset %+v, location %+v", a, secrets.Findings[0].Location)
	}
}

func TestSeverityAndFingerprintRules(t *testing.T) {
	rep, err := importertest.ParseString(New(), `[
{"Id": "arn:1", "ProductArn": "p", "Title": "a", "FindingProviderFields": {"Severity": {"Label": "CRITICAL"}}},
{"Id": "arn:1", "ProductArn": "q", "Title": "a", "Severity": {"Normalized": 95}},
{"Id": "same", "ProductArn": "p", "Title": "one", "Severity": {"Normalized": 1}},
{"Id": "same", "ProductArn": "p", "Title": "two", "Severity": {"Normalized": 0}},
{"Id": "same", "ProductArn": "p", "Title": "two", "Severity": {"Label": "HIGH"}},
{"ProductArn": "p", "GeneratorId": "g", "Resources": [{"Type": "Other", "Id": "r1"}]},
{"ProductArn": "p", "GeneratorId": "g", "Resources": [{"Type": "Other", "Id": "r2"}]}]`)
	if err != nil {
		t.Fatal(err)
	}
	want := []importers.Severity{importers.Critical, importers.Critical, importers.Low, importers.High, importers.Info, importers.Info}
	if len(rep.Findings) != len(want) {
		t.Fatalf("%d findings, want %d (the repeated Id+Title merged)", len(rep.Findings), len(want))
	}
	for i, f := range rep.Findings {
		if f.Severity != want[i] {
			t.Errorf("finding %d: severity %s, want %s", i, f.Severity, want[i])
		}
	}
	importertest.UniqueFingerprints(t, rep)
}
