package kics

import (
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

// TestTerraformFields checks one finding field by field.
func TestTerraformFields(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "kics_1_7_terraform_docker.json"))
	if rep.ScannerVersion != "v1.7.13" || rep.StartedAt.IsZero() || rep.FinishedAt.IsZero() {
		t.Errorf("scanner %q, start %v, end %v", rep.ScannerVersion, rep.StartedAt, rep.FinishedAt)
	}
	a := rep.Assets[0]
	if a.Key != "kics:/src/infra" || a.Kind != importers.Repository {
		t.Errorf("asset %+v", a)
	}
	f := importertest.RuleFindings(t, rep, "38c5ee0d-7f22-4260-ab72-5073048df100", 1)[0]
	if f.Title != "S3 Bucket ACL Allows Read Or Write to All Users" || f.Severity != importers.High || f.ScannerSeverity != "HIGH" {
		t.Errorf("title %q severity %s (%s)", f.Title, f.Severity, f.ScannerSeverity)
	}
	if f.Location.File != "terraform/storage.tf" || f.Location.Line != 12 || len(f.CWEs) != 1 || f.CWEs[0] != "CWE-732" {
		t.Errorf("location %+v CWEs %v", f.Location, f.CWEs)
	}
	importertest.Fingerprint(t, f.Fingerprint, "query id + similarity id", "kics/v1", "38c5ee0d-7f22-4260-ab72-5073048df100", "6c6b7e0f94a64b1c8f38a2e7a4f3d1c2b9a0e5f6d7c8b9a0f1e2d3c4b5a69788")
	wantEv := "Platform: Terraform\nCategory: Access Control\nIssue: IncorrectValue\nResource: aws_s3_bucket_acl public_assets\n" +
		"Search key: aws_s3_bucket_acl[public_assets].acl\nExpected: aws_s3_bucket_acl[public_assets].acl should be private\n" +
		"Actual: aws_s3_bucket_acl[public_assets].acl is public-read-write"
	if f.Evidence != wantEv || f.Remediation != "aws_s3_bucket_acl[public_assets].acl should be private" {
		t.Errorf("evidence %q remediation %q", f.Evidence, f.Remediation)
	}
	if len(f.References) != 1 || f.Suppressed != nil {
		t.Errorf("references %v suppressed %+v", f.References, f.Suppressed)
	}
	// One query matching two files gives two findings.
	importertest.RuleFindings(t, rep, "b03a748a-542d-44f4-bb86-9199ab4fd2d5", 2)
}

// TestFingerprints: the similarity id, not the line, identifies a result; without one the file
// and search key do; two results with one fingerprint are merged.
func TestFingerprints(t *testing.T) {
	fp := func(file string) string {
		return importertest.MustParseString(t, New(), `{"queries":[{"query_id":"q","files":[`+file+`]}]}`).Findings[0].Fingerprint
	}
	a := fp(`{"file_name":"a.tf","similarity_id":"s1","line":3}`)
	if b := fp(`{"file_name":"a.tf","similarity_id":"s1","line":30}`); a != b {
		t.Error("a moved result changed its fingerprint")
	}
	if b := fp(`{"file_name":"a.tf","similarity_id":"s2","line":3}`); a == b {
		t.Error("another similarity id kept the fingerprint")
	}
	c := fp(`{"file_name":"a.tf","search_key":"k","line":3}`)
	if c != parseutil.FingerprintJSON("kics/v1", "q", "", "a.tf", "k") || c == fp(`{"file_name":"a.tf","search_key":"k2","line":3}`) {
		t.Error("fallback fingerprint is not query id + file + search key")
	}
	rep := importertest.MustParseString(t, New(), `{"queries":[{"query_id":"q","files":[{"file_name":"a","similarity_id":"s","line":1},{"file_name":"a","similarity_id":"s","line":2}]}]}`)
	if len(rep.Findings) != 1 {
		t.Errorf("%d findings, want the two results merged", len(rep.Findings))
	}
}

// TestSeverityMapping checks every documented severity word.
func TestSeverityMapping(t *testing.T) {
	for word, want := range map[string]importers.Severity{
		"CRITICAL": importers.Critical, "HIGH": importers.High, "MEDIUM": importers.Medium, "LOW": importers.Low,
		"INFO": importers.Info, "TRACE": importers.Info, "odd": importers.Info, "high": importers.High,
	} {
		rep := importertest.MustParseString(t, New(), `{"queries":[{"query_id":"q","severity":"`+word+`","files":[{"similarity_id":"s"}]}]}`)
		if rep.Findings[0].Severity != want {
			t.Errorf("%s: %s, want %s", word, rep.Findings[0].Severity, want)
		}
	}
	if info := New().(importers.Describer).Info(); info.Severity["TRACE"] != importers.Info || info.Severity["CRITICAL"] != importers.Critical {
		t.Errorf("Info severity map %v", info.Severity)
	}
}
