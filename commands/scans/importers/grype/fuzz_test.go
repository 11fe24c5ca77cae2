package grype

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
		`{"matches":[{"vulnerability":{"id":"CVE-2024-0001","severity":"High","cvss":[{"version":"3.1","vector":"CVSS:3.1/AV:N","metrics":{"baseScore":7.5}}],"fix":{"versions":["2"],"state":"fixed"}},"relatedVulnerabilities":[{"id":"GHSA-aaaa-bbbb-cccc","cvss":[]}],"artifact":{"name":"p","version":"1","type":"npm","purl":"pkg:npm/p@1","locations":[{"path":"/a"}]}}],"source":{"type":"image","target":{"userInput":"x:1","repoDigests":["x@sha256:00"]}},"distro":{"name":"alpine","version":"3"},"descriptor":{"name":"grype","version":"0.1"}}`,
		`{"matches":[],"source":{"type":"directory","target":"/src"}}`,
		`{"matches":[{"vulnerability":{"severity":null}}],"source":{"type":"image","target":"oops"}}`,
		`{"matches":null}`,
		`{{{{{{`,
		"{\"matches\":[],\"x\":\"\xc0\"}",
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
