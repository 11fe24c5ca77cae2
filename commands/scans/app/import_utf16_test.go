package app_test

import (
	"bytes"
	"reflect"
	"regexp"
	"testing"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"golang.org/x/text/encoding/unicode"
)

// declare is b with its XML declaration old replaced by new, which must be there.
func declare(tb testing.TB, b []byte, old, new string) []byte {
	tb.Helper()
	if !bytes.Contains(b, []byte(old)) {
		tb.Fatalf("no %s in the report", old)
	}
	return bytes.Replace(b, []byte(old), []byte(new), 1)
}

var assetID = regexp.MustCompile(`assets-asset-[0-9a-f-]{36}`)

// TestImportUTF16: a report saved as UTF-16, with or without a byte order mark, whatever its XML
// declaration says, is detected and imported as its UTF-8 original is: the same summary, into a
// fresh store each.
func TestImportUTF16(t *testing.T) {
	le, be := unicode.LittleEndian, unicode.BigEndian
	trivy := juiceShop(t)
	nessus := declare(t, sharedReport(t, "nessus", "dd_basic_network_cvssv3.nessus"),
		`<?xml version="1.0" ?>`, `<?xml version="1.0" encoding="UTF-16"?>`)
	nmap := declare(t, sharedReport(t, "nmap", "nmap_sV_vulners_1host_25ports.xml"),
		`encoding="UTF-8"`, `encoding="utf-16le"`)
	csv := readFile(t, "../importers/testdata/generic/generic_own_findings.csv")
	for _, c := range []struct {
		name, format string
		utf8, utf16  []byte
	}{
		{"Trivy JSON, UTF-16LE with a mark", "trivy", trivy, importertest.UTF16(t, trivy, le, true)},
		{"Nessus declaring UTF-16, UTF-16BE with a mark", "nessus", nessus, importertest.UTF16(t, nessus, be, true)},
		{"Nmap XML declaring utf-16le, UTF-16LE without a mark", "nmap", nmap, importertest.UTF16(t, nmap, le, false)},
		{"generic CSV, UTF-16LE with a mark", "generic", csv, importertest.UTF16(t, csv, le, true)},
	} {
		t.Run(c.name, func(t *testing.T) {
			imp := func(b []byte) app.Summary {
				im := newImporter(t, testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"}))
				s := importBytes(t, im, b, app.ImportScanReport{Format: "auto"})
				s.ScanID = ""
				for i, w := range s.Warnings { // a weak asset's id is generated per store
					s.Warnings[i] = assetID.ReplaceAllString(w, "assets-asset-<id>")
				}
				return s
			}
			want, got := imp(c.utf8), imp(c.utf16)
			if want.Format != c.format || want.FindingsTotal == 0 || want.AssetsDiscovered == 0 {
				t.Fatalf("the UTF-8 original imports as %+v", want)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("UTF-16 copy: %+v\nUTF-8 original: %+v", got, want)
			}
		})
	}
}
