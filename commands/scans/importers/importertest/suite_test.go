package importertest

import (
	"context"
	"io"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
)

// failures records what a check reports instead of failing the test running it.
type failures struct {
	testing.TB
	n int
}

func (f *failures) Helper()               {}
func (f *failures) Errorf(string, ...any) { f.n++ }

// TestVerifyDefault: a Spec without Check verifies reports with CheckReport, whose nil-slice
// rule CheckReportBasic lacks; a Spec's own Check replaces it.
func TestVerifyDefault(t *testing.T) {
	rep := &importers.Report{Format: "x"} // nil Assets and Findings
	var f failures
	Spec{Format: "x"}.Verify(&f, rep)
	if f.n == 0 {
		t.Error("nil slices passed the default check")
	}
	f = failures{}
	Spec{Format: "x", Check: func(tb testing.TB, rep *importers.Report) { CheckReportBasic(tb, rep, "x") }}.Verify(&f, rep)
	if f.n != 0 {
		t.Errorf("the Spec's Check: %d failures, want none", f.n)
	}
}

// stubParser answers every input with rep and err.
type stubParser struct {
	rep *importers.Report
	err error
}

func (stubParser) Format() string     { return "x" }
func (stubParser) Detect([]byte) bool { return false }
func (p stubParser) Parse(context.Context, io.Reader) (*importers.Report, error) {
	return p.rep, p.err
}

// TestRefused: a file the Spec lists as malformed must be refused with a ParseError saying
// what the Spec says.
func TestRefused(t *testing.T) {
	s := Spec{Format: "x", Refused: map[string]string{"bad.xml": "malformed XML"}}
	for _, tc := range []struct {
		name  string
		p     stubParser
		fails bool
	}{
		{"accepted", stubParser{rep: &importers.Report{Format: "x"}}, true},
		{"other message", stubParser{err: &importers.ParseError{Format: "x", Offset: 3, Msg: "no root element"}}, true},
		{"refused", stubParser{err: &importers.ParseError{Format: "x", Offset: 3, Line: 2, Msg: "malformed XML: unexpected end element"}}, false},
	} {
		var f failures
		s.refused(&f, tc.p, "bad.xml", []byte("<a></b>"))
		if (f.n > 0) != tc.fails {
			t.Errorf("%s: %d failures, want failing %v", tc.name, f.n, tc.fails)
		}
	}
}

// TestEmptyPolicy: the suite holds a parser to the empty-input policy its Spec declares, in
// both directions, and an accepted empty report must say it is one.
func TestEmptyPolicy(t *testing.T) {
	refused := stubParser{err: &importers.ParseError{Format: "x", Offset: 0, Msg: "unexpected end of input"}}
	said := stubParser{rep: &importers.Report{Format: "x", Assets: []importers.Asset{}, Findings: []importers.Finding{}, Warnings: []string{importers.EmptyWarning}}}
	unsaid := stubParser{rep: &importers.Report{Format: "x", Assets: []importers.Asset{}, Findings: []importers.Finding{}}}
	withFinding := stubParser{rep: &importers.Report{Format: "x", Assets: []importers.Asset{{Key: "a", Kind: importers.Host, Name: "a"}},
		Findings: []importers.Finding{{AssetKey: "a", Fingerprint: "f", Title: "t", Severity: importers.Low}}, Warnings: []string{importers.EmptyWarning}}}
	for _, tc := range []struct {
		name   string
		report bool
		p      stubParser
		fails  bool
	}{
		{"refused as declared", false, refused, false},
		{"accepted though declared refused", false, said, true},
		{"report as declared", true, said, false},
		{"refused though declared a report", true, refused, true},
		{"report without the warning", true, unsaid, true},
		{"report with a finding", true, withFinding, true},
	} {
		var f failures
		Spec{Format: "x", EmptyIsReport: tc.report}.emptyInput(&f, tc.p, "no bytes", "")
		if (f.n > 0) != tc.fails {
			t.Errorf("%s: %d failures, want failing %v", tc.name, f.n, tc.fails)
		}
	}
}
