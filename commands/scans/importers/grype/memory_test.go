package grype

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// TestRepeatedTextKeptOnce: Grype writes a vulnerability's text again for every artifact it
// affects; the report keeps one copy. 1,000 vulnerabilities sharing a 16 KiB description retain
// well under the 16 MB that one copy each would.
func TestRepeatedTextKeptOnce(t *testing.T) {
	desc := strings.Repeat("d", 16<<10)
	var b strings.Builder
	b.WriteString(`{"matches": [`)
	for i := range 1000 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"vulnerability": {"id": "CVE-2024-0001", "description": %q, "urls": ["https://example.com/CVE-2024-0001"]}, "artifact": {"name": "p%d", "version": "1"}}`, desc, i)
	}
	b.WriteString(`]}`)
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
