package trivy

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/scans/importers"
)

// FuzzParse checks that no input makes Parse panic, return an error other than a positioned
// *importers.ParseError, or return a report that breaks the invariants or is not deterministic.
// More seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"SchemaVersion":2,"ArtifactName":"a:1","ArtifactType":"container_image","Metadata":{"RepoDigests":["a@sha256:00"]},"Results":[{"Target":"t","Class":"os-pkgs","Type":"alpine","Vulnerabilities":[{"VulnerabilityID":"CVE-2024-0001","VendorIDs":["GHSA-aaaa-bbbb-cccc"],"PkgName":"p","InstalledVersion":"1","FixedVersion":"2","Severity":"HIGH","CweIDs":["CWE-79"],"CVSS":{"nvd":{"V3Vector":"CVSS:3.1/AV:N","V3Score":7.5,"V2Score":5}}}]}]}`,
		`{"SchemaVersion":2,"ArtifactName":".","ArtifactType":"filesystem","Results":[{"Target":"Dockerfile","Class":"config","Misconfigurations":[{"ID":"DS002","Status":"FAIL","Severity":"HIGH","CauseMetadata":{"StartLine":3}}]},{"Target":"s","Class":"secret","Secrets":[{"RuleID":"r","StartLine":1,"Match":"x=****"}]}]}`,
		`{"SchemaVersion":2,"Results":null}`,
		`{"SchemaVersion":2,"Results":[{"Vulnerabilities":[{"CVSS":{"x":{"V3Score":"7"}}}]}]}`,
		`[[[[[[`,
		"{\"SchemaVersion\":2,\"ArtifactName\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := &Parser{MaxBytes: 1 << 20, MaxDepth: 32}
		p.Detect(data)
		rep, err := p.Parse(context.Background(), bytes.NewReader(data))
		if err != nil {
			var pe *importers.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v, want *importers.ParseError", err, err)
			}
			if pe.Offset < 0 || pe.Offset > int64(len(data)) || pe.Line < 1 || pe.Column < 1 {
				t.Fatalf("ParseError position out of the input: %+v (len %d)", pe, len(data))
			}
			return
		}
		testsupport.CheckReportBasic(t, rep, formatName)
		again, err := p.Parse(context.Background(), bytes.NewReader(data))
		if err != nil || len(again.Findings) != len(rep.Findings) {
			t.Fatalf("second parse differs: %v", err)
		}
		for i := range rep.Findings {
			if rep.Findings[i].Fingerprint != again.Findings[i].Fingerprint {
				t.Fatalf("fingerprint %d not deterministic", i)
			}
		}
	})
}
