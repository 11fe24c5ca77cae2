package importers_test

import (
	"path/filepath"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/cyclonedx"
	"github.com/socplatform/soc/commands/scans/importers/grype"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/nessus"
	"github.com/socplatform/soc/commands/scans/importers/nmap"
	"github.com/socplatform/soc/commands/scans/importers/openvas"
	"github.com/socplatform/soc/commands/scans/importers/sarif"
	"github.com/socplatform/soc/commands/scans/importers/trivy"
	"github.com/socplatform/soc/commands/scans/importers/zap"
)

// TestDetectionUnambiguous: every test file of every format (the shared testdata, its variants
// and the project's own samples) is claimed by its own parser and by no other, so that
// auto-detection never has to ask which format a real report is.
func TestDetectionUnambiguous(t *testing.T) {
	parsers := []importers.Parser{nmap.New(), trivy.New(), grype.New(), sarif.New(), nessus.New(), openvas.New(), zap.New(), cyclonedx.New()}
	for format, files := range importertest.AllFiles(t) {
		for _, f := range files {
			head := importertest.Head(t, f)
			var claims []string
			for _, p := range parsers {
				if p.Detect(head) {
					claims = append(claims, p.Format())
				}
			}
			if len(claims) != 1 || claims[0] != format {
				t.Errorf("%s/%s: claimed by %v", format, filepath.Base(f), claims)
			}
		}
	}
}
