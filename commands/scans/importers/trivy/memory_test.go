package trivy

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// TestRepeatedTextKeptOnce: Trivy writes a vulnerability's text again for every package it
// affects; the report keeps one copy. 1,000 vulnerabilities sharing a 16 KiB description retain
// well under the 16 MB that one copy each would.
func TestRepeatedTextKeptOnce(t *testing.T) {
	desc := strings.Repeat("d", 16<<10)
	var b strings.Builder
	b.WriteString(`{"SchemaVersion": 2, "ArtifactName": "a:1", "ArtifactType": "container_image", "Results": [{"Target": "t", "Class": "lang-pkgs", "Vulnerabilities": [`)
	for i := range 1000 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"VulnerabilityID": "CVE-2024-0001", "PkgName": "p%d", "InstalledVersion": "1", "Description": %q, "References": ["https://example.com/CVE-2024-0001"]}`, i, desc)
	}
	b.WriteString(`]}]}`)
	doc := b.String()
	var rep *importers.Report
	kept := importertest.Retained(func() any {
		var err error
		rep, err = New().Parse(context.Background(), strings.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		return rep
	})
	runtime.KeepAlive(doc) // the input is not what the report keeps
	if len(rep.Findings) != 1000 || rep.Findings[999].Description != desc {
		t.Fatalf("%d findings", len(rep.Findings))
	}
	if kept > 4<<20 {
		t.Errorf("the report retains %d bytes", kept)
	}
}
