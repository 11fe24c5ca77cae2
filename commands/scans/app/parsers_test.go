package app_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/importers"
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

// TestParsersDescribed: every parser of DefaultParsers documents its format completely, under its
// own name, so that GET /v1/scans/formats, `soc import --list-formats` and the README table list
// every format the platform reads and none is added without saying how it is recognised,
// fingerprinted and graded.
func TestParsersDescribed(t *testing.T) {
	for _, p := range app.DefaultParsers() {
		d, ok := p.(importers.Describer)
		if !ok {
			t.Errorf("%s: %T does not implement importers.Describer", p.Format(), p)
			continue
		}
		checkInfo(t, p.Format(), d.Info())
	}
}

// families are the values FormatInfo.Family documents.
var families = map[string]bool{"sast": true, "secrets": true, "dependencies": true, "containers": true,
	"dast": true, "infrastructure": true, "cloud": true, "sbom": true, "generic": true}

func checkInfo(t *testing.T, format string, in importers.FormatInfo) {
	t.Helper()
	if in.Name != format {
		t.Errorf("%s: Info().Name is %q", format, in.Name)
	}
	if !families[in.Family] {
		t.Errorf("%s: family %q is not one of the documented families", format, in.Family)
	}
	for what, v := range map[string]string{"title": in.Title, "detection": in.Detection} {
		if strings.TrimSpace(v) == "" {
			t.Errorf("%s: Info() has no %s", format, what)
		}
	}
	for what, l := range map[string][]string{"versions": in.Versions, "fingerprint": in.Fingerprint} {
		if len(l) == 0 {
			t.Errorf("%s: Info() has no %s", format, what)
		}
		for _, v := range l {
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s: Info() has an empty entry in %s", format, what)
			}
		}
	}
	if len(in.Severity) == 0 {
		t.Errorf("%s: Info() has no severity mapping", format)
	}
	for k, v := range in.Severity {
		switch v {
		case importers.Critical, importers.High, importers.Medium, importers.Low, importers.Info:
		default:
			t.Errorf("%s: severity %q maps to %q, not one of ours", format, k, v)
		}
		if strings.TrimSpace(k) == "" {
			t.Errorf("%s: severity mapping has an empty scanner value", format)
		}
	}
}
