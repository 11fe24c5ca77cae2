package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/importers/trivy/trivytest"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/events/snapshot"
	"github.com/socplatform/soc/schemas/contracts"
)

// dying is a store that dies, as a SIGKILLed node does, once a number of finding appends went
// through: it cancels the import's context and refuses every append after.
type dying struct {
	events.EventStore
	mu     sync.Mutex
	left   atomic.Int64
	cancel context.CancelFunc
}

func (d *dying) Append(ctx context.Context, stream string, expected events.ExpectedVersion, evs []events.Envelope) (events.AppendResult, error) {
	if strings.HasPrefix(stream, "vulns-finding-") && d.left.Add(-1) < 0 {
		d.mu.Lock()
		d.cancel()
		d.mu.Unlock()
		return events.AppendResult{}, context.Canceled
	}
	return d.EventStore.Append(ctx, stream, expected, evs)
}

const testNode = "0190aaaa-0000-7000-8000-00000000000a"

// requestAndCrash records an upload's request and runs its import until the store dies after
// survive finding appends; it returns the scan id.
func requestAndCrash(t *testing.T, store *events.Guarded, report []byte, survive int64) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := &dying{EventStore: store.Unwrap(), cancel: cancel}
	d.left.Store(survive)
	im := newImporter(t, events.Guard(d, store.Registry(), events.Limits{}))
	scanID := uuid.Must(uuid.NewV7()).String()
	sum := sha256.Sum256(report)
	if _, err := im.RequestImport(ctx, app.RequestImport{ScanID: scanID, Format: "trivy", Spool: scanID + ".report",
		SHA256: hex.EncodeToString(sum[:]), Bytes: int64(len(report)), Node: testNode, Actor: "tester"}); err != nil {
		t.Fatal(err)
	}
	if sum, err := im.Import(ctx, app.ImportScanReport{Report: strings.NewReader(string(report)), Format: "trivy", ScanID: scanID, Actor: "tester"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("the import was not interrupted: %v %+v", err, sum)
	}
	return scanID
}

func scanEvents(t *testing.T, store events.EventStore, scanID string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, e := range allEvents(t, store) {
		if e.CorrelationID == scanID {
			out[e.Type]++
		}
	}
	return out
}

// TestInterruptedImportResumesAndConverges: an upload's import killed mid-way (ScanImportStarted
// recorded, part of its findings opened) is pending after a restart; running it again records
// the rest, starts once, completes once, and reports what both runs did.
func TestInterruptedImportResumesAndConverges(t *testing.T) {
	store, _ := eventstest.OpenSQLite(t, sqlite.Config{})
	report := trivytest.Bytes(t, 300, "registry.example/resume:1", detailedTrivy)
	scanID := requestAndCrash(t, store, report, 100)

	im := newImporter(t, store) // the restarted node
	pending := im.PendingImports(testNode)
	if len(pending) != 1 || pending[0].ScanID != scanID || !pending[0].Started || pending[0].Format != "trivy" {
		t.Fatalf("pending after the crash: %+v", pending)
	}
	if other := im.PendingImports("0190aaaa-0000-7000-8000-00000000000b"); len(other) != 0 {
		t.Fatalf("another node's pending imports: %+v", other)
	}
	sum := importBytes(t, im, report, app.ImportScanReport{Format: "trivy", ScanID: scanID, Actor: "tester"})
	if sum.New != 300 || sum.Unchanged != 0 || sum.FindingsTotal != 300 {
		t.Fatalf("resumed summary %+v, want the 300 findings new", sum)
	}
	got := scanEvents(t, store, scanID)
	if got[contracts.TypeScanImportStarted] != 1 || got[contracts.TypeScanImportCompleted] != 1 || got[contracts.TypeFindingOpened] != 300 || got[contracts.TypeFindingSeen] != 0 {
		t.Fatalf("events of the scan: %v", got)
	}
	if err := im.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p := im.PendingImports(testNode); len(p) != 0 {
		t.Fatalf("still pending after completing: %+v", p)
	}
	rec, err := im.ImportStatus(context.Background(), scanID)
	if err != nil || rec.State != app.ImportCompleted || rec.Summary == nil || rec.Summary.New != 300 {
		t.Fatalf("status %+v %v", rec, err)
	}
	var already *app.AlreadyImportedError
	if _, err := im.Import(context.Background(), app.ImportScanReport{Report: strings.NewReader(string(report)), Format: "trivy", ScanID: scanID}); !errors.As(err, &already) {
		t.Fatalf("importing a completed scan again: %v", err)
	}
}

