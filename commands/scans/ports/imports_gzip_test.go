package ports

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/schemas/contracts"
)

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// multipartOf is a form with a text field and the file part b.
func multipartOf(t *testing.T, name string, b []byte) (contentType string, body []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("note", "ignored")
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(b)
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), buf.Bytes()
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// assertRefused posts each upload and wants status naming body, with every want in the detail,
// and nothing kept.
func assertRefused(t *testing.T, f *fixture, cases []upload, status int, want ...string) {
	t.Helper()
	for _, c := range cases {
		code, _, body := postRaw(t, f.srv.URL, "?format=auto", c.header, bytes.NewReader(c.body))
		detail, _ := body["detail"].(string)
		ok := code == status && body["field"] == "body"
		for _, w := range want {
			ok = ok && strings.Contains(detail, w)
		}
		if !ok {
			t.Errorf("%s: %d %v, want %d naming body and saying %q", c.name, code, body, status, want)
		}
		assertNothingKept(t, f, c.name)
	}
}

// assertNothingKept: a refused upload left no spool file and recorded no import.
func assertNothingKept(t *testing.T, f *fixture, what string) {
	t.Helper()
	if files := spoolFiles(t, f.spool); len(files) != 0 {
		t.Errorf("%s: spooled %v", what, files)
	}
	evs, err := f.store.ReadAll(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Type == contracts.TypeScanImportRequested {
			t.Errorf("%s: recorded %s on %s", what, e.Type, e.StreamID)
		}
	}
}

