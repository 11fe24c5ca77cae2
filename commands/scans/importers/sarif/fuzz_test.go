package sarif

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
)

// FuzzParse checks that no input makes Parse panic, return an error other than a positioned
// *importers.ParseError, or return a report that breaks the invariants (unique fingerprints
// included) or is not deterministic. More seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t","rules":[{"id":"R","shortDescription":{"text":"s"},"properties":{"security-severity":"7.5","tags":["external/cwe/cwe-079"]}}]}},"results":[{"ruleId":"R","ruleIndex":0,"message":{"text":"m"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a.js"},"region":{"startLine":3,"startColumn":2,"snippet":{"text":"x"}}}}],"partialFingerprints":{"primaryLocationLineHash":"abc:1"}}]}]}`,
		`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"gitleaks"}},"versionControlProvenance":[{"repositoryUri":"https://x/y"}],"results":[{"message":{"text":"s"},"properties":{"offender":"AKIA"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"k"},"region":{"startLine":1,"snippet":{"text":"AKIA"}}}}]},{"message":{"text":"s"},"properties":{"offender":"AKIA"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"k"},"region":{"startLine":1,"snippet":{"text":"AKIA"}}}}]}]}]}`,
		`{"runs":[{"tool":{"driver":{"name":"t"},"extensions":[{"rules":[{"id":"E"}]}]},"results":[{"rule":{"index":0,"toolComponent":{"index":0}},"kind":"review","message":{"id":"m","arguments":["a"]},"fingerprints":{"k":"v"}}]}]}`,
		`{"runs":null}`,
		`{"runs":[{"results":[{"ruleIndex":-1,"locations":[{"physicalLocation":{"artifactLocation":{"index":99}}}]}]}]}`,
		`[{"runs":[`,
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
		checkInvariants(t, rep)
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
