package sniff

import (
	"path/filepath"
	"slices"

	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"strings"
	"testing"
)

func TestExplain(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "the file is an empty file; it resembles none of the supported formats"},
		{"\xEF\xBB\xBF  ", "the file is an empty file; it resembles none of the supported formats"},
		// A Trivy report cut before its SchemaVersion.
		{`{"ArtifactName": "x", "Results": [{"Target": "t"`,
			`the file is a JSON object with the keys "ArtifactName", "Results"; it resembles trivy (shares ArtifactName, Results), bandit (shares Results), osv-scanner (shares Results)`},
		{`[{"Target": "x", "Foo": 1}]`,
			`the file is a JSON array whose first element has the keys "Target", "Foo"; it resembles trivy (shares Target)`},
		{`{"a": 1}`, `the file is a JSON object with the keys "a"; it resembles none of the supported formats`},
		{`<?xml version="1.0"?><spdx xmlns="http://spdx.org/rdf/terms">`,
			`the file is an XML document with the root element <spdx> (namespace http://spdx.org/rdf/terms); it resembles none of the supported formats`},
		{`<NessusClientData>`, `the file is an XML document with the root element <NessusClientData>; it resembles nessus (shares NessusClientData)`},
		// A SonarQube page cut inside its first issue, before key, rule and component.
		{`{"paging": {"pageIndex": 1}, "issues": [{"message": "m"`,
			`the file is a JSON object with the keys "paging", "issues"; it resembles sonarqube (shares paging, issues)`},
		{`{"kics_version": "v1", "queries": 3}`,
			`the file is a JSON object with the keys "kics_version", "queries"; it resembles kics (shares kics_version, queries)`},
		{`<CxXMLResults>`, `the file is an XML document with the root element <CxXMLResults>; it resembles checkmarx (shares CxXMLResults)`},
		// A Veracode findings API page cut before its first finding's scan_type.
		{`{"_embedded": {"findings": [{"description": "d`,
			`the file is a JSON object with the keys "_embedded"; it resembles veracode (shares _embedded)`},
		// A Nessus CSV exported without the Host and Name columns.
		{"Plugin ID,CVE,Risk,Protocol,Port\r\n1,,None,tcp,0\r\n",
			`the file is a CSV file with the columns "Plugin ID", "CVE", "Risk", "Protocol", "Port"; it resembles nessus (shares Plugin ID, CVE, Risk, Protocol, Port)`},
		{"just some words\nand more", "the file is plain text; it resembles none of the supported formats"},
		// A Trivy Operator report of a kind the parser does not read.
		{"---\n# kubectl get sbomreports -o yaml\napiVersion: aquasecurity.github.io/v1alpha1\nkind: SbomReport\nmetadata:\n  name: x\n",
			`the file is a YAML mapping with the keys "apiVersion", "kind", "metadata"; it resembles trivy-operator (shares apiVersion, kind, metadata)`},
		{"PK\x03\x04\x00\x00", "the file is a binary file; it resembles none of the supported formats"},
	} {
		if got := Explain([]byte(tc.in)); got != tc.want {
			t.Errorf("Explain(%.30q)\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

// TestNamesBounded: a head with many keys lists at most maxNames of them.
func TestNamesBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < 50; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k` + strings.Repeat("x", i) + `": 1`)
	}
	b.WriteString("}")
	if s := Describe([]byte(b.String())); s.Kind != JSONObject || len(s.Names) != maxNames || s.Names[0] != "k" {
		t.Errorf("shape = %+v", s)
	}
}

// TestTestdataResemblesItsFormat: every test file of every format, variants and samples included,
// resembles its own format best, so that the closest format named for a damaged file is right.
func TestTestdataResemblesItsFormat(t *testing.T) {
	for format, files := range importertest.AllFiles(t) {
		for _, f := range files {
			shape := Describe(importertest.Head(t, f))
			if len(shape.Names) == 0 {
				continue // nothing to compare (Gitleaks writes null when it finds nothing)
			}
			// Some formats share their few top-level names (Semgrep's and Bandit's "results",
			// "errors"): the file's own format must be among the closest, not necessarily first.
			m := Resembles(shape)
			if !closest(m, format) {
				t.Errorf("%s/%s: resembles %v", format, filepath.Base(f), m)
			}
		}
	}
}

// closest reports whether format is among the matches m (Resembles, best first) that share the
// most names (the same count, and as many in the same case).
func closest(m []Match, format string) bool {
	if len(m) == 0 {
		return false
	}
	exact := func(x Match) int {
		n := 0
		for _, name := range x.Shared {
			if slices.Contains(signatures[x.Format], name) {
				n++
			}
		}
		return n
	}
	for _, x := range m {
		if len(x.Shared) != len(m[0].Shared) || exact(x) != exact(m[0]) {
			return false
		}
		if x.Format == format {
			return true
		}
	}
	return false
}
