package mapped

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// TestUploadSamples: each sample, sent as soc import --mapping sends it (its mapping, a line
// break, the report), gives the report its mapping gives on its own.
func TestUploadSamples(t *testing.T) {
	for mapping, sample := range map[string]string{"acme-csv.mapping.json": "acme-findings.csv", "webscan-json.mapping.json": "webscan-results.json"} {
		t.Run(sample, func(t *testing.T) {
			m, err := os.ReadFile("testdata/" + mapping)
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(importertest.File(t, Format, sample))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := NewUpload().Parse(context.Background(), UploadBody(m, f))
			if err != nil {
				t.Fatal(err)
			}
			want := importertest.ParseFile(t, New(loadMapping(t, mapping)), importertest.File(t, Format, sample))
			if len(got.Findings) == 0 || len(got.Findings) != len(want.Findings) || got.Findings[0].Fingerprint != want.Findings[0].Fingerprint {
				t.Errorf("upload: %d findings, alone: %d", len(got.Findings), len(want.Findings))
			}
		})
	}
}

// TestUploadRefuses: an upload that does not start with a valid mapping is a ParseError saying
// so, naming the mapping's bad key; a report error after it counts lines from the report.
func TestUploadRefuses(t *testing.T) {
	good := `{"input": "csv", "fields": {"title": "t", "severity": "s"}, "fingerprint": ["title"]}`
	for _, c := range []struct{ name, in, msg string }{
		{"no mapping", "t,s\na,high\n", "does not start with a mapping"},
		{"empty", "", "does not start with a mapping"},
		{"bad key", `{"input": "csv", "fields": {"title": "t", "severity": "s", "x": "y"}, "fingerprint": ["title"]}` + "\nt,s\n", "mapping: fields.x: unknown field"},
		{"too large", `{"scanner": "` + strings.Repeat("a", MaxMappingBytes) + `"}`, "over 64 KiB"},
		{"report error", good + "\r\nt,s\na,high\n,low\n", "line 3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewUpload().Parse(context.Background(), strings.NewReader(c.in))
			var pe *importers.ParseError
			if !errors.As(err, &pe) || !strings.Contains(pe.Error(), c.msg) {
				t.Errorf("err = %v, want a ParseError mentioning %q", err, c.msg)
			}
		})
	}
	rep, err := NewUpload().Parse(context.Background(), io.MultiReader(strings.NewReader(good), bytes.NewReader([]byte("t,s\na,high\n"))))
	if err != nil || len(rep.Findings) != 1 {
		t.Errorf("no line break between mapping and report: %v, %+v", err, rep)
	}
}
