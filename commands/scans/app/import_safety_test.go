package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	assetapp "github.com/socplatform/soc/commands/assets/app"
	assets "github.com/socplatform/soc/commands/assets/domain"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/scans/app"
	vulnapp "github.com/socplatform/soc/commands/vulns/app"
	vulns "github.com/socplatform/soc/commands/vulns/domain"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/schemas/contracts"
)

// sharedReport reads the report name of the shared testdata folder dir (testsupport.SharedTestdata).
func sharedReport(tb testing.TB, dir, name string) []byte {
	tb.Helper()
	return readFile(tb, filepath.Join(testsupport.SharedTestdata(tb, dir), name))
}

func juiceShop(t *testing.T) []byte {
	return sharedReport(t, "trivy", "trivy_image_juice-shop-v12.10.2.json")
}

// cdxWithSerial is a CycloneDX BOM that names no component, only its serialNumber.
func cdxWithSerial(t *testing.T) []byte {
	return readFile(t, filepath.Join(testsupport.SharedTestdata(t, "variants", "cyclonedx"), "cdx15_spec_valid_vulnerability.xml"))
}

// cdxWithoutTarget is a CycloneDX BOM that names nothing its asset could be known by: the
// serial-named one without its serialNumber.
func cdxWithoutTarget(t *testing.T) []byte {
	b := regexp.MustCompile(` serialNumber="[^"]*"`).ReplaceAll(cdxWithSerial(t), nil)
	if bytes.Contains(b, []byte("serialNumber")) {
		t.Fatal("the BOM still has a serialNumber")
	}
	return b
}

// TestBOMNamedBySerialNumber: a BOM that names no component is attached to a weakly identified
// asset named by its serialNumber (the BOM's identity across its versions), and a reimport of the
// same BOM finds the same asset and findings.
func TestBOMNamedBySerialNumber(t *testing.T) {
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	im := newImporter(t, store)
	first := importBytes(t, im, cdxWithSerial(t), app.ImportScanReport{})
	if !first.AddsUp() || first.Stored != 1 || first.AssetsWeak != 1 {
		t.Fatalf("first import: %+v", first)
	}
	again := importBytes(t, im, cdxWithSerial(t), app.ImportScanReport{})
	if !again.AddsUp() || again.Unchanged != 1 || again.New != 0 || again.AssetsMatched != 1 {
		t.Fatalf("reimport: %+v, want the same asset and finding", again)
	}
}

// emptied is the Trivy report with every vulnerability removed: the same scope, no results.
func emptied(t *testing.T, b []byte) []byte {
	d := decodeTrivy(t, b)
	d["Results"] = []any{}
	if rep := parse(t, "trivy", d.encode(t)); len(rep.Findings) != 0 || len(rep.Assets) != 1 {
		t.Fatalf("the emptied report has %d findings, %d assets", len(rep.Findings), len(rep.Assets))
	}
	return d.encode(t)
}

func TestAssetByIDOrName(t *testing.T) {
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	byName := registerAsset(t, store, "payments-api")
	twin1, twin2 := registerAsset(t, store, "twin"), registerAsset(t, store, "twin")
	im := newImporter(t, store)
	ctx := context.Background()
	report := cdxWithoutTarget(t)

	// Without an asset the report cannot be attached: the import fails loudly.
	_, err := im.Import(ctx, app.ImportScanReport{Report: bytes.NewReader(report)})
	var inc *app.IncompleteImportError
	if !errors.As(err, &inc) || inc.Parsed != 1 || inc.Stored != 0 {
		t.Fatalf("no asset: %v, want an IncompleteImportError", err)
	}
	before := len(allEvents(t, store))
	for _, ref := range []string{"nope", "twin", events.NewStreamID("assets", "asset"), "Payments-API"} {
		_, err := im.Import(ctx, app.ImportScanReport{Report: bytes.NewReader(report), Asset: ref})
		var ue *app.UnknownAssetError
		if !errors.As(err, &ue) || ue.Field() != "/asset" {
			t.Errorf("asset %q: %v, want an UnknownAssetError", ref, err)
		}
	}
	if n := len(allEvents(t, store)); n != before {
		t.Fatalf("unknown assets appended %d events", n-before)
	}
	for _, ref := range []string{"payments-api", byName, twin1} {
		sum := importBytes(t, im, report, app.ImportScanReport{Asset: ref})
		if !sum.AddsUp() || sum.Stored != 1 || sum.AssetsMatched != 1 {
			t.Errorf("asset %q: %+v", ref, sum)
		}
	}
	for id, want := range map[string]int{byName: 1, twin1: 1, twin2: 0} {
		if got := len(im.ScopeFindings(app.ScopeKey(id, "cyclonedx"))); got != want {
			t.Errorf("asset %s holds %d findings, want %d", id, got, want)
		}
	}
	// A retired asset is no asset to attach to.
	var a assets.Asset
	v, err := es.Load(ctx, store, byName, &a)
	if err != nil {
		t.Fatal(err)
	}
	changes, err := a.Retire("decommissioned")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := es.Save(ctx, store, byName, events.Exact(v), es.Meta{Actor: "t"}, changes); err != nil {
		t.Fatal(err)
	}
	var ue *app.UnknownAssetError
	if _, err := im.Import(ctx, app.ImportScanReport{Report: bytes.NewReader(report), Asset: "payments-api"}); !errors.As(err, &ue) {
		t.Fatalf("retired asset by name: %v", err)
	}
	if _, err := im.ResolveAsset(ctx, byName); !errors.As(err, &ue) {
		t.Fatalf("retired asset by id: %v", err)
	}
}

