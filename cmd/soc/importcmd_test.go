package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeImportServer accepts one upload, records its query, and answers GET with a completed job
// carrying summary.
func fakeImportServer(t *testing.T, summary string) (*httptest.Server, *string) {
	t.Helper()
	var query string
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/scans/imports", func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.RawQuery
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"scan_id":"0190f5a8-0000-7000-8000-000000000001"}`))
	})
	mux.HandleFunc("GET /v1/scans/{id}/import", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"state":"completed","findings_done":3,"findings_total":3,"summary":` + summary + `}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &query
}

// TestImportExitsNonZeroWhenTheCountsDoNotAddUp: a completed import whose summary loses a finding
// (parsed 3, stored 1 + 1 duplicate) is no success for a script; one that accounts for every
// finding is. --asset and --close-missing reach the request.
func TestImportExitsNonZeroWhenTheCountsDoNotAddUp(t *testing.T) {
	report := filepath.Join(t.TempDir(), "r.json")
	if err := os.WriteFile(report, []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, summary string
		want          int
		stderr        string
	}{
		{"lost", `{"parsed":3,"stored":1,"duplicate_count":1,"ignored":0}`, 1, "3 findings parsed, but 1 stored + 1 duplicates + 0 ignored: 1 lost"},
		{"no counts", `{"new":3}`, 1, "does not say how many findings were parsed"},
		{"adds up", `{"parsed":3,"stored":1,"duplicate_count":1,"ignored":1}`, 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, query := fakeImportServer(t, c.summary)
			var out, errOut bytes.Buffer
			opts := importOptions{format: "auto", asset: "web 01", closeMissing: true}
			code := runImport(context.Background(), report, opts, srv.URL, time.Minute, &out, &errOut)
			if code != c.want || !strings.Contains(errOut.String(), c.stderr) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, c.want, errOut.String(), c.stderr)
			}
			if *query != "asset=web+01&close_missing=true&format=auto" {
				t.Errorf("query %q", *query)
			}
			if !strings.Contains(out.String(), `"parsed"`) && c.want == 0 {
				t.Errorf("summary not printed: %q", out.String())
			}
		})
	}
}
