package ports

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/schemas/contracts"
)

// The import function here is the test's own: these tests are about the HTTP contract (202,
// progress, limits, errors); the import itself is tested in the scans application package. The
// ledger is the real one, the scans importer over a real SQLite store.
func server(t *testing.T, cfg ImportsConfig, run ImportFunc) *httptest.Server {
	t.Helper()
	return newFixture(t, cfg, run).srv
}

type fixture struct {
	srv    *httptest.Server
	im     *Imports
	ledger *app.Importer
	store  *events.Guarded
	spool  string
}

// newFixture serves imports over a fresh store and spool directory.
func newFixture(t *testing.T, cfg ImportsConfig, run ImportFunc) *fixture {
	t.Helper()
	store, _ := eventstest.OpenSQLite(t, sqlite.Config{})
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = t.TempDir()
	}
	return restart(t, store, cfg, run)
}

// restart starts the endpoint the way a node does: a ledger loaded from the store, then the
// imports over the spool directory (which resume what was accepted).
func restart(t *testing.T, store *events.Guarded, cfg ImportsConfig, run ImportFunc) *fixture {
	t.Helper()
	ledger, err := app.New(store, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ledger.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if run == nil {
		run = ledger.Import
	}
	im, err := NewImports(context.Background(), cfg, run, ledger, nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	im.Register(mux)
	srv := httptest.NewServer(mux)
	// No grace at the end of a test: an import still running is cancelled, as at a deadline.
	t.Cleanup(func() { srv.Close(); im.Close(canceledContext()) })
	return &fixture{srv: srv, im: im, ledger: ledger, store: store, spool: cfg.SpoolDir}
}

func waitJob(t *testing.T, srv *httptest.Server, id string) Job {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(srv.URL + "/v1/scans/" + id + "/import")
		if err != nil {
			t.Fatal(err)
		}
		var j Job
		_ = json.NewDecoder(resp.Body).Decode(&j)
		resp.Body.Close()
		if j.State == "completed" || j.State == "failed" {
			return j
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("import %s did not finish", id)
	return Job{}
}

func post(t *testing.T, srv *httptest.Server, query, contentType string, body io.Reader) (int, map[string]any) {
	t.Helper()
	code, _, m := postRaw(t, srv.URL, query, http.Header{"Content-Type": {contentType}}, body)
	return code, m
}

// postRaw posts body to the import endpoint at url with header, and returns the status, the
// answer's header and its JSON.
func postRaw(t *testing.T, url, query string, header http.Header, body io.Reader) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/v1/scans/imports"+query, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, resp.Header, m
}

func TestImportRunsOffTheRequestPath(t *testing.T) {
	release := make(chan struct{})
	var got []byte
	srv := server(t, ImportsConfig{}, func(ctx context.Context, cmd app.ImportScanReport) (app.Summary, error) {
		got, _ = io.ReadAll(cmd.Report)
		cmd.Progress(1, 2)
		<-release
		return app.Summary{ScanID: cmd.ScanID, Format: "trivy", New: 2}, nil
	})
	code, body := post(t, srv, "?format=auto", "application/json", strings.NewReader(`{"report":true}`))
	if code != http.StatusAccepted || body["scan_id"] == nil {
		t.Fatalf("POST: %d %v", code, body)
	}
	id := body["scan_id"].(string)
	// While the import runs, GET reports it running (the request has long returned).
	for i := 0; ; i++ {
		resp, _ := http.Get(srv.URL + "/v1/scans/" + id + "/import")
		var j Job
		_ = json.NewDecoder(resp.Body).Decode(&j)
		resp.Body.Close()
		if j.State == "running" && j.Done == 1 && j.Total == 2 {
			break
		}
		if i > 500 {
			t.Fatalf("never saw the import running: %+v", j)
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	j := waitJob(t, srv, id)
	if j.State != "completed" || j.Summary == nil || j.Summary.New != 2 || j.Summary.ScanID != id || string(got) != `{"report":true}` {
		t.Fatalf("job %+v, report %q", j, got)
	}
}

func TestImportAcceptsMultipart(t *testing.T) {
	srv := server(t, ImportsConfig{}, func(ctx context.Context, cmd app.ImportScanReport) (app.Summary, error) {
		b, _ := io.ReadAll(cmd.Report)
		return app.Summary{FindingsTotal: len(b), Format: cmd.Format}, nil
	})
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("note", "ignored")
	fw, _ := mw.CreateFormFile("file", "report.json")
	_, _ = fw.Write([]byte("0123456789"))
	_ = mw.Close()
	code, body := post(t, srv, "?format=trivy", mw.FormDataContentType(), &buf)
	if code != http.StatusAccepted {
		t.Fatalf("POST multipart: %d %v", code, body)
	}
	j := waitJob(t, srv, body["scan_id"].(string))
	if s := j.Summary; s == nil || s.FindingsTotal != 10 || s.Format != "trivy" {
		t.Fatalf("multipart report: %+v", j.Summary)
	}
}

func TestImportBadInput(t *testing.T) {
	srv := server(t, ImportsConfig{MaxBodyBytes: 100}, func(ctx context.Context, cmd app.ImportScanReport) (app.Summary, error) {
		return app.Summary{}, errors.New("report line 3: unexpected EOF")
	})
	cases := []struct {
		name, query string
		body        string
		status      int
		field       string
	}{
		{"too large", "", strings.Repeat("x", 101), http.StatusRequestEntityTooLarge, "body"},
		{"empty", "", "", http.StatusBadRequest, "body"},
		{"bad format", "?format=../../etc", "{}", http.StatusBadRequest, "format"},
	}
	for _, c := range cases {
		code, body := post(t, srv, c.query, "application/json", strings.NewReader(c.body))
		if code != c.status || body["field"] != c.field || body["status"] != float64(c.status) {
			t.Errorf("%s: %d %v, want %d naming %s", c.name, code, body, c.status, c.field)
		}
	}
	resp, _ := http.Get(srv.URL + "/v1/scans/not-a-uuid/import")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET with a bad id: %d", resp.StatusCode)
	}
	resp.Body.Close()
	resp, _ = http.Get(srv.URL + "/v1/scans/01939b2e-0000-7000-8000-000000000001/import")
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("GET unknown import: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	resp.Body.Close()
	// A report the importer refuses ends failed, with the reason.
	code, body := post(t, srv, "", "application/json", strings.NewReader("{"))
	if code != http.StatusAccepted {
		t.Fatalf("POST: %d", code)
	}
	if j := waitJob(t, srv, body["scan_id"].(string)); j.State != "failed" || !strings.Contains(j.Error, "line 3") {
		t.Fatalf("failed import reported as %+v", j)
	}
}

func TestImportQueueFullAnswers503(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	srv := server(t, ImportsConfig{Workers: 1, QueueLength: 1}, func(ctx context.Context, cmd app.ImportScanReport) (app.Summary, error) {
		<-block
		return app.Summary{}, nil
	})
	var codes []int
	for i := 0; i < 4; i++ {
		code, _ := post(t, srv, "", "application/json", strings.NewReader("{}"))
		codes = append(codes, code)
	}
	if codes[0] != 202 || codes[3] != 503 {
		t.Fatalf("codes %v: the first import must be accepted and the queue must refuse beyond its length", codes)
	}
}

// spoolFiles lists the spool directory's files other than its id.
func spoolFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Name() != nodeIDFile {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

func streamTypes(t *testing.T, store events.EventStore, scanID string) []string {
	t.Helper()
	evs, err := store.ReadStream(context.Background(), app.ImportStreamID(scanID), events.ReadStreamOptions{})
	if err != nil {
		t.Fatalf("reading import %s: %v", scanID, err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

// blockUntilCancelled is an import that runs until its node shuts it down.
func blockUntilCancelled(ctx context.Context, cmd app.ImportScanReport) (app.Summary, error) {
	<-ctx.Done()
	return app.Summary{}, ctx.Err()
}

func nmapReport(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../app/testdata/nmap_dlink_loopback.xml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestQueueFullRefusesBeforeSpooling(t *testing.T) {
	f := newFixture(t, ImportsConfig{Workers: 1, QueueLength: 1}, blockUntilCancelled)
	accepted := 0
	for i := 0; i < 4; i++ {
		code, body := post(t, f.srv, "", "application/json", strings.NewReader("{}"))
		switch code {
		case http.StatusAccepted:
			accepted++
		case http.StatusServiceUnavailable:
			if body["status"] != float64(503) {
				t.Fatalf("503 without a problem: %v", body)
			}
		default:
			t.Fatalf("POST %d: %d %v", i, code, body)
		}
	}
	if accepted == 0 || accepted > 2 {
		t.Fatalf("%d of 4 uploads accepted with one worker and a queue of one", accepted)
	}
	// A refused upload leaves nothing behind: one spool file per accepted import.
	if files := spoolFiles(t, f.spool); len(files) != accepted {
		t.Fatalf("spool holds %v after %d accepted uploads", files, accepted)
	}
}

func TestUnknownFormatIs400ListingTheFormats(t *testing.T) {
	f := newFixture(t, ImportsConfig{}, nil)
	code, body := post(t, f.srv, "?format=nosuch", "application/json", strings.NewReader("{}"))
	detail, _ := body["detail"].(string)
	if code != http.StatusBadRequest || body["field"] != "format" || !strings.Contains(detail, "trivy") || !strings.Contains(detail, "nmap") {
		t.Fatalf("unknown format: %d %v", code, body)
	}
	if files := spoolFiles(t, f.spool); len(files) != 0 {
		t.Fatalf("a refused upload was spooled: %v", files)
	}
}

func TestAcceptedOnlyOnceRequestedIsStored(t *testing.T) {
	f := newFixture(t, ImportsConfig{}, blockUntilCancelled)
	report := `{"report":"bytes"}`
	code, body := post(t, f.srv, "?format=trivy", "application/json", strings.NewReader(report))
	if code != http.StatusAccepted {
		t.Fatalf("POST: %d %v", code, body)
	}
	id := body["scan_id"].(string)
	evs, err := f.store.ReadStream(context.Background(), app.ImportStreamID(id), events.ReadStreamOptions{})
	if err != nil || len(evs) != 1 || evs[0].Type != contracts.TypeScanImportRequested {
		t.Fatalf("after 202 the store holds %v (%v), want ScanImportRequested", evs, err)
	}
	var d contracts.ScanImportRequested
	if err := json.Unmarshal(evs[0].Data, &d); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(report))
	if d.SHA256 != hex.EncodeToString(sum[:]) || d.Bytes != len(report) || d.Format != "trivy" || body["sha256"] != d.SHA256 || body["position"] != float64(evs[0].GlobalPosition) {
		t.Fatalf("ScanImportRequested %+v, answer %v", d, body)
	}
	got, err := os.ReadFile(filepath.Join(f.spool, d.Spool))
	if err != nil || string(got) != report {
		t.Fatalf("spool file %s: %q %v", d.Spool, got, err)
	}
	node, _ := os.ReadFile(filepath.Join(f.spool, nodeIDFile))
	if strings.TrimSpace(string(node)) != d.Node {
		t.Fatalf("requested by node %s, the spool directory is %q", d.Node, node)
	}
}

// TestShutdownThenRestartResumesEveryAcceptedImport: a shutdown with one import running and
// one queued leaves both requested with their spool files; the next start imports both (for
// real), removes the files, and GET answers from the store afterwards.
func TestShutdownThenRestartResumesEveryAcceptedImport(t *testing.T) {
	store, _ := eventstest.OpenSQLite(t, sqlite.Config{})
	cfg := ImportsConfig{Workers: 1, SpoolDir: t.TempDir()}
	first := restart(t, store, cfg, blockUntilCancelled)
	report := nmapReport(t)
	var ids []string
	for i := 0; i < 2; i++ {
		code, body := post(t, first.srv, "?format=nmap", "application/xml", strings.NewReader(string(report)))
		if code != http.StatusAccepted {
			t.Fatalf("POST: %d %v", code, body)
		}
		ids = append(ids, body["scan_id"].(string))
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel() // no grace: the running import is cut off
	first.im.Close(cancelled)
	code, _ := post(t, first.srv, "?format=nmap", "application/xml", strings.NewReader(string(report)))
	if code != http.StatusServiceUnavailable {
		t.Fatalf("POST while shutting down: %d, want 503", code)
	}
	if files := spoolFiles(t, cfg.SpoolDir); len(files) != 2 {
		t.Fatalf("after the shutdown the spool holds %v, want both accepted reports", files)
	}

	second := restart(t, store, cfg, nil)
	for _, id := range ids {
		// Read and recorded for real (the loopback host is no asset: its finding is skipped).
		if j := waitJob(t, second.srv, id); j.State != "completed" || j.Summary == nil || j.Summary.FindingsTotal != 1 || j.Summary.Format != "nmap" {
			t.Fatalf("resumed import %s: %+v %+v", id, j, j.Summary)
		}
		if got := streamTypes(t, store, id); strings.Join(got, ",") != "ScanImportRequested,ScanImportStarted,ScanImportCompleted" {
			t.Fatalf("import %s recorded %v", id, got)
		}
	}
	if files := spoolFiles(t, cfg.SpoolDir); len(files) != 0 {
		t.Fatalf("spool files left after the imports ended: %v", files)
	}
	// A third start has nothing to resume and answers GET from the store.
	third := restart(t, store, cfg, blockUntilCancelled)
	resp, err := http.Get(third.srv.URL + "/v1/scans/" + ids[0] + "/import")
	if err != nil {
		t.Fatal(err)
	}
	var j Job
	_ = json.NewDecoder(resp.Body).Decode(&j)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || j.State != "completed" || j.Summary == nil || j.Format != "nmap" || j.FinishedAt == nil {
		t.Fatalf("GET after restart: %d %+v", resp.StatusCode, j)
	}
}

// TestRestartFailsWhatCannotResumeAndSweeps: a pending import whose spool file is gone or
// altered ends failed with the reason; files no pending import needs are removed.
func TestRestartFailsWhatCannotResumeAndSweeps(t *testing.T) {
	store, _ := eventstest.OpenSQLite(t, sqlite.Config{})
	cfg := ImportsConfig{SpoolDir: t.TempDir()}
	first := restart(t, store, cfg, blockUntilCancelled)
	var ids []string
	for i := 0; i < 2; i++ {
		code, body := post(t, first.srv, "?format=nmap", "application/xml", strings.NewReader("<nmaprun/>"))
		if code != http.StatusAccepted {
			t.Fatalf("POST: %d %v", code, body)
		}
		ids = append(ids, body["scan_id"].(string))
	}
	first.im.Close(canceledContext())
	// A crash loses one report and corrupts the other; an upload it cut short left a stray file.
	if err := os.Remove(filepath.Join(cfg.SpoolDir, ids[0]+".report")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg.SpoolDir, ids[1]+".report"), []byte("<nmaprun/"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg.SpoolDir, "0190aaaa-0000-7000-8000-000000000000.report"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}

	second := restart(t, store, cfg, func(context.Context, app.ImportScanReport) (app.Summary, error) {
		t.Error("an import without its report was run")
		return app.Summary{}, nil
	})
	for i, want := range []string{"is gone", "is corrupt"} {
		resp, err := http.Get(second.srv.URL + "/v1/scans/" + ids[i] + "/import")
		if err != nil {
			t.Fatal(err)
		}
		var j Job
		_ = json.NewDecoder(resp.Body).Decode(&j)
		resp.Body.Close()
		if j.State != "failed" || j.Stage != "import" || !strings.Contains(j.Error, want) {
			t.Fatalf("import %s after restart: %+v, want failed: %s", ids[i], j, want)
		}
		if got := streamTypes(t, store, ids[i]); strings.Join(got, ",") != "ScanImportRequested,ScanImportFailed" {
			t.Fatalf("import %s recorded %v", ids[i], got)
		}
	}
	if files := spoolFiles(t, cfg.SpoolDir); len(files) != 0 {
		t.Fatalf("spool not swept at start: %v", files)
	}
	if p := second.ledger.PendingImports(second.im.node); len(p) != 0 {
		t.Fatalf("still pending: %+v", p)
	}
}

func canceledContext() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestUploadsPerClientAreBounded: a client streaming its limit of uploads gets 429 for one more;
// another client does not.
func TestUploadsPerClientAreBounded(t *testing.T) {
	client := "a"
	f := newFixture(t, ImportsConfig{UploadsPerClient: 1, ClientID: func(r *http.Request) string { return r.Header.Get("X-Test-Client") }}, blockUntilCancelled)
	pr, pw := io.Pipe()
	defer pw.Close()
	slow, err := http.NewRequest(http.MethodPost, f.srv.URL+"/v1/scans/imports", pr)
	if err != nil {
		t.Fatal(err)
	}
	slow.Header.Set("X-Test-Client", client)
	slowDone := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(slow)
		if err != nil {
			slowDone <- 0
			return
		}
		resp.Body.Close()
		slowDone <- resp.StatusCode
	}()
	if _, err := pw.Write([]byte(`{"partial":`)); err != nil {
		t.Fatal(err)
	}
	// The spool file exists once the upload holds its client's place.
	for deadline := time.Now().Add(10 * time.Second); len(spoolFiles(t, f.spool)) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the slow upload never started spooling")
		}
	}
	postAs := func(who string) (int, map[string]any) {
		code, header, m := postRaw(t, f.srv.URL, "", http.Header{"X-Test-Client": {who}}, strings.NewReader("{}"))
		if code == http.StatusTooManyRequests && header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		return code, m
	}
	if code, body := postAs(client); code != http.StatusTooManyRequests {
		t.Fatalf("second upload of the same client: %d %v", code, body)
	}
	if code, body := postAs("b"); code != http.StatusAccepted {
		t.Fatalf("another client's upload: %d %v", code, body)
	}
	_, _ = pw.Write([]byte(`true}`))
	pw.Close()
	if code := <-slowDone; code != http.StatusAccepted {
		t.Fatalf("the slow upload: %d", code)
	}
	if code, body := postAs(client); code != http.StatusAccepted {
		t.Fatalf("the client's upload after its first finished: %d %v", code, body)
	}
}