// juiceShop is a real Trivy report and its SHA-256.
func juiceShop(t *testing.T) ([]byte, string) {
	t.Helper()
	report, err := os.ReadFile(eventstest.SharedTestdata(t, "trivy", "trivy_image_juice-shop-v12.10.2.json"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(report)
	return report, hex.EncodeToString(sum[:])
}

type upload struct {
	name   string
	header http.Header
	body   []byte
}

// TestGzipUploadsSpoolTheReport: a report uploaded gzip'd in every accepted way is spooled and
// recorded as the report itself: the same bytes and SHA-256 as uploading it uncompressed, and
// the import reads exactly the report.
func TestGzipUploadsSpoolTheReport(t *testing.T) {
	report, wantSum := juiceShop(t)
	f := newFixture(t, ImportsConfig{}, func(_ context.Context, cmd app.ImportScanReport) (app.Summary, error) {
		b, err := io.ReadAll(cmd.Report)
		if !bytes.Equal(b, report) {
			t.Errorf("import %s read %d bytes, not the report's %d", cmd.ScanID, len(b), len(report))
		}
		return app.Summary{FindingsTotal: len(b)}, err
	})
	packed := gz(t, report)
	// Two members, as `cat a.gz b.gz` makes: gzip(1) reads them as one file.
	half := len(report) / 2
	twoMembers := append(gz(t, report[:half]), gz(t, report[half:])...)
	formType, form := multipartOf(t, "report.json.gz", packed)
	plainFormType, plainForm := multipartOf(t, "report.json", report)
	cases := []upload{
		{"uncompressed", nil, report},
		{"Content-Encoding: identity", hdr("Content-Encoding", "identity"), report},
		{"Content-Encoding: gzip", hdr("Content-Encoding", "gzip"), packed},
		{"Content-Encoding: x-gzip", hdr("Content-Encoding", "x-gzip"), packed},
		{"Content-Encoding: GZIP, identity", hdr("Content-Encoding", "GZIP, identity"), packed},
		{"a .gz file sent as is", nil, packed},
		{"a .gz file of two members", nil, twoMembers},
		{"a .gz file sent with Content-Encoding: gzip", hdr("Content-Encoding", "gzip"), gz(t, packed)},
		{"a multipart file part gzip'd", hdr("Content-Type", formType), form},
		{"a multipart form with Content-Encoding: gzip", hdr("Content-Type", plainFormType, "Content-Encoding", "gzip"), gz(t, plainForm)},
	}
	for _, c := range cases {
		code, _, body := postRaw(t, f.srv.URL, "?format=trivy", c.header, bytes.NewReader(c.body))
		if code != http.StatusAccepted {
			t.Errorf("%s: %d %v", c.name, code, body)
			continue
		}
		if body["sha256"] != wantSum || body["bytes"] != float64(len(report)) {
			t.Errorf("%s: answered %v bytes with SHA-256 %v, want the report's %d bytes with %s", c.name, body["bytes"], body["sha256"], len(report), wantSum)
		}
		if j := waitJob(t, f.srv, body["scan_id"].(string)); j.State != "completed" || j.Summary == nil || j.Summary.FindingsTotal != len(report) {
			t.Errorf("%s: import %+v", c.name, j)
		}
	}
}

// TestGzipUploadImportsTheSameFindings: imported for real, the report gzip'd (with the header,
// as a .gz file, as a multipart file part) gives the findings of the uncompressed upload.
func TestGzipUploadImportsTheSameFindings(t *testing.T) {
	report, _ := juiceShop(t)
	f := newFixture(t, ImportsConfig{}, nil)
	code, _, body := postRaw(t, f.srv.URL, "?format=auto", nil, bytes.NewReader(report))
	if code != http.StatusAccepted {
		t.Fatalf("uncompressed upload: %d %v", code, body)
	}
	plain := waitJob(t, f.srv, body["scan_id"].(string))
	if plain.State != "completed" || plain.Summary == nil || plain.Summary.FindingsTotal == 0 {
		t.Fatalf("uncompressed import: %+v", plain)
	}
	packed := gz(t, report)
	formType, form := multipartOf(t, "report.json.gz", packed)
	for _, c := range []upload{
		{"Content-Encoding: gzip", hdr("Content-Encoding", "gzip"), packed},
		{"a .gz file sent as is", nil, packed},
		{"a multipart file part gzip'd", hdr("Content-Type", formType), form},
	} {
		code, _, body := postRaw(t, f.srv.URL, "?format=auto", c.header, bytes.NewReader(c.body))
		if code != http.StatusAccepted {
			t.Errorf("%s: %d %v", c.name, code, body)
			continue
		}
		j := waitJob(t, f.srv, body["scan_id"].(string))
		if j.State != "completed" || j.Summary == nil || j.Summary.FindingsTotal != plain.Summary.FindingsTotal || j.Summary.Format != plain.Summary.Format {
			t.Errorf("%s: import %+v (summary %+v), want completed with the %d %s findings of the uncompressed upload",
				c.name, j, j.Summary, plain.Summary.FindingsTotal, plain.Summary.Format)
		}
	}
}

// readSpy is a request body that records whether it was read.
type readSpy struct{ read bool }

func (s *readSpy) Read([]byte) (int, error) { s.read = true; return 0, io.EOF }

// TestOtherContentCodingsAre415BeforeTheBodyIsRead: a coding the endpoint does not decode is
// refused naming Content-Encoding, with Accept-Encoding: gzip, without reading the body.
func TestOtherContentCodingsAre415BeforeTheBodyIsRead(t *testing.T) {
	f := newFixture(t, ImportsConfig{}, blockUntilCancelled)
	for _, coding := range []string{"br", "deflate", "zstd", "compress", "gzip, br", "gzip, gzip", "br, gzip"} {
		spy := &readSpy{}
		req := httptest.NewRequest(http.MethodPost, "/v1/scans/imports?format=auto", spy)
		req.Header.Set("Content-Encoding", coding)
		rec := httptest.NewRecorder()
		f.im.post(rec, req)
		var m map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &m)
		if rec.Code != http.StatusUnsupportedMediaType || m["status"] != float64(415) || m["field"] != "Content-Encoding" ||
			rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("Content-Encoding %s: %d %v", coding, rec.Code, m)
		}
		if got := rec.Header().Get("Accept-Encoding"); got != "gzip" {
			t.Errorf("Content-Encoding %s: Accept-Encoding %q, want gzip", coding, got)
		}
		if spy.read {
			t.Errorf("Content-Encoding %s: the body was read before the 415", coding)
		}
	}
	// Through the server too, and with the coding in a second header line.
	code, h, body := postRaw(t, f.srv.URL, "", hdr("Content-Encoding", "gzip", "Content-Encoding", "br"), bytes.NewReader(gz(t, []byte("{}"))))
	if code != http.StatusUnsupportedMediaType || h.Get("Accept-Encoding") != "gzip" || body["field"] != "Content-Encoding" {
		t.Errorf("gzip then br on two lines: %d %v %v", code, h, body)
	}
	assertNothingKept(t, f, "an unsupported coding")
}

// TestCorruptGzipIs400AndKeepsNothing: a gzip stream that does not decode, cut short, corrupt or
// followed by other bytes, is a 400 naming body, with nothing spooled or recorded.
func TestCorruptGzipIs400AndKeepsNothing(t *testing.T) {
	f := newFixture(t, ImportsConfig{}, func(context.Context, app.ImportScanReport) (app.Summary, error) {
		t.Error("a corrupt upload was imported")
		return app.Summary{}, nil
	})
	report := []byte(strings.Repeat(`{"finding":"x"}`+"\n", 2000))
	packed := gz(t, report)
	flipped := bytes.Clone(packed)
	flipped[len(flipped)/2] ^= 0xff
	badCRC := bytes.Clone(packed)
	badCRC[len(badCRC)-8] ^= 0xff // the trailer's CRC-32
	formType, form := multipartOf(t, "report.json.gz", packed[:len(packed)-10])
	cases := []upload{
		{"cut short", nil, packed[:len(packed)/2]},
		{"cut short in the header", nil, packed[:5]},
		{"corrupt", nil, flipped},
		{"a wrong checksum", nil, badCRC},
		{"followed by other bytes", nil, append(bytes.Clone(packed), "trailing"...)},
		{"cut short, with Content-Encoding", hdr("Content-Encoding", "gzip"), packed[:len(packed)/2]},
		{"not gzip, with Content-Encoding", hdr("Content-Encoding", "gzip"), report},
		{"empty, with Content-Encoding", hdr("Content-Encoding", "gzip"), nil},
		{"a multipart file part cut short", hdr("Content-Type", formType), form},
	}
	assertRefused(t, f, cases, http.StatusBadRequest, "gzip-compressed report is corrupt or cut short")
}

