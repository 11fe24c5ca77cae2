package cyclonedx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/scans/importers"
)

// FuzzParse: Parse never panics, fails only with a *importers.ParseError, and a report it
// returns satisfies the invariants and is the same when parsed again. Seeds: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte(bomDoc))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := New()
		_ = p.Detect(data)
		rep, err := p.Parse(context.Background(), bytes.NewReader(data))
		if err != nil {
			var pe *importers.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a ParseError", err, err)
			}
			return
		}
		testsupport.CheckReport(t, rep, format, bounds)
		again, err := p.Parse(context.Background(), bytes.NewReader(data))
		if err != nil {
			t.Fatalf("second parse failed: %v", err)
		}
		a, _ := json.Marshal(rep)
		b, _ := json.Marshal(again)
		if !bytes.Equal(a, b) {
			t.Fatal("two parses differ")
		}
	})
}
