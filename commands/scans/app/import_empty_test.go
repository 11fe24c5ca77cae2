package app_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/schemas/contracts"
)

// nucleiOneFinding is a Nuclei -jsonl report of one result on one web application.
const nucleiOneFinding = `{"template-id": "git-config", "info": {"name": "Git Config Disclosure", "severity": "medium"}, "type": "http", "host": "https://shop.example.com", "matched-at": "https://shop.example.com/.git/config"}` + "\n"

// An empty Nuclei report (what nuclei -jsonl -o leaves when nothing matched) imports, with its
// format named, as a completed scan with no findings that resolves nothing by accident: without
// an asset it has no scope at all (and says so), with one it is a scan of that asset that saw
// none of its findings, held back unless close_missing.
func TestEmptyNucleiReportImportsAndResolvesNothing(t *testing.T) {
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	im := newImporter(t, store)
	first := importBytes(t, im, []byte(nucleiOneFinding), app.ImportScanReport{Format: "nuclei"})
	if first.Stored != 1 || first.AssetsDiscovered != 1 {
		t.Fatalf("first import: %+v", first)
	}
	var asset string
	for _, e := range allEvents(t, store) {
		if e.Type == contracts.TypeAssetRegistered {
			asset = e.StreamID
		}
	}
	completed := func() int { return countTypes(allEvents(t, store))[contracts.TypeScanImportCompleted] }

	for _, body := range []string{"", " \n\r\n"} {
		before := completed()
		s := importBytes(t, im, []byte(body), app.ImportScanReport{Format: "nuclei"})
		if s.FindingsTotal != 0 || s.Resolved != 0 || s.Closed != 0 || s.HeldBack != 0 || !s.AddsUp() {
			t.Fatalf("empty report %q: %+v", body, s)
		}
		if !slices.Contains(s.Warnings, "nuclei report: "+importers.EmptyWarning) ||
			!slices.ContainsFunc(s.Warnings, func(w string) bool { return strings.Contains(w, "names no asset, so it resolves nothing") }) {
			t.Errorf("empty report %q: warnings %q", body, s.Warnings)
		}
		if completed() != before+1 {
			t.Errorf("empty report %q: no ScanImportCompleted", body)
		}
	}

	// Named, the asset is what the empty report scanned: its finding is held back...
	s := importBytes(t, im, nil, app.ImportScanReport{Format: "nuclei", Asset: asset})
	if s.Resolved != 0 || s.HeldBack != 1 || s.HeldBackReason == "" {
		t.Fatalf("empty report of the asset: %+v", s)
	}
	if n := countTypes(allEvents(t, store))[contracts.TypeFindingResolved]; n != 0 {
		t.Fatalf("%d findings resolved by empty reports", n)
	}
	// ...until the user says the scan was complete.
	if s := importBytes(t, im, nil, app.ImportScanReport{Format: "nuclei", Asset: asset, CloseMissing: true}); s.Resolved != 1 || s.HeldBack != 0 {
		t.Fatalf("empty report of the asset with close_missing: %+v", s)
	}
}

// An empty report cannot be detected: auto-detection refuses it and names the formats whose
// empty report is one with no findings; a format that never writes an empty report refuses it.
func TestEmptyReportNeedsItsFormat(t *testing.T) {
	im := newImporter(t, testsupport.SQLiteStore(t))
	ctx := context.Background()
	_, err := im.Import(ctx, app.ImportScanReport{Report: strings.NewReader("\n")})
	var fe *app.FormatError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "the file is empty") || !strings.Contains(err.Error(), "gitleaks or nuclei") {
		t.Fatalf("auto-detected empty report: %v", err)
	}
	_, err = im.Import(ctx, app.ImportScanReport{Report: strings.NewReader(""), Format: "trivy"})
	var pe *importers.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("empty trivy report: %v, want a ParseError", err)
	}
	for format, want := range map[string]bool{"nuclei": true, "gitleaks": true, "trivy": false, "osv-scanner": false} {
		if got := im.EmptyIsReport(format); got != want {
			t.Errorf("EmptyIsReport(%s) = %v, want %v", format, got, want)
		}
	}
}
