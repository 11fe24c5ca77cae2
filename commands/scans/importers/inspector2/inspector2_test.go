package inspector2

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

func TestFieldsOfTheOwnSample(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "inspector2_own_list_findings.json"))
	img, ec2, lambda := rep.Assets[0], rep.Assets[1], rep.Assets[2]
	if img.Kind != importers.ContainerImage || img.ImageDigest != "sha256:9b2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809" || img.Name != "web-frontend:2.3.0" {
		t.Errorf("image = %+v", img)
	}
	if ec2.CloudID != "arn:aws:ec2:eu-west-1:111122223333:instance/i-0abcdef1234567890" || len(ec2.IPs) != 2 {
		t.Errorf("instance = %+v", ec2)
	}
	if lambda.Kind != importers.CloudResource || !strings.HasPrefix(lambda.CloudID, "arn:aws:lambda:") {
		t.Errorf("lambda = %+v", lambda)
	}
	pkg := rep.Findings[0]
	if pkg.RuleID != "CVE-2023-44487" || len(pkg.CVEs) != 1 || len(pkg.CVSS) != 2 || pkg.CVSS[1].Version != "2.0" ||
		pkg.Component.Version != "1:1.22.1-1.amzn2023" || !strings.Contains(pkg.Evidence, "EPSS score: 0.72") {
		t.Errorf("package finding = %+v", pkg)
	}
	sup := rep.Findings[1]
	if sup.Suppressed == nil || sup.Suppressed.Kind != importers.SuppressedAccepted || !strings.Contains(sup.Evidence, "Also in openssh-clients 7.4p1-8.amzn2.0.4, no fix available") {
		t.Errorf("suppressed finding = %+v", sup)
	}
	net := rep.Findings[2]
	if net.Location.Port != 22 || net.Location.Protocol != "tcp" || net.Location.Host != "10.0.1.25" || net.Suppressed == nil || net.Suppressed.Kind != importers.SuppressedResolved {
		t.Errorf("network finding = %+v", net)
	}
	code := rep.Findings[3]
	if code.RuleID != "python-sql-injection" || len(code.CWEs) != 1 || code.CWEs[0] != "CWE-89" || code.Location.File != "src/orders/handler.py" || code.Location.Line != 40 {
		t.Errorf("code finding = %+v", code)
	}
}

func TestUntriagedSeverityAndFingerprints(t *testing.T) {
	rep, err := importertest.ParseString(New(), `{"findings": [
{"findingArn": "arn:1", "severity": "UNTRIAGED", "inspectorScore": 9.1},
{"findingArn": "arn:2", "severity": "UNTRIAGED", "packageVulnerabilityDetails": {"cvss": [{"version": "3.1", "scoringVector": "CVSS:3.1/AV:N", "baseScore": 5}]}},
{"findingArn": "arn:3", "severity": "INFORMATIONAL"},
{"type": "PACKAGE_VULNERABILITY", "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-2024-1", "vulnerablePackages": [{"name": "a"}]}},
{"type": "PACKAGE_VULNERABILITY", "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-2024-1", "vulnerablePackages": [{"name": "b"}]}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	want := []importers.Severity{importers.Critical, importers.Medium, importers.Info, importers.Info, importers.Info}
	if len(rep.Findings) != len(want) {
		t.Fatalf("%d findings", len(rep.Findings))
	}
	for i, f := range rep.Findings {
		if f.Severity != want[i] {
			t.Errorf("finding %d: %s, want %s", i, f.Severity, want[i])
		}
	}
	importertest.UniqueFingerprints(t, rep)
	if len(rep.Warnings) != 2 {
		t.Errorf("warnings = %q, want one per finding without findingArn", rep.Warnings)
	}
}