// TestDecompressedReportIsBoundedByMaxBodyBytes: a small gzip stream that inflates past
// MaxBodyBytes is a 413 saying so, with nothing kept; a report of exactly the limit passes.
func TestDecompressedReportIsBoundedByMaxBodyBytes(t *testing.T) {
	const limit = 16 << 10
	f := newFixture(t, ImportsConfig{MaxBodyBytes: limit}, func(_ context.Context, cmd app.ImportScanReport) (app.Summary, error) {
		b, err := io.ReadAll(cmd.Report)
		return app.Summary{FindingsTotal: len(b)}, err
	})
	bomb := gz(t, make([]byte, 1<<20)) // 1 MiB of zeros in about 1 KiB
	if len(bomb) >= limit/8 {
		t.Fatalf("the bomb is %d bytes, not under the %d-byte limit", len(bomb), limit)
	}
	over := gz(t, bytes.Repeat([]byte("x"), limit+1))
	formType, form := multipartOf(t, "report.json.gz", bomb)
	cases := []upload{
		{"a bomb sent as is", nil, bomb},
		{"a bomb with Content-Encoding", hdr("Content-Encoding", "gzip"), bomb},
		{"a bomb in a multipart file part", hdr("Content-Type", formType), form},
		{"one byte over", nil, over},
		{"one byte over, with Content-Encoding", hdr("Content-Encoding", "gzip"), over},
	}
	assertRefused(t, f, cases, http.StatusRequestEntityTooLarge, "decompressed report is over the limit")

	// The raw body keeps its own bound: an incompressible gzip stream over the limit.
	noise := make([]byte, 2*limit)
	_, _ = rand.Read(noise)
	code, _, body := postRaw(t, f.srv.URL, "?format=trivy", hdr("Content-Encoding", "gzip"), bytes.NewReader(gz(t, noise)))
	if detail, _ := body["detail"].(string); code != http.StatusRequestEntityTooLarge || !strings.Contains(detail, "reports are limited to") {
		t.Errorf("a compressed body over the limit: %d %v", code, body)
	}
	assertNothingKept(t, f, "a compressed body over the limit")

	code, _, body = postRaw(t, f.srv.URL, "?format=trivy", nil, bytes.NewReader(gz(t, bytes.Repeat([]byte("x"), limit))))
	if code != http.StatusAccepted || body["bytes"] != float64(limit) {
		t.Fatalf("a report of exactly the limit: %d %v", code, body)
	}
	if j := waitJob(t, f.srv, body["scan_id"].(string)); j.Summary == nil || j.Summary.FindingsTotal != limit {
		t.Fatalf("a report of exactly the limit imported as %+v", j)
	}
}

// TestZIPArchivesAre400: no format reads a ZIP archive, so one is refused at upload, naming body,
// instead of failing later as a binary file.
func TestZIPArchivesAre400(t *testing.T) {
	f := newFixture(t, ImportsConfig{}, func(context.Context, app.ImportScanReport) (app.Summary, error) {
		t.Error("a ZIP archive was imported")
		return app.Summary{}, nil
	})
	var archive bytes.Buffer
	zw := zip.NewWriter(&archive)
	w, _ := zw.Create("report.json")
	_, _ = w.Write([]byte(`{"SchemaVersion":2}`))
	_ = zw.Close()
	var empty bytes.Buffer
	_ = zip.NewWriter(&empty).Close()
	formType, form := multipartOf(t, "report.zip", archive.Bytes())
	cases := []upload{
		{"an archive", nil, archive.Bytes()},
		{"an empty archive", nil, empty.Bytes()},
		{"an archive with Content-Encoding: gzip", hdr("Content-Encoding", "gzip"), gz(t, archive.Bytes())},
		{"an archive gzip'd", nil, gz(t, archive.Bytes())},
		{"an archive in a multipart file part", hdr("Content-Type", formType), form},
	}
	assertRefused(t, f, cases, http.StatusBadRequest, "ZIP archive", "extract the report and import it")
}