// TestWeakIdentityMatchesOnReimport: an nmap scan of the loopback address (no identifier the
// assets context accepts) is attached to an asset registered weakly from the scan's command
// line; the same scan again matches it.
func TestWeakIdentityMatchesOnReimport(t *testing.T) {
	report := readFile(t, filepath.Join("testdata", "nmap_dlink_loopback.xml"))
	rep := parse(t, "nmap", report)
	if rep.Target == nil {
		t.Fatal("the nmap report names no target")
	}
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	im := newImporter(t, store)
	first := importBytes(t, im, report, app.ImportScanReport{})
	if !first.AddsUp() || first.Stored == 0 || first.AssetsWeak != 1 || first.AssetsDiscovered != 1 {
		t.Fatalf("first: %+v", first)
	}
	second := importBytes(t, im, report, app.ImportScanReport{})
	if !second.AddsUp() || second.Unchanged != first.Stored || second.New != 0 || second.AssetsWeak != 1 || second.AssetsMatched != 1 || second.AssetsDiscovered != 0 {
		t.Fatalf("second: %+v", second)
	}
	var weak []contracts.AssetRegisteredWeakly
	for _, e := range allEvents(t, store) {
		if e.Type == contracts.TypeAssetRegisteredWeakly {
			var d contracts.AssetRegisteredWeakly
			if err := json.Unmarshal(e.Data, &d); err != nil {
				t.Fatal(err)
			}
			weak = append(weak, d)
		}
	}
	if len(weak) != 1 || weak[0].WeakKey != assets.WeakKey("scan", rep.Target.Name) || weak[0].Kind != assets.Host {
		t.Fatalf("weakly registered: %+v", weak)
	}
	// A fresh importer (replaying the store) matches it too.
	third := importBytes(t, newImporter(t, store), report, app.ImportScanReport{})
	if third.AssetsMatched != 1 || third.AssetsDiscovered != 0 {
		t.Fatalf("after a restart: %+v", third)
	}
}

// importedJuiceShop is a fresh store with the Trivy juice-shop report imported once.
func importedJuiceShop(t *testing.T) (orig []byte, store *events.Guarded, im *app.Importer, first app.Summary) {
	orig = juiceShop(t)
	store = testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	im = newImporter(t, store)
	return orig, store, im, importBytes(t, im, orig, app.ImportScanReport{})
}

func TestEmptyReportTwiceResolvesNothing(t *testing.T) {
	orig, store, im, first := importedJuiceShop(t)
	empty := emptied(t, orig)
	for i := 0; i < 2; i++ {
		s := importBytes(t, im, empty, app.ImportScanReport{})
		if s.Resolved != 0 || s.Closed != 0 || s.HeldBack != first.Stored || s.HeldBackReason == "" || s.Parsed != 0 || !s.AddsUp() {
			t.Fatalf("empty report #%d: %+v", i+1, s)
		}
	}
	n := countTypes(allEvents(t, store))
	if n[contracts.TypeFindingResolved] != 0 || n[contracts.TypeFindingClosed] != 0 {
		t.Fatalf("events: %v", n)
	}
	// Said so, it resolves them, then closes them.
	s := importBytes(t, im, empty, app.ImportScanReport{CloseMissing: true})
	if s.Resolved != first.Stored || s.HeldBack != 0 {
		t.Fatalf("close_missing: %+v", s)
	}
	if s = importBytes(t, im, empty, app.ImportScanReport{}); s.Closed != 0 || s.HeldBack != first.Stored {
		t.Fatalf("empty report after close_missing: %+v", s)
	}
	if s = importBytes(t, im, empty, app.ImportScanReport{CloseMissing: true}); s.Closed != first.Stored {
		t.Fatalf("close_missing again: %+v", s)
	}
}

