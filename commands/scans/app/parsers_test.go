package app_test

import (
	"path/filepath"
	"testing"

	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// TestDetectionUnambiguous: every test file of every format (the shared testdata, its variants
// and the project's own samples) is claimed by its own parser among DefaultParsers and by no
// other, so that auto-detection never has to ask which format a real report is (and a format with
// testdata but no parser there fails).
func TestDetectionUnambiguous(t *testing.T) {
	parsers := app.DefaultParsers()
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
