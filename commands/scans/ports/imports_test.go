package ports

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/eventstest"
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
	resp, err := http.Post(srv.URL+"/v1/scans/imports"+query, contentType, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
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
