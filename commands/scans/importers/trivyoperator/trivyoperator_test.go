package trivyoperator

import (
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

func TestVulnerabilityReportFields(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "vulnerabilityreport_coredns.yaml"))
	a, f := rep.Assets[0], rep.Findings[0]
	// No digest in the report: the image is keyed by its tag, and the report's Target names it.
	if a.Kind != importers.ContainerImage || a.Key != "image:k8s.gcr.io/coredns/coredns:v1.8.0" || a.ImageName != "k8s.gcr.io/coredns/coredns:v1.8.0" || a.ImageDigest != "" {
		t.Errorf("asset %+v", a)
	}
	if rep.Target == nil || rep.Target.Name != "k8s.gcr.io/coredns/coredns:v1.8.0" || rep.Target.Hint != "artifact" || rep.ScannerVersion != "trivy 0.35.0" {
		t.Errorf("target %+v, version %q", rep.Target, rep.ScannerVersion)
	}
	if f.RuleID != "CVE-2021-3121" || !slices.Equal(f.CVEs, []string{"CVE-2021-3121"}) || f.Severity != importers.High ||
		f.Component.Name != "github.com/gogo/protobuf" || f.Component.Version != "v1.3.1" || f.Component.FixedVersion != "1.3.2" ||
		!slices.Equal(f.References, []string{"https://avd.aquasec.com/nvd/cve-2021-3121"}) || len(f.CVSS) != 1 || *f.CVSS[0].Score != 8.6 ||
		f.Evidence != "Workload kube-system/ReplicaSet/coredns-558bd4d5db, container coredns" {
		t.Errorf("finding %+v", f)
	}
	importertest.Fingerprint(t, f.Fingerprint, "the documented one", "trivy-operator/v1", a.Key, "CVE-2021-3121", "github.com/gogo/protobuf", "v1.3.1")
}

func TestListJSON(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "vulnerabilityreports_list.json"))
	nginx := rep.Assets[0]
	// index.docker.io is left out of the name, as docker writes it; the digest keys the image.
	if nginx.Key != "image:library/nginx@sha256:4c0fdaa8b6341bfdeca5f18f7837462c80cff90527ee35ef185571e1c327beac" ||
		nginx.ImageDigest != "sha256:4c0fdaa8b6341bfdeca5f18f7837462c80cff90527ee35ef185571e1c327beac" || nginx.OS != "debian 12.4" {
		t.Errorf("asset %+v", nginx)
	}
	// The second image has no digest: it is the report's Target.
	if rep.Assets[1].Key != "image:ghcr.io/shop/api:2.3.0" || rep.Target == nil || rep.Target.Name != "ghcr.io/shop/api:2.3.0" {
		t.Errorf("asset %+v, target %+v", rep.Assets[1], rep.Target)
	}
	curl, ghsa := rep.Findings[0], rep.Findings[1]
	// One image run by two workloads: one finding naming both.
	if !strings.Contains(curl.Evidence, "shop/ReplicaSet/web-7d4b9c8f6") || !strings.Contains(curl.Evidence, "ingress/DaemonSet/edge") || curl.Severity != importers.Critical {
		t.Errorf("curl finding %+v", curl)
	}
	// UNKNOWN with a score of 5.3 is medium.
	if ghsa.Severity != importers.Medium || ghsa.ScannerSeverity != "UNKNOWN" || !slices.Equal(ghsa.GHSAs, []string{"GHSA-abcd-1234-efgh"}) || ghsa.Remediation != "" {
		t.Errorf("GHSA finding %+v", ghsa)
	}
	if rep.FinishedAt.IsZero() {
		t.Error("no FinishedAt from updateTimestamp")
	}
}

func TestChecks(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "configauditreports_list.yaml"))
	names := []string{}
	for _, a := range rep.Assets {
		if a.Kind != importers.CloudResource || a.CloudID != a.Key {
			t.Errorf("asset %+v", a)
		}
		names = append(names, a.Name)
	}
	// The Deployment whose checks all passed is an asset with no findings.
	if !slices.Equal(names, []string{"shop/ReplicaSet/web-7d4b9c8f6", "shop/Deployment/quiet", "ClusterRole/admin-all"}) {
		t.Errorf("assets %q", names)
	}
	f := rep.Findings[0]
	if f.RuleID != "KSV017" || f.Severity != importers.High || f.AssetKey != "k8s:shop/ReplicaSet/web-7d4b9c8f6" ||
		!strings.Contains(f.Evidence, "securityContext.privileged") || !strings.Contains(f.Description, "Category: Kubernetes Security Check") || f.Remediation == "" {
		t.Errorf("finding %+v", f)
	}
	if f.Fingerprint != parseutil.FingerprintJSON("trivy-operator/check/v1", "ConfigAuditReport", "KSV017", "shop/ReplicaSet/web-7d4b9c8f6") {
		t.Error("check fingerprint is not the documented one")
	}
	if g := rep.Findings[1]; g.RuleID != "KSV046" || g.Severity != importers.Critical {
		t.Errorf("RBAC finding %+v", g)
	}
	if !slices.Equal(rep.Warnings, []string{"1 SbomReport resources not imported"}) {
		t.Errorf("warnings %q", rep.Warnings)
	}
}