func TestReimportMissingMoreThanTheShareIsHeldBack(t *testing.T) {
	orig, store, im, first := importedJuiceShop(t)
	// Keep one in three: two thirds of the scope would be resolved.
	third := dropEvery(t, dropEvery(t, orig, 3), 2)
	kept := parse(t, "trivy", third)
	s := importBytes(t, im, third, app.ImportScanReport{})
	missing := first.Stored - uniqueFindings(kept)
	if s.Resolved != 0 || s.HeldBack != missing || s.Unchanged != uniqueFindings(kept) || s.HeldBackReason == "" {
		t.Fatalf("two thirds missing: %+v (missing %d)", s, missing)
	}
	// A lower bar lets it through; so does close_missing.
	loose, err := app.New(store, app.Options{MaxCloseShare: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	if err := loose.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := importBytes(t, loose, third, app.ImportScanReport{}); s.Resolved != missing || s.HeldBack != 0 {
		t.Fatalf("max share 0.9: %+v", s)
	}
	_, _, im2, _ := importedJuiceShop(t)
	if s := importBytes(t, im2, third, app.ImportScanReport{CloseMissing: true}); s.Resolved != missing || s.HeldBack != 0 {
		t.Fatalf("close_missing: %+v", s)
	}
	for _, bad := range []float64{-0.1, 1.5} {
		if _, err := app.New(store, app.Options{MaxCloseShare: bad}); err == nil {
			t.Errorf("MaxCloseShare %v accepted", bad)
		}
	}
}

// dropOne is a recorder that loses the first finding of every batch it is given.
type dropOne struct{ app.FindingRecorder }

func (d dropOne) Seen(ctx context.Context, meta es.Meta, scanID string, at time.Time, found []vulnapp.ScanFinding, done func(vulnapp.ScanOutcome)) error {
	if len(found) > 0 {
		found = found[1:]
	}
	return d.FindingRecorder.Seen(ctx, meta, scanID, at, found, done)
}

func TestRecorderThatLosesAFindingFailsTheImport(t *testing.T) {
	orig, store, im, first := importedJuiceShop(t)
	im.WrapFindingRecorder(func(r app.FindingRecorder) app.FindingRecorder { return dropOne{r} })
	sum, err := im.Import(context.Background(), app.ImportScanReport{Report: bytes.NewReader(dropEvery(t, orig, 5))})
	var inc *app.IncompleteImportError
	if !errors.As(err, &inc) || sum.AddsUp() || inc.Parsed-inc.Stored-inc.Duplicates-inc.Ignored != 1 {
		t.Fatalf("import with a lossy recorder: %+v, %v", sum, err)
	}
	n := countTypes(allEvents(t, store))
	if n[contracts.TypeScanImportFailed] != 1 || n[contracts.TypeFindingResolved] != 0 || n[contracts.TypeScanImportCompleted] != 1 {
		t.Fatalf("events %v: the failure must be recorded and nothing resolved (first import %d findings)", n, first.Stored)
	}
}

// TestReportVerdictsOpenFindingsInTheirState: Trivy's not_affected and will_not_fix open the
// finding as a false positive and a risk acceptance, with no due date; a later report without
// the verdict leaves them as the lifecycle does (imports never reopen those), and a verdict on
// an active finding moves it.
func TestReportVerdictsOpenFindingsInTheirState(t *testing.T) {
	orig := juiceShop(t)
	d := decodeTrivy(t, orig)
	var vs []any
	for _, r := range d["Results"].([]any) {
		if v, ok := r.(map[string]any)["Vulnerabilities"].([]any); ok && len(v) >= 3 {
			vs = v
			break
		}
	}
	if vs == nil {
		t.Fatal("no result with three vulnerabilities")
	}
	vs[0].(map[string]any)["Status"] = "not_affected"
	vs[1].(map[string]any)["Status"] = "will_not_fix"
	hinted := d.encode(t)
	rep := parse(t, "trivy", hinted)
	var fpFP, raFP string
	for _, f := range rep.Findings {
		switch {
		case f.Suppressed != nil && f.Suppressed.Kind == "not_affected":
			fpFP = f.Fingerprint
		case f.Suppressed != nil && f.Suppressed.Kind == "accepted":
			raFP = f.Fingerprint
		}
	}
	if fpFP == "" || raFP == "" {
		t.Fatal("the parser gave no verdicts")
	}

	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	im := newImporter(t, store)
	s := importBytes(t, im, hinted, app.ImportScanReport{})
	if s.Suppressed != 2 || !s.AddsUp() {
		t.Fatalf("summary %+v", s)
	}
	ids := findingIDs(t, store)
	fp, ra := ids[fpFP], ids[raFP]
	if st := statusOf(t, store, fp); st != vulns.StatusFalsePositive {
		t.Errorf("not_affected: %s", st)
	}
	f, _ := loadFinding(t, store, ra)
	if f.Status != vulns.StatusRiskAccepted || !f.DueAt.IsZero() {
		t.Errorf("will_not_fix: %s due %v", f.Status, f.DueAt)
	}
	for _, e := range allEvents(t, store) {
		if (e.StreamID == fp || e.StreamID == ra) && e.Type == contracts.TypeFindingDueDateSet {
			t.Errorf("%s got a due date", e.StreamID)
		}
	}
	// The plain report: the verdicts are gone, the states stay.
	if s := importBytes(t, im, orig, app.ImportScanReport{}); s.Reopened != 0 || s.Suppressed != 0 {
		t.Fatalf("without verdicts: %+v", s)
	}
	if statusOf(t, store, fp) != vulns.StatusFalsePositive || statusOf(t, store, ra) != vulns.StatusRiskAccepted {
		t.Fatal("a verdict that disappeared changed the state")
	}
	// A verdict on an active finding moves it.
	vs[2].(map[string]any)["Status"] = "not_affected"
	later := d.encode(t)
	s = importBytes(t, im, later, app.ImportScanReport{})
	if s.Suppressed != 1 {
		t.Fatalf("verdict on an active finding: %+v", s)
	}
	var moved int
	for _, id := range findingIDs(t, store) {
		if statusOf(t, store, id) == vulns.StatusFalsePositive {
			moved++
		}
	}
	if moved != 2 {
		t.Fatalf("%d false positives, want 2", moved)
	}
}

// TestMergedAssetsFindingsFollow: after asset a is merged into b, a report attached to b sees
// a's findings as b's (same streams, seen not opened), and resolves them when they are gone.
func TestMergedAssetsFindingsFollow(t *testing.T) {
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	a, b := registerAsset(t, store, "dup-a"), registerAsset(t, store, "dup-b")
	im := newImporter(t, store)
	ctx := context.Background()
	// Without its analysis (not_affected), the BOM's finding is open.
	report := regexp.MustCompile(`(?s)<analysis>.*</analysis>`).ReplaceAll(cdxWithoutTarget(t), nil)
	first := importBytes(t, im, report, app.ImportScanReport{Asset: a})
	if first.New != 1 || first.Suppressed != 0 {
		t.Fatalf("first: %+v", first)
	}
	before := findingIDs(t, store)
	if _, err := assetapp.New(store, nil).Merge(ctx, a, assetapp.MergeAssets{TargetAssetID: b, Reason: "one repository"}, es.Invocation{Meta: es.Meta{Actor: "t"}}); err != nil {
		t.Fatal(err)
	}
	s := importBytes(t, im, report, app.ImportScanReport{Asset: b})
	if s.New != 0 || s.Unchanged != 1 || !s.AddsUp() {
		t.Fatalf("after the merge: %+v", s)
	}
	after := findingIDs(t, store)
	if len(after) != len(before) {
		t.Fatalf("findings %v, then %v: the merged asset's finding was opened again", before, after)
	}
	// The merged asset is no asset to attach to any more.
	var ue *app.UnknownAssetError
	if _, err := im.Import(ctx, app.ImportScanReport{Report: bytes.NewReader(report), Asset: a}); !errors.As(err, &ue) {
		t.Fatalf("import to the merged asset: %v", err)
	}
	// The finding is b's scope's: gone from a report of b (with close_missing, the report
	// listing nothing), it is resolved.
	empty := bytes.Replace(report, []byte("<vulnerabilities>"), []byte("<vulnerabilities_gone>"), 1)
	empty = bytes.Replace(empty, []byte("</vulnerabilities>"), []byte("</vulnerabilities_gone>"), 1)
	if s := importBytes(t, im, empty, app.ImportScanReport{Asset: b, Format: "cyclonedx", CloseMissing: true}); s.Resolved != 1 {
		t.Fatalf("gone from b's report: %+v", s)
	}
}

// TestLicenseResultsAreIgnoredAndCounted: license results are counted as ignored, with the
// reason, and the summary still adds up.
func TestLicenseResultsAreIgnoredAndCounted(t *testing.T) {
	d := decodeTrivy(t, juiceShop(t))
	d["Results"] = append(d["Results"].([]any), map[string]any{"Target": "OS Packages", "Class": "license", "Licenses": []any{
		map[string]any{"Severity": "HIGH", "Category": "restricted", "PkgName": "busybox", "FilePath": "", "Name": "GPL-2.0", "Link": ""},
		map[string]any{"Severity": "LOW", "Category": "notice", "PkgName": "zlib", "FilePath": "", "Name": "Zlib", "Link": ""},
	}})
	b := d.encode(t)
	rep := parse(t, "trivy", b)
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	s := importBytes(t, newImporter(t, store), b, app.ImportScanReport{})
	if s.Ignored != 2 || s.IgnoredReason == "" || s.Parsed != len(rep.Findings) || !s.AddsUp() || s.Stored != len(rep.Findings)-2-s.DuplicateCount {
		t.Fatalf("summary %+v (parsed %d)", s, len(rep.Findings))
	}
}