// TestResumeDoesNotResolveTwice: killed while resolving what a reimport did not see, the resumed
// run leaves the findings it resolved resolved (it does not close them as "still not seen").
func TestResumeDoesNotResolveTwice(t *testing.T) {
	store, _ := eventstest.OpenSQLite(t, sqlite.Config{})
	full := trivytest.Report(200, "registry.example/resolve:1", detailedTrivy)
	importBytes(t, newImporter(t, store), trivytest.Encode(t, full), app.ImportScanReport{Format: "trivy"})
	// The same image with half of its vulnerabilities fixed.
	half := trivytest.Report(200, "registry.example/resolve:1", detailedTrivy)
	res := half["Results"].([]any)[0].(map[string]any)
	res["Vulnerabilities"] = res["Vulnerabilities"].([]any)[:100]
	// 100 findings seen, then 30 of the 100 missing ones resolved before the crash.
	scanID := requestAndCrash(t, store, trivytest.Encode(t, half), 130)

	im := newImporter(t, store)
	sum := importBytes(t, im, trivytest.Encode(t, half), app.ImportScanReport{Format: "trivy", ScanID: scanID})
	if sum.Unchanged != 100 || sum.Resolved != 100 || sum.Closed != 0 {
		t.Fatalf("resumed summary %+v, want 100 unchanged and 100 resolved", sum)
	}
	got := scanEvents(t, store, scanID)
	if got[contracts.TypeFindingResolved] != 100 || got[contracts.TypeFindingClosed] != 0 || got[contracts.TypeFindingSeen] != 100 || got[contracts.TypeScanImportStarted] != 1 {
		t.Fatalf("events of the scan: %v", got)
	}
}

// TestPendingImportsSurviveASnapshot: the pending lookup is restored from the importer's
// snapshot, not only rebuilt from the log.
func TestPendingImportsSurviveASnapshot(t *testing.T) {
	store, _ := eventstest.OpenSQLite(t, sqlite.Config{})
	dir := snapshot.Dir{Path: t.TempDir()}
	im := loadedWith(t, store, dir)
	scanID := uuid.Must(uuid.NewV7()).String()
	if _, err := im.RequestImport(context.Background(), app.RequestImport{ScanID: scanID, Format: "auto", Spool: scanID + ".report",
		SHA256: strings.Repeat("0", 64), Bytes: 1, Node: testNode}); err != nil {
		t.Fatal(err)
	}
	if err := im.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := im.SaveSnapshot(); err != nil {
		t.Fatal(err)
	}
	counting, reads := testsupport.CountedStore(store)
	again := loadedWith(t, counting, dir)
	if p := again.PendingImports(testNode); len(p) != 1 || p[0].ScanID != scanID || p[0].Started {
		t.Fatalf("pending after restoring the snapshot: %+v", p)
	}
	if reads.Read() != 1 { // the snapshot's own last event, read to check it
		t.Fatalf("the restart read %d events, want only the snapshot's last", reads.Read())
	}
	if err := again.FailImport(context.Background(), scanID, "system:soc", "the spooled report is gone"); err != nil {
		t.Fatal(err)
	}
	if p := again.PendingImports(testNode); len(p) != 0 {
		t.Fatalf("failed import still pending: %+v", p)
	}
	rec, err := again.ImportStatus(context.Background(), scanID)
	if err != nil || rec.State != app.ImportFailed || rec.Stage != "import" || rec.Reason != "the spooled report is gone" {
		t.Fatalf("status %+v %v", rec, err)
	}
}

func TestRequestImportRefusesUnknownFormats(t *testing.T) {
	store, _ := eventstest.OpenSQLite(t, sqlite.Config{})
	im := newImporter(t, store)
	_, err := im.RequestImport(context.Background(), app.RequestImport{ScanID: uuid.Must(uuid.NewV7()).String(), Format: "nosuch",
		Spool: "x.report", SHA256: strings.Repeat("0", 64), Bytes: 1, Node: testNode})
	var fe *app.FormatError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "trivy") {
		t.Fatalf("unknown format: %v", err)
	}
	if n := len(allEvents(t, store)); n != 0 {
		t.Fatalf("a refused request appended %d events", n)
	}
}

// TestPendingImportKeepsTheUploadsOptions: ?asset= and ?close_missing= are recorded with the
// request, so the import a restarted node resumes runs with them (from the events, and from a
// snapshot of the lookups).
func TestPendingImportKeepsTheUploadsOptions(t *testing.T) {
	store, _ := eventstest.OpenSQLite(t, sqlite.Config{})
	im := newImporter(t, store)
	scanID := uuid.Must(uuid.NewV7()).String()
	if _, err := im.RequestImport(context.Background(), app.RequestImport{ScanID: scanID, Format: "trivy", Spool: scanID + ".report",
		SHA256: strings.Repeat("ab", 32), Bytes: 10, Node: testNode, Actor: "tester", Asset: "web-1", CloseMissing: true}); err != nil {
		t.Fatal(err)
	}
	restarted := newImporter(t, store)
	pending := restarted.PendingImports(testNode)
	if len(pending) != 1 || pending[0].Asset != "web-1" || !pending[0].CloseMissing {
		t.Fatalf("pending after a restart: %+v, want asset web-1 and close_missing", pending)
	}
	rec, err := restarted.ImportStatus(context.Background(), scanID)
	if err != nil || rec.Asset != "web-1" || !rec.CloseMissing {
		t.Fatalf("the import's state: %+v %v", rec, err)
	}
}
