package grype

import (
	"fmt"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// TestRepeatedTextKeptOnce: Grype writes a vulnerability's text again for every artifact it
// affects; the report keeps one copy.
func TestRepeatedTextKeptOnce(t *testing.T) {
	importertest.RepeatedTextKeptOnce(t, New(), `{"matches": [`,
		func(i int, desc string) string {
			return fmt.Sprintf(`{"vulnerability": {"id": "CVE-2024-0001", "description": %q, "urls": ["https://example.com/CVE-2024-0001"]}, "artifact": {"name": "p%d", "version": "1"}}`, desc, i)
		},
		`]}`)
}