// TestFingerprintStable: the report's name, timestamps and hashes change on every scan; the
// fingerprint does not.
func TestFingerprintStable(t *testing.T) {
	one := spec.MustParse(t, New(), strings.Replace(vulnReport(oneVuln), "  name: r\n", "  name: a\n  labels: {plugin-config-hash: x}\n", 1)).Findings[0].Fingerprint
	two := spec.MustParse(t, New(), vulnReport(oneVuln)+"  updateTimestamp: \"2030-01-01T00:00:00Z\"\n").Findings[0].Fingerprint
	if one != two {
		t.Error("a rescan changed the fingerprint")
	}
	if other := spec.MustParse(t, New(), strings.Replace(vulnReport(oneVuln), "1.2.4-r0", "1.2.4-r1", 1)).Findings[0].Fingerprint; other == one {
		t.Error("another installed version, same fingerprint")
	}
}

func TestSeverity(t *testing.T) {
	info := New().(importers.Describer).Info()
	for word, want := range map[string]importers.Severity{"CRITICAL": importers.Critical, "HIGH": importers.High, "MEDIUM": importers.Medium, "LOW": importers.Low, "UNKNOWN": importers.Info} {
		got := spec.MustParse(t, New(), vulnReport(strings.Replace(oneVuln, "LOW", word, 1))).Findings[0].Severity
		if got != want || info.Severity[word] != want {
			t.Errorf("%s: %s (Info %s), want %s", word, got, info.Severity[word], want)
		}
	}
}

// TestMultipleDocuments: resources separated by "---" are read one after the other.
func TestMultipleDocuments(t *testing.T) {
	rep := spec.MustParse(t, New(), "---\n"+vulnReport(oneVuln)+"---\n"+strings.Replace(vulnReport(oneVuln), "alpine", "busybox", 1)+"---\n")
	if len(rep.Assets) != 2 || len(rep.Findings) != 2 {
		t.Errorf("%d assets, %d findings", len(rep.Assets), len(rep.Findings))
	}
}

// TestNewKindsFingerprints: a secret, a check without checkID and a compliance control are
// fingerprinted as the package documents.
func TestNewKindsFingerprints(t *testing.T) {
	in := `- apiVersion: aquasecurity.github.io/v1alpha1
  kind: ExposedSecretReport
  metadata: {name: s}
  report:
    artifact: {repository: acme/app, tag: "1.0"}
    secrets:
    - {ruleID: aws-access-key-id, title: AWS Access Key ID, severity: CRITICAL, target: /app/.env, match: "AKIA****"}
- apiVersion: aquasecurity.github.io/v1alpha1
  kind: ConfigAuditReport
  metadata: {name: c, namespace: ns, labels: {trivy-operator.resource.kind: Deployment, trivy-operator.resource.name: web}}
  report:
    checks:
    - {title: Trusted registry, severity: HIGH, success: false}
- apiVersion: aquasecurity.github.io/v1alpha1
  kind: ClusterComplianceReport
  metadata: {name: nsa}
  status:
    summaryReport:
      controlCheck:
      - {id: "1.0", name: Non-root containers, severity: MEDIUM, totalFail: 2}
`
	rep := spec.MustParse(t, New(), in)
	if len(rep.Findings) != 3 {
		t.Fatalf("%d findings", len(rep.Findings))
	}
	want := []string{
		parseutil.FingerprintJSON("trivy-operator/secret/v1", "image:acme/app:1.0", "aws-access-key-id", "/app/.env"),
		parseutil.FingerprintJSON("trivy-operator/check/v1", "ConfigAuditReport", "Trusted registry", "ns/Deployment/web"),
		parseutil.FingerprintJSON("trivy-operator/compliance/v1", "nsa", "1.0"),
	}
	for i, f := range rep.Findings {
		if f.Fingerprint != want[i] {
			t.Errorf("finding %d (%s): fingerprint is not the documented one", i, f.RuleID)
		}
	}
	if f := rep.Findings[0]; f.Severity != importers.Critical || f.Location.File != "/app/.env" || f.AssetKey != "image:acme/app:1.0" {
		t.Errorf("secret %+v", f)
	}
	if f := rep.Findings[2]; f.AssetKey != clusterKey || f.Severity != importers.Medium {
		t.Errorf("compliance %+v", f)
	}
}
