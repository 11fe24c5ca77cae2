package app_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/mapped"
	"github.com/socplatform/soc/events/adapters/sqlite"
)

// TestImportMapped: a CSV read through its mapping (format "mapped", the mapping at the head of
// the upload, as soc import --mapping sends it) imports its 5 findings on their 4 hosts; the
// same upload again is all unchanged; auto-detection never picks the mapped format.
func TestImportMapped(t *testing.T) {
	m, err := os.ReadFile("../importers/mapped/testdata/acme-csv.mapping.json")
	if err != nil {
		t.Fatal(err)
	}
	report, err := os.ReadFile(importertest.File(t, mapped.Format, "acme-findings.csv"))
	if err != nil {
		t.Fatal(err)
	}
	upload := func() []byte {
		b, err := io.ReadAll(mapped.UploadBody(m, bytes.NewReader(report)))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	im := newImporter(t, store)
	first := importBytes(t, im, upload(), app.ImportScanReport{Format: mapped.Format, Actor: "test"})
	if first.Format != mapped.Format || first.New != 5 || first.AssetsDiscovered != 4 {
		t.Fatalf("first import: %+v", first)
	}
	second := importBytes(t, im, upload(), app.ImportScanReport{Format: mapped.Format, Actor: "test"})
	if second.New != 0 || second.Unchanged != 5 || second.AssetsDiscovered != 0 {
		t.Fatalf("second import: %+v", second)
	}
	if _, err := im.Import(context.Background(), app.ImportScanReport{Report: bytes.NewReader(report), Format: "auto", Actor: "test"}); err == nil ||
		!strings.Contains(err.Error(), "not recognised") {
		t.Errorf("auto-detection of a bare CSV: %v", err)
	}
}
