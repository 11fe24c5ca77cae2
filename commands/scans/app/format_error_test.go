package app_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/schemas/problem"
)

// A report no parser claims is refused with what it looks like — its JSON keys, XML root, CSV
// columns, or that it is binary — and the formats it resembles, in the problem's detail.
func TestUnrecognisedReportSaysWhatItLooksLike(t *testing.T) {
	im := newImporter(t, testsupport.SQLiteStore(t))
	var known []string // every format, sorted: the list grows with each parser
	for _, p := range app.DefaultParsers() {
		known = append(known, p.Format())
	}
	slices.Sort(known)
	for _, tc := range []struct {
		shape, report string
		says          []string
	}{
		{"JSON", `{"ArtifactName":"juice-shop","Results":[{"Target":"x"`,
			[]string{`a JSON object with the keys "ArtifactName", "Results"`, "resembles trivy"}},
		{"XML", `<?xml version="1.0"?><NessusClientData><Report name="x">`,
			[]string{"an XML document with the root element <NessusClientData>", "resembles nessus"}},
		{"CSV", "Plugin ID,CVE,Risk,Protocol,Port\r\n19506,,None,tcp,0\r\n",
			[]string{`a CSV file with the columns "Plugin ID", "CVE", "Risk", "Protocol", "Port"`, "resembles nessus"}},
		{"binary", "PK\x03\x04\x14\x00\x00\x00\x08\x00", []string{"a binary file", "resembles none of the supported formats"}},
	} {
		_, err := im.Import(context.Background(), app.ImportScanReport{Report: strings.NewReader(tc.report)})
		var fe *app.FormatError
		if !errors.As(err, &fe) || len(fe.Candidates) != 0 {
			t.Errorf("%s: %v, want a FormatError", tc.shape, err)
			continue
		}
		p := problem.From(err)
		for _, s := range append(tc.says, "not recognised", "known formats: "+strings.Join(known, ", ")) {
			if !strings.Contains(p.Detail, s) {
				t.Errorf("%s: detail %q does not say %q", tc.shape, p.Detail, s)
			}
		}
		if p.Status != 400 || p.Field != "/format" {
			t.Errorf("%s: %d naming %q, want a 400 naming /format", tc.shape, p.Status, p.Field)
		}
	}
}
